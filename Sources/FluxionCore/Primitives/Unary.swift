// Elementwise functions of one array. Each primitive names its kernel function; integer and
// bool inputs are converted to floating point by the array layer before binding, except for
// the functions that keep integer dtypes (neg, abs, sign, relu, floor, ceil, round).

import FluxionKernels

/// An elementwise function of one array.
public protocol UnaryElementwise: UnaryPrimitive {
    var function: UnaryFunction { get }
}

extension UnaryElementwise {
    public var name: String { "\(function)" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Elementwise.unary(function, x) }
}

// MARK: - Sign and magnitude
public struct Neg: UnaryElementwise { public var function: UnaryFunction { .neg } }
public struct Abs: UnaryElementwise { public var function: UnaryFunction { .abs } }
public struct Sign: UnaryElementwise { public var function: UnaryFunction { .sign } }

// MARK: - Exponentials and logarithms
public struct Exp: UnaryElementwise { public var function: UnaryFunction { .exp } }
public struct Log: UnaryElementwise { public var function: UnaryFunction { .log } }
public struct Log1p: UnaryElementwise { public var function: UnaryFunction { .log1p } }
public struct Expm1: UnaryElementwise { public var function: UnaryFunction { .expm1 } }

// MARK: - Powers
public struct Sqrt: UnaryElementwise { public var function: UnaryFunction { .sqrt } }
public struct Rsqrt: UnaryElementwise { public var function: UnaryFunction { .rsqrt } }

/// `x ** exponent` for a constant exponent.
public struct PowScalar: UnaryElementwise {
    public let exponent: Double
    public var function: UnaryFunction { .pow(exponent) }
}

// MARK: - Trigonometric and hyperbolic
public struct Sin: UnaryElementwise { public var function: UnaryFunction { .sin } }
public struct Cos: UnaryElementwise { public var function: UnaryFunction { .cos } }
public struct Tan: UnaryElementwise { public var function: UnaryFunction { .tan } }
public struct Asin: UnaryElementwise { public var function: UnaryFunction { .asin } }
public struct Acos: UnaryElementwise { public var function: UnaryFunction { .acos } }
public struct Atan: UnaryElementwise { public var function: UnaryFunction { .atan } }
public struct Sinh: UnaryElementwise { public var function: UnaryFunction { .sinh } }
public struct Cosh: UnaryElementwise { public var function: UnaryFunction { .cosh } }
public struct Tanh: UnaryElementwise { public var function: UnaryFunction { .tanh } }

// MARK: - Activations and special functions
public struct Sigmoid: UnaryElementwise { public var function: UnaryFunction { .sigmoid } }
public struct Relu: UnaryElementwise { public var function: UnaryFunction { .relu } }
public struct Softplus: UnaryElementwise { public var function: UnaryFunction { .softplus } }
public struct Erf: UnaryElementwise { public var function: UnaryFunction { .erf } }

// MARK: - Rounding (piecewise constant)
public struct Floor: UnaryElementwise { public var function: UnaryFunction { .floor } }
public struct Ceil: UnaryElementwise { public var function: UnaryFunction { .ceil } }
public struct Round: UnaryElementwise { public var function: UnaryFunction { .round } }

// MARK: - Logic
public struct LogicalNot: UnaryElementwise { public var function: UnaryFunction { .logicalNot } }

// MARK: - Dtype conversion

/// The elements converted to another dtype.
public struct Convert: UnaryPrimitive {
    public let dtype: DType
    public var name: String { "convert" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Conversion.convert(x, to: dtype) }
}
