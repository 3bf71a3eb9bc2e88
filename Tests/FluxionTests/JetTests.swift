// Taylor mode (`jet`): closed forms to order 8 written out in Swift; every primitive in the table
// against k nested jvps along a curve (a line with symbolic-zero higher coefficients, and a cubic
// curve); the generic rules (Faà di Bruno, the jvp-rule default) on primitives defined here;
// composition with grad, vmap and jit; and the terms of higher-order PDEs — a KdV term u_xxx and
// a biharmonic Δ²u — of a small tanh network.

import Foundation
import Testing
import Fluxion
import FluxionKernels
@testable import FluxionCore

/// dᵏ/dtᵏ g(t) at t = 0 for k = 0…`order`, each by k nested jvps of the scalar t: the reference.
private func nestedDerivatives(_ g: @escaping (NDArray) throws -> NDArray, order: Int) throws -> [NDArray] {
    let one = NDArray(1.0, dtype: .float64)
    var derivatives: [(NDArray) throws -> NDArray] = [g]
    for _ in 0..<order {
        let inner = derivatives.last!
        derivatives.append { t in try jvp(inner, at: t, tangents: one).tangent }
    }
    return try derivatives.map { try $0(NDArray(0.0, dtype: .float64)) }
}

/// The point x(t) = x₀ + Σₖ cₖ·tᵏ/k! of the curve with coefficients `series[k − 1]` (one array
/// per input), at a scalar t.
private func curve(_ x0: [NDArray], _ series: [[NDArray]], at t: NDArray) -> [NDArray] {
    x0.indices.map { i in
        var x = x0[i], power = NDArray(1.0, dtype: .float64)
        for (j, term) in series.enumerated() {
            power = power * t / Double(j + 1)
            x = x + term[i] * power
        }
        return x
    }
}

/// Dᵏf(x)[v₁, …, vₖ] by nested jvps, one direction per level.
private func mixedDerivative(_ f: @escaping (NDArray) throws -> NDArray, at x: NDArray, along directions: [NDArray]) throws -> NDArray {
    var g = f
    for v in directions {
        let inner = g
        g = { y in try jvp(inner, at: y, tangents: v).tangent }
    }
    return try g(x)
}

/// A small tanh network of a point: R^d → R, weights fixed by `seed`.
private struct Network {
    let parameters: [NDArray]

    init(inputs d: Int, width: Int, seed: UInt64) {
        var r = CaseRandom(seed: seed)
        parameters = [r.array([d, width], in: -1...1), r.array([width], in: -0.5...0.5),
                      r.array([width, width], in: -1...1), r.array([width], in: -0.5...0.5), r.array([width, 1], in: -1...1)]
    }

    /// u(x) for one point x of shape [d], with weights `p`.
    static func u(_ p: [NDArray], _ x: NDArray) -> NDArray {
        let h1 = tanh(x.matmul(p[0]) + p[1])
        let h2 = tanh(h1.matmul(p[2]) + p[3])
        return h2.matmul(p[4]).squeeze(dim: -1)
    }
}

/// tanh with only a derivative: its Taylor rule is the family's Faà di Bruno formula.
private struct PlainTanh: UnaryWithDerivative {
    var function: UnaryFunction { .tanh }
    func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 - y * y }
}

/// x·eˣ with only the four required rules: its Taylor rule is the default, from its jvp rule
/// (which reads the output).
private struct TimesExp: Primitive {
    var name: String { "timesExp" }
    func evaluate(_ inputs: [NDArray]) -> [NDArray] { [inputs[0] * exp(inputs[0])] }
    func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        // (x eˣ)′ = eˣ + x eˣ = y/x + y would divide by x; eˣ·(1 + x) does not.
        [tangents[0].map { $0 * exp(primals[0]) * (1 + primals[0]) }]
    }
    func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { $0 * exp(primals[0]) * (1 + primals[0]) }]
    }
    func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs)[0]], axes)
    }
}

/// The unit line x₀ + t of `x0`'s shape to order `order`: series [1, 0, …, 0].
private func unitLine(_ x0: NDArray, order: Int) -> [NDArray] {
    [NDArray.onesLike(x0)] + (1..<order).map { _ in NDArray.zerosLike(x0) }
}

