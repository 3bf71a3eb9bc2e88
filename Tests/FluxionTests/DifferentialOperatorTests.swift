// The differential operators (laplacian, hessianDiagonal, valueGradientAndLaplacian,
// divergence, directionalDerivative): against closed forms written out in Swift, against the
// nested transforms (the Hessian's trace and diagonal, forward over forward along each unit
// vector) for every primitive in the table — the forward Laplacian's column of it — and
// composed with grad (a PINN loss), vmap and jit.

import Foundation
import Testing
import Fluxion

/// A small tanh network of a point: R^d → R, weights fixed by `seed`.
private struct Network {
    let w1: NDArray, b1: NDArray, w2: NDArray, b2: NDArray, w3: NDArray

    init(inputs d: Int, width: Int, seed: UInt64) {
        var r = CaseRandom(seed: seed)
        w1 = r.array([d, width], in: -1...1)
        b1 = r.array([width], in: -0.5...0.5)
        w2 = r.array([width, width], in: -1...1)
        b2 = r.array([width], in: -0.5...0.5)
        w3 = r.array([width, 1], in: -1...1)
    }

    var parameters: [NDArray] { [w1, b1, w2, b2, w3] }

    /// u(x) for one point x of shape [d] (or a batch [n, d] → [n]), with weights `p`.
    static func u(_ p: [NDArray], _ x: NDArray) -> NDArray {
        let h1 = tanh(x.matmul(p[0]) + p[1])
        let h2 = sigmoid(h1.matmul(p[2]) + p[3]) * h1
        return h2.matmul(p[4]).squeeze(dim: -1)
    }
}

/// ∂²f/∂eᵢ² for each unit vector eᵢ of the inputs' elements, by forward over forward: the
/// reference the one-pass operators are checked against.
private func secondDerivativesAlongUnitVectors(_ f: @escaping ([NDArray]) throws -> NDArray, at x: [NDArray]) throws -> [NDArray] {
    var result: [NDArray] = []
    for (j, leaf) in x.enumerated() {
        for i in 0..<leaf.shape.reduce(1, *) {
            let e = x.enumerated().map { k, l -> NDArray in
                var v = [Double](repeating: 0, count: l.shape.reduce(1, *))
                if k == j { v[i] = 1 }
                return NDArray(shape: l.shape, scalars: v, dtype: l.dtype)
            }
            result.append(try jvp({ (y: [NDArray]) in try jvp(f, at: y, tangents: e).tangent }, at: x, tangents: e).tangent)
        }
    }
    return result
}

@Suite("Differential operators: laplacian, hessianDiagonal, divergence, directional derivatives")
struct DifferentialOperatorTests {
    @Test("closed forms: a cubic, a Gaussian, sin·cos, a product of powers")
    func closedForms() throws {
        let x = float64([0.3, -0.7, 1.1], [3])
        let v = x.doubles
        // Σ xᵢ³ → Δ = 6 Σ xᵢ, diagonal 6xᵢ.
        let cubic = { (x: NDArray) in (x * x * x).sum() }
        expectClose(try laplacian(cubic)(x), [6 * v.reduce(0, +)], rtol: 1e-13, atol: 1e-13)
        expectClose(try hessianDiagonal(cubic)(x), v.map { 6 * $0 }, rtol: 1e-13, atol: 1e-13)
        // e^−|x|² → Δ = (4|x|² − 2d)·e^−|x|².
        let r2 = v.map { $0 * $0 }.reduce(0, +)
        let gaussian = { (x: NDArray) in exp(-(x * x).sum()) }
        expectClose(try laplacian(gaussian)(x), [(4 * r2 - 6) * Foundation.exp(-r2)], rtol: 1e-13, atol: 1e-14)
        expectClose(try hessianDiagonal(gaussian)(x), v.map { (4 * $0 * $0 - 2) * Foundation.exp(-r2) }, rtol: 1e-13, atol: 1e-14)
        // sin(πx₀)·cos(πx₁) → Δ = −2π²·sin(πx₀)·cos(πx₁).
        let p = float64([0.2, 0.45], [2])
        let wave = { (x: NDArray) in sin(Double.pi * x[0]) * cos(Double.pi * x[1]) }
        let s = Foundation.sin(Double.pi * 0.2) * Foundation.cos(Double.pi * 0.45)
        expectClose(try laplacian(wave)(p), [-2 * Double.pi * Double.pi * s], rtol: 1e-13, atol: 1e-14)
        // x₀²·x₁³/x₂ (products and a quotient): ∂²/∂x₀² = 2x₁³/x₂, ∂²/∂x₁² = 6x₀²x₁/x₂,
        // ∂²/∂x₂² = 2x₀²x₁³/x₂³.
        let q = float64([0.8, -1.3, 1.7], [3])
        let (a, b, c) = (0.8, -1.3, 1.7)
        let ratio = { (x: NDArray) in x[0] * x[0] * x[1] * x[1] * x[1] / x[2] }
        let diagonal = [2 * b * b * b / c, 6 * a * a * b / c, 2 * a * a * b * b * b / (c * c * c)]
        expectClose(try hessianDiagonal(ratio)(q), diagonal, rtol: 1e-13, atol: 1e-14)
        expectClose(try laplacian(ratio)(q), [diagonal.reduce(0, +)], rtol: 1e-13, atol: 1e-14)
    }

