// Staging: a tracer stands for a variable of a program being recorded, and knows only its shape
// and dtype. Each primitive applied to such tracers becomes one equation of the program (its
// output types from the primitive's `outputTypes`, no kernel run); concrete arrays it meets
// become the program's constants; values of enclosing transforms it meets (an array an outer
// `grad` differentiates, captured by the staged function) become extra inputs of the program,
// so that the enclosing transform still sees them used.
//
// A staged value has no elements: reading them (`item()`, `scalars`, a Swift `if` on a value)
// is reported as `TransformError.concreteValueInStaging`, thrown when staging ends.

import FluxionKernels

final class StagingInterpreter: Interpreter, @unchecked Sendable {
    let builder: ProgramBuilder

    init(level: Int, transform: String, builder: ProgramBuilder) {
        self.builder = builder
        super.init(level: level, transform: transform)
    }

    override func process(_ primitive: any Primitive, _ inputs: [NDArray]) -> [NDArray] {
        var atoms: [Program.Atom] = []
        atoms.reserveCapacity(inputs.count)
        for x in inputs {
            if let t = x.tracer, t.interpreter === self {
                atoms.append(.variable(unsafeDowncast(t, to: StagingTracer.self).variable))
            } else if x.tracer != nil {
                atoms.append(.variable(builder.captured(x)))
            } else {
                atoms.append(builder.constant(x))
            }
        }
        let types = primitive.outputTypes(inputs.map(\.arrayType))
        let outputs = types.map(builder.newVariable)
        builder.equations.append(Program.Equation(primitive: primitive, inputs: atoms, outputs: outputs))
        return zip(outputs, types).map { tracer(variable: $0, type: $1) }
    }

    /// The value standing for `variable`.
    func tracer(variable: Int, type: ArrayType) -> NDArray {
        NDArray(tracer: StagingTracer(interpreter: self, variable: variable, type: type))
    }

    /// A new input of the program, of type `type`.
    func input(_ type: ArrayType) -> NDArray {
        let v = builder.newVariable(type)
        builder.inputs.append(v)
        return tracer(variable: v, type: type)
    }

    /// The program's output atom for `y`, a value the staged function returned.
    func outputAtom(_ y: NDArray) -> Program.Atom {
        if let t = y.tracer, t.interpreter === self { return .variable(unsafeDowncast(t, to: StagingTracer.self).variable) }
        if y.tracer != nil { return .variable(builder.captured(y)) }
        return builder.constant(y)
    }
}

final class StagingTracer: Tracer, @unchecked Sendable {
    let variable: Int

    init(interpreter: StagingInterpreter, variable: Int, type: ArrayType) {
        self.variable = variable
        super.init(interpreter: interpreter, shape: type.shape, dtype: type.dtype)
    }

    /// A staged value has no elements: the read is reported (and thrown when staging ends),
    /// and zeros stand in meanwhile so that the staged function can run to its end.
    override func concreteValue() -> StridedArray {
        let staging = unsafeDowncast(interpreter, to: StagingInterpreter.self)
        report(TransformError.concreteValueInStaging(transform: staging.transform, shape: shape,
                                                     file: staging.builder.site.file, line: staging.builder.site.line))
        return NDArray.zeros(shape, dtype: dtype).elements
    }
}

/// A program being recorded: its variables' types, inputs, constants and equations so far.
final class ProgramBuilder {
    let site: CallSite
    var types: [ArrayType] = []
    var inputs: [Int] = []
    var constants: [NDArray] = []
    var equations: [Program.Equation] = []
    /// Values of enclosing transforms the staged function used, and the extra inputs that
    /// stand for them (after the declared inputs).
    var capturedValues: [NDArray] = []
    var capturedVariables: [Int] = []
    private var capturedByTracer: [ObjectIdentifier: Int] = [:]
    private var constantByStorage: [ConstantKey: Int] = [:]

    init(site: CallSite) { self.site = site }

    func newVariable(_ type: ArrayType) -> Int {
        types.append(type)
        return types.count - 1
    }

    /// The variable standing for `x`, a value of an enclosing transform (one per value).
    func captured(_ x: NDArray) -> Int {
        let id = ObjectIdentifier(x.tracer!)
        if let v = capturedByTracer[id] { return v }
        let v = newVariable(x.arrayType)
        capturedByTracer[id] = v
        capturedValues.append(x)
        capturedVariables.append(v)
        return v
    }

    /// The constant atom for the concrete array `x` (one per array: the same view of the same
    /// storage is recorded once).
    func constant(_ x: NDArray) -> Program.Atom {
        let e = x.elements
        let key = ConstantKey(storage: ObjectIdentifier(e.storage), offset: e.offset, shape: e.shape, strides: e.strides)
        if let c = constantByStorage[key] { return .constant(c) }
        constants.append(x)
        constantByStorage[key] = constants.count - 1
        return .constant(constants.count - 1)
    }

    private struct ConstantKey: Hashable {
        let storage: ObjectIdentifier
        let offset: Int
        let shape: [Int]
        let strides: [Int]
    }
}
