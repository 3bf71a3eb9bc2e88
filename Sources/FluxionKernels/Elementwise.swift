// Elementwise kernels: unary maps, binary maps with broadcasting by strides, comparisons,
// selection and dtype conversion. Inputs may be any strided views; outputs are contiguous.
//
// Stability choices: sigmoid is 1/(1 + e^−x), whose e^−x overflows harmlessly to ∞ (giving 0);
// softplus is max(x, 0) + log1p(e^−|x|); relu, maximum and minimum propagate NaN as PyTorch
// does; round is half-to-even. exp, tanh and sigmoid of float32 use branch-free polynomial
// forms (within 2 ulp) so their loops vectorise; float64 uses the C library.

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
}

extension Double: FloatingElement {
    // Qualified: inside this extension an unqualified `pow` is RealModule's `Double.pow`, which
    // is NaN for every negative base.
    @inlinable public static func cPow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    @inlinable public static func widen(_ p: UnsafeRawPointer) -> SIMD8<Double> { p.loadUnaligned(as: SIMD8<Double>.self) }
    @inlinable public static func loopExp(_ x: Double) -> Double { Double.exp(x) }
    @inlinable public static func loopTanh(_ x: Double) -> Double { Double.tanh(x) }
}

/// Unary elementwise functions.
public enum UnaryFunction: Sendable, Equatable {
    case neg, abs, sign
    case exp, log, log1p, expm1, sqrt, rsqrt
    case sin, cos, tan, asin, acos, atan, sinh, cosh, tanh
    case sigmoid, relu, softplus, erf
    case floor, ceil, round
    /// `x ** exponent` for a constant exponent.
    case pow(Double)
    /// Logical not of a bool array.
    case logicalNot

    /// Functions that keep integer dtypes (all others compute in floating point).
    @inlinable public var acceptsIntegers: Bool {
        switch self {
        case .neg, .abs, .sign, .relu, .floor, .ceil, .round: true
        default: false
        }
    }

    /// A rough cost in simple operations, used to decide when to use both cores.
    @inlinable var cost: Int {
        switch self {
        case .neg, .abs, .sign, .relu, .floor, .ceil, .round, .logicalNot, .rsqrt, .sqrt: 1
        default: 16
        }
    }
}

/// Binary elementwise functions.
public enum BinaryFunction: Sendable, Equatable {
    case add, sub, mul, div, pow, maximum, minimum, atan2
    /// `a · b`, but 0 wherever a factor is 0, even when the other is ±∞ or NaN.
    case mulStrongZero
    case logicalAnd, logicalOr
}

/// Comparisons, producing bool.
public enum Comparison: Sendable, Equatable {
    case lt, le, gt, ge, eq, ne
}

/// A function applied to each element, as a type so that loops specialise on it and inline it.
public protocol UnaryKernel {
    associatedtype Input: Element
    associatedtype Output: Element
    func callAsFunction(_ x: Input) -> Output
}

/// A function of two elements, as a type so that loops specialise on it and inline it.
public protocol BinaryKernel {
    associatedtype Input: Element
    associatedtype Output: Element
    func callAsFunction(_ a: Input, _ b: Input) -> Output
}

