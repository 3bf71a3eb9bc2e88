// The forward Laplacian (collapsed second-order Taylor mode): one forward pass that carries,
// beside each value y(x), its derivatives along d directions (stacked on a leading axis:
// J = [∂y/∂x · e₁, …, ∂y/∂x · e_d], shape [d] + y's shape) and the sum of its second
// derivatives along them (S = Σᵢ ∂²y/∂eᵢ², y's shape) — or each of them ([d] + y's shape) for
// the Hessian's diagonal. With the unit vectors of the input as directions, S at the output is
// the Laplacian. Each primitive f maps them by the chain rule of second derivatives:
//
//     J_y = Df(x)[J]                          its jvp rule, batched over the d directions
//     S_y = Df(x)[S] + Σᵢ D²f(x)[Jᵢ, Jᵢ]       its jvp rule, and its `secondOrder` rule
//
// No Hessian is formed and nothing is repeated per direction: the cost is about that of d + 1
// tangents through the function (Li et al., "A computational framework for neural network-based
// variational Monte Carlo with Forward Laplacian", 2023; folx for JAX). Every rule is written
// with NDArray operations, so the pass composes with `grad` (a PINN loss differentiated with
// respect to the weights), `vmap` (over collocation points) and `jit`.
//
// A primitive without a rule of its own gets the second-order term from its jvp rule by forward
// mode over each direction (`nestedSecondOrder`), correct for every primitive, and the user is
// told once per primitive.

import FluxionKernels
import Synchronization

final class ForwardLaplacianInterpreter: Interpreter, @unchecked Sendable {
    /// How many directions the values carry.
    let directions: Int
    /// Whether the second-order part is summed over the directions (the Laplacian) or kept per
    /// direction (the Hessian's diagonal).
    let summed: Bool

    init(level: Int, transform: String, directions: Int, summed: Bool) {
        self.directions = directions
        self.summed = summed
        super.init(level: level, transform: transform)
    }

    override func process(_ primitive: any Primitive, _ inputs: [NDArray]) -> [NDArray] {
        let (primals, carried) = unpack(inputs, ForwardLaplacianTracer.self)
        let outputs = bind(primitive, primals)
        guard outputs.contains(where: { $0.dtype.isFloatingPoint }) else { return outputs }
        let jacobians = jvpAlongEach(primitive, primals, outputs: outputs, tangents: carried.map { $0?.jacobian })
        let secondTangents = carried.map { $0?.second ?? nil }
        let pushed = summed ? primitive.jvp(primals, outputs: outputs, tangents: secondTangents)
                            : jvpAlongEach(primitive, primals, outputs: outputs, tangents: secondTangents)
        let curvature = primitive.secondOrder(primals, outputs: outputs, directions: carried.map { $0?.jacobian }, summed: summed)
        return outputs.indices.map { k in
            let y = outputs[k]
            let second = addTangents(pushed[k], curvature[k])
            guard y.dtype.isFloatingPoint, jacobians[k] != nil || second != nil else { return y }
            return lift(y, jacobian: jacobians[k] ?? zeroJacobian(y), second: second)
        }
    }

    /// `x` as a value of this interpreter (`second` nil: zero, as for the inputs and
    /// everything linear in them).
    func lift(_ x: NDArray, jacobian: NDArray, second: NDArray?) -> NDArray {
        NDArray(tracer: ForwardLaplacianTracer(interpreter: self, primal: x, jacobian: jacobian, second: second))
    }

    /// The value, its derivatives along the directions and its second-order part (zeros when
    /// `y` does not depend on this interpreter's inputs).
    func split(_ y: NDArray) -> (primal: NDArray, jacobian: NDArray, second: NDArray) {
        if let t = y.tracer as? ForwardLaplacianTracer, t.interpreter === self { return (t.primal, t.jacobian, t.second ?? zeroSecond(t.primal)) }
        let z = y.dtype.isFloatingPoint ? y : y.to(.float64)
        return (y, zeroJacobian(z), zeroSecond(z))
    }

    func zeroJacobian(_ y: NDArray) -> NDArray { NDArray.zeros([directions] + y.shape, dtype: y.dtype) }
    func zeroSecond(_ y: NDArray) -> NDArray { NDArray.zeros(summed ? y.shape : [directions] + y.shape, dtype: y.dtype) }
}

final class ForwardLaplacianTracer: Tracer, @unchecked Sendable {
    let primal: NDArray
    /// The derivatives along the directions: [d] + shape.
    let jacobian: NDArray
    /// The second derivatives along the directions, summed (shape) or each ([d] + shape); nil
    /// while they are zero.
    let second: NDArray?

    init(interpreter: ForwardLaplacianInterpreter, primal: NDArray, jacobian: NDArray, second: NDArray?) {
        self.primal = primal
        self.jacobian = jacobian
        self.second = second
        super.init(interpreter: interpreter, shape: primal.shape, dtype: primal.dtype)
    }

    override func concreteValue() -> StridedArray { primal.elements }
}

