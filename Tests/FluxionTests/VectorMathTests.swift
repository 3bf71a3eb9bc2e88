// The float64 elementary functions of Float64Functions.swift against the C library: hundreds of
// thousands of seeded arguments per function over its whole domain (log-uniform magnitudes of
// both signs, the breakpoints of the piecewise forms, multiples of π/2, subnormals), counting
// ulps between bit patterns; on x86-64 also against long double, which measures the error
// from the correctly rounded result itself. Then special values bit for bit (signs of zeros
// included), the four-lane runs (`Double.map`) against the one-element forms, and the array
// functions, contiguous and strided, against both.

import Foundation
import Testing
@testable import FluxionCheck
import Fluxion
import FluxionKernels

/// ulps between two float64s, counted along the ordered bit patterns (0 between −0 and +0 only
/// when `signedZeros` is false; 0 between two NaNs; Int.max between a NaN and a number).
private func ulps(_ a: Double, _ b: Double, signedZeros: Bool = true) -> Int {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : .max }
    if a == 0 && b == 0 { return !signedZeros || a.sign == b.sign ? 0 : .max }
    func ordered(_ x: Double) -> Int64 {
        let i = Int64(bitPattern: x.bitPattern)
        return i < 0 ? Int64.min &- i : i
    }
    let d = ordered(a) &- ordered(b)
    return d == .min ? .max : Int(d.magnitude)
}

/// The test arguments, reproducibly: FluxionCheck's SplitMix64 generator, independent of the
/// library's own random numbers.
private struct SeededArguments {
    var random: SplitMix
    init(seed: UInt64) { random = SplitMix(seed: seed) }
    mutating func next() -> UInt64 { random.next() }
    mutating func unit() -> Double { random.uniform(0, 1) }
    /// `count` values uniform in [low, high].
    mutating func uniform(_ low: Double, _ high: Double, _ count: Int) -> [Double] {
        (0..<count).map { _ in low + (high - low) * unit() }
    }
    /// `count` magnitudes log-uniform in [low, high], negated at random when `signed`.
    mutating func logUniform(_ low: Double, _ high: Double, _ count: Int, signed: Bool) -> [Double] {
        let a = Foundation.log2(low), b = Foundation.log2(high)
        return (0..<count).map { _ in
            let v = Foundation.exp2(a + (b - a) * unit())
            return signed && next() & 1 == 1 ? -v : v
        }
    }
    /// `count` values within a few ulps of the points, chosen at random.
    mutating func near(_ points: [Double], _ count: Int) -> [Double] {
        (0..<count).map { _ in
            var v = points[Int(next() % UInt64(points.count))]
            for _ in 0..<Int(next() % 16) { v = next() & 1 == 0 ? v.nextUp : v.nextDown }
            return v
        }
    }
}

/// A float64 function under test: the one-element form, its name for `Double.map`, the C
/// library's, and the bounds the doc comments state.
private struct VectorFunction: Sendable, CustomTestStringConvertible {
    let name: String
    let element: @Sendable (Double) -> Double
    let function: ElementaryFunction
    let libm: @Sendable (Double) -> Double
    /// ulps from the C library's result.
    let boundFromLibm: Int
    /// ulps from the correctly rounded result (`longDouble`'s reference).
    let bound: Double
    let arguments: @Sendable () -> [Double]
    var testDescription: String { name }
}

/// Breakpoints of the forms: where the reduction's n changes, where a piecewise form switches.
private let ln2Multiples = (-1076...1025).map { (Double($0) + 0.5) * M_LN2 }