    @Test("a tanh network: laplacian is the Hessian's trace, hessianDiagonal its diagonal, in float64 and float32")
    func networkAgainstHessian() throws {
        let net = Network(inputs: 3, width: 8, seed: 11)
        for dtype in [DType.float64, .float32] {
            let p = net.parameters.map { $0.to(dtype) }
            let x = float64([0.2, -0.4, 0.9], [3]).to(dtype)
            let u = { (x: NDArray) in Network.u(p, x) }
            let h = try hessian(u)(x)
            let (rtol, atol) = dtype == .float64 ? (1e-12, 1e-13) : (1e-4, 1e-5)
            expectClose(try laplacian(u)(x), [h.trace().item()], rtol: rtol, atol: atol)
            expectClose(try hessianDiagonal(u)(x), h.diagonal().doubles, rtol: rtol, atol: atol)
            let (value, gradient, lap) = try valueGradientAndLaplacian(u)(x)
            expectClose(value, [u(x).item()], rtol: rtol, atol: atol)
            expectClose(gradient, try grad(u)(x).doubles, rtol: rtol, atol: atol)
            expectClose(lap, [h.trace().item()], rtol: rtol, atol: atol)
        }
    }

    @Test("vector outputs and trees: one Laplacian per output element; a tree's Laplacian runs over all its leaves")
    func vectorOutputsAndTrees() throws {
        let x = float64([0.5, -0.25], [2])
        // f(x) = (x₀²x₁, sin x₀ + x₁³): Δf = (2x₁, −sin x₀ + 6x₁).
        let f = { (x: NDArray) in stack([x[0] * x[0] * x[1], sin(x[0]) + x[1] * x[1] * x[1]]) }
        expectClose(try laplacian(f)(x), [2 * -0.25, -Foundation.sin(0.5) + 6 * -0.25], rtol: 1e-13, atol: 1e-14)
        let diag = try hessianDiagonal(f)(x)
        #expect(diag.shape == [2, 2])
        expectClose(diag, [2 * -0.25, 0, -Foundation.sin(0.5), 6 * -0.25], rtol: 1e-13, atol: 1e-14)
        // A tree: g(a, b) = Σa²·Σb³ over both leaves; Δ = 2·len(a)·Σb³ + Σa²·6Σb.
        let a = float64([0.3, 0.6], [2]), b = float64([1.2, -0.4, 0.7], [3])
        let g = { (t: [NDArray]) in (t[0] * t[0]).sum() * (t[1] * t[1] * t[1]).sum() }
        let sa2 = 0.09 + 0.36, sb3 = 1.728 - 0.064 + 0.343, sb = 1.2 - 0.4 + 0.7
        expectClose(try laplacian(g)([a, b]), [4 * sb3 + sa2 * 6 * sb], rtol: 1e-13, atol: 1e-14)
        let diagonals = try hessianDiagonal(g)([a, b])
        expectClose(diagonals[0], [2 * sb3, 2 * sb3], rtol: 1e-13, atol: 1e-14)
        expectClose(diagonals[1], [1.2, -0.4, 0.7].map { 6 * $0 * sa2 }, rtol: 1e-13, atol: 1e-14)
    }

