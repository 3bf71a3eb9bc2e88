// Elementwise arithmetic, functions, comparisons and selection, with NumPy broadcasting and
// PyTorch's dtype promotion: two arrays meet at the later of bool < int64 < float32 < float64;
// a Swift number takes the array's dtype (an int64 array meeting a fractional number becomes
// float32); true division and the transcendental functions of integer arrays give float32.
//
// `x ** p` binds tighter than `*`; note that Swift applies a prefix minus first, so `-x ** 2`
// is `(-x) ** 2` (write `-(x ** 2)`).

import FluxionKernels

precedencegroup PowerPrecedence {
    higherThan: MultiplicationPrecedence
    associativity: right
}

infix operator ** : PowerPrecedence

// MARK: - Dtype conversion

extension NDArray {
    /// The elements converted to `dtype` (the array itself when it already has that dtype).
    public func to(_ dtype: DType) -> NDArray {
        dtype == self.dtype ? self : bind(Convert(dtype: dtype), self)
    }

    /// A 0-d array holding `value` in the dtype it takes when it meets this array.
    @inlinable
    package func scalarLike(_ value: Double) -> NDArray {
        // Only a whole number that int64 can hold stays integer (not ±∞, NaN or ±1e20).
        let integral = value == value.rounded() && Swift.abs(value) < 0x1p63
        let target: DType = dtype.isFloatingPoint ? dtype : (integral ? .int64 : .float32)
        return NDArray(Copy.full(value, shape: [], dtype: target))
    }
}

/// The operands converted to their common dtype and their broadcast shape; stops with a clear
/// message when the shapes do not broadcast.
@inlinable
func promoted(_ op: String, _ a: NDArray, _ b: NDArray, file: StaticString = #fileID, line: UInt = #line) -> (NDArray, NDArray) {
    guard let shape = Shape.broadcast(a.shape, b.shape) else {
        fail(op, "shapes \(describe(a.shape)) and \(describe(b.shape)) do not broadcast (trailing dimensions must be equal or 1)",
             fix: "reshape or unsqueeze one operand so that its dimensions line up, e.g. x.unsqueeze(-1)", file: file, line: line)
    }
    checkShape(shape, op, from: [a.shape, b.shape], file: file, line: line)
    if a.dtype == b.dtype { return (a, b) }
    let t = DType.promoted(a.dtype, b.dtype)
    return (a.to(t), b.to(t))
}

/// Applies a binary elementwise primitive after promotion and the broadcast check.
@inlinable
func elementwise(_ p: some BinaryPrimitive, _ a: NDArray, _ b: NDArray, floating: Bool = false,
                 file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    // Fast path: same dtype and shape needs no checks.
    if a.dtype == b.dtype && a.shape == b.shape && (!floating || a.dtype.isFloatingPoint) {
        return bind(p, a, b)
    }
    var (x, y) = promoted(p.name, a, b, file: file, line: line)
    if floating && !x.dtype.isFloatingPoint { (x, y) = (x.to(.float32), y.to(.float32)) }
    return bind(p, x, y)
}

// MARK: - Arithmetic operators

extension NDArray {
    /// Elementwise sum, with NumPy broadcasting and dtype promotion.
    public static func + (a: NDArray, b: NDArray) -> NDArray { elementwise(Add(), a, b) }
    /// Elementwise difference, with NumPy broadcasting and dtype promotion.
    public static func - (a: NDArray, b: NDArray) -> NDArray { elementwise(Sub(), a, b) }
    /// Elementwise product, with NumPy broadcasting and dtype promotion.
    public static func * (a: NDArray, b: NDArray) -> NDArray { elementwise(Mul(), a, b) }
    /// True division: integer operands give float32.
    public static func / (a: NDArray, b: NDArray) -> NDArray { elementwise(Div(), a, b, floating: true) }
    /// Elementwise power with a broadcast exponent array.
    public static func ** (a: NDArray, b: NDArray) -> NDArray { elementwise(Pow(), a, b) }
    /// The negation of each element.
    public static prefix func - (x: NDArray) -> NDArray { bind(Neg(), x) }

