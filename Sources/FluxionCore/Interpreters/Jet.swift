// Taylor mode (JAX's `jax.experimental.jet`): one forward pass that carries, beside each value
// y, its first K derivatives along a curve through the inputs. In the derivative-scaled
// convention JAX uses,
//
//     x(t) = x₀ + Σₖ xₖ·tᵏ/k!      xₖ = dᵏx/dtᵏ at t = 0, k = 1…K
//     y(t) = f(x(t)),             yₖ = dᵏy/dtᵏ at t = 0
//
// and each primitive maps its inputs' coefficients to its outputs' by its `taylor` rule: a
// linear primitive applies itself to each coefficient, a product takes the Leibniz rule
// (ab)ₖ = Σᵢ C(k, i)·aᵢ·bₖ₋ᵢ, an elementwise function a recurrence from the equation its
// derivative satisfies (exp: y′ = y·x′, so yₖ = Σⱼ C(k−1, j−1)·xⱼ·yₖ₋ⱼ). A nonlinearity costs
// about K²/2 products for all K coefficients, where nested forward mode pays for 2ᴷ and more
// (Griewank & Walther, "Evaluating Derivatives", ch. 13; Bettencourt, Johnson & Duvenaud,
// "Taylor-mode automatic differentiation for higher-order derivatives in JAX", 2019).
//
// A nil coefficient is a symbolic zero, as a nil tangent is: along a line x + t·v only x₁ is
// set, and the rules skip every product with a zero, so the first layer of a network pays for
// one coefficient and the higher ones appear where a nonlinearity makes them. Every rule is
// written with NDArray operations, so the pass composes with `grad` (a loss built on
// higher derivatives differentiated with respect to weights), `vmap` and `jit`.
//
// A primitive without a Taylor rule of its own takes its coefficients from its jvp rule:
// y′(t) = Df(x(t))[x′(t)], so yₖ is coefficient k − 1 of the jvp rule carried by Taylor mode of
// order k − 1 along the same curve, the primitive's outputs entering with the coefficients
// found before (`taylorFromJVP`). That is correct for every primitive whose jvp rule is
// differentiable, costs a pass per order instead of one, and the user is told once per
// primitive.

import FluxionKernels
import Synchronization

final class JetInterpreter: Interpreter, @unchecked Sendable {
    /// How many coefficients the values carry (K).
    let order: Int

    init(level: Int, transform: String, order: Int) {
        self.order = order
        super.init(level: level, transform: transform)
    }

    override func process(_ primitive: any Primitive, _ inputs: [NDArray]) -> [NDArray] {
        let (primals, series) = unpack(inputs, JetTracer.self)
        let outputs = bind(primitive, primals)
        guard outputs.contains(where: { $0.dtype.isFloatingPoint }) else { return outputs }
        let coefficients = primitive.taylor(primals, outputs: outputs, series: series)
        guard coefficients.count == outputs.count, coefficients.allSatisfy({ $0 == nil || $0!.count == order }) else {
            fail("jet", "the Taylor rule of \(primitive.name) returned \(coefficients.map { $0?.count ?? 0 }) coefficients for \(outputs.count) outputs, expected \(order) each (or nil)",
                 fix: "make the primitive's taylor(_:outputs:series:) return one list of K coefficients per output", file: #fileID, line: #line)
        }
        return zip(outputs, coefficients).map { y, s in
            guard y.dtype.isFloatingPoint, let s, s.contains(where: { $0 != nil }) else { return y }
            // Rules may leave a coefficient in a shape that broadcasts to the output's.
            return lift(y, series: s.map { $0.map { $0.shape == y.shape ? $0 : $0.broadcast(to: y.shape) } })
        }
    }

    /// `x` as a value of this interpreter with coefficients `series` (x₁ … x_K; nil: zero).
    func lift(_ x: NDArray, series: [NDArray?]) -> NDArray {
        NDArray(tracer: JetTracer(interpreter: self, primal: x, series: series))
    }

    /// The value and its coefficients (all nil when `y` does not depend on this interpreter's
    /// inputs).
    func split(_ y: NDArray) -> (primal: NDArray, series: [NDArray?]) {
        if let t = y.tracer as? JetTracer, t.interpreter === self { return (t.primal, t.series) }
        return (y, [NDArray?](repeating: nil, count: order))
    }
}

final class JetTracer: Tracer, @unchecked Sendable {
    let primal: NDArray
    /// x₁ … x_K, each of the primal's shape; nil: zero.
    let series: [NDArray?]

    init(interpreter: JetInterpreter, primal: NDArray, series: [NDArray?]) {
        self.primal = primal
        self.series = series
        super.init(interpreter: interpreter, shape: primal.shape, dtype: primal.dtype)
    }

