// float64 elementary functions computed on SIMD lanes without branches: exp, log, log1p, expm1,
// tanh, sin and cos (and sigmoid and softplus from them). Each is written once, generic over
// the lane type, and used two ways: on two lanes for one element (`Double.loopExp` and the
// others), and on four lanes for runs of elements, contiguous or gathered from a stride
// (`Double.map`). Four lanes are two SSE2 registers whose operations interleave: each function
// is a long chain of dependent operations, and a loop of the same function written on scalars,
// which the compiler vectorises two-wide, waits on that chain; two chains side by side run
// more than twice as fast (measured on one core: exp 2.8 ns per element, against 7 ns for the
// scalar form vectorised two-wide and 4.9 ns for glibc's `exp`).
//
// Each function reduces its argument with a Cody–Waite split constant (the leading bits of ln2
// or π/2 times an integer are exact), evaluates a polynomial fitted for this file (Chebyshev
// fits, coefficients rounded to float64) or a Padé approximant, and builds powers of two in the
// exponent bits; special values are chosen by selects at the end. The accuracies stated are
// the maxima measured against a long-double reference over millions of arguments;
// VectorMathTests checks them against the C library.

import RealModule

/// SIMD lanes of float64 values, the form the float64 elementary functions compute on.
@usableFromInline
protocol Float64Lanes: SIMD where Scalar == Double, MaskStorage.Scalar == Int64, MaskStorage.MaskStorage == MaskStorage {}

extension SIMD2: Float64Lanes where Scalar == Double {}
extension SIMD4: Float64Lanes where Scalar == Double {}

/// A mask of lanes.
@usableFromInline typealias LaneMask<L: Float64Lanes> = SIMDMask<L.MaskStorage>

extension Float64Lanes {
    /// The lanes' bit patterns.
    @inlinable @inline(__always) var bits: MaskStorage { unsafeBitCast(self, to: MaskStorage.self) }

    /// Lanes with the bit patterns `bits`.
    @inlinable @inline(__always) init(bits: MaskStorage) { self = unsafeBitCast(bits, to: Self.self) }

    /// `a` where `mask` is set, `b` elsewhere.
    @inlinable @inline(__always) static func select(_ mask: LaneMask<Self>, _ a: Self, _ b: Self) -> Self {
        b.replacing(with: a, where: mask)
    }

    /// The lanes' magnitudes.
    @inlinable @inline(__always) var magnitude: Self { Self(bits: bits & 0x7FFF_FFFF_FFFF_FFFF) }

    /// The lanes clamped to [low, high]; NaN stays NaN (comparisons with it are false).
    @inlinable @inline(__always) func clampedKeepingNaN(_ low: Double, _ high: Double) -> Self {
        let above = Self.select(self .< low, Self(repeating: low), self)
        return Self.select(above .> high, Self(repeating: high), above)
    }

    /// 1.5·2⁵². Adding it to a value of magnitude below 2⁵¹ rounds the value to an integer (to
    /// nearest, ties to even) and leaves the integer in the sum's low bits; subtracting it again
    /// gives the integer as a float64. Baseline x86-64 has no packed rounding instruction, so
    /// this is how the functions round without calls.
    @inlinable @inline(__always) static var roundingShift: Double { 6_755_399_441_055_744 }

    /// 2ⁿ for integral n in [−1022, 1023], built in the exponent bits.
    @inlinable @inline(__always) static func powerOfTwo(_ n: Self) -> Self {
        // The sum's low twelve bits are n + 1023; the shift moves them into the exponent field.
        Self(bits: (n + (roundingShift + 1023)).bits &<< 52)
    }

    /// y·2ⁿ for integral n in [−1076, 1024], as two normal powers of two so that neither end
    /// overflows in the scale itself; only the last product rounds (once, into a subnormal
    /// where the result is one).
    @inlinable @inline(__always) static func scaled(_ y: Self, byPowerOfTwo n: Self) -> Self {
        let half = (n * 0.5 + roundingShift) - roundingShift
        return y * powerOfTwo(half) * powerOfTwo(n - half)
    }

