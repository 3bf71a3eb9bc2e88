// The names of the elementwise functions the kernels compute: what a primitive passes to
// `Elementwise.unary`, `.binary` and `.compare`.

/// Unary elementwise functions.
public enum UnaryFunction: Sendable, Equatable {
    /// Negation, absolute value and sign (these keep integer dtypes).
    case neg, abs, sign
    /// Exponentials, logarithms and square roots: eˣ, log x, log(1 + x), eˣ − 1, √x, 1/√x.
    case exp, log, log1p, expm1, sqrt, rsqrt
    /// The trigonometric and hyperbolic functions and the inverse trigonometric ones.
    case sin, cos, tan, asin, acos, atan, sinh, cosh, tanh
    /// Activations and erf: σ(x) = 1/(1 + e⁻ˣ), max(x, 0), log(1 + eˣ), erf x.
    case sigmoid, relu, softplus, erf
    /// relu's slope: 0 where x ≤ 0, 1 elsewhere — NaN included, as PyTorch's relu backward
    /// passes a NaN input's gradient.
    case reluSlope
    /// Rounding down, up, and to the nearest integer with ties to even (these keep integer dtypes).
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
        case .neg, .abs, .sign, .relu, .reluSlope, .floor, .ceil, .round, .logicalNot, .rsqrt, .sqrt: 1
        default: 16
        }
    }
}

/// Binary elementwise functions.
public enum BinaryFunction: Sendable, Equatable {
    /// Arithmetic (`div` is true division), xʸ, the larger and smaller of two elements (NaN
    /// propagating), and atan2(a, b) = the angle of the point (b, a).
    case add, sub, mul, div, pow, maximum, minimum, atan2
    /// `a · b`, but 0 wherever a factor is 0, even when the other is ±∞ or NaN.
    case mulStrongZero
    /// Logical and, or of bools.
    case logicalAnd, logicalOr

    /// A rough cost in simple operations, used to decide when to use both cores.
    @inlinable var cost: Int {
        switch self {
        case .pow, .atan2: 16
        default: 1
        }
    }
}

/// Comparisons, producing bool.
public enum Comparison: Sendable, Equatable {
    /// a < b, a ≤ b, a > b, a ≥ b, a = b, a ≠ b.
    case lt, le, gt, ge, eq, ne
}