    @Test("batched over points: equal to the operator applied point by point")
    func batchedPoints() throws {
        let net = Network(inputs: 2, width: 6, seed: 5)
        let p = net.parameters
        var r = CaseRandom(seed: 99)
        let points = r.array([7, 2], in: -1...1)
        let u = { (x: NDArray) in Network.u(p, x) }
        let batched = try laplacian(u, batched: true)(points)
        #expect(batched.shape == [7])
        let loop = try (0..<7).map { try laplacian(u)(points[$0]).item() }
        expectClose(batched, loop, rtol: 1e-12, atol: 1e-13)
        let diag = try hessianDiagonal(u, batched: true)(points)
        #expect(diag.shape == [7, 2])
        expectClose(diag, try (0..<7).flatMap { try hessianDiagonal(u)(points[$0]).doubles }, rtol: 1e-12, atol: 1e-13)
        let (values, gradients, laplacians) = try valueGradientAndLaplacian(u, batched: true)(points)
        #expect(values.shape == [7] && gradients.shape == [7, 2] && laplacians.shape == [7])
        expectClose(gradients, try (0..<7).flatMap { try grad(u)(points[$0]).doubles }, rtol: 1e-12, atol: 1e-13)
        expectClose(laplacians, loop, rtol: 1e-12, atol: 1e-13)
    }

    @Test("a PINN loss: grad with respect to the weights through laplacian equals grad through the Hessian's trace; jit agrees")
    func pinnLossGradient() throws {
        let net = Network(inputs: 2, width: 6, seed: 3)
        var r = CaseRandom(seed: 7)
        let points = r.array([16, 2], in: -1...1)
        let source = sin(Double.pi * points[0..., 0]) * sin(Double.pi * points[0..., 1])
        let forward = { (p: [NDArray]) throws -> NDArray in
            let residual = try laplacian({ Network.u(p, $0) }, batched: true)(points) - source
            return (residual * residual).mean()
        }
        let nested = { (p: [NDArray]) throws -> NDArray in
            let traces = try vmap { (x: NDArray) in try hessian({ Network.u(p, $0) })(x).trace() }(points)
            let residual = traces - source
            return (residual * residual).mean()
        }
        let p = net.parameters
        let (value, gradient) = try valueAndGrad(forward)(p)
        let (nestedValue, nestedGradient) = try valueAndGrad(nested)(p)
        expectClose(value, [nestedValue.item()], rtol: 1e-12, atol: 1e-14)
        for (g, h) in zip(gradient, nestedGradient) { expectClose(g, h.doubles, rtol: 1e-10, atol: 1e-12) }
        let jitted = jit(valueAndGrad(forward))
        for _ in 0..<2 {
            let (jv, jg) = try jitted(p)
            expectClose(jv, [value.item()], rtol: 1e-12, atol: 1e-14)
            for (g, h) in zip(jg, gradient) { expectClose(g, h.doubles, rtol: 1e-10, atol: 1e-12) }
        }
    }

    @Test("a jitted function's Laplacian and Hessian diagonal: its program's forward Laplacian, equal to the unstaged ones")
    func jittedFunctions() throws {
        let net = Network(inputs: 3, width: 8, seed: 21)
        let p = net.parameters
        let u = { (x: NDArray) in Network.u(p, x) }
        let staged = jit(u)
        var r = CaseRandom(seed: 4)
        let points = r.array([5, 3], in: -1...1)
        expectClose(try laplacian(staged, batched: true)(points), try laplacian(u, batched: true)(points).doubles, rtol: 1e-12, atol: 1e-13)
        expectClose(try hessianDiagonal(staged)(points[0]), try hessianDiagonal(u)(points[0]).doubles, rtol: 1e-12, atol: 1e-13)
        // A loss on the jitted network's Laplacian, differentiated with respect to the weights.
        let loss = { (p: [NDArray]) throws -> NDArray in
            let v = jit({ (x: NDArray) in Network.u(p, x) })
            let l = try laplacian(v, batched: true)(points)
            return (l * l).sum()
        }
        let plain = { (p: [NDArray]) throws -> NDArray in
            let l = try laplacian({ Network.u(p, $0) }, batched: true)(points)
            return (l * l).sum()
        }
        for (g, h) in zip(try grad(loss)(p), try grad(plain)(p)) { expectClose(g, h.doubles, rtol: 1e-10, atol: 1e-12) }
    }