    /// `a + b` for each element of `a`, the number taking the array's dtype.
    public static func + (a: NDArray, b: Double) -> NDArray { a + a.scalarLike(b) }
    /// `a + b` for each element of `b`, the number taking the array's dtype.
    public static func + (a: Double, b: NDArray) -> NDArray { b.scalarLike(a) + b }
    /// `a − b` for each element of `a`, the number taking the array's dtype.
    public static func - (a: NDArray, b: Double) -> NDArray { a - a.scalarLike(b) }
    /// `a − b` for each element of `b`, the number taking the array's dtype.
    public static func - (a: Double, b: NDArray) -> NDArray { b.scalarLike(a) - b }
    /// `a · b` for each element of `a`, the number taking the array's dtype.
    public static func * (a: NDArray, b: Double) -> NDArray { a * a.scalarLike(b) }
    /// `a · b` for each element of `b`, the number taking the array's dtype.
    public static func * (a: Double, b: NDArray) -> NDArray { b.scalarLike(a) * b }
    /// `a / b` for each element of `a`, the number taking the array's dtype (an integer array stays integer, except
    /// for division, which gives float32).
    public static func / (a: NDArray, b: Double) -> NDArray { a / a.scalarLike(b) }
    /// `a / b` for each element of `b`, the number taking the array's dtype (an integer array stays integer, except
    /// for division, which gives float32).
    public static func / (a: Double, b: NDArray) -> NDArray { b.scalarLike(a) / b }
    /// `x ** p` for a constant exponent (integer arrays stay integer for p = 0, 1, 2, …).
    public static func ** (x: NDArray, p: Double) -> NDArray { FluxionCore.pow(x, p) }

    /// Rebinds `a` to `a + b`: a new value, so copies of the old one (and recorded graphs) keep it.
    public static func += (a: inout NDArray, b: NDArray) { a = a + b }
    /// Rebinds `a` to `a − b`: a new value, so copies of the old one (and recorded graphs) keep it.
    public static func -= (a: inout NDArray, b: NDArray) { a = a - b }
    /// Rebinds `a` to `a · b`: a new value, so copies of the old one (and recorded graphs) keep it.
    public static func *= (a: inout NDArray, b: NDArray) { a = a * b }
    /// Rebinds `a` to `a / b`: a new value, so copies of the old one (and recorded graphs) keep it.
    public static func /= (a: inout NDArray, b: NDArray) { a = a / b }
    /// Rebinds `a` to `a + b`: a new value, so copies of the old one (and recorded graphs) keep it.
    public static func += (a: inout NDArray, b: Double) { a = a + b }
    /// Rebinds `a` to `a − b`: a new value, so copies of the old one (and recorded graphs) keep it.
    public static func -= (a: inout NDArray, b: Double) { a = a - b }
    /// Rebinds `a` to `a · b`: a new value, so copies of the old one (and recorded graphs) keep it.
    public static func *= (a: inout NDArray, b: Double) { a = a * b }
    /// Rebinds `a` to `a / b`: a new value, so copies of the old one (and recorded graphs) keep it.
    public static func /= (a: inout NDArray, b: Double) { a = a / b }
}

// MARK: - Elementwise functions

/// Applies a unary elementwise primitive, converting integer input to float32 unless the
/// function keeps integers.
@inlinable
func unary(_ p: some UnaryElementwise, _ x: NDArray) -> NDArray {
    if x.dtype.isFloatingPoint || p.function.acceptsIntegers && x.dtype == .int64 { return bind(p, x) }
    if x.dtype == .bool && p.function.acceptsIntegers { return bind(p, x.to(.int64)) }
    return bind(p, x.to(.float32))
}