/// The element kernels, one small type per function. Floating ones are generic over Float and
/// Double; integer ones work on Int64.
public enum Kernel {
    public struct Identity<T: Element>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x }
    }
    public struct Cast<S: Element, D: Element>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: S) -> D { D(converting: x.doubleValue) }
    }
    public struct Fill<T: Element>: UnaryKernel {
        public let value: T
        @inlinable public init(_ value: T) { self.value = value }
        @inlinable public func callAsFunction(_ x: T) -> T { value }
    }
    public struct Neg<T: Element & SignedNumeric>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { -x }
    }
    public struct Abs<T: Element & SignedNumeric & Comparable>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { Swift.abs(x) }
    }
    public struct SignOf<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        /// −1, 0 or 1; 0 for NaN, as PyTorch's `sign`.
        @inlinable public func callAsFunction(_ x: T) -> T { x > 0 ? 1 : (x < 0 ? -1 : 0) }
    }
    public struct IntegerSign: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: Int64) -> Int64 { x > 0 ? 1 : (x < 0 ? -1 : 0) }
    }
    public struct IntegerRelu: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: Int64) -> Int64 { Swift.max(x, 0) }
    }
    public struct IntegerPower: UnaryKernel {
        public let exponent: Double
        @inlinable public init(_ exponent: Double) { self.exponent = exponent }
        @inlinable public func callAsFunction(_ x: Int64) -> Int64 { Elementwise.integerPower(x, exponent) }
    }
    public struct Not: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: Bool) -> Bool { !x }
    }
    public struct Exp<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopExp(x) }
    }
    public struct Log<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.log(x) }
    }
    public struct Log1p<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.log(onePlus: x) }
    }
    public struct Expm1<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.expMinusOne(x) }
    }
    public struct Sqrt<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x.squareRoot() }
    }
    public struct Rsqrt<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { 1 / x.squareRoot() }
    }
    public struct Sin<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.sin(x) }
    }
    public struct Cos<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.cos(x) }
    }
    public struct Tan<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.tan(x) }
    }
    public struct Asin<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.asin(x) }
    }
    public struct Acos<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.acos(x) }
    }
    public struct Atan<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.atan(x) }
    }
    public struct Sinh<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.sinh(x) }
    }
    public struct Cosh<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.cosh(x) }
    }
    public struct Tanh<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopTanh(x) }
    }
    public struct Sigmoid<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T {
            // e^−x overflows to ∞ for very negative x, giving exactly 0; no branch needed.
            1 / (1 + T.loopExp(-x))
        }
    }
    public struct Relu<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x > 0 || x.isNaN ? x : 0 }
    }
    public struct Softplus<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { Swift.max(x, 0) + T.log(onePlus: T.exp(-Swift.abs(x))) }
    }
    public struct Erf<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.erf(x) }
    }
    public struct Rounded<T: FloatingElement>: UnaryKernel {
        public let rule: FloatingPointRoundingRule
        @inlinable public init(_ rule: FloatingPointRoundingRule) { self.rule = rule }
        @inlinable public func callAsFunction(_ x: T) -> T { x.rounded(rule) }
    }
    public struct Square<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x * x }
    }
    public struct Cube<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x * x * x }
    }
    public struct Reciprocal<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { 1 / x }
    }
    public struct PowConstant<T: FloatingElement>: UnaryKernel {
        public let exponent: T
        @inlinable public init(_ exponent: T) { self.exponent = exponent }
        @inlinable public func callAsFunction(_ x: T) -> T { T.cPow(x, exponent) }
    }

    public struct Add<T: Element & AdditiveArithmetic>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a + b }
    }
    public struct Sub<T: Element & AdditiveArithmetic>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a - b }
    }
    public struct Mul<T: Element & Numeric>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a * b }
    }
    public struct MulStrongZero<T: FloatingElement>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T {
            let p = a * b
            return p.isNaN && (a == 0 || b == 0) ? 0 : p
        }
    }
    public struct Div<T: FloatingElement>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a / b }
    }
    public struct Pow<T: FloatingElement>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { T.cPow(a, b) }
    }
    public struct IntegerPow: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: Int64, _ b: Int64) -> Int64 { Elementwise.integerPower(a, Double(b)) }
    }
    public struct Maximum<T: FloatingElement>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a > b || a.isNaN ? a : b }
    }
    public struct Minimum<T: FloatingElement>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a < b || a.isNaN ? a : b }
    }
    public struct Larger<T: Element & Comparable>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { Swift.max(a, b) }
    }
    public struct Smaller<T: Element & Comparable>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { Swift.min(a, b) }
    }
    public struct Atan2<T: FloatingElement>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { T.atan2(y: a, x: b) }
    }
    public struct And: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: Bool, _ b: Bool) -> Bool { a && b }
    }
    public struct Or: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: Bool, _ b: Bool) -> Bool { a || b }
    }
    public struct Compare<T: Element & Comparable>: BinaryKernel {
        public let comparison: Comparison
        @inlinable public init(_ comparison: Comparison) { self.comparison = comparison }
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> Bool {
            switch comparison {
            case .lt: a < b
            case .le: a <= b
            case .gt: a > b
            case .ge: a >= b
            case .eq: a == b
            case .ne: a != b
            }
        }
    }
}

public enum Elementwise {
    // MARK: - Unary

