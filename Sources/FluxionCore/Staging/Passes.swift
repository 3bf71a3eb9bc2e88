// Simplifications of staged programs, applied to every program `jit` runs (`makeProgram`
// returns the program as traced; `.optimized()` shows what `jit` runs): what tracing and
// differentiation leave behind costs time on every call, and a program is simplified once.
// Each pass keeps the results (up to the rounding noted below):
//
// - Identities are forwarded: a reshape, broadcast or convert to the type it already has, a
//   slice or `update` covering a whole array, a permutation that moves nothing, a sum over no
//   axes, `x + 0`, `x − 0`, `x · 1`, `x / 1`, `−(−x)`. A value is forwarded only where its
//   shape and dtype are the result's, so `x + zeros` that broadcasts `x` stays. (`−0 + 0` is
//   `+0` and forwards as `−0`: the same number, another sign bit.)
// - Compositions are merged: a reshape of a reshape is one reshape, a permutation of a
//   permutation one permutation, and a sum over the axes a broadcast added is `n · x` (the sum
//   of n copies, computed as one product: it may differ from the summed copies in the last bit).
// - Common subexpressions: the same primitive with the same parameters on the same operands is
//   computed once (random draws too: the same key gives the same numbers). Primitives holding
//   functions (custom rules) or objects are never merged.
// - Constants are folded while staging: an operation on constants alone (arrays the function
//   made or captured) runs then, and its result is a constant of the program; none of the
//   rewrites here makes an equation of constants alone.
// - Dead code: equations whose results nothing uses are dropped; then the variables still used
//   are numbered afresh, and small constants of equal value are kept once.
//
// `x · 0` is not simplified: where x is infinite or NaN the product is NaN, and `jit` gives the
// results the unstaged function gives. Nor is a matrix product with an identity matrix (which
// jacfwd and hessian stage for their basis): its zeros meet every other row of the operand.
// (Differentiation in Fluxion does not write zeros out: a derivative known to be zero is
// absent, so none reach a program.)

import FluxionKernels

extension Program {
    /// This program simplified (see the top of Passes.swift): forwarded identities, merged
    /// compositions, common subexpressions computed once, dead code removed.
    /// The results are those of the program as staged.
    ///
    /// ```swift
    /// let traced = try makeProgram(grad(f))(x)   // as traced, like jax.make_jaxpr
    /// print(traced.optimized())                  // what jit(grad(f)) runs
    /// ```
    public func optimized() -> Program {
        var program = self
        // Each round can expose more (a forwarded reshape makes two equations alike); a few
        // rounds reach the fixed point of every program seen in practice.
        for _ in 0..<4 {
            let next = program.rewritten().withoutDeadCode()
            defer { program = next }
            if next.equations.count == program.equations.count { break }
        }
        return program.compacted()
    }

    /// The program with its variables numbered afresh (those still in use, in order) and only
    /// the constants still used, small constants of equal value kept once: what a call of the
    /// program allocates and fills is then in proportion to what it computes.
    func compacted() -> Program {
        var number: [Int: Int] = [:]
        var types: [ArrayType] = []
        func renumber(_ v: Int) -> Int {
            if let n = number[v] { return n }
            number[v] = types.count
            types.append(self.types[v])
            return types.count - 1
        }
        var constants: [NDArray] = []
        var constantNumber: [Int: Int] = [:]
        var byValue: [String: Int] = [:]
        func atom(_ a: Atom) -> Atom {
            switch a {
            case .variable(let v): return .variable(renumber(v))
            case .constant(let c):
                if let n = constantNumber[c] { return .constant(n) }
                let x = self.constants[c]
                let key = x.count <= 16 ? smallConstantKey(x) : nil
                if let key, let n = byValue[key] {
                    constantNumber[c] = n
                    return .constant(n)
                }
                constants.append(x)
                constantNumber[c] = constants.count - 1
                if let key { byValue[key] = constants.count - 1 }
                return .constant(constants.count - 1)
            }
        }
        let inputs = self.inputs.map(renumber)
        let equations = self.equations.map { e in
            Equation(primitive: e.primitive, inputs: e.inputs.map(atom), outputs: e.outputs.map(renumber))
        }
        let outputs = self.outputs.map(atom)
        return Program(name: name, types: types, inputs: inputs, constants: constants, equations: equations, outputs: outputs)
    }

    /// The program without the equations that no output depends on.
    func withoutDeadCode() -> Program {
        var live = Set(outputs.compactMap { if case .variable(let v) = $0 { v } else { nil } })
        var kept: [Equation] = []
        for equation in equations.reversed() where equation.outputs.contains(where: live.contains) {
            kept.append(equation)
            for case .variable(let v) in equation.inputs { live.insert(v) }
        }
        return Program(name: name, types: types, inputs: inputs, constants: constants, equations: kept.reversed(),
                       outputs: outputs)
    }

