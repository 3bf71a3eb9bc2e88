// The names of the elementwise functions the kernels compute: what a primitive passes to
// `Elementwise.unary`, `.binary` and `.compare`.

/// Unary elementwise functions.
public enum UnaryFunction: Sendable, Equatable {
    case neg, abs, sign
    case exp, log, log1p, expm1, sqrt, rsqrt
    case sin, cos, tan, asin, acos, atan, sinh, cosh, tanh
    case sigmoid, relu, softplus, erf
    /// relu's slope: 0 where x ≤ 0, 1 elsewhere — NaN included, as PyTorch's relu backward
    /// passes a NaN input's gradient.
    case reluSlope
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
    case add, sub, mul, div, pow, maximum, minimum, atan2
    /// `a · b`, but 0 wherever a factor is 0, even when the other is ±∞ or NaN.
    case mulStrongZero
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
    case lt, le, gt, ge, eq, ne
}