    /// x = n·ln2 + r with n integral and |r| ≤ ln2/2, for |x| below 2⁵⁰ (Cody–Waite: ln2's
    /// leading 32 bits make n·ln2ₕᵢ exact for |n| < 2²¹).
    @inlinable @inline(__always) static func reducedByLn2(_ x: Self) -> (n: Self, r: Self) {
        let n = (x * 1.4426950408889634 + roundingShift) - roundingShift
        return (n, (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10)
    }

    /// eʳ − 1 for |r| ≤ ln2/2: r + r²·P(r), P a degree-10 fit of (eʳ − 1 − r)/r² (error below
    /// 3·10⁻¹⁸), evaluated in Estrin's scheme for a short dependency chain.
    @inlinable @inline(__always) static func expm1Reduced(_ r: Self) -> Self {
        let r2 = r * r, r4 = r2 * r2
        let a = (0.5 + r * 0.1666666666666667) + r2 * (0.04166666666666667 + r * 0.008333333333326141)
        let b = (0.0013888888888883752 + r * 0.00019841269874800493) + r2 * (2.4801587325533363e-05 + r * 2.7557255425746435e-06)
        let c = (2.7557273661348637e-07 + r * 2.510520637395701e-08) + r2 * 2.0914679376583935e-09
        return r + r2 * (a + r4 * (b + r4 * c))
    }

    /// eˣ (see `Double.loopExp`).
    @inlinable @inline(__always) static func exp(_ x: Self) -> Self {
        // Clamped so that n stays in [−1077, 1025]: beyond, the result is 0 or ∞ anyway.
        let (n, r) = reducedByLn2(x.clampedKeepingNaN(-746, 710))
        return scaled(1 + expm1Reduced(r), byPowerOfTwo: n)
    }

    /// eˣ − 1 for all x but ±0 (whose sign it loses) (see `Double.loopExpm1`): for |x| ≤ ½,
    /// x + x²·Q(x) with Q a degree-11 fit of (eˣ − 1 − x)/x² (error below 7·10⁻¹⁸); above, the
    /// reduction of `exp` as 2ⁿ·(eʳ − 1 + (1 − 2⁻ⁿ)).
    @inlinable @inline(__always) static func expm1(_ x: Self) -> Self {
        let x2 = x * x, x4 = x2 * x2
        let qa = (0.5 + x * 0.16666666666666666) + x2 * (0.04166666666666706 + x * 0.00833333333333336)
        let qb = (0.001388888888870455 + x * 0.00019841269841146993) + x2 * (2.4801587616145414e-05 + x * 2.755731943362024e-06)
        let qc = (2.7557076636642725e-07 + x * 2.505194670972162e-08) + x2 * (2.0962955815976076e-09 + x * 1.6116496514371548e-10)
        let direct = x + x2 * (qa + x4 * (qb + x4 * qc))
        // Below −40 the result is −1 in float64, and 2⁻ⁿ below stays finite.
        let (n, r) = reducedByLn2(x.clampedKeepingNaN(-40, 710))
        // 1 − 2⁻ⁿ is exact for n in [−53, 53]; beyond 60 it rounds to 1 either way.
        let complement = 1 - powerOfTwo(-Self.select(n .> 60, Self(repeating: 60), n))
        let reduced = scaled(expm1Reduced(r) + complement, byPowerOfTwo: n)
        return select(x.magnitude .<= 0.5, direct, reduced)
    }

    /// The logarithm of a positive normal u, plus c/u, the core of `log` and `log1p`: u = 2ᵏ·m
    /// with m in [√½, √2), f = m − 1 (exact), s = f/(2 + f), and log(1 + f) = f − f²/2 +
    /// s·(f²/2 + z·G(z)) with z = s² (fdlibm's arrangement) and G a degree-6 fit of
    /// (log((1 + s)/(1 − s)) − 2s)/(s·z) (error below 4·10⁻¹⁶, weighted by z ≤ 0.03). `kBias`
    /// is the exponent bias to remove (1023, or 1077 for inputs pre-scaled by 2⁵⁴).
    @inlinable @inline(__always) static func logCore(_ u: Self, kBias: Self, correction c: Self) -> Self {
        // Adding 1.0's bits minus √½'s bits carries into the exponent exactly when m ≥ √½.
        let shifted = u.bits &+ 0x0009_5F61_9980_C433
        let m = Self(bits: (shifted & 0x000F_FFFF_FFFF_FFFF) &+ 0x3FE6_A09E_667F_3BCD)
        // The exponent field as a float64 without an integer conversion (which SSE2 lacks).
        // (The mask lets the shift be a logical one, which SSE2 has.)
        let k = (Self(bits: ((shifted &>> 52) & 0x7FF) | 0x4330_0000_0000_0000) - 4_503_599_627_370_496) - kBias
        let f = m - 1
        let s = f / (2 + f)
        let z = s * s, z2 = z * z
        let g = ((0.666666666666667 + z * 0.39999999999899505) + z2 * (0.28571428625975487 + z * 0.2222221113479508))
            + (z2 * z2) * ((0.18182889125261723 + z * 0.15331721600556042) + z2 * 0.14616449685043406)
        let hfsq = 0.5 * f * f
        return k * 0.6931471803691238 - ((hfsq - (s * (hfsq + z * g) + (k * 1.9082149292705877e-10 + c))) - f)
    }

    /// log x (see `Double.loopLog`).
    @inlinable @inline(__always) static func log(_ x: Self) -> Self {
        let tiny = x .< 0x1p-1022
        let result = logCore(select(tiny, x * 0x1p54, x), kBias: select(tiny, Self(repeating: 1077), Self(repeating: 1023)),
                             correction: Self(repeating: -0.0))  // −0: adding it folds away
        let special = select(x .== 0, Self(repeating: -.infinity), select(x .< 0, Self(repeating: .nan), x))
        return select((x .> 0) .& (x .< .infinity), result, special)
    }

    /// log(1 + x) (see `Double.loopLog1p`).
    @inlinable @inline(__always) static func log1p(_ x: Self) -> Self {
        let u = 1 + x
        // The rounding error of 1 + x, exact (Fast2Sum, the larger operand first).
        let e = select(x .> 1, 1 - (u - x), x - (u - 1))
        let result = logCore(u, kBias: Self(repeating: 1023), correction: e / u)
        let special = select(x .== -1, Self(repeating: -.infinity), select(x .< -1, Self(repeating: .nan), x))
        return select((x .> -1) .& (x .< .infinity) .& (x .!= 0), result, special)
    }

    /// tanh x (see `Double.loopTanh`).
    @inlinable @inline(__always) static func tanh(_ x: Self) -> Self {
        let a = x.magnitude
        let large = a .> 0.55
        let z = a * a
        let p = -0.3333333333333333 + z * (-0.02142857142857143 + z * (-0.0002442002442002442 + z * -1.7619065238112858e-08))
        let q = 1 + z * (0.4642857142857143 + z * (0.02454212454212454 + z * 0.0002553002553002553))
        // Above 20, tanh rounds to 1 and 2/(e⁴⁰ + 1) still gives it; with 2|x| at most 40, 2ⁿ
        // is one normal power of two (NaN takes the other side of every select).
        let u = 2 * a
        let (n, r) = reducedByLn2(select(u .> 40, Self(repeating: 40), u))
        let e = (1 + expm1Reduced(r)) * powerOfTwo(n)
        let ratio = select(large, Self(repeating: 2), a * z * p) / select(large, e + 1, q)
        // The magnitude's sign bit is clear (NaN's too: a is |x|), so the sign of x is or-ed on.
        return Self(bits: select(large, 1 - ratio, a + ratio).bits | (x.bits & Int64.min))
    }

    /// The largest |x| that `sinCos` reduces accurately: n = round(x·2/π) stays below 2²⁰, so
    /// n times each 33-bit part of π/2 is exact.
    @inlinable @inline(__always) static var sinCosBound: Double { 0x1p20 }

    /// sin x (`quadrant` 0) or cos x (`quadrant` 1) for |x| ≤ 2²⁰, and ±0 for sin ±0.
    /// x = n·π/2 + r with π/2 as three 33-bit parts and a tail (152 bits), each product n·pᵢ
    /// exact, and r kept as a pair rₕ + rₗ through exact differences (TwoSum), so that r keeps
    /// its relative accuracy where x is very close to a multiple of π/2. Then sin r = r + r³·S(r²)
    /// and cos r = 1 − r²/2 + r⁴·C(r²) (S and C degree-5 fits, errors below 4·10⁻¹⁷ and
    /// 3·10⁻¹⁸), with the first-order terms of rₗ and fdlibm's recovery of the rounding of
    /// 1 − r²/2, picked and signed by the quadrant n + `quadrant` mod 4.
    @inlinable @inline(__always) static func sinCos(_ x: Self, quadrant: Int64) -> Self {
        let shifted = x * 0.6366197723675814 + roundingShift
        let n = shifted - roundingShift
        let t = x - n * 1.5707963267341256  // exact (Sterbenz)
        // t − n·p₂, then − n·p₃, each as a rounded difference and its exact error.
        let w2 = n * 6.077100506303966e-11
        let a2 = t - w2
        let b2 = a2 - t
        let e2 = (t - (a2 - b2)) - (w2 + b2)
        let w3 = n * 2.0222662487111665e-21
        let a3 = a2 - w3
        let b3 = a3 - a2
        let e3 = (a2 - (a3 - b3)) - (w3 + b3)
        let tail = (e2 + e3) - n * 8.4784276603689e-32
        let hi = a3 + tail
        let lo = tail - (hi - a3)
        let z = hi * hi, z2 = z * z
        let s = ((-0.16666666666666666 + z * 0.008333333333330948) + z2 * (-0.00019841269836758574 + z * 2.755731610255244e-06))
            + (z2 * z2) * (-2.5051131845003624e-08 + z * 1.5918129294866608e-10)
        let sinR = hi + ((z * hi) * s + lo * (1 - 0.5 * z))
        let c = ((0.041666666666666664 + z * -0.0013888888888887398) + z2 * (2.480158729876569e-05 + z * -2.7557317271729793e-07))
            + (z2 * z2) * (2.08761462684032e-09 + z * -1.1382632425521717e-11)
        let hz = 0.5 * z
        let w = 1 - hz
        let cosR = w + (((1 - w) - hz) + (z2 * c - hi * lo))
        let q = shifted.bits &+ quadrant
        let v = select((q & 1) .== 0, sinR, cosR)
        let signed = Self(bits: v.bits ^ ((q & 2) &<< 62))
        // sin(±0) = ±0; the sums above would give +0.
        return quadrant == 0 ? select(x .== 0, x, signed) : signed
    }

    /// 1/(1 + e⁻ˣ) (see `Kernel.Sigmoid`).
    @inlinable @inline(__always) static func sigmoid(_ x: Self) -> Self { 1 / (1 + exp(-x)) }

    /// max(x, 0) + log1p(e^−|x|) (see `Double.loopSoftplus`).
    @inlinable @inline(__always) static func softplus(_ x: Self) -> Self {
        select(x .> 0, x, Self()) + log1p(exp(-x.magnitude))
    }
}

extension Double {
    /// eˣ without branches: x = n·ln2 + r (Cody–Waite), eʳ = 1 + r + r²·P(r) with P a
    /// degree-10 fit, and 2ⁿ built in the exponent bits. Measured within 0.95 ulp of the
    /// correctly rounded result (and within 1 ulp of glibc's). Overflows to +∞ above 709.78, as
    /// the C library does, and returns correctly rounded subnormals down to −745.13, then 0;
    /// exp(±0) = 1, exp(−∞) = 0, exp(+∞) = +∞, NaN stays NaN.
    @inlinable @inline(__always) public static func loopExp(_ x: Double) -> Double {
        SIMD2<Double>.exp(SIMD2(repeating: x))[0]
    }