    override func concreteValue() -> StridedArray { primal.elements }
}

extension JetTracer: CarryingTracer {
    var lower: NDArray { primal }
    var carried: [NDArray?] { series }
}

/// The flat core of `jet`: `f`'s outputs at `primals` and their coefficients x₁ … x_K along the
/// curve whose coefficients are `series` (one list of `order` coefficients per input; nil: zero).
/// An input none of whose coefficients is set enters as a constant.
func jetFlat(_ f: ([NDArray]) throws -> [NDArray], at primals: [NDArray], series: [[NDArray?]], order: Int,
             transform: String, site: CallSite) throws -> (outputs: [NDArray], series: [[NDArray?]]) {
    try withNewInterpreter({ JetInterpreter(level: $0, transform: transform, order: order) }) { interpreter in
        let lifted = zip(primals, series).map { x, s -> NDArray in
            guard x.dtype.isFloatingPoint, s.contains(where: { $0 != nil }) else { return x }
            return interpreter.lift(x, series: s.map { $0?.to(x.dtype) })
        }
        let split = try f(lifted).map(interpreter.split)
        return (split.map(\.primal), split.map(\.series))
    }
}

// MARK: - What the rules share

/// The binomial coefficient C(n, k) (0 outside 0 ≤ k ≤ n).
func binomial(_ n: Int, _ k: Int) -> Double {
    guard k >= 0, k <= n else { return 0 }
    var c = 1.0
    for i in 0..<Swift.min(k, n - k) { c = c * Double(n - i) / Double(i + 1) }
    return c.rounded()
}

/// c·x, without a multiplication when c is 1.
func scaled(_ c: Double, _ x: NDArray) -> NDArray { c == 1 ? x : c * x }

/// a − b, either of which may be a symbolic zero.
func subtractTangents(_ a: NDArray?, _ b: NDArray?) -> NDArray? {
    guard let b else { return a }
    guard let a else { return -b }
    return a - b
}

/// The coefficient orders 1…K of a series of K coefficients (empty for K = 0).
func coefficientOrders(_ series: [NDArray?]) -> Range<Int> { 1..<(series.count + 1) }

/// A series with the primal first: [x₀, x₁, …, x_K] (`series` nil: all zero).
func withPrimal(_ primal: NDArray, _ series: [NDArray?]?, order: Int) -> [NDArray?] {
    [primal] + (series ?? [NDArray?](repeating: nil, count: order))
}

/// The order K of the series of the moving inputs (nil when none moves).
func seriesOrder(_ series: [[NDArray?]?]) -> Int? {
    series.lazy.compactMap { $0 }.first?.count
}

/// The Leibniz sum Σᵢ C(n, i)·product(aᵢ, bₙ₋ᵢ) over i in `lower`…`upper`, skipping zero
/// coefficients; nil when every term is zero. `a` and `b` hold the primal first.
func leibnizSum(_ n: Int, _ a: [NDArray?], _ b: [NDArray?], from lower: Int, through upper: Int,
                _ product: (NDArray, NDArray) -> NDArray = { $0 * $1 }) -> NDArray? {
    var total: NDArray?
    for i in stride(from: Swift.max(lower, 0), through: Swift.min(upper, n), by: 1) {
        guard let ai = a[i], let bj = b[n - i] else { continue }
        total = addTangents(total, scaled(binomial(n, i), product(ai, bj)))
    }
    return total
}

/// Σᵢ C(n, i)·aᵢ·aₙ₋ᵢ over i in `lower`…n − `lower`: coefficient n of a² without its outer
/// terms (lower = 0: all of it), each pair computed once.
func squareSum(_ n: Int, _ a: [NDArray?], from lower: Int = 0) -> NDArray? {
    var total: NDArray?
    for i in stride(from: lower, through: n - lower, by: 1) where 2 * i <= n {
        guard let ai = a[i], let aj = a[n - i] else { continue }
        let weight = binomial(n, i) * (2 * i == n ? 1 : 2)
        total = addTangents(total, scaled(weight, ai * aj))
    }
    return total
}

/// Coefficient k of y where y′ = c·x′ (c the series of the derivative along the curve):
/// yₖ = Σⱼ C(k−1, j−1)·xⱼ·cₖ₋ⱼ for j = 1…k.
func chainCoefficient(_ k: Int, x: [NDArray?], c: [NDArray?], _ product: (NDArray, NDArray) -> NDArray = { $0 * $1 }) -> NDArray? {
    var total: NDArray?
    for j in stride(from: 1, through: k, by: 1) {
        guard let xj = x[j], let ck = c[k - j] else { continue }
        total = addTangents(total, scaled(binomial(k - 1, j - 1), product(xj, ck)))
    }
    return total
}

/// Coefficient k of y where w·y′ = r′ (the rule of log-like functions, r = x): differentiating
/// k − 1 times, Σᵢ C(k−1, i)·wᵢ·yₖ₋ᵢ = rₖ for i = 0…k−1, so
/// yₖ = (rₖ − Σᵢ C(k−1, i)·wᵢ·yₖ₋ᵢ for i = 1…k−1) · (1/w₀), the last product with strong
/// zeros when 1/w₀ may be infinite. `right` is rₖ; w₀ enters only through `reciprocal`.
func quotientCoefficient(_ k: Int, right: NDArray?, w: [NDArray?], y: [NDArray?], reciprocal: NDArray, strong: Bool) -> NDArray? {
    var known: NDArray?
    for i in stride(from: 1, through: k - 1, by: 1) {
        guard let wi = w[i], let yj = y[k - i] else { continue }
        known = addTangents(known, scaled(binomial(k - 1, i), wi * yj))
    }
    return subtractTangents(right, known).map { strong ? mulStrongZero($0, reciprocal) : $0 * reciprocal }
}

/// The coefficients y₁ … y_K of a one-input, one-output primitive from a recurrence: `next`
/// gives yₖ from [x₀ … x_K] and [y₀ … yₖ₋₁].
func unaryTaylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?],
                 _ next: (_ k: Int, _ x: [NDArray?], _ y: [NDArray?]) -> NDArray?) -> [[NDArray?]?] {
    guard let s = series[0] else { return [nil] }
    let x = [primals[0]] + s
    var y: [NDArray?] = [outputs[0]]
    for k in coefficientOrders(s) { y.append(next(k, x, y)) }
    return [Array(y.dropFirst())]
}

