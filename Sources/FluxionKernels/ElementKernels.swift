// One small type per element function, so that the loops in Elementwise.swift specialise on it
// and inline it. Stability choices: sigmoid is 1/(1 + e^−x), whose e^−x overflows harmlessly to
// ∞ (giving 0); softplus is max(x, 0) + log1p(e^−|x|); relu, maximum and minimum propagate NaN
// as PyTorch does; round is half-to-even; sign(NaN) is 0, as PyTorch's. exp, log, log1p, expm1,
// sin, cos, tanh, sigmoid and softplus run rows of elements through `FloatingElement.map`,
// which gives each element what the one-element form gives.

import RealModule

/// A function applied to each element, as a type so that loops specialise on it and inline it.
public protocol UnaryKernel {
    /// The element type the kernel reads.
    associatedtype Input: Element
    /// The element type the kernel writes.
    associatedtype Output: Element
    /// The function's value at one element.
    func callAsFunction(_ x: Input) -> Output
    /// The function over `count` elements `stride` apart from `source` (a stride of 1 may have
    /// `destination` be `source` itself) into `count` contiguous ones at `destination`, each
    /// element's value exactly `callAsFunction`'s. By default the loop of `callAsFunction`;
    /// the kernels of exp, log, tanh, sin and the like run `FloatingElement.map`, which float64
    /// computes four lanes at a time.
    func map(_ source: UnsafePointer<Input>, stride: Int, _ destination: UnsafeMutablePointer<Output>, count: Int)
}

extension UnaryKernel {
    /// `elementLoop`.
    @inlinable @inline(__always)
    public func map(_ source: UnsafePointer<Input>, stride: Int, _ destination: UnsafeMutablePointer<Output>, count: Int) {
        elementLoop(source, stride, destination, count)
    }

    /// The loop of `callAsFunction` over `count` elements `stride` apart from `source` into
    /// contiguous ones at `destination` (its own loop for a stride of 1, which the compiler
    /// vectorises where the function allows).
    @inlinable @inline(__always)
    public func elementLoop(_ source: UnsafePointer<Input>, _ stride: Int, _ destination: UnsafeMutablePointer<Output>, _ count: Int) {
        if stride == 1 {
            for k in 0..<count { destination[k] = self(source[k]) }
        } else {
            for k in 0..<count { destination[k] = self(source[k &* stride]) }
        }
    }
}

/// A function of two elements, as a type so that loops specialise on it and inline it.
public protocol BinaryKernel {
    /// The element type of both operands.
    associatedtype Input: Element
    /// The element type of the result.
    associatedtype Output: Element
    /// The function's value at one pair of elements.
    func callAsFunction(_ a: Input, _ b: Input) -> Output
    /// The arithmetic operation the kernel is, when it is one (its loops then run on the
    /// processor's widest vectors, `VectorMaps.zip`); nil for every other function.
    var arithmetic: Arithmetic? { get }
}

extension BinaryKernel {
    @inlinable public var arithmetic: Arithmetic? { nil }
}

/// Something to do with the kernel of a floating unary function, whichever it is
/// (`Elementwise.withKernel`): map it over an array, run it over a block of a fused loop.
public protocol FloatingUnaryKernelUse {
    /// The floating element type of the kernels this use accepts.
    associatedtype Element: FloatingElement
    /// What applying a kernel produces.
    associatedtype Result
    /// Does this use's work with `kernel`; `cost` estimates the kernel's work per element, in
    /// units of an addition, for deciding how to split a loop across threads.
    func apply<K: UnaryKernel>(_ kernel: K, cost: Int) -> Result where K.Input == Element, K.Output == Element
}

/// Something to do with the kernel of a floating binary function, whichever it is.
public protocol FloatingBinaryKernelUse {
    /// The floating element type of the kernels this use accepts.
    associatedtype Element: FloatingElement
    /// What applying a kernel produces.
    associatedtype Result
    /// Does this use's work with `kernel`; `cost` estimates the kernel's work per element, in
    /// units of an addition, for deciding how to split a loop across threads.
    func apply<K: BinaryKernel>(_ kernel: K, cost: Int) -> Result where K.Input == Element, K.Output == Element
}