    /// log x (natural) without branches, fdlibm's design: x = 2ᵏ·m with m in [√½, √2) from the
    /// bits (subnormal x first scaled by 2⁵⁴), log m through s = (m − 1)/(m + 1) and a degree-6
    /// fit in s², and k·ln2 in two parts. Measured within 0.84 ulp of the correctly rounded
    /// result (1 ulp of glibc's). log(±0) = −∞, log(x < 0) = NaN (−∞ included), log(+∞) = +∞, NaN stays NaN.
    @inlinable @inline(__always) public static func loopLog(_ x: Double) -> Double {
        SIMD2<Double>.log(SIMD2(repeating: x))[0]
    }

    /// log(1 + x) without branches: u = 1 + x rounded, its rounding error e recovered exactly,
    /// and log(1 + x) = log u + e/u (fdlibm's correction), with log u as in `loopLog`. Measured
    /// within 0.85 ulp of the correctly rounded result (1 ulp of glibc's). log1p(±0) = ±0, log1p(−1) = −∞,
    /// log1p(x < −1) = NaN, log1p(+∞) = +∞, NaN stays NaN; subnormal x gives x.
    @inlinable @inline(__always) public static func loopLog1p(_ x: Double) -> Double {
        SIMD2<Double>.log1p(SIMD2(repeating: x))[0]
    }