    /// `f` applied to each element of `x`. `x`'s dtype must be floating unless
    /// `f.acceptsIntegers` (or bool for `logicalNot`); the result has `x`'s dtype.
    public static func unary(_ f: UnaryFunction, _ x: StridedArray) -> StridedArray {
        switch x.dtype {
        case .float32: return unaryFloating(f, x, Float.self)
        case .float64: return unaryFloating(f, x, Double.self)
        case .int64:
            switch f {
            case .neg: return map(x, Kernel.Neg<Int64>())
            case .abs: return map(x, Kernel.Abs<Int64>())
            case .sign: return map(x, Kernel.IntegerSign())
            case .relu: return map(x, Kernel.IntegerRelu())
            case .floor, .ceil, .round: return x.contiguous()
            case .pow(let e): return map(x, Kernel.IntegerPower(e))
            default: kernelFailure("\(f) is not defined for int64")
            }
        case .bool:
            guard f == .logicalNot else { kernelFailure("\(f) is not defined for bool") }
            return map(x, Kernel.Not())
        }
    }

    @inlinable
    static func unaryFloating<T: FloatingElement>(_ f: UnaryFunction, _ x: StridedArray, _: T.Type) -> StridedArray {
        let c = f.cost
        switch f {
        case .neg: return map(x, Kernel.Neg<T>(), cost: c)
        case .abs: return map(x, Kernel.Abs<T>(), cost: c)
        case .sign: return map(x, Kernel.SignOf<T>(), cost: c)
        case .exp: return map(x, Kernel.Exp<T>(), cost: c)
        case .log: return map(x, Kernel.Log<T>(), cost: c)
        case .log1p: return map(x, Kernel.Log1p<T>(), cost: c)
        case .expm1: return map(x, Kernel.Expm1<T>(), cost: c)
        case .sqrt: return map(x, Kernel.Sqrt<T>(), cost: c)
        case .rsqrt: return map(x, Kernel.Rsqrt<T>(), cost: c)
        case .sin: return map(x, Kernel.Sin<T>(), cost: c)
        case .cos: return map(x, Kernel.Cos<T>(), cost: c)
        case .tan: return map(x, Kernel.Tan<T>(), cost: c)
        case .asin: return map(x, Kernel.Asin<T>(), cost: c)
        case .acos: return map(x, Kernel.Acos<T>(), cost: c)
        case .atan: return map(x, Kernel.Atan<T>(), cost: c)
        case .sinh: return map(x, Kernel.Sinh<T>(), cost: c)
        case .cosh: return map(x, Kernel.Cosh<T>(), cost: c)
        case .tanh: return map(x, Kernel.Tanh<T>(), cost: c)
        case .sigmoid: return map(x, Kernel.Sigmoid<T>(), cost: c)
        case .relu: return map(x, Kernel.Relu<T>(), cost: c)
        case .softplus: return map(x, Kernel.Softplus<T>(), cost: c)
        case .erf: return map(x, Kernel.Erf<T>(), cost: c)
        case .floor: return map(x, Kernel.Rounded<T>(.down), cost: c)
        case .ceil: return map(x, Kernel.Rounded<T>(.up), cost: c)
        case .round: return map(x, Kernel.Rounded<T>(.toNearestOrEven), cost: c)
        case .pow(let e):
            switch e {
            case 0: return map(x, Kernel.Fill<T>(1))
            case 1: return x.contiguous()
            case 2: return map(x, Kernel.Square<T>())
            case 3: return map(x, Kernel.Cube<T>())
            case -1: return map(x, Kernel.Reciprocal<T>())
            // As PyTorch: x^½ and x^−½ are sqrt and rsqrt, so −0 and −∞ give what those give.
            case 0.5: return map(x, Kernel.Sqrt<T>())
            case -0.5: return map(x, Kernel.Rsqrt<T>())
            default: return map(x, Kernel.PowConstant<T>(T(e)), cost: 16)
            }
        case .logicalNot: kernelFailure("logicalNot is defined for bool only")
        }
    }

    @inlinable
    static func integerPower(_ x: Int64, _ e: Double) -> Int64 {
        guard e >= 0 && e == e.rounded() else {
            kernelFailure("pow: an int64 array can only be raised to a non-negative integral power, not \(e). Fix: convert it to floating point first, e.g. x.to(.float32) ** p")
        }
        var result: Int64 = 1, base = x, n = Int(e)
        while n > 0 {
            if n & 1 == 1 { result = result &* base }
            base = base &* base
            n >>= 1
        }
        return result
    }