private let vectorFunctions: [VectorFunction] = [
    VectorFunction(name: "exp", element: Double.loopExp, function: .exp, libm: { Foundation.exp($0) }, boundFromLibm: 1, bound: 1) {
        var g = SeededArguments(seed: 1)
        return g.uniform(-745.2, 709.8, 60_000) + g.logUniform(0x1p-1074, 746, 60_000, signed: true)
            + g.uniform(-745.2, -707, 30_000) + g.uniform(-1, 1, 20_000) + g.near(ln2Multiples, 20_000)
            + g.near([709.782712893384, -745.1332191019411, -708.3964185322641], 2000)
    },
    VectorFunction(name: "log", element: Double.loopLog, function: .log, libm: { Foundation.log($0) }, boundFromLibm: 1, bound: 1) {
        var g = SeededArguments(seed: 2)
        return g.logUniform(0x1p-1074, .greatestFiniteMagnitude, 80_000, signed: false) + g.uniform(0.5, 2, 40_000)
            + g.logUniform(0x1p-1074, 0x1p-1022, 20_000, signed: false) + g.near([1, 0.5.squareRoot(), 2.squareRoot()], 20_000)
    },
    VectorFunction(name: "log1p", element: Double.loopLog1p, function: .log1p, libm: { Foundation.log1p($0) }, boundFromLibm: 1, bound: 1) {
        var g = SeededArguments(seed: 3)
        return g.logUniform(0x1p-1074, .greatestFiniteMagnitude, 60_000, signed: false)
            + g.logUniform(0x1p-1074, 1, 40_000, signed: true) + g.uniform(-1, 3, 40_000)
            + g.near([-1, 1, 0.5.squareRoot() - 1, 2.squareRoot() - 1, 0x1p53], 20_000)
    },
    VectorFunction(name: "expm1", element: Double.loopExpm1, function: .expm1, libm: { Foundation.expm1($0) }, boundFromLibm: 1, bound: 1.5) {
        var g = SeededArguments(seed: 4)
        return g.logUniform(0x1p-1074, 709.8, 60_000, signed: true) + g.uniform(-3, 3, 40_000) + g.uniform(-45, 45, 20_000)
            + g.near([0.5, -0.5, 709.782712893384, -37.42994775023705, -40], 20_000) + g.near(Array(ln2Multiples[1000...1200]), 20_000)
    },
    VectorFunction(name: "tanh", element: Double.loopTanh, function: .tanh, libm: { Foundation.tanh($0) }, boundFromLibm: 2, bound: 1.5) {
        var g = SeededArguments(seed: 5)
        return g.logUniform(0x1p-1074, 40, 60_000, signed: true) + g.uniform(-4, 4, 40_000) + g.uniform(-25, 25, 20_000)
            + g.near([0.55, -0.55, 19.06154746539849, -19.06154746539849], 20_000)
            + g.logUniform(40, .greatestFiniteMagnitude, 2000, signed: true)
    },
    VectorFunction(name: "sin", element: Double.loopSin, function: .sin, libm: { Foundation.sin($0) }, boundFromLibm: 1, bound: 1,
                   arguments: sinCosArguments),
    VectorFunction(name: "cos", element: Double.loopCos, function: .cos, libm: { Foundation.cos($0) }, boundFromLibm: 1, bound: 1,
                   arguments: sinCosArguments),
    VectorFunction(name: "sigmoid", element: { Kernel.Sigmoid<Double>()($0) }, function: .sigmoid,
                   libm: { 1 / (1 + Foundation.exp(-$0)) }, boundFromLibm: 2, bound: 2) {
        // Below −709.78 the kernel's formula gives 0 for the subnormal e^x (e^−x overflows).
        var g = SeededArguments(seed: 7)
        return g.logUniform(0x1p-1074, 709.78, 100_000, signed: true) + g.uniform(-40, 40, 20_000)
    },
    VectorFunction(name: "softplus", element: { Kernel.Softplus<Double>()($0) }, function: .softplus,
                   libm: { Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) }, boundFromLibm: 2, bound: 2) {
        var g = SeededArguments(seed: 8)
        return g.logUniform(0x1p-1074, 800, 100_000, signed: true) + g.uniform(-40, 40, 20_000)
    },
]

/// sin and cos: magnitudes from subnormal to beyond the reduction's bound (2²⁰, where the C
/// library takes over) and to the largest, and the float64s nearest multiples of π/2, where
/// the reduction cancels most.
@Sendable private func sinCosArguments() -> [Double] {
    var g = SeededArguments(seed: 6)
    let multiples = (0..<20_000).map { _ in (Double.pi / 2) * Double(Int64(g.next() % 1_335_000) - 667_500) }
    return g.logUniform(0x1p-1074, 0x1p20, 60_000, signed: true) + g.uniform(-10, 10, 30_000) + g.uniform(-0x1p20, 0x1p20, 30_000)
        + g.near(multiples, 40_000) + g.near([0x1p20, -0x1p20], 2000)
        + g.logUniform(0x1p20, .greatestFiniteMagnitude, 5000, signed: true)
}

