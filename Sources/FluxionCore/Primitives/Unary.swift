// Elementwise functions of one array. Each primitive names its kernel function and its
// derivative dy/dx as array code (x the input, y the output); the families supply evaluation,
// the batch rule (an elementwise function ignores the batch axis) and the chain rule in both
// modes. Negation is linear and piecewise-constant functions have zero derivative: they say so
// by their family instead of stating a derivative.
//
// Integer and bool inputs are converted to floating point by the array layer before binding,
// except for the functions that keep integer dtypes (neg, abs, sign, relu, floor, ceil, round).
// Conventions at non-differentiable points follow PyTorch: relu'(0) = 0, |x|'(0) = 0; rounding
// and sign have zero derivative. A derivative that is infinite or undefined (log, sqrt, rsqrt,
// asin, acos, fractional powers at 0 or outside their domain) times a zero tangent is exactly
// 0 (see Tangents.swift).
//
// Taylor coefficients (`jet`, derivative-scaled: yₖ = dᵏy/dtᵏ along x(t)) come from the
// equation each derivative satisfies, differentiated k − 1 times by the Leibniz rule:
//   y′ = c·x′   yₖ = Σⱼ C(k−1, j−1)·xⱼ·cₖ₋ⱼ               exp (c = y), expm1 (c = y + 1),
//               tanh (c = 1 − y²), sigmoid (c = y − y²), tan (c = 1 + y²), sin/cos and
//               sinh/cosh (each other's c), softplus (c = σ(x)), erf (c = 2/√π·e^{−x²})
//   w·y′ = x′   yₖ = (xₖ − Σᵢ C(k−1, i)·wᵢ·yₖ₋ᵢ)/w₀        log (w = x), log1p (w = 1 + x),
//               atan (w = 1 + x²), asin and acos (w = ±√(1 − x²))
//   y² = x      yₖ = (xₖ − Σᵢ C(k, i)·yᵢ·yₖ₋ᵢ)/(2y₀)        sqrt
//   x·y′ = p·y·x′                                          powers, rsqrt
// Integer powers above 1 multiply series (exact at x₀ = 0, where the power recurrence divides
// by zero); abs and relu pass each coefficient through their slope. Any other function of the
// family gets Faà di Bruno's formula with its higher derivatives (`higherDerivatives`).

import FluxionKernels

/// An elementwise function of one array: its kernel function, evaluation and batch rule (an
/// elementwise function ignores the batch axis). The derivative rules come from
/// `UnaryWithDerivative`, from `PiecewiseConstant`, or from the primitive itself.
public protocol UnaryElementwise: UnaryPrimitive {
    /// The kernel function the primitive evaluates.
    var function: UnaryFunction { get }
}

extension UnaryElementwise {
    public var name: String { "\(function)" }

    public func evaluate(_ x: StridedArray) -> StridedArray { Elementwise.unary(function, x) }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0])], axes)
    }
}

/// An elementwise function whose rules in both modes are the chain rule with its derivative.
public protocol UnaryWithDerivative: UnaryElementwise {
    /// dy/dx elementwise (x the input, y the output).
    func derivative(_ x: NDArray, _ y: NDArray) -> NDArray
    /// Whether the derivative can be infinite or undefined at the edge of the domain: the
    /// chain rule then multiplies with strong zeros (Tangents.swift).
    var derivativeMayBeInfinite: Bool { get }
    /// d²y/dx² elementwise (nil: zero), for the forward Laplacian. The default differentiates
    /// `derivative` by forward mode; functions whose second derivative is cheaper from the
    /// output state it.
    func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray?
}

extension UnaryWithDerivative {
    public var derivativeMayBeInfinite: Bool { false }

    /// `t · dy/dx`, with strong zeros where the derivative may be infinite.
    func chain(_ t: NDArray, _ d: NDArray) -> NDArray {
        derivativeMayBeInfinite ? mulStrongZero(t, d) : t * d
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard let t = tangents[0] else { return [nil] }
        return [chain(t, derivative(primals[0], outputs[0]))]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil] }
        return [chain(ct, derivative(primals[0], outputs[0]))]
    }

    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? {
        derivativeByForwardMode(at: x) { x in derivative(x, bind(self, x)) }
    }

    /// f″(x) · Σᵢ vᵢ² (or each f″(x)·vᵢ²).
    public func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?] {
        guard let v = directions[0], let curvature = secondDerivative(primals[0], outputs[0]) else { return [nil] }
        let squares = v * v
        return [chain(summed ? squares.sum(dim: 0) : squares, curvature)]
    }

    /// Faà di Bruno's formula, yₖ = Σₘ f⁽ᵐ⁾(x₀)·B_{k,m}(x₁, …), with f′ … f⁽ᴷ⁾ from
    /// `derivative` by Taylor mode along x + t (`higherDerivatives`); functions with a
    /// recurrence state their own rule.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        let derivatives = higherDerivatives(self, at: primals[0], output: outputs[0], count: s.count)
        return [faaDiBruno(x: [primals[0]] + s, derivatives: derivatives, chain)]
    }

    /// Each coefficient through the slope, for functions that are piecewise linear (abs, relu).
    func piecewiseLinearTaylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        linearTaylor(self, primals, outputs: outputs, series: series)
    }
}

