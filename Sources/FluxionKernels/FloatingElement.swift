// The floating element types and the elementary functions their loops use. exp, tanh and
// sigmoid of float32 use branch-free polynomial forms (within 2 ulp) so that loops of them
// vectorise (and contiguous runs of them take the widest vectors, VectorMaps.swift), and the C library through swift-numerics for the rest. float64's exp, log, log1p,
// expm1, tanh, sin and cos are branch-free forms computed on SIMD lanes (Float64Functions.swift,
// each within 1.5 ulp), sigmoid and softplus are built from them, and the rest are the C
// library's; `pow` is C's for both (finite for a negative base with an integral exponent).

import RealModule
#if canImport(Glibc)
import Glibc
#endif

/// A floating element type with the elementary functions.
public protocol FloatingElement: Element, Real, BinaryFloatingPoint {
    /// C's `pow`: finite for a negative base with an integral exponent.
    static func cPow(_ x: Self, _ y: Self) -> Self
    /// eˣ, in a form loops can vectorise where one exists.
    static func loopExp(_ x: Self) -> Self
    /// tanh x, in a form loops can vectorise where one exists.
    static func loopTanh(_ x: Self) -> Self
    /// log x, in a form loops can vectorise where one exists.
    static func loopLog(_ x: Self) -> Self
    /// log(1 + x), in a form loops can vectorise where one exists.
    static func loopLog1p(_ x: Self) -> Self
    /// eˣ − 1, in a form loops can vectorise where one exists.
    static func loopExpm1(_ x: Self) -> Self
    /// sin x, in a form loops can vectorise where one exists.
    static func loopSin(_ x: Self) -> Self
    /// cos x, in a form loops can vectorise where one exists.
    static func loopCos(_ x: Self) -> Self
    /// softplus, max(x, 0) + log1p(e^−|x|), in a form loops can vectorise where one exists.
    static func loopSoftplus(_ x: Self) -> Self
    /// `function` over `count` elements `stride` apart from `source` into `count` contiguous
    /// ones at `destination` (which may be `source` itself when the stride is 1), giving
    /// exactly what the one-element form gives for each element (`loopExp`, …, `loopSoftplus`,
    /// and for sigmoid its kernel's formula), as fast as the type allows.
    static func map(_ function: ElementaryFunction, _ source: UnsafePointer<Self>, stride: Int,
                    _ destination: UnsafeMutablePointer<Self>, count: Int)
    /// The eight elements at `p` (unaligned), widened to float64.
    static func widen(_ p: UnsafeRawPointer) -> SIMD8<Double>
}

extension Float: FloatingElement {
    @inlinable public static func cPow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inlinable public static func widen(_ p: UnsafeRawPointer) -> SIMD8<Double> {
        SIMD8<Double>(p.loadUnaligned(as: SIMD8<Float>.self))
    }