/// The coefficients of a primitive that is linear in its floating-point inputs at fixed primals
/// (linear and piecewise-linear primitives): yₖ = Df(x₀)[xₖ] by its jvp rule, one coefficient
/// at a time.
func linearTaylor(_ primitive: some Primitive, _ primals: [NDArray], outputs: [NDArray],
                  series: [[NDArray?]?]) -> [[NDArray?]?] {
    guard let order = seriesOrder(series) else { return outputs.map { _ in nil } }
    var result = outputs.map { _ in [NDArray?]() }
    for k in 0..<order {
        let pushed = primitive.jvp(primals, outputs: outputs, tangents: series.map { $0?[k] })
        for j in outputs.indices { result[j].append(pushed[j]) }
    }
    return result.map { $0.contains { $0 != nil } ? $0 : nil }
}

/// The Leibniz rule of a primitive bilinear in its two inputs:
/// yₖ = Σᵢ C(k, i)·f(aᵢ, bₖ₋ᵢ) for i = 0…k.
func bilinearTaylor(_ primitive: some Primitive, _ primals: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
    guard let order = seriesOrder(series) else { return [nil] }
    let a = withPrimal(primals[0], series[0], order: order), b = withPrimal(primals[1], series[1], order: order)
    let terms = (1..<(order + 1)).map { k in leibnizSum(k, a, b, from: 0, through: k) { bind(primitive, [$0, $1])[0] } }
    return [terms]
}

/// Faà di Bruno's formula for y = f(x) elementwise, given f′(x₀) … f⁽ᴷ⁾(x₀) (nil: zero):
///
/// ```
/// yₖ = Σₘ f⁽ᵐ⁾(x₀)·B_{k,m}(x₁, …, x_{k−m+1})           m = 1…k
/// B_{k,1} = xₖ,   B_{k,m} = Σᵢ C(k−1, i−1)·xᵢ·B_{k−i,m−1}   i = 1…k−m+1
/// ```
///
/// (the partial Bell polynomials, in the derivative-scaled convention). `x` holds the primal
/// first; `product` multiplies a derivative in (with strong zeros where it may be infinite).
func faaDiBruno(x: [NDArray?], derivatives: [NDArray?], _ product: (NDArray, NDArray) -> NDArray) -> [NDArray?] {
    let order = x.count - 1
    guard order > 0 else { return [] }
    var bell = [[NDArray?]](repeating: [], count: order + 1)
    for k in 1...order {
        var row = [NDArray?](repeating: nil, count: k + 1)
        row[1] = x[k]
        for m in stride(from: 2, through: k, by: 1) {
            var total: NDArray?
            for i in 1...(k - m + 1) {
                guard let xi = x[i], let b = bell[k - i][m - 1] else { continue }
                total = addTangents(total, scaled(binomial(k - 1, i - 1), xi * b))
            }
            row[m] = total
        }
        bell[k] = row
    }
    return (1...order).map { k in
        var y: NDArray?
        for m in 1...k {
            guard let b = bell[k][m], let d = derivatives[m - 1] else { continue }
            y = addTangents(y, product(b, d))
        }
        return y
    }
}