    /// eˣ − 1 without branches: for |x| ≤ ½ a polynomial in x (so small x keep their relative
    /// accuracy), above the reduction of `loopExp` as 2ⁿ·(eʳ − 1 + (1 − 2⁻ⁿ)). Measured within
    /// 1.16 ulp of the correctly rounded result (1 ulp of glibc's). expm1(±0) = ±0, expm1(−∞) = −1, +∞ above
    /// 709.78, NaN stays NaN; subnormal x gives x.
    @inlinable @inline(__always) public static func loopExpm1(_ x: Double) -> Double {
        x == 0 ? x : SIMD2<Double>.expm1(SIMD2(repeating: x))[0]
    }

    /// tanh x without branches: up to |x| = 0.55, x + x³·P(x²)/Q(x²) (the [3/3] Padé
    /// approximant of (tanh x − x)/x³, relative error below 6·10⁻¹⁷); above, where tanh |x| > ½
    /// so that the subtraction loses nothing, 1 − 2/(e^(2|x|) + 1) with `loopExp`'s reduction
    /// (up to |x| = 20, beyond which tanh rounds to 1, so that 2ⁿ is one power of two); one
    /// division serves both, and the sign of x is copied on. Measured within 1.45 ulp of the
    /// correctly rounded result (2 ulp of glibc's). tanh(±0) = ±0, tanh(±∞) = ±1, NaN stays
    /// NaN; subnormal x gives x.
    @inlinable @inline(__always) public static func loopTanh(_ x: Double) -> Double {
        SIMD2<Double>.tanh(SIMD2(repeating: x))[0]
    }