    /// One pass of forwarding, merging and common subexpressions, in order of the
    /// equations (each sees the earlier ones already rewritten).
    private func rewritten() -> Program {
        var rewriter = Rewriter(program: self)
        for equation in equations { rewriter.add(equation) }
        return rewriter.program(outputs: outputs)
    }
}

/// The state of one rewriting pass: the equations kept so far, what each variable now stands
/// for, and the equations already computed, by their key.
private struct Rewriter {
    let original: Program
    var types: [ArrayType]
    var constants: [NDArray]
    var equations: [Program.Equation] = []
    /// Variables replaced by another atom.
    var replacement: [Int: Program.Atom] = [:]
    /// The equation that defines each variable kept.
    var definition: [Int: Program.Equation] = [:]
    /// Equations kept, by primitive and operands.
    var computed: [String: [Int]] = [:]

    init(program: Program) {
        original = program
        types = program.types
        constants = program.constants
    }

    func type(_ atom: Program.Atom) -> ArrayType {
        switch atom {
        case .variable(let v): types[v]
        case .constant(let c): constants[c].arrayType
        }
    }

    func resolved(_ atom: Program.Atom) -> Program.Atom {
        if case .variable(let v) = atom, let r = replacement[v] { return r }
        return atom
    }

    /// The primitive defining `atom`, with its operands, when `atom` is a variable an equation
    /// kept so far defines.
    func definingEquation(_ atom: Program.Atom) -> Program.Equation? {
        if case .variable(let v) = atom { return definition[v] }
        return nil
    }

    /// Whether `atom` is a constant every element of which is `value`.
    func isConstant(_ atom: Program.Atom, equalTo value: Double) -> Bool {
        guard case .constant(let c) = atom else { return false }
        let x = constants[c]
        return x.dtype != .bool && x.count <= 1 << 16 && x.doubles.allSatisfy { $0 == value }
    }

    /// An operand as part of an equation's key: a small constant by its value (tracing makes a
    /// new constant for each literal), anything else by its number.
    func operandKey(_ atom: Program.Atom) -> String {
        guard case .constant(let c) = atom, constants[c].count <= 16 else { return "\(atom)" }
        return smallConstantKey(constants[c])
    }

    /// A new constant atom.
    mutating func constant(_ x: NDArray) -> Program.Atom {
        constants.append(x)
        return .constant(constants.count - 1)
    }

    /// A new variable of `type`.
    mutating func variable(_ type: ArrayType) -> Int {
        types.append(type)
        return types.count - 1
    }

    mutating func add(_ equation: Program.Equation) {
        let inputs = equation.inputs.map(resolved)
        let outputs = equation.outputs
        // A single result equal to one of the operands, or to a simpler equation's.
        if outputs.count == 1 {
            switch simplify(equation.primitive, inputs, result: types[outputs[0]]) {
            case .forward(let atom)?:
                replacement[outputs[0]] = atom
                return
            case .replace(let primitive, let operands)?:
                return add(Program.Equation(primitive: primitive, inputs: operands, outputs: outputs))
            case .chain(let first, let firstOperands, let firstType, let second, let secondOperand)?:
                let middle = variable(firstType)
                add(Program.Equation(primitive: first, inputs: firstOperands, outputs: [middle]))
                let operand = resolved(.variable(middle))
                return add(Program.Equation(primitive: second, inputs: [operand, secondOperand], outputs: outputs))
            case nil: break
            }
        }
        // Computed already.
        let key = equationKey(equation.primitive).map { "\($0)|\(inputs.map(operandKey))" }
        if let key, let earlier = computed[key] {
            for (v, e) in zip(outputs, earlier) { replacement[v] = .variable(e) }
            return
        }
        let kept = Program.Equation(primitive: equation.primitive, inputs: inputs, outputs: outputs)
        equations.append(kept)
        for v in outputs { definition[v] = kept }
        if let key { computed[key] = outputs }
    }

    /// What a single-result equation simplifies to.
    enum Simplification {
        /// The result is this atom.
        case forward(Program.Atom)
        /// The result is this primitive's on these operands.
        case replace(any Primitive, [Program.Atom])
        /// The result is `second(first(firstOperands), secondOperand)`, `first`'s result of type `firstType`.
        case chain(any Primitive, [Program.Atom], ArrayType, any Primitive, Program.Atom)
    }