/// f′(x), f″(x), …, f⁽ᴷ⁾(x) of an elementwise function as arrays of x's shape (nil: zero):
/// f′ from its `derivative`, the higher ones as the Taylor coefficients of f′ along the unit
/// line x + t (dᵐ/dtᵐ f′(x + t) = f⁽ᵐ⁺¹⁾(x)), by this same transform of order K − 1.
func higherDerivatives<P: UnaryWithDerivative>(_ primitive: P, at x: NDArray, output y: NDArray, count: Int) -> [NDArray?] {
    let first = primitive.derivative(x, y)
    guard count > 1 else { return [first] }
    do {
        let unitLine = [NDArray.onesLike(x)] + [NDArray?](repeating: nil, count: count - 2)
        let (_, rest) = try jetFlat({ xs in [primitive.derivative(xs[0], bind(primitive, xs[0]))] }, at: [x], series: [unitLine],
                                    order: count - 1, transform: "jet", site: CallSite(file: #fileID, line: #line))
        return [first] + rest[0]
    } catch {
        report(error)
        return [first] + [NDArray?](repeating: nil, count: count - 1)
    }
}

/// The coefficients of any primitive, from its jvp rule. Along the curve,
///
/// ```
/// y′(t) = Df(x(t))[x′(t)],   so   yₖ = dᵏ⁻¹/dtᵏ⁻¹ Df(x(t))[x′(t)] at t = 0
/// ```
///
/// and x′(t) has coefficients x₂, x₃, … around x₁. For k = 1…K, the jvp rule is carried by
/// Taylor mode of order k − 1 with the inputs on the curve, the tangents on its derivative and
/// the outputs entering with the coefficients y₁ … yₖ₋₁ already found; its coefficient k − 1 is
/// yₖ. (Nested forward mode along the curve gives the same numbers at a cost that grows as 3ᴷ.)
func taylorFromJVP(_ primitive: any Primitive, _ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
    let moving = primals.indices.filter { series[$0] != nil && primals[$0].dtype.isFloatingPoint }
    guard let first = moving.first else { return outputs.map { _ in nil } }
    let order = series[first]!.count
    announceTaylorFromJVP(primitive.name)
    let n = primals.count
    func none(_ count: Int) -> [NDArray?] { [NDArray?](repeating: nil, count: count) }
    var found = outputs.map { _ in [NDArray?]() }
    var zero = outputs.map { _ in true }
    for k in 1..<(order + 1) {
        let tangents = moving.map { series[$0]![0] ?? NDArray.zerosLike(primals[$0]) }
        let inputSeries = primals.indices.map { i in moving.contains(i) ? Array(series[i]![0..<(k - 1)]) : none(k - 1) }
            + moving.map { Array(series[$0]![1..<k]) }
            + outputs.indices.map { j in outputs[j].dtype.isFloatingPoint ? Array(found[j][0..<(k - 1)]) : none(k - 1) }
        do {
            let (z, zSeries) = try jetFlat({ xs in
                var t = [NDArray?](repeating: nil, count: n)
                for (m, i) in moving.enumerated() { t[i] = xs[n + m] }
                let pushed = primitive.jvp(Array(xs[..<n]), outputs: Array(xs[(n + moving.count)...]), tangents: t)
                zero = pushed.map { $0 == nil }
                return zip(pushed, outputs).map { t, y in t ?? NDArray.zeros(y.shape, dtype: y.dtype.floatingOrDefault) }
            }, at: primals + tangents + outputs, series: inputSeries, order: k - 1, transform: "jet",
               site: CallSite(file: #fileID, line: #line))
            for j in outputs.indices { found[j].append(zero[j] ? nil : (k == 1 ? z[j] : zSeries[j][k - 2])) }
        } catch {
            report(error)
            return outputs.map { _ in nil }
        }
    }
    return outputs.indices.map { j in outputs[j].dtype.isFloatingPoint && found[j].contains { $0 != nil } ? found[j] : nil }
}

private let announcedTaylor = Mutex(Set<String>())

/// Tells the user once per primitive that its Taylor coefficients come from its jvp rule.
func announceTaylorFromJVP(_ name: String) {
    if announcedTaylor.withLock({ $0.insert(name).inserted }) {
        print("Fluxion: jet takes \(name)'s Taylor coefficients from its jvp rule, one Taylor pass per order (it has no Taylor rule of its own); correct, but slower")
    }
}