    /// sin x: for |x| ≤ 2²⁰ a branch-free reduction by π/2 carried to 152 bits (accurate even
    /// for the x closest to multiples of π/2) and polynomials for sin and cos of the remainder;
    /// measured within 0.91 ulp of the correctly rounded result (1 ulp of glibc's). Beyond 2²⁰,
    /// ±∞ and NaN, the C library's `sin`. sin(±0) = ±0, subnormal x gives x, sin(±∞) = NaN.
    @inlinable @inline(__always) public static func loopSin(_ x: Double) -> Double {
        Swift.abs(x) <= SIMD2<Double>.sinCosBound ? SIMD2<Double>.sinCos(SIMD2(repeating: x), quadrant: 0)[0] : Double.sin(x)
    }

    /// cos x: for |x| ≤ 2²⁰ the reduction and polynomials of `loopSin`; measured within 0.87 ulp
    /// of the correctly rounded result (1 ulp of glibc's). Beyond 2²⁰, ±∞ and NaN, the C library's `cos`.
    /// cos(±0) = 1, cos(±∞) = NaN.
    @inlinable @inline(__always) public static func loopCos(_ x: Double) -> Double {
        Swift.abs(x) <= SIMD2<Double>.sinCosBound ? SIMD2<Double>.sinCos(SIMD2(repeating: x), quadrant: 1)[0] : Double.cos(x)
    }

    /// max(x, 0) + log1p(e^−|x|) without branches, from `loopExp` and `loopLog1p` (whose e^−|x|
    /// keeps its subnormals). Measured within 1.4 ulp of the correctly rounded result.
    /// softplus(±0) = log 2, softplus(−∞) = 0, softplus(+∞) = +∞, NaN stays NaN.
    @inlinable @inline(__always) public static func loopSoftplus(_ x: Double) -> Double {
        SIMD2<Double>.softplus(SIMD2(repeating: x))[0]
    }

    /// `function` over `count` elements `stride` apart, four lanes at a time (gathered when the
    /// stride is not 1): the same values as the one-element forms (`loopExp`, …), about twice as
    /// fast (see the file's opening comment); contiguous exp, tanh and sigmoid take the
    /// processor's widest vectors (`VectorMaps`), with the same values. sin and cos evaluate the
    /// C library for the lanes beyond 2²⁰.
    @inlinable @inline(__always)
    public static func map(_ function: ElementaryFunction, _ source: UnsafePointer<Double>, stride: Int,
                           _ destination: UnsafeMutablePointer<Double>, count: Int) {
        if stride == 1 && VectorMaps.covers(function) {
            return VectorMaps.run(function, source, destination, count: count)
        }
        switch function {
        case .exp: mapLanes(source, stride, destination, count, SIMD4<Double>.exp, SIMD2<Double>.exp)
        case .log: mapLanes(source, stride, destination, count, SIMD4<Double>.log, SIMD2<Double>.log)
        case .log1p: mapLanes(source, stride, destination, count, SIMD4<Double>.log1p, SIMD2<Double>.log1p)
        case .expm1:
            mapLanes(source, stride, destination, count, { x in SIMD4<Double>.select(x .== 0, x, SIMD4<Double>.expm1(x)) },
                     { x in SIMD2<Double>.select(x .== 0, x, SIMD2<Double>.expm1(x)) })
        case .tanh: mapLanes(source, stride, destination, count, SIMD4<Double>.tanh, SIMD2<Double>.tanh)
        case .sigmoid: mapLanes(source, stride, destination, count, SIMD4<Double>.sigmoid, SIMD2<Double>.sigmoid)
        case .softplus: mapLanes(source, stride, destination, count, SIMD4<Double>.softplus, SIMD2<Double>.softplus)
        case .sin: mapSinCos(source, stride, destination, count, quadrant: 0) { Double.sin($0) }
        case .cos: mapSinCos(source, stride, destination, count, quadrant: 1) { Double.cos($0) }
        }
    }