    /// eˣ without branches, so a loop of it vectorises (Cephes' expf: Cody–Waite reduction
    /// x = n·ln2 + r, a degree-6 polynomial for eʳ, and 2ⁿ built in the exponent bits; within
    /// 2 ulp of the correctly rounded result). Below −87.3 it flushes to 0 instead of
    /// returning subnormals.
    @inlinable @inline(__always) public static func loopExp(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -87.33654), 88.72283)
        // Adding and removing 1.5·2²³ rounds to the nearest integer without a rint call (which
        // baseline x86-64 lacks an instruction for); n stays in the low mantissa bits.
        let shifted = clamped * 1.442695041 + 12_582_912
        let n = shifted - 12_582_912
        let r = clamped - n * 0.693359375 + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * r * r + r + 1
        // 2ⁿ (n in [−126, 128]) applied as two normal powers of two so that neither end of the
        // range overflows.
        let k = Int32(bitPattern: shifted.bitPattern &- 0x4B40_0000)
        let k1 = k &>> 1, k2 = k &- k1
        let s1 = Float(bitPattern: UInt32(bitPattern: (k1 &+ 127) &<< 23))
        let s2 = Float(bitPattern: UInt32(bitPattern: (k2 &+ 127) &<< 23))
        let result = y * s1 * s2
        return x.isNaN ? x : (x > 88.72283 ? .infinity : (x < -87.33654 ? 0 : result))
    }

    /// tanh x without branches (Cephes' tanhf: an odd polynomial below |x| = 0.625, and
    /// 1 − 2/(e²ˣ + 1) above).
    @inlinable @inline(__always) public static func loopTanh(_ x: Float) -> Float {
        let z = Swift.abs(x)
        let s = x * x
        var p: Float = -5.70498872745e-3
        p = p * s + 2.06390887954e-2
        p = p * s - 5.37397155531e-2
        p = p * s + 1.33314422036e-1
        p = p * s - 3.33332819422e-1
        let small = p * s * x + x
        let large = 1 - 2 / (loopExp(2 * z) + 1)
        // copysign keeps tanh(−0) = −0 (the polynomial would add +0 to it).
        return Float(signOf: x, magnitudeOf: z > 0.625 ? large : small)
    }

    /// log x: swift-numerics' (the C library's `logf`).
    @inlinable public static func loopLog(_ x: Float) -> Float { Float.log(x) }
    /// log(1 + x): swift-numerics' (the C library's `log1pf`).
    @inlinable public static func loopLog1p(_ x: Float) -> Float { Float.log(onePlus: x) }
    /// eˣ − 1: swift-numerics' (the C library's `expm1f`).
    @inlinable public static func loopExpm1(_ x: Float) -> Float { Float.expMinusOne(x) }
    /// sin x: swift-numerics' (the C library's `sinf`).
    @inlinable public static func loopSin(_ x: Float) -> Float { Float.sin(x) }
    /// cos x: swift-numerics' (the C library's `cosf`).
    @inlinable public static func loopCos(_ x: Float) -> Float { Float.cos(x) }
    /// max(x, 0) + log1p(e^−|x|) with swift-numerics' (the C library's) exp and log1p, so that
    /// e^−|x| keeps its subnormals.
    @inlinable public static func loopSoftplus(_ x: Float) -> Float { Swift.max(x, 0) + Float.log(onePlus: Float.exp(-Swift.abs(x))) }

    /// `function` over the elements: exp, tanh and sigmoid of contiguous elements compiled for
    /// the processor's widest vectors (`VectorMaps`), the rest the loop of the one-element form.
    @inlinable @inline(__always)
    public static func map(_ function: ElementaryFunction, _ source: UnsafePointer<Float>, stride: Int,
                           _ destination: UnsafeMutablePointer<Float>, count: Int) {
        if stride == 1 && VectorMaps.covers(function) {
            return VectorMaps.run(function, source, destination, count: count)
        }
        switch function {
        case .exp: Kernel.Exp<Float>().elementLoop(source, stride, destination, count)
        case .log: Kernel.Log<Float>().elementLoop(source, stride, destination, count)
        case .log1p: Kernel.Log1p<Float>().elementLoop(source, stride, destination, count)
        case .expm1: Kernel.Expm1<Float>().elementLoop(source, stride, destination, count)
        case .tanh: Kernel.Tanh<Float>().elementLoop(source, stride, destination, count)
        case .sin: Kernel.Sin<Float>().elementLoop(source, stride, destination, count)
        case .cos: Kernel.Cos<Float>().elementLoop(source, stride, destination, count)
        case .sigmoid: Kernel.Sigmoid<Float>().elementLoop(source, stride, destination, count)
        case .softplus: Kernel.Softplus<Float>().elementLoop(source, stride, destination, count)
        }
    }
}

extension Double: FloatingElement {
    // Qualified: inside this extension an unqualified `pow` is RealModule's `Double.pow`, which
    // is NaN for every negative base.
    @inlinable public static func cPow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    @inlinable public static func widen(_ p: UnsafeRawPointer) -> SIMD8<Double> { p.loadUnaligned(as: SIMD8<Double>.self) }
    // The elementary functions (loopExp, …, map) are in Float64Functions.swift.
}
