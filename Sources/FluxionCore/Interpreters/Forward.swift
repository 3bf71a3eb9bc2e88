// Forward mode: dual numbers. A tracer carries a primal value (from the level below) and a
// tangent; each primitive's `jvp` rule maps input tangents to output tangents. Outputs whose
// tangent is zero (integer outputs, comparisons, inputs without tangents) are returned as
// plain lower-level values, so nothing is traced that cannot carry a derivative.

import FluxionKernels

final class ForwardInterpreter: Interpreter, @unchecked Sendable {
    override func process(_ primitive: any Primitive, _ inputs: [NDArray]) -> [NDArray] {
        let (primals, tangents) = unpack(inputs, ForwardTracer.self)
        let outputs = bind(primitive, primals)
        let outTangents = primitive.jvp(primals, outputs: outputs, tangents: tangents)
        return zip(outputs, outTangents).map { y, t in
            guard let t, y.dtype.isFloatingPoint else { return y }
            return NDArray(tracer: ForwardTracer(interpreter: self, primal: y, tangent: t))
        }
    }

    /// `x` as a dual number of this interpreter with tangent `t`.
    func lift(_ x: NDArray, tangent t: NDArray) -> NDArray {
        NDArray(tracer: ForwardTracer(interpreter: self, primal: x, tangent: t))
    }

    /// The primal and tangent (zero when `y` does not depend on this interpreter's inputs).
    func split(_ y: NDArray) -> (primal: NDArray, tangent: NDArray) {
        if let t = y.tracer as? ForwardTracer, t.interpreter === self { return (t.primal, t.tangent) }
        return (y, NDArray.zeros(y.shape, dtype: y.dtype.floatingOrDefault))
    }
}

final class ForwardTracer: Tracer, @unchecked Sendable {
    let primal: NDArray
    let tangent: NDArray

    init(interpreter: ForwardInterpreter, primal: NDArray, tangent: NDArray) {
        self.primal = primal
        self.tangent = tangent
        super.init(interpreter: interpreter, shape: primal.shape, dtype: primal.dtype)
    }

    override func concreteValue() -> StridedArray { primal.elements }
}

extension ForwardTracer: CarryingTracer {
    var lower: NDArray { primal }
    var carried: NDArray { tangent }
}