/// The coefficients of y with y′ = c·x′, where `c(k, y)` gives cₖ from y₀ … yₖ (called for
/// k = 0…K−1 as they become known).
private func derivativeSeriesTaylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?],
                                    _ c: (_ k: Int, _ y: [NDArray?]) -> NDArray?) -> [[NDArray?]?] {
    var cs: [NDArray?] = []
    return unaryTaylor(primals, outputs: outputs, series: series) { k, x, y in
        cs.append(c(k - 1, y))
        return chainCoefficient(k, x: x, c: cs)
    }
}

/// The coefficients of s = sin or sinh and c = cos or cosh together: s′ = c·x′, c′ = ±s·x′.
private func sinusoidSeries(x: [NDArray?], s0: NDArray, c0: NDArray, sign: Double) -> (s: [NDArray?], c: [NDArray?]) {
    var s: [NDArray?] = [s0], c: [NDArray?] = [c0]
    for k in 1..<x.count {
        s.append(chainCoefficient(k, x: x, c: c))
        // Coefficient k of a chain reads s₀ … sₖ₋₁ only.
        c.append(chainCoefficient(k, x: x, c: s).map { sign == 1 ? $0 : -$0 })
    }
    return (s, c)
}

/// The coefficients (primal first, K of them after it) of σ(x) for x's series `x`.
private func sigmoidSeries(x: [NDArray?], y0: NDArray, count: Int) -> [NDArray?] {
    var y: [NDArray?] = [y0], c: [NDArray?] = []
    for k in stride(from: 1, through: count, by: 1) {
        // σ′ = σ − σ²: cₖ₋₁ from y₀ … yₖ₋₁.
        c.append(k == 1 ? y0 * (1 - y0) : subtractTangents(y[k - 1], squareSum(k - 1, y)))
        y.append(chainCoefficient(k, x: x, c: c))
    }
    return y
}

/// The coefficients of asin(x) (acos's are their negatives): √(1 − x²)·y′ = x′, with the
/// series of r = √(1 − x²) from r² = 1 − x².
private func arcsineTaylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
    let x0 = primals[0]
    let reciprocal = rsqrt(1 - x0 * x0)
    var r: [NDArray?] = [nil]  // r₀ enters only through `reciprocal`
    return unaryTaylor(primals, outputs: outputs, series: series) { k, x, y in
        if k > 1 {
            // rₖ₋₁ = (gₖ₋₁ − Σᵢ C(k−1, i)·rᵢ·rₖ₋₁₋ᵢ)/(2r₀), g = 1 − x².
            let g = squareSum(k - 1, x).map { -$0 }
            r.append(subtractTangents(g, squareSum(k - 1, r, from: 1)).map { mulStrongZero($0, 0.5 * reciprocal) })
        }
        return quotientCoefficient(k, right: x[k], w: r, y: y, reciprocal: reciprocal, strong: true)
    }
}

// MARK: - Sign and magnitude

/// −x. Linear: tangent −t, cotangent −ct.
public struct Neg: UnaryElementwise, LinearPrimitive {
    public var function: UnaryFunction { .neg }
    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] { [tangents[0].map { -$0 }] }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] { [cotangents[0].map { -$0 }] }
}

/// |x|, with derivative sign(x) (0 at 0, as PyTorch); its Taylor rule passes each coefficient
/// through that slope.
public struct Abs: UnaryWithDerivative {
    public var function: UnaryFunction { .abs }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { sign(x) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { nil }
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        piecewiseLinearTaylor(primals, outputs: outputs, series: series)
    }
}

/// sign(x): −1, 0 or 1 (0 for NaN). Piecewise constant: zero derivative.
public struct Sign: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .sign }
}

// MARK: - Exponentials and logarithms

