// Elementwise functions of one array. Each primitive names its kernel function and its
// derivative dy/dx as array code (x the input, y the output); the families supply evaluation,
// the batch rule (an elementwise function ignores the batch axis) and the chain rule in both
// modes. Negation is linear and piecewise-constant functions have zero derivative: they say so
// by their family instead of stating a derivative.
//
// Integer and bool inputs are converted to floating point by the array layer before binding,
// except for the functions that keep integer dtypes (neg, abs, sign, relu, floor, ceil, round).
// Conventions at non-differentiable points follow PyTorch: relu'(0) = 0, |x|'(0) = 0; rounding
// and sign have zero derivative. A derivative that is infinite or undefined (log, sqrt, rsqrt,
// asin, acos, fractional powers at 0 or outside their domain) times a zero tangent is exactly
// 0 (see Tangents.swift).

import FluxionKernels

/// An elementwise function of one array: its kernel function, evaluation and batch rule (an
/// elementwise function ignores the batch axis). The derivative rules come from
/// `UnaryWithDerivative`, from `PiecewiseConstant`, or from the primitive itself.
public protocol UnaryElementwise: UnaryPrimitive {
    var function: UnaryFunction { get }
}

extension UnaryElementwise {
    public var name: String { "\(function)" }

    public func evaluate(_ x: StridedArray) -> StridedArray { Elementwise.unary(function, x) }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0])], axes)
    }
}

/// An elementwise function whose rules in both modes are the chain rule with its derivative.
public protocol UnaryWithDerivative: UnaryElementwise {
    /// dy/dx elementwise (x the input, y the output).
    func derivative(_ x: NDArray, _ y: NDArray) -> NDArray
    /// Whether the derivative can be infinite or undefined at the edge of the domain: the
    /// chain rule then multiplies with strong zeros (Tangents.swift).
    var derivativeMayBeInfinite: Bool { get }
    /// d²y/dx² elementwise (nil: zero), for the forward Laplacian. The default differentiates
    /// `derivative` by forward mode; functions whose second derivative is cheaper from the
    /// output state it.
    func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray?
}

extension UnaryWithDerivative {
    public var derivativeMayBeInfinite: Bool { false }

    /// `t · dy/dx`, with strong zeros where the derivative may be infinite.
    func chain(_ t: NDArray, _ d: NDArray) -> NDArray {
        derivativeMayBeInfinite ? mulStrongZero(t, d) : t * d
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard let t = tangents[0] else { return [nil] }
        return [chain(t, derivative(primals[0], outputs[0]))]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil] }
        return [chain(ct, derivative(primals[0], outputs[0]))]
    }

    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? {
        derivativeByForwardMode(at: x) { x in derivative(x, bind(self, x)) }
    }

    /// f″(x) · Σᵢ vᵢ² (or each f″(x)·vᵢ²).
    public func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?] {
        guard let v = directions[0], let curvature = secondDerivative(primals[0], outputs[0]) else { return [nil] }
        let squares = v * v
        return [chain(summed ? squares.sum(dim: 0) : squares, curvature)]
    }
}

// MARK: - Sign and magnitude

public struct Neg: UnaryElementwise, LinearPrimitive {
    public var function: UnaryFunction { .neg }
    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] { [tangents[0].map { -$0 }] }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] { [cotangents[0].map { -$0 }] }
}

public struct Abs: UnaryWithDerivative {
    public var function: UnaryFunction { .abs }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { sign(x) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { nil }
}

public struct Sign: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .sign }
}

// MARK: - Exponentials and logarithms

public struct Exp: UnaryWithDerivative {
    public var function: UnaryFunction { .exp }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { y }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { y }
}

public struct Log: UnaryWithDerivative {
    public var function: UnaryFunction { .log }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 / x }
}

public struct Log1p: UnaryWithDerivative {
    public var function: UnaryFunction { .log1p }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 / (x + 1) }
}

public struct Expm1: UnaryWithDerivative {
    public var function: UnaryFunction { .expm1 }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { y + 1 }
}

// MARK: - Powers

public struct Sqrt: UnaryWithDerivative {
    public var function: UnaryFunction { .sqrt }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 0.5 / y }
}

public struct Rsqrt: UnaryWithDerivative {
    public var function: UnaryFunction { .rsqrt }
    public var derivativeMayBeInfinite: Bool { true }
    /// −y³/2, its products strong so that its own derivatives keep the convention.
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { mulStrongZero(mulStrongZero(-0.5 * y, y), y) }
}