/// Values where the functions' special cases are: zeros, infinities, NaN, the overflow and
/// underflow thresholds, the largest and smallest magnitudes, and the ends of the reductions.
private let specialArguments: [Double] = [
    0, -0.0, .infinity, -.infinity, .nan, -.nan, 1, -1, 2, -2, 0.5, -0.5, 0.55, -0.55, 20, -20, 40, -40,
    709.782712893384, 709.7827128933841, 710, 1000, -708.3964185322641, -709, -745.1332191019411, -745.1332191019412, -746,
    -1000, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude, -.leastNormalMagnitude,
    Double.leastNormalMagnitude.nextDown, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0x1p-54, -0x1p-54, 0x1p-28,
    1.0.nextDown, 1.0.nextUp, -(1.0.nextDown), -(1.0.nextUp), 0x1p20, -0x1p20, 0x1p20.nextUp, 1e22, .pi, -.pi, .pi / 2,
    3 * .pi / 2, 6381956970095103 * 0x1p797,
]

@Suite struct VectorMathTests {
    @Test(arguments: vectorFunctions)
    fileprivate func accurateOverTheDomain(_ f: VectorFunction) {
        let xs = f.arguments()
        #expect(xs.count >= 100_000)
        var lanes = [Double](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            lanes.withUnsafeMutableBufferPointer { y in Double.map(f.function, x.baseAddress!, stride: 1, y.baseAddress!, count: xs.count) }
        }
        // The same arguments three apart, gathered into lanes.
        var spread = [Double](repeating: .nan, count: 3 * xs.count), gathered = [Double](repeating: 0, count: xs.count)
        for (k, x) in xs.enumerated() { spread[3 * k] = x }
        spread.withUnsafeBufferPointer { x in
            gathered.withUnsafeMutableBufferPointer { y in Double.map(f.function, x.baseAddress!, stride: 3, y.baseAddress!, count: xs.count) }
        }
        var worst = 0, worstAt = 0.0, worstLong = 0.0, worstLongAt = 0.0, differences = 0
        for (k, x) in xs.enumerated() {
            let y = lanes[k]
            if y.bitPattern != f.element(x).bitPattern && !(y.isNaN && f.element(x).isNaN) { differences += 1 }
            if y.bitPattern != gathered[k].bitPattern && !(y.isNaN && gathered[k].isNaN) { differences += 1 }
            let d = ulps(y, f.libm(x))
            if d > worst { (worst, worstAt) = (d, x) }
            #if arch(x86_64)
            let e = longDoubleUlps(y, longDouble(f.function, Float80(x)))
            if e > worstLong { (worstLong, worstLongAt) = (e, x) }
            #endif
        }
        #expect(differences == 0, "\(f.name): the four-lane runs, contiguous or gathered, differ from the one-element form")
        #expect(worst <= f.boundFromLibm, "\(f.name): \(worst) ulp from the C library at \(worstAt)")
        #expect(worstLong <= f.bound, "\(f.name): \(worstLong) ulp from the correctly rounded result at \(worstLongAt)")
    }

    @Test(arguments: vectorFunctions)
    fileprivate func specialValues(_ f: VectorFunction) {
        for x in specialArguments {
            let y = f.element(x), c = f.libm(x)
            // Exactly the C library's where it is special: zeros (with their signs), infinities,
            // NaN, subnormals; elsewhere within the bound.
            let special = !c.isNormal || !x.isFinite || x == 0
            let d = ulps(y, c)
            #expect(special ? d == 0 : d <= f.boundFromLibm, "\(f.name)(\(x)) = \(y), the C library's \(c)")
        }
    }