/// eˣ, with derivative y and second derivative y.
public struct Exp: UnaryWithDerivative {
    public var function: UnaryFunction { .exp }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { y }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { y }
    /// y′ = y·x′.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        unaryTaylor(primals, outputs: outputs, series: series) { k, x, y in chainCoefficient(k, x: x, c: y) }
    }
}

/// log x, with derivative 1/x (applied with a strong zero, as it is infinite at 0).
public struct Log: UnaryWithDerivative {
    public var function: UnaryFunction { .log }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 / x }
    /// x·y′ = x′.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        let reciprocal = 1 / primals[0]
        return unaryTaylor(primals, outputs: outputs, series: series) { k, x, y in
            quotientCoefficient(k, right: x[k], w: x, y: y, reciprocal: reciprocal, strong: true)
        }
    }
}

/// log(1 + x), with derivative 1/(1 + x).
public struct Log1p: UnaryWithDerivative {
    public var function: UnaryFunction { .log1p }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 / (x + 1) }
    /// (1 + x)·y′ = x′.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        let reciprocal = 1 / (primals[0] + 1)
        return unaryTaylor(primals, outputs: outputs, series: series) { k, x, y in
            quotientCoefficient(k, right: x[k], w: x, y: y, reciprocal: reciprocal, strong: true)
        }
    }
}

/// eˣ − 1, with derivative y + 1.
public struct Expm1: UnaryWithDerivative {
    public var function: UnaryFunction { .expm1 }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { y + 1 }
    /// y′ = (y + 1)·x′.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        derivativeSeriesTaylor(primals, outputs: outputs, series: series) { k, y in k == 0 ? y[0]! + 1 : y[k] }
    }
}

// MARK: - Powers

/// √x, with derivative 1/(2√x) = 0.5/y (infinite at 0, applied with a strong zero).
public struct Sqrt: UnaryWithDerivative {
    public var function: UnaryFunction { .sqrt }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 0.5 / y }
    /// y² = x: 2y₀yₖ = xₖ − Σᵢ C(k, i)·yᵢ·yₖ₋ᵢ for i = 1…k−1.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        let reciprocal = 0.5 / outputs[0]
        return unaryTaylor(primals, outputs: outputs, series: series) { k, x, y in
            subtractTangents(x[k], squareSum(k, y, from: 1)).map { mulStrongZero($0, reciprocal) }
        }
    }
}

/// 1/√x, with derivative −½·x^(−3/2) (infinite at 0, applied with a strong zero).
public struct Rsqrt: UnaryWithDerivative {
    public var function: UnaryFunction { .rsqrt }
    public var derivativeMayBeInfinite: Bool { true }
    /// −y³/2, its products strong so that its own derivatives keep the convention.
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { mulStrongZero(mulStrongZero(-0.5 * y, y), y) }
    /// x^(−1/2) by the power recurrence.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        powerTaylor(primals[0].scalarLike(-0.5), primals, outputs: outputs, series: series)
    }
}

/// `x ** exponent` for a constant exponent.
public struct PowScalar: UnaryWithDerivative {
    /// The constant exponent p of x ↦ xᵖ.
    public let exponent: Double
    public var function: UnaryFunction { .pow(exponent) }
    public var derivativeMayBeInfinite: Bool { exponent < 1 }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray {
        switch exponent {
        case 0: NDArray.zerosLike(x)
        case 1: NDArray.onesLike(x)
        case 2: 2 * x
        default: exponent * FluxionCore.pow(x, exponent - 1)
        }
    }

    /// Zero for exponent 0, the input's coefficients for 1, products of series for integers
    /// above 1 (exact where x₀ = 0), and the power recurrence otherwise.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        switch exponent {
        case 0: return [nil]
        case 1: return [s]
        case let p where p > 1 && p <= 1024 && p == p.rounded():
            return [Array(integerPowerSeries([primals[0]] + s, Int(p)).dropFirst())]
        default: return powerTaylor(primals[0].scalarLike(exponent), primals, outputs: outputs, series: series)
        }
    }
}

/// The coefficients of y = xᵖ: x·y′ = p·y·x′ differentiated k − 1 times gives
/// x₀yₖ = p·Σⱼ C(k−1, j−1)·xⱼ·yₖ₋ⱼ − Σᵢ C(k−1, i)·xᵢ·yₖ₋ᵢ (i = 1…k−1), the division by x₀
/// with strong zeros.
func powerTaylor(_ p: NDArray, _ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
    let reciprocal = 1 / primals[0]
    return unaryTaylor(primals, outputs: outputs, series: series) { k, x, y in
        quotientCoefficient(k, right: chainCoefficient(k, x: x, c: y).map { p * $0 }, w: x, y: y,
                            reciprocal: reciprocal, strong: true)
    }
}