/// |x|; its derivative at 0 is 0, as in PyTorch. Elementwise.
public func abs(_ x: NDArray) -> NDArray { unary(Abs(), x) }
/// −1, 0 or 1 by the sign of x (0 for ±0, NaN for NaN); its derivative is zero. Elementwise.
public func sign(_ x: NDArray) -> NDArray { unary(Sign(), x) }
/// eˣ. Elementwise; integer arrays become float32.
public func exp(_ x: NDArray) -> NDArray { unary(Exp(), x) }
/// The natural logarithm (−∞ at 0, NaN below 0). Elementwise; integer arrays become float32.
public func log(_ x: NDArray) -> NDArray { unary(Log(), x) }
/// log(1 + x), accurate for small x. Elementwise; integer arrays become float32.
public func log1p(_ x: NDArray) -> NDArray { unary(Log1p(), x) }
/// eˣ − 1, accurate for small x. Elementwise; integer arrays become float32.
public func expm1(_ x: NDArray) -> NDArray { unary(Expm1(), x) }
/// √x; the derivative 1/(2√x) is applied with a strong zero, so a zero cotangent gives zero at x = 0. Elementwise; integer arrays become float32.
public func sqrt(_ x: NDArray) -> NDArray { unary(Sqrt(), x) }
/// 1/√x. Elementwise; integer arrays become float32.
public func rsqrt(_ x: NDArray) -> NDArray { unary(Rsqrt(), x) }
/// The sine. Elementwise; integer arrays become float32.
public func sin(_ x: NDArray) -> NDArray { unary(Sin(), x) }
/// The cosine. Elementwise; integer arrays become float32.
public func cos(_ x: NDArray) -> NDArray { unary(Cos(), x) }
/// The tangent. Elementwise; integer arrays become float32.
public func tan(_ x: NDArray) -> NDArray { unary(Tan(), x) }
/// The arcsine, on [−1, 1]. Elementwise; integer arrays become float32.
public func asin(_ x: NDArray) -> NDArray { unary(Asin(), x) }
/// The arccosine, on [−1, 1]. Elementwise; integer arrays become float32.
public func acos(_ x: NDArray) -> NDArray { unary(Acos(), x) }
/// The arctangent. Elementwise; integer arrays become float32.
public func atan(_ x: NDArray) -> NDArray { unary(Atan(), x) }
/// The hyperbolic sine. Elementwise; integer arrays become float32.
public func sinh(_ x: NDArray) -> NDArray { unary(Sinh(), x) }
/// The hyperbolic cosine. Elementwise; integer arrays become float32.
public func cosh(_ x: NDArray) -> NDArray { unary(Cosh(), x) }
/// The hyperbolic tangent; its derivative is 1 − tanh²(x). Elementwise; integer arrays become float32.
public func tanh(_ x: NDArray) -> NDArray { unary(Tanh(), x) }
/// 1 / (1 + e^−x), evaluated without overflow for any x.
public func sigmoid(_ x: NDArray) -> NDArray { unary(Sigmoid(), x) }
/// max(x, 0); NaN stays NaN.
public func relu(_ x: NDArray) -> NDArray { unary(Relu(), x) }
/// relu's derivative: 0 where x ≤ 0, 1 elsewhere (NaN included, as PyTorch's relu backward
/// passes a NaN input's gradient); shape and dtype of x (integers become float32).
public func reluSlope(_ x: NDArray) -> NDArray { unary(ReluSlope(), x) }
/// log(1 + eˣ), evaluated as max(x, 0) + log1p(e^−|x|).
public func softplus(_ x: NDArray) -> NDArray { unary(Softplus(), x) }
/// The error function, erf(x) = (2/√π)∫₀ˣ e^(−t²) dt; its derivative is (2/√π)e^(−x²). Elementwise.
public func erf(_ x: NDArray) -> NDArray { unary(Erf(), x) }
/// The largest integer ≤ x; its derivative is zero. Elementwise.
public func floor(_ x: NDArray) -> NDArray { unary(Floor(), x) }
/// The smallest integer ≥ x; its derivative is zero. Elementwise.
public func ceil(_ x: NDArray) -> NDArray { unary(Ceil(), x) }
/// Rounds half to even, as PyTorch.
public func round(_ x: NDArray) -> NDArray { unary(Round(), x) }
/// Rounds toward zero (`torch.trunc`): floor for x ≥ 0, ceil below; derivative 0.
public func trunc(_ x: NDArray) -> NDArray { NDArray.where(x .< 0, ceil(x), floor(x)) }