    /// The four elements from `source + 4·g·stride`, `stride` apart.
    @inlinable @inline(__always)
    static func group(_ source: UnsafePointer<Double>, _ stride: Int, _ g: Int) -> SIMD4<Double> {
        if stride == 1 { return UnsafeRawPointer(source).loadUnaligned(fromByteOffset: g &* 32, as: SIMD4<Double>.self) }
        let p = source + g &* 4 &* stride
        return SIMD4(p[0], p[stride], p[2 &* stride], p[3 &* stride])
    }

    /// `four` over the groups of four elements, `two` (one lane used) over the rest.
    @inlinable @inline(__always)
    static func mapLanes(_ source: UnsafePointer<Double>, _ stride: Int, _ destination: UnsafeMutablePointer<Double>, _ count: Int,
                         _ four: (SIMD4<Double>) -> SIMD4<Double>, _ two: (SIMD2<Double>) -> SIMD2<Double>) {
        let d = UnsafeMutableRawPointer(destination)
        let groups = count / 4
        if stride == 1 {
            for g in 0..<groups { d.storeBytes(of: four(group(source, 1, g)), toByteOffset: g &* 32, as: SIMD4<Double>.self) }
        } else {
            for g in 0..<groups { d.storeBytes(of: four(group(source, stride, g)), toByteOffset: g &* 32, as: SIMD4<Double>.self) }
        }
        for k in 4 * groups..<count { destination[k] = two(SIMD2(repeating: source[k &* stride]))[0] }
    }

    /// sin or cos over the elements: the reduced form on all lanes, then, in the rare group
    /// with a lane beyond 2²⁰ (or ±∞ or NaN), the C library for that lane.
    @inlinable @inline(__always)
    static func mapSinCos(_ source: UnsafePointer<Double>, _ stride: Int, _ destination: UnsafeMutablePointer<Double>, _ count: Int,
                          quadrant: Int64, _ libm: (Double) -> Double) {
        let d = UnsafeMutableRawPointer(destination)
        let groups = count / 4
        for g in 0..<groups {
            let x = group(source, stride, g)
            var y = SIMD4<Double>.sinCos(x, quadrant: quadrant)
            // Written so that NaN counts as beyond.
            if any(.!(x.magnitude .<= SIMD4<Double>.sinCosBound)) {
                for k in 0..<4 where !(Swift.abs(x[k]) <= SIMD4<Double>.sinCosBound) { y[k] = libm(x[k]) }
            }
            d.storeBytes(of: y, toByteOffset: g &* 32, as: SIMD4<Double>.self)
        }
        for k in 4 * groups..<count {
            let x = source[k &* stride]
            destination[k] = Swift.abs(x) <= SIMD2<Double>.sinCosBound
                ? SIMD2<Double>.sinCos(SIMD2(repeating: x), quadrant: quadrant)[0] : libm(x)
        }
    }
}

/// The elementary functions whose kernels run over contiguous runs in a form of their own
/// (`FloatingElement.map`).
public enum ElementaryFunction: Sendable {
    /// eˣ, log x, log(1 + x), eˣ − 1, tanh x, sin x, cos x (`FloatingElement.loopExp`, …).
    case exp, log, log1p, expm1, tanh, sin, cos
    /// 1/(1 + e⁻ˣ) and max(x, 0) + log1p(e^−|x|), as `Kernel.Sigmoid` and `Kernel.Softplus`.
    case sigmoid, softplus
}