/// The series (primal first) of xⁿ for an integer n ≥ 1, by squaring and multiplying series.
private func integerPowerSeries(_ x: [NDArray?], _ n: Int) -> [NDArray?] {
    func product(_ a: [NDArray?], _ b: [NDArray?]) -> [NDArray?] {
        a.indices.map { k in leibnizSum(k, a, b, from: 0, through: k) }
    }
    var result: [NDArray?]?, base = x, m = n
    while m > 0 {
        if m & 1 == 1 { result = result.map { product($0, base) } ?? base }
        m >>= 1
        if m > 0 { base = product(base, base) }
    }
    return result!
}

// MARK: - Trigonometric and hyperbolic

/// sin x, with derivative cos x and second derivative −sin x.
public struct Sin: UnaryWithDerivative {
    public var function: UnaryFunction { .sin }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { cos(x) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { -y }
    /// sin′ = cos·x′, cos′ = −sin·x′, together.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        return [Array(sinusoidSeries(x: [primals[0]] + s, s0: outputs[0], c0: cos(primals[0]), sign: -1).s.dropFirst())]
    }
}

/// cos x, with derivative −sin x and second derivative −cos x.
public struct Cos: UnaryWithDerivative {
    public var function: UnaryFunction { .cos }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { -sin(x) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { -y }
    /// sin′ = cos·x′, cos′ = −sin·x′, together.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        return [Array(sinusoidSeries(x: [primals[0]] + s, s0: sin(primals[0]), c0: outputs[0], sign: -1).c.dropFirst())]
    }
}

/// tan x, with derivative 1 + tan² x.
public struct Tan: UnaryWithDerivative {
    public var function: UnaryFunction { .tan }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 + y * y }
    /// y′ = (1 + y²)·x′.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        derivativeSeriesTaylor(primals, outputs: outputs, series: series) { k, y in
            k == 0 ? 1 + y[0]! * y[0]! : squareSum(k, y)
        }
    }
}

/// arcsin x, with derivative 1/√(1 − x²) (infinite at ±1).
public struct Asin: UnaryWithDerivative {
    public var function: UnaryFunction { .asin }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { rsqrt(1 - x * x) }
    /// √(1 − x²)·y′ = x′.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        arcsineTaylor(primals, outputs: outputs, series: series)
    }
}

/// arccos x, with derivative −1/√(1 − x²) (infinite at ±1).
public struct Acos: UnaryWithDerivative {
    public var function: UnaryFunction { .acos }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { -rsqrt(1 - x * x) }
    /// acos = π/2 − asin: asin's coefficients negated.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        arcsineTaylor(primals, outputs: outputs, series: series).map { $0?.map { $0.map { -$0 } } }
    }
}

/// arctan x, with derivative 1/(1 + x²).
public struct Atan: UnaryWithDerivative {
    public var function: UnaryFunction { .atan }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 / (1 + x * x) }
    /// (1 + x²)·y′ = x′.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        let x0 = primals[0], w0 = 1 + x0 * x0, reciprocal = 1 / w0
        var w: [NDArray?] = [w0]
        return unaryTaylor(primals, outputs: outputs, series: series) { k, x, y in
            if k > 1 { w.append(squareSum(k - 1, x)) }
            return quotientCoefficient(k, right: x[k], w: w, y: y, reciprocal: reciprocal, strong: false)
        }
    }
}

/// sinh x, with derivative cosh x.
public struct Sinh: UnaryWithDerivative {
    public var function: UnaryFunction { .sinh }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { cosh(x) }
    /// sinh′ = cosh·x′, cosh′ = sinh·x′, together.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        return [Array(sinusoidSeries(x: [primals[0]] + s, s0: outputs[0], c0: cosh(primals[0]), sign: 1).s.dropFirst())]
    }
}

/// cosh x, with derivative sinh x.
public struct Cosh: UnaryWithDerivative {
    public var function: UnaryFunction { .cosh }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { sinh(x) }
    /// sinh′ = cosh·x′, cosh′ = sinh·x′, together.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        return [Array(sinusoidSeries(x: [primals[0]] + s, s0: sinh(primals[0]), c0: outputs[0], sign: 1).c.dropFirst())]
    }
}