/// The remainder of x / y with the sign of x (`torch.fmod`, C's `fmod`), elementwise with
/// broadcasting:
///
/// ```
/// fmod(x, y) = x − y·trunc(x / y)      ∂/∂x = 1,   ∂/∂y = −trunc(x / y)
/// ```
///
/// Computed in a floating dtype (integer operands give float32); y = 0 gives NaN. The quotient
/// is rounded once, so for |x / y| beyond 2⁵² (float64) the result loses precision.
public func fmod(_ x: NDArray, _ y: NDArray) -> NDArray { x - y * stopGradient(trunc(x / y)) }
/// `fmod` by a number.
public func fmod(_ x: NDArray, _ y: Double) -> NDArray { fmod(x, x.scalarLike(y)) }

/// The remainder of x / y with the sign of y (`torch.remainder`, Python's `%`), elementwise
/// with broadcasting:
///
/// ```
/// remainder(x, y) = x − y·floor(x / y)      ∂/∂x = 1,   ∂/∂y = −floor(x / y)
/// ```
///
/// Computed in a floating dtype (integer operands give float32); y = 0 gives NaN. The quotient
/// is rounded once, so for |x / y| beyond 2⁵² (float64) the result loses precision.
public func remainder(_ x: NDArray, _ y: NDArray) -> NDArray { x - y * stopGradient(floor(x / y)) }
/// `remainder` by a number.
public func remainder(_ x: NDArray, _ y: Double) -> NDArray { remainder(x, x.scalarLike(y)) }

/// x·log(y), taken as 0 where x = 0 unless y is NaN (`torch.xlogy`; the entropy term
/// p·log p without NaN at p = 0). Derivatives, as PyTorch's: log y with respect to x (0 where
/// x = 0 and y ≤ 0, or y = ∞) and x / y with respect to y.
public func xlogy(_ x: NDArray, _ y: NDArray) -> NDArray {
    // Where x = 0 and log y is not finite (but not NaN), the logarithm is taken of 1.
    let unbounded = (x .== 0) .& ((y .<= 0) .| y.isInf())
    return x * log(NDArray.where(unbounded, y.scalarLike(1), y))
}

/// The log-odds log(x / (1 − x)) (`torch.logit`); with `eps`, x is first clamped to
/// [eps, 1 − eps], so the derivative 1/(x·(1 − x)) is 0 outside that interval.
public func logit(_ x: NDArray, eps: Double? = nil) -> NDArray {
    let z = eps.map { x.clamp(min: $0, max: 1 - $0) } ?? (x.dtype.isFloatingPoint ? x : x.to(.float32))
    return log(z / (1 - z))
}

/// `x ** exponent` for a constant exponent.
public func pow(_ x: NDArray, _ exponent: Double) -> NDArray {
    let keepsIntegers = exponent >= 0 && exponent == exponent.rounded()
    if x.dtype == .int64 && keepsIntegers { return bind(PowScalar(exponent: exponent), x) }
    return bind(PowScalar(exponent: exponent), x.dtype.isFloatingPoint ? x : x.to(.float32))
}

/// `x ** y` elementwise with broadcasting.
public func pow(_ x: NDArray, _ y: NDArray) -> NDArray { x ** y }
/// The larger of each pair (NaN if either is NaN).
public func maximum(_ a: NDArray, _ b: NDArray) -> NDArray { elementwise(Maximum(), a, b) }
/// The smaller of each pair (NaN if either is NaN).
public func minimum(_ a: NDArray, _ b: NDArray) -> NDArray { elementwise(Minimum(), a, b) }
/// a · b elementwise with broadcasting, except that the product is 0 wherever a factor is 0,
/// even when the other is ±∞ or NaN (TensorFlow's `multiply_no_nan`, made symmetric):
///
/// ```
/// mulStrongZero(a, b) = 0        where a = 0 or b = 0
///                     = a · b    elsewhere
/// ```
///
/// The chain rule of the primitives whose derivative is infinite at the edge of their domain
/// (log, sqrt, division, pow, …) multiplies with it, so that a zero cotangent (the untaken
/// branch of `where`) contributes nothing there at any order of differentiation; use it in
/// custom rules for the same guarantee.
public func mulStrongZero(_ a: NDArray, _ b: NDArray) -> NDArray { elementwise(MulStrongZero(), a, b) }
/// The angle of (x, y) in (−π, π].
public func atan2(_ y: NDArray, _ x: NDArray) -> NDArray { elementwise(Atan2(), y, x, floating: true) }