/// The element kernels, one small type per function. Floating ones are generic over Float and
/// Double; integer ones work on Int64.
public enum Kernel {
    /// x ↦ x (copies).
    public struct Identity<T: Element>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x }
    }
    /// Converts an element of type `S` to `D` through its `Double` value (`D(converting:)`).
    public struct Cast<S: Element, D: Element>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: S) -> D { D(converting: x.doubleValue) }
    }
    /// Every element ↦ `value` (fills).
    public struct Fill<T: Element>: UnaryKernel {
        /// The value every element becomes.
        public let value: T
        /// The kernel that writes `value`.
        @inlinable public init(_ value: T) { self.value = value }
        @inlinable public func callAsFunction(_ x: T) -> T { value }
    }
    /// x ↦ −x.
    public struct Neg<T: Element & SignedNumeric>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { -x }
    }
    /// x ↦ |x|.
    public struct Abs<T: Element & SignedNumeric & Comparable>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { Swift.abs(x) }
    }
    /// x ↦ sign(x): −1, 0 or 1; 0 for ±0 and NaN, as PyTorch's `sign`.
    public struct SignOf<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        /// −1, 0 or 1; 0 for NaN, as PyTorch's `sign`.
        @inlinable public func callAsFunction(_ x: T) -> T { x > 0 ? 1 : (x < 0 ? -1 : 0) }
    }
    /// x ↦ sign(x) for int64: −1, 0 or 1.
    public struct IntegerSign: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: Int64) -> Int64 { x > 0 ? 1 : (x < 0 ? -1 : 0) }
    }
    /// x ↦ max(x, 0) for int64.
    public struct IntegerRelu: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: Int64) -> Int64 { Swift.max(x, 0) }
    }
    /// x ↦ xᵖ for int64 with a constant exponent (`Elementwise.integerPower`).
    public struct IntegerPower: UnaryKernel {
        /// The exponent p: a non-negative integer (`Elementwise.integerPower` stops otherwise).
        public let exponent: Double
        /// The kernel of x ↦ xᵖ.
        @inlinable public init(_ exponent: Double) { self.exponent = exponent }
        @inlinable public func callAsFunction(_ x: Int64) -> Int64 { Elementwise.integerPower(x, exponent) }
    }
    /// Logical not of a bool.
    public struct Not: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: Bool) -> Bool { !x }
    }
    /// x ↦ eˣ.
    public struct Exp<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopExp(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.exp, source, stride: stride, destination, count: count)
        }
    }
    /// x ↦ log x.
    public struct Log<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopLog(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.log, source, stride: stride, destination, count: count)
        }
    }
    /// x ↦ log(1 + x), accurate for small x.
    public struct Log1p<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopLog1p(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.log1p, source, stride: stride, destination, count: count)
        }
    }
    /// x ↦ eˣ − 1, accurate for small x.
    public struct Expm1<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopExpm1(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.expm1, source, stride: stride, destination, count: count)
        }
    }
    /// x ↦ √x.
    public struct Sqrt<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x.squareRoot() }
    }
    /// x ↦ 1/√x.
    public struct Rsqrt<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { 1 / x.squareRoot() }
    }
    /// x ↦ sin x.
    public struct Sin<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopSin(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.sin, source, stride: stride, destination, count: count)
        }
    }
    /// x ↦ cos x.
    public struct Cos<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopCos(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.cos, source, stride: stride, destination, count: count)
        }
    }
    /// x ↦ tan x.
    public struct Tan<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.tan(x) }
    }
    /// x ↦ arcsin x.
    public struct Asin<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.asin(x) }
    }
    /// x ↦ arccos x.
    public struct Acos<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.acos(x) }
    }
    /// x ↦ arctan x.
    public struct Atan<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.atan(x) }
    }
    /// x ↦ sinh x.
    public struct Sinh<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.sinh(x) }
    }
    /// x ↦ cosh x.
    public struct Cosh<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.cosh(x) }
    }
    /// x ↦ tanh x.
    public struct Tanh<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopTanh(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.tanh, source, stride: stride, destination, count: count)
        }
    }
    /// x ↦ 1/(1 + e⁻ˣ); e⁻ˣ overflows to ∞ for very negative x, giving exactly 0.
    public struct Sigmoid<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T {
            // e^−x overflows to ∞ for very negative x, giving exactly 0; no branch needed.
            1 / (1 + T.loopExp(-x))
        }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.sigmoid, source, stride: stride, destination, count: count)
        }
    }
    /// x ↦ max(x, 0), NaN kept (as PyTorch's relu).
    public struct Relu<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x > 0 || x.isNaN ? x : 0 }
    }
    /// relu's derivative: x ↦ 0 where x ≤ 0, else 1 (NaN gives 1).
    public struct ReluSlope<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x <= 0 ? 0 : 1 }
    }
    /// x ↦ log(1 + eˣ), as max(x, 0) + log1p(e^−|x|), which never overflows.
    public struct Softplus<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopSoftplus(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.softplus, source, stride: stride, destination, count: count)
        }
    }
    /// x ↦ erf x.
    public struct Erf<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { T.erf(x) }
    }
    /// x ↦ x rounded by `rule` (round is `.toNearestOrEven`, floor `.down`, ceil `.up`).
    public struct Rounded<T: FloatingElement>: UnaryKernel {
        /// The rounding rule applied.
        public let rule: FloatingPointRoundingRule
        /// The kernel rounding by `rule`.
        @inlinable public init(_ rule: FloatingPointRoundingRule) { self.rule = rule }
        @inlinable public func callAsFunction(_ x: T) -> T { x.rounded(rule) }
    }
    /// x ↦ x².
    public struct Square<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x * x }
    }
    /// x ↦ x³.
    public struct Cube<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x * x * x }
    }
    /// x ↦ 1/x.
    public struct Reciprocal<T: FloatingElement>: UnaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { 1 / x }
    }
    /// x ↦ xᵖ for a constant exponent p (C's `pow`).
    public struct PowConstant<T: FloatingElement>: UnaryKernel {
        /// The exponent p.
        public let exponent: T
        /// The kernel of x ↦ xᵖ.
        @inlinable public init(_ exponent: T) { self.exponent = exponent }
        @inlinable public func callAsFunction(_ x: T) -> T { T.cPow(x, exponent) }
    }

    /// (a, b) ↦ a + b.
    public struct Add<T: Element & AdditiveArithmetic>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a + b }
        @inlinable public var arithmetic: Arithmetic? { .add }
    }
    /// (a, b) ↦ a − b.
    public struct Sub<T: Element & AdditiveArithmetic>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a - b }
        @inlinable public var arithmetic: Arithmetic? { .sub }
    }
    /// (a, b) ↦ a·b.
    public struct Mul<T: Element & Numeric>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a * b }
        @inlinable public var arithmetic: Arithmetic? { .mul }
    }
    /// (a, b) ↦ a·b with 0·∞ = 0·NaN = 0: the product the chain rule uses where a derivative may be
    /// infinite, so a zero cotangent contributes nothing.
    public struct MulStrongZero<T: FloatingElement>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T {
            let p = a * b
            return p.isNaN && (a == 0 || b == 0) ? 0 : p
        }
    }
    /// (a, b) ↦ a / b.
    public struct Div<T: FloatingElement>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a / b }
        @inlinable public var arithmetic: Arithmetic? { .div }
    }
    /// (a, b) ↦ aᵇ (C's `pow`).
    public struct Pow<T: FloatingElement>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { T.cPow(a, b) }
    }
    /// (a, b) ↦ aᵇ for int64 (`Elementwise.integerPower`).
    public struct IntegerPow: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: Int64, _ b: Int64) -> Int64 { Elementwise.integerPower(a, Double(b)) }
    }
    /// (a, b) ↦ the larger; `a` when it is NaN (PyTorch's `maximum` propagates NaN).
    public struct Maximum<T: FloatingElement>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a > b || a.isNaN ? a : b }
    }
    /// (a, b) ↦ the smaller; `a` when it is NaN, as with `Maximum`.
    public struct Minimum<T: FloatingElement>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a < b || a.isNaN ? a : b }
    }
    /// (a, b) ↦ the larger, by Swift's `max` (for integers and bools).
    public struct Larger<T: Element & Comparable>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { Swift.max(a, b) }
    }
    /// (a, b) ↦ the smaller, by Swift's `min` (for integers and bools).
    public struct Smaller<T: Element & Comparable>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { Swift.min(a, b) }
    }
    /// (y, x) ↦ atan2(y, x), the angle of the point (x, y).
    public struct Atan2<T: FloatingElement>: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { T.atan2(y: a, x: b) }
    }
    /// Logical and of bools.
    public struct And: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: Bool, _ b: Bool) -> Bool { a && b }
    }
    /// Logical or of bools.
    public struct Or: BinaryKernel {
        /// The kernel, which has no parameters.
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: Bool, _ b: Bool) -> Bool { a || b }
    }
    /// (a, b) ↦ whether `a` and `b` satisfy `comparison`.
    public struct Compare<T: Element & Comparable>: BinaryKernel {
        /// The comparison made.
        public let comparison: Comparison
        /// The kernel making `comparison`.
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