/// tanh x, with derivative 1 − y² and second derivative −2y(1 − y²), in terms of y = tanh x.
public struct Tanh: UnaryWithDerivative {
    public var function: UnaryFunction { .tanh }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 - y * y }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { -2 * y * (1 - y * y) }
    /// y′ = (1 − y²)·x′.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        derivativeSeriesTaylor(primals, outputs: outputs, series: series) { k, y in
            k == 0 ? 1 - y[0]! * y[0]! : squareSum(k, y).map { -$0 }
        }
    }
}

// MARK: - Activations and special functions

/// σ(x) = 1/(1 + e⁻ˣ), with derivative y(1 − y) and second derivative y(1 − y)(1 − 2y).
public struct Sigmoid: UnaryWithDerivative {
    public var function: UnaryFunction { .sigmoid }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { y * (1 - y) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { y * (1 - y) * (1 - 2 * y) }
    /// y′ = (y − y²)·x′.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        return [Array(sigmoidSeries(x: [primals[0]] + s, y0: outputs[0], count: s.count).dropFirst())]
    }
}

/// relu'(0) = 0; at NaN the derivative is 1, as PyTorch's (its rule zeroes where x ≤ 0).
public struct Relu: UnaryWithDerivative {
    public var function: UnaryFunction { .relu }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { reluSlope(x) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { nil }
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        piecewiseLinearTaylor(primals, outputs: outputs, series: series)
    }
}

/// relu's derivative as one elementwise function (one pass, fusible with the chain rule's
/// product): 0 where x ≤ 0, 1 elsewhere, NaN included.
public struct ReluSlope: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .reluSlope }
}

/// log(1 + eˣ) (computed as max(x, 0) + log1p(e^−|x|)), with derivative σ(x).
public struct Softplus: UnaryWithDerivative {
    public var function: UnaryFunction { .softplus }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { sigmoid(x) }
    /// y′ = σ(x)·x′, with σ's series from its own recurrence.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        let x = [primals[0]] + s
        let c = sigmoidSeries(x: x, y0: sigmoid(primals[0]), count: s.count - 1)
        return [coefficientOrders(s).map { k in chainCoefficient(k, x: x, c: c) }]
    }
}

/// erf x, with derivative (2/√π)·e^(−x²).
public struct Erf: UnaryWithDerivative {
    public var function: UnaryFunction { .erf }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { (2 / Double.pi.squareRoot()) * exp(-(x * x)) }
    /// y′ = c·x′ with c = 2/√π·e^g, g = −x², and e^g's series from exp's recurrence.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        let x = [primals[0]] + s
        var g: [NDArray?] = [nil], c: [NDArray?] = [derivative(primals[0], outputs[0])]
        return [coefficientOrders(s).map { k in
            if k > 1 {
                g.append(squareSum(k - 1, x).map { -$0 })
                c.append(chainCoefficient(k - 1, x: g, c: c))
            }
            return chainCoefficient(k, x: x, c: c)
        }]
    }
}

// MARK: - Rounding (piecewise constant)

/// ⌊x⌋. Piecewise constant: zero derivative.
public struct Floor: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .floor }
}

/// ⌈x⌉. Piecewise constant: zero derivative.
public struct Ceil: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .ceil }
}

/// x rounded to the nearest integer, ties to even. Piecewise constant: zero derivative.
public struct Round: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .round }
}

// MARK: - Logic

/// The logical not of a bool array; no derivative.
public struct LogicalNot: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .logicalNot }
}

// MARK: - Dtype conversion

/// The elements converted to another dtype. Between floating dtypes the derivative passes
/// through (converted); to or from integers it is zero.
public struct Convert: UnaryPrimitive, PiecewiseLinear {
    /// The dtype converted to.
    public let dtype: DType
    public var name: String { "convert" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Conversion.convert(x, to: dtype) }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard dtype.isFloatingPoint, let t = tangents[0] else { return [nil] }
        return [t.to(dtype)]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard dtype.isFloatingPoint, primals[0].dtype.isFloatingPoint, let ct = cotangents[0] else { return [nil] }
        return [ct.to(primals[0].dtype)]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0])], axes)
    }
}

// MARK: - Stop gradient

/// The identity with zero derivative: the value passes, derivatives do not.
public struct StopGradient: UnaryPrimitive, PiecewiseConstant {
    public var name: String { "stopGradient" }
    public func evaluate(_ x: StridedArray) -> StridedArray { x }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0])], axes)
    }
}

// MARK: - Output types (for staging)

extension UnaryElementwise {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0]] }
}

extension Convert {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [ArrayType(shape: inputs[0].shape, dtype: dtype)] }
}

extension StopGradient {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0]] }
}