/// Every elementwise function has both spellings, as PyTorch's (`torch.exp(x)` and `x.exp()`):
/// the free function and this method.
extension NDArray {
    /// `abs(self)`, elementwise (see the free function).
    public func abs() -> NDArray { FluxionCore.abs(self) }
    /// `sign(self)`, elementwise (see the free function).
    public func sign() -> NDArray { FluxionCore.sign(self) }
    /// `exp(self)`, elementwise (see the free function).
    public func exp() -> NDArray { FluxionCore.exp(self) }
    /// `log(self)`, elementwise (see the free function).
    public func log() -> NDArray { FluxionCore.log(self) }
    /// `log1p(self)`, elementwise (see the free function).
    public func log1p() -> NDArray { FluxionCore.log1p(self) }
    /// `expm1(self)`, elementwise (see the free function).
    public func expm1() -> NDArray { FluxionCore.expm1(self) }
    /// `sqrt(self)`, elementwise (see the free function).
    public func sqrt() -> NDArray { FluxionCore.sqrt(self) }
    /// `rsqrt(self)`, elementwise (see the free function).
    public func rsqrt() -> NDArray { FluxionCore.rsqrt(self) }
    /// `sin(self)`, elementwise (see the free function).
    public func sin() -> NDArray { FluxionCore.sin(self) }
    /// `cos(self)`, elementwise (see the free function).
    public func cos() -> NDArray { FluxionCore.cos(self) }
    /// `tan(self)`, elementwise (see the free function).
    public func tan() -> NDArray { FluxionCore.tan(self) }
    /// `asin(self)`, elementwise (see the free function).
    public func asin() -> NDArray { FluxionCore.asin(self) }
    /// `acos(self)`, elementwise (see the free function).
    public func acos() -> NDArray { FluxionCore.acos(self) }
    /// `atan(self)`, elementwise (see the free function).
    public func atan() -> NDArray { FluxionCore.atan(self) }
    /// `sinh(self)`, elementwise (see the free function).
    public func sinh() -> NDArray { FluxionCore.sinh(self) }
    /// `cosh(self)`, elementwise (see the free function).
    public func cosh() -> NDArray { FluxionCore.cosh(self) }
    /// `tanh(self)`, elementwise (see the free function).
    public func tanh() -> NDArray { FluxionCore.tanh(self) }
    /// `sigmoid(self)`, elementwise (see the free function).
    public func sigmoid() -> NDArray { FluxionCore.sigmoid(self) }
    /// `relu(self)`, elementwise (see the free function).
    public func relu() -> NDArray { FluxionCore.relu(self) }
    /// `softplus(self)`, elementwise (see the free function).
    public func softplus() -> NDArray { FluxionCore.softplus(self) }
    /// `erf(self)`, elementwise (see the free function).
    public func erf() -> NDArray { FluxionCore.erf(self) }
    /// `floor(self)`, elementwise (see the free function).
    public func floor() -> NDArray { FluxionCore.floor(self) }
    /// `ceil(self)`, elementwise (see the free function).
    public func ceil() -> NDArray { FluxionCore.ceil(self) }
    /// `round(self)`, elementwise (see the free function).
    public func round() -> NDArray { FluxionCore.round(self) }
    /// Each element raised to the constant `exponent` (`self ** exponent`).
    public func pow(_ exponent: Double) -> NDArray { FluxionCore.pow(self, exponent) }
    /// Each element raised to the power `exponent`, broadcast (`self ** exponent`).
    public func pow(_ exponent: NDArray) -> NDArray { FluxionCore.pow(self, exponent) }
}

// MARK: - Comparisons and masks