    mutating func simplify(_ primitive: any Primitive, _ inputs: [Program.Atom], result: ArrayType) -> Simplification? {
        // Forward only what has the result's shape and dtype.
        func same(_ atom: Program.Atom) -> Simplification? { type(atom) == result ? .forward(atom) : nil }
        switch primitive {
        case let p as Reshape:
            if let inner = definingEquation(inputs[0]), inner.primitive is Reshape {
                return type(inner.inputs[0]).shape == p.shape ? same(inner.inputs[0]) : .replace(p, inner.inputs)
            }
            return same(inputs[0])
        case is BroadcastTo, is Convert:
            return same(inputs[0])
        case let p as Transpose:
            if p.permutation == Array(p.permutation.indices) { return same(inputs[0]) }
            if let inner = definingEquation(inputs[0]), let q = inner.primitive as? Transpose {
                let composed = p.permutation.map { q.permutation[$0] }
                return composed == Array(composed.indices) ? same(inner.inputs[0]) : .replace(Transpose(permutation: composed), inner.inputs)
            }
            return nil
        case let p as Slice:
            let whole = p.starts.allSatisfy { $0 == 0 } && p.steps.allSatisfy { $0 == 1 } && p.counts == type(inputs[0]).shape
            return whole ? same(inputs[0]) : nil
        case let p as UpdateSlice:
            let whole = p.slice.starts.allSatisfy { $0 == 0 } && p.slice.steps.allSatisfy { $0 == 1 } && p.slice.counts == result.shape
            return whole ? same(inputs[1]) : nil
        case let p as ReduceSum:
            if p.axes.isEmpty { return same(inputs[0]) }
            return sumOfBroadcast(p, inputs[0], result: result)
        case is Neg:
            if let inner = definingEquation(inputs[0]), inner.primitive is Neg { return same(inner.inputs[0]) }
            return nil
        case is Add:
            if isConstant(inputs[1], equalTo: 0), let s = same(inputs[0]) { return s }
            return isConstant(inputs[0], equalTo: 0) ? same(inputs[1]) : nil
        case is Sub:
            return isConstant(inputs[1], equalTo: 0) ? same(inputs[0]) : nil
        case is Mul, is MulStrongZero:
            if isConstant(inputs[1], equalTo: 1), let s = same(inputs[0]) { return s }
            return isConstant(inputs[0], equalTo: 1) ? same(inputs[1]) : nil
        case is Div:
            return isConstant(inputs[1], equalTo: 1) ? same(inputs[0]) : nil
        default:
            return nil
        }
    }

    /// `sum(broadcast(x))` over exactly the axes the broadcast repeated: n copies of each element
    /// of x summed, which is `n · x` in the result's shape.
    mutating func sumOfBroadcast(_ sum: ReduceSum, _ operand: Program.Atom, result: ArrayType) -> Simplification? {
        guard let inner = definingEquation(operand), let broadcast = inner.primitive as? BroadcastTo else { return nil }
        let x = inner.inputs[0], xType = type(x)
        guard xType.dtype == result.dtype, xType.dtype.isFloatingPoint else { return nil }
        let padded = [Int](repeating: 1, count: broadcast.shape.count - xType.shape.count) + xType.shape
        var copies = 1
        for d in broadcast.shape.indices {
            if sum.axes.contains(d) {
                guard padded[d] == 1 else { return nil }
                copies *= broadcast.shape[d]
            } else if padded[d] != broadcast.shape[d] {
                return nil
            }
        }
        let reshape = Reshape(shape: result.shape)
        guard copies != 1 else { return xType.shape == result.shape ? .forward(x) : .replace(reshape, [x]) }
        let n = NDArray.full([], Double(copies), dtype: result.dtype)
        return .chain(reshape, [x], result, Mul(), constant(n))
    }

    func program(outputs: [Program.Atom]) -> Program {
        Program(name: original.name, types: types, inputs: original.inputs, constants: constants, equations: equations,
                outputs: outputs.map(resolved))
    }
}

/// A small constant's type and elements, equal for equal constants.
private func smallConstantKey(_ x: NDArray) -> String {
    "\(x.arrayType)\(x.dtype == .bool ? x.scalars(as: Bool.self).description : x.doubles.description)"
}

/// A key equal for two applications of `primitive` exactly when they compute the same function
/// of their operands: the primitive's type and every parameter's value. Nil for primitives
/// that hold functions or objects, whose equality cannot be seen; a staged call is known by
/// its program.
func equationKey(_ primitive: any Primitive) -> String? {
    if let call = primitive as? CallProgram { return "jit#\(ObjectIdentifier(call.program))" }
    return valueKey(primitive)
}

private func valueKey(_ value: Any) -> String? {
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .class { return nil }
    let typeName = String(reflecting: type(of: value))
    if mirror.children.isEmpty {
        // A function prints as its type; nothing tells two apart.
        return typeName.contains("->") ? nil : "\(typeName)=\(value)"
    }
    var parts: [String] = []
    for child in mirror.children {
        guard let key = valueKey(child.value) else { return nil }
        parts.append("\(child.label ?? "_"):\(key)")
    }
    return "\(typeName)(\(parts.joined(separator: ",")))"
}