    @Test("divergence: the Jacobian's trace, a closed form, batched, and a refused non-field")
    func divergenceOfFields() throws {
        // F(x) = (x₀x₁, x₁² + sin x₂, x₀x₂²): ∇·F = x₁ + 2x₁ + 2x₀x₂.
        let x = float64([0.4, -1.1, 0.6], [3])
        let field = { (x: NDArray) in stack([x[0] * x[1], x[1] * x[1] + sin(x[2]), x[0] * x[2] * x[2]]) }
        expectClose(try divergence(field)(x), [3 * -1.1 + 2 * 0.4 * 0.6], rtol: 1e-13, atol: 1e-14)
        var r = CaseRandom(seed: 17)
        let points = r.array([5, 3], in: -1...1)
        let batched = try divergence(field, batched: true)(points)
        expectClose(batched, try (0..<5).map { try divergence(field)(points[$0]).item() }, rtol: 1e-13, atol: 1e-14)
        // The gradient of a potential: its divergence is the potential's Laplacian.
        let potential = { (x: NDArray) in exp(-(x * x).sum()) * x[0] }
        expectClose(try divergence(grad(potential))(x), [try laplacian(potential)(x).item()], rtol: 1e-12, atol: 1e-14)
        #expect(throws: TransformError.self) { try divergence({ (x: NDArray) in x.sum() })(x) }
    }

    @Test("directional derivatives of orders 0 to 4 against closed forms")
    func directionalDerivatives() throws {
        // f(x) = exp(a·x) along v: the k-th derivative is (a·v)ᵏ·exp(a·x).
        let a = float64([0.5, -1.0, 0.25], [3]), x = float64([0.3, 0.2, -0.6], [3]), v = float64([1.0, 0.5, -2.0], [3])
        let f = { (x: NDArray) in exp((a * x).sum()) }
        let av = 0.5 * 1.0 + -1.0 * 0.5 + 0.25 * -2.0, ax = 0.15 - 0.2 - 0.15
        for k in 0...4 {
            expectClose(try directionalDerivative(f, at: x, along: v, order: k), [Foundation.pow(av, Double(k)) * Foundation.exp(ax)],
                        rtol: 1e-13, atol: 1e-14, label: "order \(k)")
        }
        // Order 2 is vᵀ∇²f v.
        let g = { (x: NDArray) in tanh(x * x).sum() * x[1] }
        let h = try hessian(g)(x)
        let vHv = (v.unsqueeze(0).matmul(h).matmul(v.unsqueeze(1))).item()
        expectClose(try directionalDerivative(g, at: x, along: v, order: 2), [vHv], rtol: 1e-12, atol: 1e-14)
        #expect(throws: TransformError.self) { try directionalDerivative(g, at: x, along: v, order: -1) }
        #expect(throws: TransformError.self) { try directionalDerivative(g, at: x, along: v.narrow(dim: 0, start: 0, length: 2), order: 1) }
    }

    @Test("the forward Laplacian of every primitive in the table: each second derivative along a unit vector, as forward over forward gives it",
          arguments: primitiveTable.filter { $0.derivative != .none })
    func everyPrimitive(_ row: PrimitiveCase) throws {
        for draw in 0..<2 {
            let instance = row.instance(draw: draw)
            let f = instance.differentiable, x = instance.primals
            let label = "\(row.primitive) draw \(draw), input shapes \(instance.args.map(\.shape))"
            let reference = try secondDerivativesAlongUnitVectors(f, at: x)
            let diagonals = try hessianDiagonal(f)(x)
            let lap = try laplacian(f)(x)
            let outputShape = try f(x).shape
            let outputCount = outputShape.reduce(1, *)
            // hessianDiagonal's leaf k has shape output + leaf k; the reference lists unit
            // vectors leaf by leaf, each with the output's shape.
            var index = 0
            for (k, leaf) in x.enumerated() {
                let n = leaf.shape.reduce(1, *)
                #expect(diagonals[k].shape == outputShape + leaf.shape, "\(label): leaf \(k)")
                let expected = (0..<outputCount).flatMap { o in (0..<n).map { i in reference[index + i].doubles[o] } }
                expectClose(diagonals[k], expected, rtol: 1e-9, atol: 1e-9, label: "\(label): leaf \(k) diagonal")
                index += n
            }
            let sum = reference.dropFirst().reduce(reference.first ?? NDArray.zeros(outputShape, dtype: .float64)) { $0 + $1 }
            expectClose(lap, sum.doubles, rtol: 1e-9, atol: 1e-9, label: "\(label): Laplacian")
            if row.derivative != .smooth {
                #expect(lap.doubles.allSatisfy { $0 == 0 }, "\(label): a piecewise-constant function has a zero Laplacian")
            }
        }
    }
}
