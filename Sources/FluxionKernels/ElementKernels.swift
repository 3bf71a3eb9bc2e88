// One small type per element function, so that the loops in Elementwise.swift specialise on it
// and inline it. Stability choices: sigmoid is 1/(1 + e^−x), whose e^−x overflows harmlessly to
// ∞ (giving 0); softplus is max(x, 0) + log1p(e^−|x|); relu, maximum and minimum propagate NaN
// as PyTorch does; round is half-to-even; sign(NaN) is 0, as PyTorch's. exp, log, log1p, expm1,
// sin, cos, tanh, sigmoid and softplus run rows of elements through `FloatingElement.map`,
// which gives each element what the one-element form gives.

import RealModule

/// A function applied to each element, as a type so that loops specialise on it and inline it.
public protocol UnaryKernel {
    associatedtype Input: Element
    associatedtype Output: Element
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
    associatedtype Input: Element
    associatedtype Output: Element
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
    associatedtype Element: FloatingElement
    associatedtype Result
    func apply<K: UnaryKernel>(_ kernel: K, cost: Int) -> Result where K.Input == Element, K.Output == Element
}

/// Something to do with the kernel of a floating binary function, whichever it is.
public protocol FloatingBinaryKernelUse {
    associatedtype Element: FloatingElement
    associatedtype Result
    func apply<K: BinaryKernel>(_ kernel: K, cost: Int) -> Result where K.Input == Element, K.Output == Element
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
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.exp, source, stride: stride, destination, count: count)
        }
    }
    public struct Log<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopLog(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.log, source, stride: stride, destination, count: count)
        }
    }
    public struct Log1p<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopLog1p(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.log1p, source, stride: stride, destination, count: count)
        }
    }
    public struct Expm1<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopExpm1(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.expm1, source, stride: stride, destination, count: count)
        }
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
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopSin(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.sin, source, stride: stride, destination, count: count)
        }
    }
    public struct Cos<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopCos(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.cos, source, stride: stride, destination, count: count)
        }
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
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.tanh, source, stride: stride, destination, count: count)
        }
    }
    public struct Sigmoid<T: FloatingElement>: UnaryKernel {
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
    public struct Relu<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x > 0 || x.isNaN ? x : 0 }
    }
    public struct ReluSlope<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ x: T) -> T { x <= 0 ? 0 : 1 }
    }
    public struct Softplus<T: FloatingElement>: UnaryKernel {
        @inlinable public init() {}
        @inlinable @inline(__always) public func callAsFunction(_ x: T) -> T { T.loopSoftplus(x) }
        /// `FloatingElement.map` of the function: float64 four lanes at a time.
        @inlinable public func map(_ source: UnsafePointer<T>, stride: Int, _ destination: UnsafeMutablePointer<T>, count: Int) {
            T.map(.softplus, source, stride: stride, destination, count: count)
        }
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
        @inlinable public var arithmetic: Arithmetic? { .add }
    }
    public struct Sub<T: Element & AdditiveArithmetic>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a - b }
        @inlinable public var arithmetic: Arithmetic? { .sub }
    }
    public struct Mul<T: Element & Numeric>: BinaryKernel {
        @inlinable public init() {}
        @inlinable public func callAsFunction(_ a: T, _ b: T) -> T { a * b }
        @inlinable public var arithmetic: Arithmetic? { .mul }
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
        @inlinable public var arithmetic: Arithmetic? { .div }
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