/// `x ** exponent` for a constant exponent.
public struct PowScalar: UnaryWithDerivative {
    public let exponent: Double
    public var function: UnaryFunction { .pow(exponent) }
    public var derivativeMayBeInfinite: Bool { exponent < 1 }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray {
        switch exponent {
        case 0: NDArray.zerosLike(x)
        case 1: NDArray.onesLike(x)
        case 2: 2 * x
        default: exponent * FluxionCore.pow(x, exponent - 1)
        }
    }
}

// MARK: - Trigonometric and hyperbolic

public struct Sin: UnaryWithDerivative {
    public var function: UnaryFunction { .sin }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { cos(x) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { -y }
}

public struct Cos: UnaryWithDerivative {
    public var function: UnaryFunction { .cos }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { -sin(x) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { -y }
}

public struct Tan: UnaryWithDerivative {
    public var function: UnaryFunction { .tan }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 + y * y }
}

public struct Asin: UnaryWithDerivative {
    public var function: UnaryFunction { .asin }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { rsqrt(1 - x * x) }
}

public struct Acos: UnaryWithDerivative {
    public var function: UnaryFunction { .acos }
    public var derivativeMayBeInfinite: Bool { true }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { -rsqrt(1 - x * x) }
}

public struct Atan: UnaryWithDerivative {
    public var function: UnaryFunction { .atan }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 / (1 + x * x) }
}

public struct Sinh: UnaryWithDerivative {
    public var function: UnaryFunction { .sinh }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { cosh(x) }
}

public struct Cosh: UnaryWithDerivative {
    public var function: UnaryFunction { .cosh }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { sinh(x) }
}

public struct Tanh: UnaryWithDerivative {
    public var function: UnaryFunction { .tanh }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { 1 - y * y }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { -2 * y * (1 - y * y) }
}

// MARK: - Activations and special functions

public struct Sigmoid: UnaryWithDerivative {
    public var function: UnaryFunction { .sigmoid }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { y * (1 - y) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { y * (1 - y) * (1 - 2 * y) }
}

/// relu'(0) = 0; at NaN the derivative is 1, as PyTorch's (its rule zeroes where x ≤ 0).
public struct Relu: UnaryWithDerivative {
    public var function: UnaryFunction { .relu }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { reluSlope(x) }
    public func secondDerivative(_ x: NDArray, _ y: NDArray) -> NDArray? { nil }
}

/// relu's derivative as one elementwise function (one pass, fusible with the chain rule's
/// product): 0 where x ≤ 0, 1 elsewhere, NaN included.
public struct ReluSlope: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .reluSlope }
}

public struct Softplus: UnaryWithDerivative {
    public var function: UnaryFunction { .softplus }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { sigmoid(x) }
}

public struct Erf: UnaryWithDerivative {
    public var function: UnaryFunction { .erf }
    public func derivative(_ x: NDArray, _ y: NDArray) -> NDArray { (2 / Double.pi.squareRoot()) * exp(-(x * x)) }
}

// MARK: - Rounding (piecewise constant)

public struct Floor: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .floor }
}

public struct Ceil: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .ceil }
}

public struct Round: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .round }
}

// MARK: - Logic

public struct LogicalNot: UnaryElementwise, PiecewiseConstant {
    public var function: UnaryFunction { .logicalNot }
}

// MARK: - Dtype conversion

/// The elements converted to another dtype. Between floating dtypes the derivative passes
/// through (converted); to or from integers it is zero.
public struct Convert: UnaryPrimitive, PiecewiseLinear {
    public let dtype: DType
    public var name: String { "convert" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Conversion.convert(x, to: dtype) }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard dtype.isFloatingPoint, let t = tangents[0] else { return [nil] }
        return [t.to(dtype)]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard dtype.isFloatingPoint, primals[0].dtype.isFloatingPoint, let ct = cotangents[0] else { return [nil] }
        return [ct.to(primals[0].dtype)]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0])], axes)
    }
}

// MARK: - Stop gradient

/// The identity with zero derivative: the value passes, derivatives do not.
public struct StopGradient: UnaryPrimitive, PiecewiseConstant {
    public var name: String { "stopGradient" }
    public func evaluate(_ x: StridedArray) -> StridedArray { x }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0])], axes)
    }
}

// MARK: - Output types (for staging)

extension UnaryElementwise {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0]] }
}

extension Convert {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [ArrayType(shape: inputs[0].shape, dtype: dtype)] }
}

extension StopGradient {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0]] }
}