    /// `kernel` applied to each element of `x`, giving a contiguous result.
    @inlinable
    public static func map<K: UnaryKernel>(_ x: StridedArray, _ kernel: K, cost: Int = 1) -> StridedArray {
        let n = x.count
        let out = Storage.allocate(K.Output.dtype, count: n)
        let o = out.pointer(K.Output.self)
        let p = x.pointer(K.Input.self)
        if x.isContiguous {
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                for i in start..<end { o[i] = kernel(p[i]) }
            }
            // A contiguous input's strides are valid for the output: no new stride array.
            return StridedArray(storage: out, shape: x.shape, strides: x.strides)
        }
        Loops.forEachRow(shape: x.shape, x.strides, x.strides) { oo, oa, _, m, sa, _ in
            let src = p + oa, dst = o + oo
            if sa == 0 {
                let v = kernel(src[0])
                for k in 0..<m { dst[k] = v }
            } else {
                for k in 0..<m { dst[k] = kernel(src[k &* sa]) }
            }
        }
        return StridedArray(contiguous: out, shape: x.shape)
    }

    // MARK: - Binary

    /// `f` applied to `a` and `b` broadcast to `shape`. Both must already have the same dtype.
    public static func binary(_ f: BinaryFunction, _ a: StridedArray, _ b: StridedArray, shape: [Int]) -> StridedArray {
        guard a.dtype == b.dtype else { kernelFailure("\(f): operands of one dtype were expected, got \(a.dtype) and \(b.dtype)") }
        switch a.dtype {
        case .float32: return binaryFloating(f, a, b, shape, Float.self)
        case .float64: return binaryFloating(f, a, b, shape, Double.self)
        case .int64:
            switch f {
            case .add: return zip(a, b, shape, Kernel.Add<Int64>())
            case .sub: return zip(a, b, shape, Kernel.Sub<Int64>())
            case .mul, .mulStrongZero: return zip(a, b, shape, Kernel.Mul<Int64>())
            case .maximum: return zip(a, b, shape, Kernel.Larger<Int64>())
            case .minimum: return zip(a, b, shape, Kernel.Smaller<Int64>())
            case .pow: return zip(a, b, shape, Kernel.IntegerPow())
            default: kernelFailure("\(f) is not defined for int64")
            }
        case .bool:
            switch f {
            case .logicalAnd, .mul, .minimum: return zip(a, b, shape, Kernel.And())
            case .logicalOr, .add, .maximum: return zip(a, b, shape, Kernel.Or())
            default: kernelFailure("\(f) is not defined for bool")
            }
        }
    }

    @inlinable
    static func binaryFloating<T: FloatingElement>(
        _ f: BinaryFunction, _ a: StridedArray, _ b: StridedArray, _ shape: [Int], _: T.Type
    ) -> StridedArray {
        switch f {
        case .add: return zip(a, b, shape, Kernel.Add<T>())
        case .sub: return zip(a, b, shape, Kernel.Sub<T>())
        case .mul: return zip(a, b, shape, Kernel.Mul<T>())
        case .mulStrongZero: return zip(a, b, shape, Kernel.MulStrongZero<T>())
        case .div: return zip(a, b, shape, Kernel.Div<T>())
        case .pow: return zip(a, b, shape, Kernel.Pow<T>(), cost: 16)
        case .maximum: return zip(a, b, shape, Kernel.Maximum<T>())
        case .minimum: return zip(a, b, shape, Kernel.Minimum<T>())
        case .atan2: return zip(a, b, shape, Kernel.Atan2<T>(), cost: 16)
        case .logicalAnd, .logicalOr: kernelFailure("\(f) is defined for bool only")
        }
    }

    /// Compares `a` and `b` (same dtype) broadcast to `shape`.
    public static func compare(_ c: Comparison, _ a: StridedArray, _ b: StridedArray, shape: [Int]) -> StridedArray {
        switch a.dtype {
        case .float32: return zip(a, b, shape, Kernel.Compare<Float>(c))
        case .float64: return zip(a, b, shape, Kernel.Compare<Double>(c))
        case .int64: return zip(a, b, shape, Kernel.Compare<Int64>(c))
        case .bool:
            return zip(Conversion.convert(a, to: .int64), Conversion.convert(b, to: .int64), shape, Kernel.Compare<Int64>(c))
        }
    }

    /// `kernel` applied to `a` and `b` broadcast to `shape`, giving a contiguous result.
    @inlinable
    public static func zip<K: BinaryKernel>(_ a: StridedArray, _ b: StridedArray, _ shape: [Int], _ kernel: K, cost: Int = 1) -> StridedArray {
        let n = Shape.count(shape)
        let out = Storage.allocate(K.Output.dtype, count: n)
        let o = out.pointer(K.Output.self)
        let pa = a.pointer(K.Input.self), pb = b.pointer(K.Input.self)
        if a.shape == shape && b.shape == shape && a.isContiguous && b.isContiguous {
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                for i in start..<end { o[i] = kernel(pa[i], pb[i]) }
            }
            return StridedArray(storage: out, shape: shape, strides: a.strides)
        }
        if b.count == 1 && a.shape == shape && a.isContiguous {
            let v = pb[0]
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                for i in start..<end { o[i] = kernel(pa[i], v) }
            }
            return StridedArray(storage: out, shape: shape, strides: a.strides)
        }
        if a.count == 1 && b.shape == shape && b.isContiguous {
            let v = pa[0]
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                for i in start..<end { o[i] = kernel(v, pb[i]) }
            }
            return StridedArray(storage: out, shape: shape, strides: b.strides)
        }
        let sa = Shape.broadcastStrides(shape: a.shape, strides: a.strides, to: shape)
        let sb = Shape.broadcastStrides(shape: b.shape, strides: b.strides, to: shape)
        Loops.forEachRow(shape: shape, sa, sb) { oo, ia, ib, m, ta, tb in
            let x = pa + ia, y = pb + ib, dst = o + oo
            if ta == 1 && tb == 1 {
                for k in 0..<m { dst[k] = kernel(x[k], y[k]) }
            } else if ta == 1 && tb == 0 {
                let v = y[0]
                for k in 0..<m { dst[k] = kernel(x[k], v) }
            } else if ta == 0 && tb == 1 {
                let v = x[0]
                for k in 0..<m { dst[k] = kernel(v, y[k]) }
            } else {
                for k in 0..<m { dst[k] = kernel(x[k &* ta], y[k &* tb]) }
            }
        }
        return StridedArray(contiguous: out, shape: shape)
    }

    // MARK: - Selection

    /// `cond ? a : b` elementwise, all three broadcast to `shape`; a and b share a dtype.
    public static func select(_ cond: StridedArray, _ a: StridedArray, _ b: StridedArray, shape: [Int]) -> StridedArray {
        switch a.dtype {
        case .float32: return select(cond, a, b, shape, Float.self)
        case .float64: return select(cond, a, b, shape, Double.self)
        case .int64: return select(cond, a, b, shape, Int64.self)
        case .bool: return select(cond, a, b, shape, Bool.self)
        }
    }

    @inlinable
    static func select<T: Element>(_ cond: StridedArray, _ a: StridedArray, _ b: StridedArray, _ shape: [Int], _: T.Type) -> StridedArray {
        let n = Shape.count(shape)
        let out = Storage.allocate(T.dtype, count: n)
        let o = out.pointer(T.self)
        let mask = broadcast(cond, to: shape).contiguous()
        let left = broadcast(a, to: shape).contiguous(), right = broadcast(b, to: shape).contiguous()
        withExtendedLifetime((mask, left, right)) {
            let c = mask.pointer(Bool.self), pa = left.pointer(T.self), pb = right.pointer(T.self)
            for i in 0..<n { o[i] = c[i] ? pa[i] : pb[i] }
        }
        return StridedArray(contiguous: out, shape: shape)
    }

    /// `x` read as if it had the broadcast shape `shape` (a view, no copy).
    @inlinable
    public static func broadcast(_ x: StridedArray, to shape: [Int]) -> StridedArray {
        if x.shape == shape { return x }
        return x.view(shape: shape, strides: Shape.broadcastStrides(shape: x.shape, strides: x.strides, to: shape))
    }
}

/// Conversion between dtypes.
public enum Conversion {
    /// `x` converted to `dtype`: float → int truncates toward zero (NaN gives 0, out-of-range
    /// saturates), anything → bool is `!= 0`, bool → number is 0 or 1.
    public static func convert(_ x: StridedArray, to dtype: DType) -> StridedArray {
        if x.dtype == dtype { return x }
        switch x.dtype {
        case .bool: return convert(x, Bool.self, to: dtype)
        case .int64: return convert(x, Int64.self, to: dtype)
        case .float32: return convert(x, Float.self, to: dtype)
        case .float64: return convert(x, Double.self, to: dtype)
        }
    }

    static func convert<S: Element>(_ x: StridedArray, _: S.Type, to dtype: DType) -> StridedArray {
        switch dtype {
        case .bool: Elementwise.map(x, Kernel.Cast<S, Bool>())
        case .int64: Elementwise.map(x, Kernel.Cast<S, Int64>())
        case .float32: Elementwise.map(x, Kernel.Cast<S, Float>())
        case .float64: Elementwise.map(x, Kernel.Cast<S, Double>())
        }
    }
}