    @Test func specialValuesSpelledOut() {
        #expect(Double.loopExp(-.infinity) == 0 && Double.loopExp(.infinity) == .infinity && Double.loopExp(-0.0) == 1)
        #expect(Double.loopExp(709.7827128933841) == .infinity && Double.loopExp(709.782712893384).isFinite)
        #expect(Double.loopExp(-745.1332191019411) == .leastNonzeroMagnitude && Double.loopExp(-745.1332191019412) == 0)
        #expect(Double.loopExp(-740).isSubnormal && Double.loopExp(.nan).isNaN)
        #expect(Double.loopLog(0) == -.infinity && Double.loopLog(-0.0) == -.infinity && Double.loopLog(-1).isNaN)
        #expect(Double.loopLog(-.infinity).isNaN && Double.loopLog(.infinity) == .infinity && Double.loopLog(1) == 0)
        #expect(Double.loopLog(.leastNonzeroMagnitude) == Foundation.log(Double.leastNonzeroMagnitude))
        #expect(Double.loopLog1p(-0.0).sign == .minus && Double.loopLog1p(-1) == -.infinity && Double.loopLog1p(-2).isNaN)
        #expect(Double.loopLog1p(.leastNonzeroMagnitude) == .leastNonzeroMagnitude && Double.loopLog1p(.infinity) == .infinity)
        #expect(Double.loopExpm1(-0.0).sign == .minus && Double.loopExpm1(-.infinity) == -1 && Double.loopExpm1(-40) == -1)
        #expect(Double.loopExpm1(710) == .infinity && Double.loopExpm1(-.leastNonzeroMagnitude) == -.leastNonzeroMagnitude)
        #expect(Double.loopTanh(-0.0).sign == .minus && Double.loopTanh(-.infinity) == -1 && Double.loopTanh(.infinity) == 1)
        #expect(Double.loopTanh(.leastNonzeroMagnitude) == .leastNonzeroMagnitude && Double.loopTanh(.nan).isNaN)
        #expect(Double.loopSin(-0.0).sign == .minus && Double.loopSin(.infinity).isNaN && Double.loopSin(-.leastNonzeroMagnitude) == -.leastNonzeroMagnitude)
        #expect(Double.loopCos(-0.0) == 1 && Double.loopCos(.infinity).isNaN && Double.loopCos(.nan).isNaN)
        #expect(Kernel.Sigmoid<Double>()(-1000) == 0 && Kernel.Sigmoid<Double>()(1000) == 1)
        #expect(Kernel.Softplus<Double>()(-1000) == 0 && Kernel.Softplus<Double>()(1000) == 1000)
        #expect(Double.loopSoftplus(-.infinity) == 0 && Double.loopSoftplus(.infinity) == .infinity && Double.loopSoftplus(.nan).isNaN)
        #expect(Double.loopSoftplus(-0.0) == Foundation.log(2.0) && Double.loopSoftplus(-740) == Foundation.exp(-740.0))
    }

    /// The array functions, on a contiguous array (the four-lane runs) and a transposed one (the
    /// one-element form), give the kernels' values bit for bit.
    @Test(arguments: vectorFunctions)
    fileprivate func arrayFunctionsUseTheKernels(_ f: VectorFunction) {
        var g = SeededArguments(seed: 9)
        let values = Array(specialArguments.prefix(50)) + g.near(f.arguments(), 4950)
        let array: (NDArray) -> NDArray = switch f.function {
        case .exp: exp
        case .log: log
        case .log1p: log1p
        case .expm1: expm1
        case .tanh: tanh
        case .sin: sin
        case .cos: cos
        case .sigmoid: sigmoid
        case .softplus: softplus
        }
        let expected = values.map(f.element)
        let contiguous = array(NDArray(values, dtype: .float64)).doubles
        let transposed = array(NDArray(values, dtype: .float64).reshape([50, 100]).T).T.reshape([5000]).doubles
        for (k, x) in values.enumerated() {
            #expect(ulps(contiguous[k], expected[k]) == 0, "\(f.name)(\(x)): the array gives \(contiguous[k]), the kernel \(expected[k])")
            #expect(ulps(transposed[k], expected[k]) == 0, "\(f.name)(\(x)) strided: the array gives \(transposed[k]), the kernel \(expected[k])")
        }
    }
}

#if arch(x86_64)
/// The function in long double (64-bit significands), to measure float64 errors from the
/// correctly rounded result.
private func longDouble(_ function: ElementaryFunction, _ x: Float80) -> Float80 {
    switch function {
    case .exp: expl(x)
    case .log: logl(x)
    case .log1p: log1pl(x)
    case .expm1: expm1l(x)
    case .tanh: tanhl(x)
    case .sin: sinl(x)
    case .cos: cosl(x)
    case .sigmoid: 1 / (1 + expl(-x))
    case .softplus: Swift.max(x, 0) + log1pl(expl(-Swift.abs(x)))
    }
}

/// ulps of `y` from the long-double `reference`, in units of the float64 ulp at the reference
/// (the subnormal ulp below the normal range); 0 where both overflow, ∞ where only one does.
private func longDoubleUlps(_ y: Double, _ reference: Float80) -> Double {
    if reference.isNaN { return y.isNaN ? 0 : .infinity }
    let largest = Float80(Double.greatestFiniteMagnitude)
    if Swift.abs(reference) > largest + Float80(Double.greatestFiniteMagnitude.ulp) / 2 {
        return y.isInfinite && (y > 0) == (reference > 0) ? 0 : .infinity
    }
    if !y.isFinite { return .infinity }
    let a = Swift.abs(reference)
    let ulp = a < Float80(Double.leastNormalMagnitude)
        ? Float80(Double.leastNonzeroMagnitude) : Float80(sign: .plus, exponent: a.exponent - 52, significand: 1)
    return Double(Swift.abs(Float80(y) - reference) / ulp)
}
#endif