extension ForwardLaplacianTracer: CarryingTracer {
    var lower: NDArray { primal }
    var carried: (jacobian: NDArray, second: NDArray?) { (jacobian, second) }
}

// MARK: - What the rules share

/// `body` applied to each slice along the first axis of `stacked` (all of one length), as one
/// batched computation (`vmap`); results stacked along their first axis.
func alongEachDirection(_ stacked: [NDArray], _ body: ([NDArray]) -> [NDArray]) -> [NDArray] {
    do {
        return try vmapFlat({ body($0) }, stacked, inAxes: stacked.map { _ in 0 }, outAxis: 0, chunkSize: nil,
                            randomness: .error, fallback: .loop, site: CallSite(file: #fileID, line: #line))
    } catch {
        fail("forward Laplacian", "batching a rule over its directions failed: \(error)",
             fix: "report this with the function being differentiated", file: #fileID, line: #line)
    }
}

/// Df(x)[tᵢ] for each of the tangents stacked along the first axis of `tangents` (nil: zero),
/// as one batched application of the jvp rule.
func jvpAlongEach(_ primitive: any Primitive, _ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
    let moving = tangents.indices.filter { tangents[$0] != nil }
    guard !moving.isEmpty else { return outputs.map { _ in nil } }
    var zero = outputs.map { _ in true }
    let pushed = alongEachDirection(moving.map { tangents[$0]! }) { ts in
        var all = [NDArray?](repeating: nil, count: primals.count)
        for (k, j) in moving.enumerated() { all[j] = ts[k] }
        let out = primitive.jvp(primals, outputs: outputs, tangents: all)
        zero = out.map { $0 == nil }
        return zip(out, outputs).map { t, y in t ?? NDArray.zerosLike(y) }
    }
    return pushed.indices.map { zero[$0] ? nil : pushed[$0] }
}

/// The second-order term of any primitive, from its jvp rule: for each direction v,
/// D²f(x)[v, v] is the derivative along v of x ↦ Df(x)[v], taken by forward mode; the
/// directions are batched.
func nestedSecondOrder(_ primitive: any Primitive, _ primals: [NDArray], outputs: [NDArray], directions: [NDArray?],
                       summed: Bool) -> [NDArray?] {
    let moving = directions.indices.filter { directions[$0] != nil && primals[$0].dtype.isFloatingPoint }
    guard !moving.isEmpty else { return outputs.map { _ in nil } }
    announceNestedSecondOrder(primitive.name)
    var zero = outputs.map { _ in true }
    let terms = alongEachDirection(moving.map { directions[$0]! }) { vs in
        do {
            return try withNewInterpreter({ ForwardInterpreter(level: $0, transform: "forward Laplacian") }) { forward in
                var lifted = primals
                var tangents = [NDArray?](repeating: nil, count: primals.count)
                for (k, j) in moving.enumerated() {
                    lifted[j] = forward.lift(primals[j], tangent: vs[k])
                    tangents[j] = vs[k]
                }
                let first = primitive.jvp(lifted, outputs: bind(primitive, lifted), tangents: tangents)
                zero = first.map { $0 == nil }
                return zip(first, outputs).map { t, y in t.map { forward.split($0).tangent } ?? NDArray.zerosLike(y) }
            }
        } catch {
            report(error)
            return outputs.map { NDArray.zerosLike($0) }
        }
    }
    return terms.indices.map { zero[$0] ? nil : (summed ? terms[$0].sum(dim: 0) : terms[$0]) }
}

/// The second-order term of a primitive bilinear in its two inputs (a product):
/// D²f[(aᵢ, bᵢ), (aᵢ, bᵢ)] = 2·f(aᵢ, bᵢ), zero unless both inputs move.
func bilinearSecondOrder(_ primitive: any Primitive, directions: [NDArray?], summed: Bool) -> [NDArray?] {
    guard let a = directions[0], let b = directions[1] else { return [nil] }
    let terms = alongEachDirection([a, b]) { v in bind(primitive, v) }[0]
    return [2 * (summed ? terms.sum(dim: 0) : terms)]
}

/// d/dx g(x) for an elementwise `g`, by forward mode with unit tangents.
func derivativeByForwardMode(at x: NDArray, _ g: (NDArray) -> NDArray) -> NDArray {
    do {
        return try withNewInterpreter({ ForwardInterpreter(level: $0, transform: "forward Laplacian") }) { forward in
            forward.split(g(forward.lift(x, tangent: NDArray.onesLike(x)))).tangent
        }
    } catch {
        report(error)
        return NDArray.zerosLike(x)
    }
}

private let announcedSecondOrder = Mutex(Set<String>())

/// Tells the user once per primitive that its second-order term comes from nested forward mode.
func announceNestedSecondOrder(_ name: String) {
    if announcedSecondOrder.withLock({ $0.insert(name).inserted }) {
        print("Fluxion: the forward Laplacian takes \(name)'s second derivatives by forward mode over its jvp rule (it has no second-order rule of its own); correct, but slower")
    }
}