@Suite("Taylor mode: jet")
struct JetTests {
    @Test("closed forms to order 8: exp(a·x) along v, sin and cos, a cubic, 1/(1 + x), a Gaussian, tanh")
    func closedForms() throws {
        let order = 8
        // exp(a·x) along v: yₖ = (a·v)ᵏ·exp(a·x); directionalDerivative is the same line.
        let a = float64([0.5, -1.0, 0.25], [3]), x = float64([0.3, 0.2, -0.6], [3]), v = float64([1.0, 0.5, -2.0], [3])
        let f = { (x: NDArray) in exp((a * x).sum()) }
        let av = 0.5 * 1.0 + -1.0 * 0.5 + 0.25 * -2.0, ax = 0.15 - 0.2 - 0.15
        let (value, series) = try jet(f, primal: x, series: [v] + (1..<order).map { _ in NDArray.zerosLike(v) })
        expectClose(value, [Foundation.exp(ax)], rtol: 1e-14, atol: 0)
        #expect(series.count == order)
        for k in 1...order {
            let expected = [Foundation.pow(av, Double(k)) * Foundation.exp(ax)]
            expectClose(series[k - 1], expected, rtol: 1e-13, atol: 1e-14, label: "exp(a·x) order \(k)")
            expectClose(try directionalDerivative(f, at: x, along: v, order: k), expected, rtol: 1e-13, atol: 1e-14,
                        label: "directionalDerivative order \(k)")
        }

        // sin and cos along x₀ + t: sin⁽ᵏ⁾(x) = sin(x + kπ/2), cos⁽ᵏ⁾(x) = cos(x + kπ/2).
        let points = [-1.3, 0.2, 2.5], p = float64(points, [3])
        let sines = try jet({ sin($0) }, primal: p, series: unitLine(p, order: order)).series
        let cosines = try jet({ cos($0) }, primal: p, series: unitLine(p, order: order)).series
        for k in 1...order {
            let shift = Double(k) * Double.pi / 2
            expectClose(sines[k - 1], points.map { Foundation.sin($0 + shift) }, rtol: 1e-13, atol: 1e-14, label: "sin order \(k)")
            expectClose(cosines[k - 1], points.map { Foundation.cos($0 + shift) }, rtol: 1e-13, atol: 1e-14, label: "cos order \(k)")
        }

        // p(x) = 2x³ − x²/2 + x − 4: p′ = 6x² − x + 1, p″ = 12x − 1, p‴ = 12, and exactly 0 above.
        let cubic = try jet({ 2 * ($0 ** 3) - 0.5 * $0 * $0 + $0 - 4 }, primal: p, series: unitLine(p, order: order)).series
        expectClose(cubic[0], points.map { 6 * $0 * $0 - $0 + 1 }, rtol: 1e-14, atol: 1e-14)
        expectClose(cubic[1], points.map { 12 * $0 - 1 }, rtol: 1e-14, atol: 1e-14)
        expectClose(cubic[2], [12, 12, 12], rtol: 1e-14, atol: 1e-14)
        for k in 4...order { #expect(cubic[k - 1].doubles == [0, 0, 0], "a cubic's derivative of order \(k) is exactly zero") }

        // 1/(1 + x): (−1)ᵏ·k!/(1 + x)ᵏ⁺¹.
        let q = float64([0.3, -0.4, 1.5], [3])
        let reciprocal = try jet({ 1 / (1 + $0) }, primal: q, series: unitLine(q, order: order)).series
        var factorial = 1.0
        for k in 1...order {
            factorial *= Double(k)
            let expected = q.doubles.map { (k % 2 == 0 ? 1 : -1) * factorial / Foundation.pow(1 + $0, Double(k + 1)) }
            expectClose(reciprocal[k - 1], expected, rtol: 1e-13, atol: 1e-14, label: "1/(1 + x) order \(k)")
        }

        // exp(−x²): (−1)ᵏ·Hₖ(x)·exp(−x²) with Hermite's Hₖ₊₁ = 2x·Hₖ − 2k·Hₖ₋₁.
        let gaussian = try jet({ exp(-($0 * $0)) }, primal: p, series: unitLine(p, order: order)).series
        for (i, x) in points.enumerated() {
            var h = [1.0, 2 * x]
            for k in 1..<order { h.append(2 * x * h[k] - 2 * Double(k) * h[k - 1]) }
            for k in 1...order {
                expectClose([gaussian[k - 1].doubles[i]], [(k % 2 == 0 ? 1 : -1) * h[k] * Foundation.exp(-x * x)],
                            rtol: 1e-12, atol: 1e-13, label: "Gaussian at \(x), order \(k)")
            }
        }

        // tanh at 0: t − t³/3 + 2t⁵/15 − 17t⁷/315 + …, so yₖ = k!·aₖ = 1, 0, −2, 0, 16, 0, −272, 0.
        let zero = NDArray(0.0, dtype: .float64)
        let atZero = try jet({ tanh($0) }, primal: zero, series: unitLine(zero, order: order)).series
        expectClose(stack(atZero), [1, 0, -2, 0, 16, 0, -272, 0], rtol: 1e-14, atol: 1e-13)
        // Elsewhere: tanh⁽ᵏ⁾ = Pₖ(tanh x) with P₀(y) = y, Pₖ₊₁(y) = (1 − y²)·Pₖ′(y).
        let tanhPoints = try jet({ tanh($0) }, primal: p, series: unitLine(p, order: order)).series
        var polynomial = [0.0, 1.0]  // coefficients of y⁰, y¹, …
        for k in 1...order {
            let d = polynomial.indices.dropFirst().map { Double($0) * polynomial[$0] }
            var next = [Double](repeating: 0, count: d.count + 2)
            for (i, c) in d.enumerated() {
                next[i] += c
                next[i + 2] -= c
            }
            polynomial = next
            let expected = points.map { x in
                let y = Foundation.tanh(x)
                return polynomial.reversed().reduce(0) { $0 * y + $1 }
            }
            // Pₖ's coefficients grow fast (P₈ has 272·y⁸…), so both sides round at about 1e-12.
            expectClose(tanhPoints[k - 1], expected, rtol: 1e-11, atol: 1e-11, label: "tanh order \(k)")
        }
    }

    @Test("a curve that is not a line: jet of sin along the series of z³ is the series of sin(z³) (JAX's example), and coefficients compose")
    func composition() throws {
        // h(z) = z³ at z = 0.5: h₀ = z³, h₁ = 3z², h₂ = 6z, h₃ = 6, h₄ = 0.
        let z = 0.5
        let h = [3 * z * z, 6 * z, 6, 0].map { NDArray($0, dtype: .float64) }
        let (f0, f) = try jet({ sin($0) }, primal: NDArray(z * z * z, dtype: .float64), series: h)
        let (y, dy, ddy) = (Foundation.sin(z * z * z), Foundation.cos(z * z * z), -Foundation.sin(z * z * z))
        expectClose(f0, [y], rtol: 1e-15, atol: 0)
        expectClose(f[0], [dy * h[0].item()], rtol: 1e-14, atol: 0)
        expectClose(f[1], [ddy * h[0].item() * h[0].item() + dy * h[1].item()], rtol: 1e-14, atol: 0)
        // Order by order, it is the series of sin(z³) along z + t.
        let composed = try jet({ sin($0 * $0 * $0) }, primal: NDArray(z, dtype: .float64),
                               series: unitLine(NDArray(z, dtype: .float64), order: 4)).series
        for k in 0..<4 { expectClose(f[k], [composed[k].item()], rtol: 1e-13, atol: 1e-14, label: "order \(k + 1)") }
    }

    @Test("every primitive in the table: coefficients to order 4 along a line and along a cubic curve equal k nested jvps",
          arguments: primitiveTable.filter { $0.derivative != .none })
    func everyPrimitive(_ row: PrimitiveCase) throws {
        let order = 4
        for draw in 0..<2 {
            let instance = row.instance(draw: draw)
            let f = instance.differentiable, x = instance.primals
            var r = CaseRandom(seed: CaseRandom.seed(row.primitive + "/jet", draw))
            let label = "\(row.primitive) draw \(draw), input shapes \(instance.args.map(\.shape))"
            let rtol = Swift.max(1e-9, row.tolerance.exact)
            let value: NDArray, coefficients: [NDArray], series: [[NDArray]]
            if draw == 0 {
                // A line x + t·v, its higher coefficients symbolic zeros (as directionalDerivative passes them).
                let v = x.map { r.array($0.shape, in: -1...1) }
                series = [v] + (1..<order).map { _ in x.map { NDArray.zerosLike($0) } }
                let line = v.map { [$0] + [NDArray?](repeating: nil, count: order - 1) }
                let (outputs, flat) = try jetFlat({ [try f($0)] }, at: x, series: line, order: order, transform: "jet",
                                                  site: CallSite(file: #fileID, line: #line))
                value = outputs[0]
                coefficients = flat[0].map { $0 ?? NDArray.zerosLike(outputs[0]) }
            } else {
                // A cubic curve: x₁, x₂, x₃ set, x₄ zero.
                series = (0..<order).map { k in x.map { k == 3 ? NDArray.zerosLike($0) : r.array($0.shape, in: -1...1) } }
                (value, coefficients) = try jet(f, primals: x, series: series)
            }
            let reference = try nestedDerivatives({ t in try f(curve(x, series, at: t)) }, order: order)
            expectClose(value, reference[0].doubles, rtol: 1e-12, atol: 1e-12, label: "\(label): value")
            for k in 1...order {
                #expect(coefficients[k - 1].shape == reference[k].shape, "\(label): order \(k)")
                expectClose(coefficients[k - 1], reference[k].doubles, rtol: rtol, atol: rtol, label: "\(label): order \(k)")
                if row.derivative != .smooth {
                    #expect(coefficients[k - 1].doubles.allSatisfy { $0 == 0 }, "\(label): a piecewise-constant function has zero coefficients")
                }
            }
        }
    }

    @Test("pow with a constant exponent array: the power recurrence against nested jvps, and a uniform integer exponent exact at 0")
    func powConstantExponent() throws {
        let order = 5
        var r = CaseRandom(seed: 51)
        let x = float64([0.4, 1.3, 2.2], [3]), b = float64([0.5, 2.5, -1.5], [3])
        let series = (0..<order).map { k in [k < 3 ? r.array([3], in: -0.5...0.5) : NDArray.zerosLike(x)] }
        let viaJet = try jet({ (p: [NDArray]) in p[0] ** b }, primals: [x], series: series).series
        let nested = try nestedDerivatives({ t in curve([x], series, at: t)[0] ** b }, order: order)
        for k in 1...order { expectClose(viaJet[k - 1], nested[k].doubles, rtol: 1e-10, atol: 1e-12, label: "order \(k)") }

        // x³ along v at x₀ = 0: only the third coefficient, 6·v³, is non-zero (the recurrence
        // would divide by x₀).
        let zero = float64([0.0, 0.0], [2]), v = float64([1.5, -0.5], [2])
        let cube = try jet({ $0 ** NDArray(3.0, dtype: .float64) }, primal: zero,
                           series: [v] + (1..<order).map { _ in NDArray.zerosLike(v) }).series
        for k in 1...order {
            expectClose(cube[k - 1], v.doubles.map { k == 3 ? 6 * $0 * $0 * $0 : 0 }, rtol: 1e-14, atol: 0, label: "x³ order \(k)")
        }
    }

    @Test("prod with a zero factor: (x₀ + v₀t)(v₁t)(x₂ + v₂t) has coefficients x₀v₁x₂, 2(v₀v₁x₂ + x₀v₁v₂), 6v₀v₁v₂")
    func prodWithZero() throws {
        let (x0, x2, v0, v1, v2) = (1.5, -0.8, 0.3, 2.0, -1.1)
        let x = float64([x0, 0, x2], [3]), v = float64([v0, v1, v2], [3])
        let s = try jet({ $0.prod() }, primal: x, series: [v, NDArray.zerosLike(v), NDArray.zerosLike(v), NDArray.zerosLike(v)]).series
        let expected = [x0 * v1 * x2, 2 * (v0 * v1 * x2 + x0 * v1 * v2), 6 * v0 * v1 * v2, 0]
        for k in 0..<4 { expectClose(s[k], [expected[k]], rtol: 1e-14, atol: 1e-15, label: "order \(k + 1)") }
        // Over one axis of a matrix, against nested jvps.
        var r = CaseRandom(seed: 52)
        let m = r.array([3, 4], in: -1...1), w = r.array([3, 4], in: -1...1)
        let rows = try jet({ (p: [NDArray]) in p[0].prod(dim: 1) }, primals: [m], series: [[w], [w], [NDArray.zerosLike(w)]]).series
        let nested = try nestedDerivatives({ t in curve([m], [[w], [w], [NDArray.zerosLike(w)]], at: t)[0].prod(dim: 1) }, order: 3)
        for k in 1...3 { expectClose(rows[k - 1], nested[k].doubles, rtol: 1e-11, atol: 1e-12, label: "rows, order \(k)") }
    }

    @Test("atan2's series at the origin is zero, as its jvp rule")
    func atan2AtOrigin() throws {
        let zero = float64([0.0], [1]), v = float64([0.7], [1]), w = float64([-0.3], [1])
        let s = try jet({ (p: [NDArray]) in atan2(p[0], p[1]) }, primals: [zero, zero], series: [[v, w], [w, v], [v, v]]).series
        for k in 0..<3 { #expect(s[k].doubles == [0], "order \(k + 1)") }
    }

    @Test("the generic rules: Faà di Bruno for a function with only a derivative, and the jvp-rule default, to order 8")
    func genericRules() throws {
        let order = 8
        let p = float64([-1.1, 0.05, 0.7, 1.9], [4])
        // PlainTanh has tanh's derivative but no recurrence: Faà di Bruno must match Tanh's.
        let plain = try jet({ bind(PlainTanh(), $0) }, primal: p, series: unitLine(p, order: order)).series
        let recurrence = try jet({ tanh($0) }, primal: p, series: unitLine(p, order: order)).series
        for k in 1...order { expectClose(plain[k - 1], recurrence[k - 1].doubles, rtol: 1e-12, atol: 1e-12, label: "order \(k)") }
        // Along a curve with every coefficient set, against nested jvps.
        var r = CaseRandom(seed: 41)
        let curveSeries = (0..<4).map { _ in [r.array([4], in: -1...1)] }
        let along = try jet({ (x: [NDArray]) in bind(PlainTanh(), x[0]) }, primals: [p], series: curveSeries).series
        let nested = try nestedDerivatives({ t in tanh(curve([p], curveSeries, at: t)[0]) }, order: 4)
        for k in 1...4 { expectClose(along[k - 1], nested[k].doubles, rtol: 1e-10, atol: 1e-10, label: "curve order \(k)") }

        // TimesExp has only a jvp rule: (x·eˣ)⁽ᵏ⁾ = (x + k)·eˣ.
        let viaJVP = try jet({ bind(TimesExp(), [$0])[0] }, primal: p, series: unitLine(p, order: order)).series
        for k in 1...order {
            expectClose(viaJVP[k - 1], p.doubles.map { ($0 + Double(k)) * Foundation.exp($0) }, rtol: 1e-12, atol: 1e-12,
                        label: "x·eˣ order \(k)")
        }
    }

    @Test("grad through jet: a loss on third directional derivatives has the gradient nested jvps give, also under jit")
    func gradientThroughJet() throws {
        let net = Network(inputs: 2, width: 5, seed: 8)
        var r = CaseRandom(seed: 12)
        let points = r.array([4, 2], in: -1...1), v = float64([0.6, -0.8], [2])
        let zero = NDArray.zerosLike(v)
        let viaJet = { (p: [NDArray]) throws -> NDArray in
            var total = NDArray(0.0, dtype: .float64)
            for i in 0..<4 {
                let third = try jet({ Network.u(p, $0) }, primal: points[i], series: [v, zero, zero]).series[2]
                total = total + third * third
            }
            return total
        }
        let viaNested = { (p: [NDArray]) throws -> NDArray in
            var total = NDArray(0.0, dtype: .float64)
            for i in 0..<4 {
                let third = try mixedDerivative({ Network.u(p, $0) }, at: points[i], along: [v, v, v])
                total = total + third * third
            }
            return total
        }
        let (value, gradient) = try valueAndGrad(viaJet)(net.parameters)
        let (nestedValue, nestedGradient) = try valueAndGrad(viaNested)(net.parameters)
        expectClose(value, [nestedValue.item()], rtol: 1e-12, atol: 1e-14)
        for (g, h) in zip(gradient, nestedGradient) { expectClose(g, h.doubles, rtol: 1e-10, atol: 1e-12) }
        let jitted = jit(valueAndGrad(viaJet))
        for _ in 0..<2 {
            let (jv, jg) = try jitted(net.parameters)
            expectClose(jv, [value.item()], rtol: 1e-12, atol: 1e-14)
            for (g, h) in zip(jg, gradient) { expectClose(g, h.doubles, rtol: 1e-10, atol: 1e-12) }
        }
    }

    @Test("jet under vmap and jit, and of a jitted function, equals jet unstaged and point by point")
    func vmapAndJit() throws {
        let net = Network(inputs: 3, width: 6, seed: 21)
        let p = net.parameters
        var r = CaseRandom(seed: 5)
        let points = r.array([6, 3], in: -1...1), v = r.array([3], in: -1...1), w = r.array([3], in: -1...1)
        let u = { (x: NDArray) in Network.u(p, x) }
        // Coefficients 1…4 along a curve with a second coefficient, stacked: [4].
        let coefficients = { (x: NDArray) throws -> NDArray in
            stack(try jet(u, primal: x, series: [v, w, NDArray.zerosLike(v), NDArray.zerosLike(v)]).series)
        }
        let loop = try (0..<6).flatMap { try coefficients(points[$0]).doubles }
        let batched = try vmap(coefficients)(points)
        #expect(batched.shape == [6, 4])
        expectClose(batched, loop, rtol: 1e-12, atol: 1e-13)
        let jitted = jit(coefficients)
        for i in 0..<2 { expectClose(try jitted(points[i]), try coefficients(points[i]).doubles, rtol: 1e-12, atol: 1e-13) }
        expectClose(try jit(vmap(coefficients))(points), loop, rtol: 1e-12, atol: 1e-13)
        // jet of a jitted function: the program's own jet, staged.
        let staged = jit(u)
        for i in 0..<2 {
            let (value, series) = try jet(staged, primal: points[i], series: [v, w, NDArray.zerosLike(v), NDArray.zerosLike(v)])
            expectClose(value, [u(points[i]).item()], rtol: 1e-12, atol: 1e-13)
            expectClose(stack(series), try coefficients(points[i]).doubles, rtol: 1e-12, atol: 1e-13)
        }
    }

    @Test("higher-order PDE terms of a tanh network: KdV's u_xxx, the 1-D u_xxxx and the 2-D biharmonic Δ²u against nested jvps")
    func pdeOperators() throws {
        let net = Network(inputs: 2, width: 6, seed: 33)
        let u = { (x: NDArray) in Network.u(net.parameters, x) }
        let point = float64([0.35, -0.2], [2])  // (x, t) for KdV, (x, y) for the biharmonic
        let ex = float64([1, 0], [2]), ey = float64([0, 1], [2])
        // KdV, u_t + 6u·u_x + u_xxx: every term from one jet along x plus a jvp along t.
        let (value, along) = try jet(u, primal: point, series: [ex, NDArray.zerosLike(ex), NDArray.zerosLike(ex)])
        expectClose(along[2], [try mixedDerivative(u, at: point, along: [ex, ex, ex]).item()], rtol: 1e-12, atol: 1e-13, label: "u_xxx")
        let ut = try jvp(u, at: point, tangents: ey).tangent
        let residual = ut + 6 * value * along[0] + along[2]
        let nestedResidual = try mixedDerivative(u, at: point, along: [ey]) + 6 * u(point) * (try mixedDerivative(u, at: point, along: [ex]))
            + (try mixedDerivative(u, at: point, along: [ex, ex, ex]))
        expectClose(residual, [nestedResidual.item()], rtol: 1e-12, atol: 1e-13, label: "KdV residual")

        // The fourth derivative along x (the 1-D biharmonic u_xxxx).
        let uxxxx = try directionalDerivative(u, at: point, along: ex, order: 4)
        let nestedXXXX = try mixedDerivative(u, at: point, along: [ex, ex, ex, ex])
        expectClose(uxxxx, [nestedXXXX.item()], rtol: 1e-11, atol: 1e-12, label: "u_xxxx")

        // Δ²u = u_xxxx + 2u_xxyy + u_yyyy, the mixed term by polarization:
        // D⁴u[eₓ + e_y] + D⁴u[eₓ − e_y] = 2u_xxxx + 12u_xxyy + 2u_yyyy.
        let uyyyy = try directionalDerivative(u, at: point, along: ey, order: 4)
        let plus = try directionalDerivative(u, at: point, along: ex + ey, order: 4)
        let minus = try directionalDerivative(u, at: point, along: ex - ey, order: 4)
        let uxxyy = (plus + minus - 2 * uxxxx - 2 * uyyyy) / 12
        let biharmonic = uxxxx + 2 * uxxyy + uyyyy
        let nested = nestedXXXX + 2 * (try mixedDerivative(u, at: point, along: [ex, ex, ey, ey]))
            + (try mixedDerivative(u, at: point, along: [ey, ey, ey, ey]))
        expectClose(biharmonic, [nested.item()], rtol: 1e-10, atol: 1e-11, label: "Δ²u")
    }

    @Test("order 0 is the value; coefficients of the wrong shape and integer primals are refused; constants have zero series; float32 stays float32; trees")
    func edges() throws {
        let x = float64([0.5, -1], [2])
        let (value, none) = try jet({ exp($0) }, primal: x, series: [])
        expectClose(value, [Foundation.exp(0.5), Foundation.exp(-1)], rtol: 1e-15, atol: 0)
        #expect(none.isEmpty)
        #expect(throws: TransformError.self) { try jet({ exp($0) }, primal: x, series: [float64([1, 2, 3], [3])]) }
        #expect(throws: TransformError.self) { try jet({ $0 * 2 }, primal: NDArray.arange(3), series: [NDArray.arange(3)]) }
        // A function that ignores its input: zero coefficients of its output's shape.
        let (c, series) = try jet({ _ in float64([1, 2, 3], [3]) }, primal: x, series: [x, x])
        #expect(c.doubles == [1, 2, 3] && series.map(\.shape) == [[3], [3]] && series.allSatisfy { $0.doubles == [0, 0, 0] })
        // float32 stays float32 through every rule (binomial weights are weak scalars).
        let (_, single) = try jet({ tanh($0) * exp($0) / (1 + $0 * $0) }, primal: x.to(.float32), series: unitLine(x.to(.float32), order: 4))
        let (_, double) = try jet({ tanh($0) * exp($0) / (1 + $0 * $0) }, primal: x, series: unitLine(x, order: 4))
        for k in 0..<4 {
            #expect(single[k].dtype == .float32)
            expectClose(single[k], double[k].doubles, rtol: 1e-5, atol: 1e-5, label: "float32 order \(k + 1)")
        }
        // A tree: a dictionary in, a pair of arrays out.
        let tree = ["a": x, "b": float64([2], [1])]
        let (out, terms) = try jet({ (t: [String: NDArray]) in [t["a"]! * t["b"]!, exp(t["b"]!)] }, primals: tree,
                                    series: [["a": NDArray.onesLike(x), "b": float64([1], [1])]])
        expectClose(out[0], [1, -2], rtol: 1e-15, atol: 0)
        // d/dt (a + t)(b + t) = a + b; d/dt e^{b + t} = e^b.
        expectClose(terms[0][0], [2.5, 1], rtol: 1e-15, atol: 0)
        expectClose(terms[0][1], [Foundation.exp(2)], rtol: 1e-15, atol: 0)
    }
}