extension NDArray {
    /// A bool mask, true where `a` is less than `b` (broadcast, after dtype promotion); NaN compares
    /// false, except with `.!=`. Its derivative is zero.
    public static func .< (a: NDArray, b: NDArray) -> NDArray { elementwise(Compare(comparison: .lt), a, b) }
    /// A bool mask, true where `a` is less than or equal to `b` (broadcast, after dtype promotion); NaN compares
    /// false, except with `.!=`. Its derivative is zero.
    public static func .<= (a: NDArray, b: NDArray) -> NDArray { elementwise(Compare(comparison: .le), a, b) }
    /// A bool mask, true where `a` is greater than `b` (broadcast, after dtype promotion); NaN compares
    /// false, except with `.!=`. Its derivative is zero.
    public static func .> (a: NDArray, b: NDArray) -> NDArray { elementwise(Compare(comparison: .gt), a, b) }
    /// A bool mask, true where `a` is greater than or equal to `b` (broadcast, after dtype promotion); NaN compares
    /// false, except with `.!=`. Its derivative is zero.
    public static func .>= (a: NDArray, b: NDArray) -> NDArray { elementwise(Compare(comparison: .ge), a, b) }
    /// A bool mask, true where `a` is equal to `b` (broadcast, after dtype promotion); NaN compares
    /// false, except with `.!=`. Its derivative is zero.
    public static func .== (a: NDArray, b: NDArray) -> NDArray { elementwise(Compare(comparison: .eq), a, b) }
    /// A bool mask, true where `a` is not equal to `b` (broadcast, after dtype promotion); NaN compares
    /// true to everything. Its derivative is zero.
    public static func .!= (a: NDArray, b: NDArray) -> NDArray { elementwise(Compare(comparison: .ne), a, b) }

    /// A bool mask, true where `a` is less than the number `b`.
    public static func .< (a: NDArray, b: Double) -> NDArray { a .< a.scalarLike(b) }
    /// A bool mask, true where `a` is less than or equal to the number `b`.
    public static func .<= (a: NDArray, b: Double) -> NDArray { a .<= a.scalarLike(b) }
    /// A bool mask, true where `a` is greater than the number `b`.
    public static func .> (a: NDArray, b: Double) -> NDArray { a .> a.scalarLike(b) }
    /// A bool mask, true where `a` is greater than or equal to the number `b`.
    public static func .>= (a: NDArray, b: Double) -> NDArray { a .>= a.scalarLike(b) }
    /// A bool mask, true where `a` is equal to the number `b`.
    public static func .== (a: NDArray, b: Double) -> NDArray { a .== a.scalarLike(b) }
    /// A bool mask, true where `a` is not equal to the number `b`.
    public static func .!= (a: NDArray, b: Double) -> NDArray { a .!= a.scalarLike(b) }

    /// Logical and of masks (any dtype: nonzero is true).
    public static func .& (a: NDArray, b: NDArray) -> NDArray { elementwise(LogicalAnd(), a.to(.bool), b.to(.bool)) }
    /// Logical or of masks.
    public static func .| (a: NDArray, b: NDArray) -> NDArray { elementwise(LogicalOr(), a.to(.bool), b.to(.bool)) }
    /// Logical not of a mask.
    public static prefix func .! (x: NDArray) -> NDArray { bind(LogicalNot(), x.to(.bool)) }
}

extension NDArray {
    /// `a` where `condition` is true, else `b`, all three broadcast together; a and b promote.
    /// (`torch.where`; spelled `NDArray.where` because `where` is a Swift keyword.)
    public static func `where`(_ condition: NDArray, _ a: NDArray, _ b: NDArray,
                               file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let (x, y) = promoted("where", a, b, file: file, line: line)
        guard Shape.broadcast(condition.shape, x.shape).flatMap({ Shape.broadcast($0, y.shape) }) != nil else {
            fail("where", "condition \(describe(condition.shape)) does not broadcast with \(describe(x.shape)) and \(describe(y.shape))",
                 fix: "give the condition a shape that broadcasts with both branches", file: file, line: line)
        }
        return bind(Select(), [condition.to(.bool), x, y])[0]
    }

    /// `a` where `condition` is true, else the number `b`.
    public static func `where`(_ condition: NDArray, _ a: NDArray, _ b: Double,
                               file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        NDArray.where(condition, a, a.scalarLike(b), file: file, line: line)
    }
}
