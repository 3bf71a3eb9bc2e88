// The unit of computation: every array operation is a primitive or a composite of primitives
// (like `jax.lax`). A primitive is a value type named for the operation that carries its
// parameters and declares, side by side, its rules:
//
// - `evaluate`: the kernel call on concrete arrays;
// - `jvp`: output tangents from input tangents (forward mode);
// - `vjp`: input cotangents from output cotangents (reverse mode);
// - `batch`: the same operation on inputs that carry a batch axis (`vmap`);
// - `secondOrder`: the second-derivative term the forward Laplacian adds (ForwardLaplacian.swift);
// - `taylor`: the Taylor coefficients of the outputs along a curve through the inputs, for `jet`
//   (Interpreters/Jet.swift).
//
// `jvp` and `vjp` are written with NDArray operations, never kernels, so that they can be
// differentiated again: every order works. A tangent or cotangent of `nil` is a symbolic
// zero. Integer and bool outputs never get tangents. Families (elementwise, reductions, …)
// supply the rules in protocol extensions so most primitives state only their derivative.

import FluxionKernels

/// An operation the transforms understand.
public protocol Primitive: Sendable {
    /// The operation's name in messages (`"exp"`, `"matmul"`, …).
    var name: String { get }

    /// The outputs for arrays no transform is tracing: the kernel call. (A primitive that is
    /// a composite — a custom rule — may return values of an enclosing transform it captured.)
    func evaluate(_ inputs: [NDArray]) -> [NDArray]

    /// Output tangents (nil: zero) at `primals` along input `tangents` (nil: zero); `outputs`
    /// are the primal outputs.
    func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?]

    /// Input cotangents (nil: zero) at `primals` from output `cotangents` (nil: zero);
    /// `outputs` are the primal outputs. Only inputs with `needs[i]` must be computed (others
    /// may be nil).
    func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?]

    /// The outputs and their batch axes for inputs with batch axes `axes` (nil: unbatched) of
    /// batch size `size`.
    func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?])

    /// The outputs' shapes and dtypes for inputs of `inputs`' shapes and dtypes, worked out
    /// without running the kernel: what staging (`jit`, `makeProgram`) records. The default
    /// evaluates the primitive on zeros, for primitives defined outside Fluxion; every
    /// primitive of Fluxion states its own.
    func outputTypes(_ inputs: [ArrayType]) -> [ArrayType]

    /// The second-order term of the forward Laplacian for each output (nil: zero):
    ///
    /// ```
    /// Σᵢ D²f(x)[vᵢ, vᵢ]      (summed; the output's shape)
    /// D²f(x)[vᵢ, vᵢ] for each i   (not summed; [d] + the output's shape)
    /// ```
    ///
    /// where vᵢ is the i-th of the `d` directions of every input, stacked along the first axis
    /// of `directions[k]` (shape [d] + input k's shape; nil: input k does not move). Written
    /// with NDArray operations, like `jvp`, so that it can be differentiated again. Families
    /// supply it (zero for linear and piecewise-linear primitives, f″·Σvᵢ² for elementwise
    /// functions, 2·Σ f(aᵢ, bᵢ) for bilinear ones); the default takes it from the `jvp` rule by
    /// forward mode over each direction, correct for every primitive but slower, and says so
    /// once per primitive.
    func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?]

    /// The Taylor coefficients of each output (nil: all zero) along a curve through the inputs,
    /// for `jet`. In the derivative-scaled convention (JAX's),
    ///
    /// ```
    /// x(t) = x₀ + Σₖ xₖ·tᵏ/k!      xₖ = dᵏx/dtᵏ at t = 0, k = 1…K
    /// y(t) = f(x(t))              yₖ = dᵏy/dtᵏ at t = 0
    /// ```
    ///
    /// `series[i]` holds x₁ … x_K of input i, each of the input's shape (nil: the input does not
    /// move; a nil coefficient is a symbolic zero); `primals` are the x₀ and `outputs` the y₀.
    /// The result holds y₁ … y_K of each output, each of the output's shape (or broadcastable
    /// to it). Written with NDArray operations, like `jvp`, so that it can be differentiated,
    /// batched and staged. Families supply it (each coefficient through the jvp rule for linear
    /// and piecewise-linear primitives, zero for piecewise-constant ones, the Leibniz rule for
    /// bilinear ones, Faà di Bruno's formula for elementwise functions); functions with a
    /// recurrence state it. The default takes the coefficients from the `jvp` rule by Taylor
    /// mode along the curve (`taylorFromJVP`), correct for every primitive but slower, and says
    /// so once per primitive.
    func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?]

    /// Whether `vjp` reads the floating-point primal inputs or outputs (not only their
    /// shapes). Integer and bool inputs and outputs (indices, masks) are taken as read in any
    /// case: a recorded application saves values when either holds, and is freed after a
    /// backward pass (`TapeEntry.savesValues`).
    var vjpReadsValues: Bool { get }
}

extension Primitive {
    public var vjpReadsValues: Bool { true }

    public func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?] {
        nestedSecondOrder(self, primals, outputs: outputs, directions: directions, summed: summed)
    }

    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        taylorFromJVP(self, primals, outputs: outputs, series: series)
    }

    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        evaluate(inputs.map { NDArray.zeros($0.shape, dtype: $0.dtype) }).map(\.arrayType)
    }
}

/// The shape and dtype of an array without its elements: what staging knows of a value.
public struct ArrayType: Hashable, Sendable, CustomStringConvertible {
    /// The array's shape.
    public let shape: [Int]
    /// The array's element type.
    public let dtype: DType

    /// The type of an array of `shape` and `dtype`.
    public init(shape: [Int], dtype: DType) {
        self.shape = shape
        self.dtype = dtype
    }

    /// `x`'s shape and dtype (same dtype, new shape).
    public func with(shape: [Int]) -> ArrayType { ArrayType(shape: shape, dtype: dtype) }

    /// The type as a program prints it: `f32[128,256]`, `i64[]`, `bool[3]`.
    public var description: String {
        let name = switch dtype {
        case .float32: "f32"
        case .float64: "f64"
        case .int64: "i64"
        case .bool: "bool"
        }
        return "\(name)[\(shape.map(String.init).joined(separator: ","))]"
    }
}

extension NDArray {
    /// The array's shape and dtype.
    public var arrayType: ArrayType { ArrayType(shape: shape, dtype: dtype) }
}

/// The broadcast shape of `types` (which the array layer has already checked).
func broadcastShape(_ types: some Collection<ArrayType>) -> [Int] {
    types.reduce([Int]()) { Shape.broadcast($0, $1.shape) ?? $0 }
}

/// A primitive of one input and one output, evaluated on the elements directly (`bind`'s
/// one-input form skips the lists).
public protocol UnaryPrimitive: Primitive {
    /// The primitive on concrete elements: the kernel call.
    func evaluate(_ x: StridedArray) -> StridedArray
}

extension UnaryPrimitive {
    public func evaluate(_ inputs: [NDArray]) -> [NDArray] { [NDArray(evaluate(inputs[0].elements))] }
}

/// A primitive of two inputs and one output, evaluated on the elements directly.
public protocol BinaryPrimitive: Primitive {
    /// The primitive on concrete elements: the kernel call.
    func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray
}

extension BinaryPrimitive {
    public func evaluate(_ inputs: [NDArray]) -> [NDArray] { [NDArray(evaluate(inputs[0].elements, inputs[1].elements))] }
}

/// A primitive whose output is a linear function of its floating-point inputs (its integer
/// inputs, such as indices, are held as they are): its jvp is itself applied to the tangents.
public protocol LinearPrimitive: Primitive {}

extension LinearPrimitive {
    public var vjpReadsValues: Bool { false }
    /// Zero: a linear function has no second derivative.
    public func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?] {
        outputs.map { _ in nil }
    }
    /// yₖ = f(xₖ): the function applied to each coefficient.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        linearTaylor(self, primals, outputs: outputs, series: series)
    }
}

extension LinearPrimitive {
    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard tangents.contains(where: { $0 != nil }) else { return outputs.map { _ in nil } }
        let filled = zip(primals, tangents).map { p, t in t ?? (p.dtype.isFloatingPoint ? NDArray.zerosLike(p) : p) }
        return bind(self, filled).map { $0 }
    }
}

/// A primitive whose outputs have zero derivative (comparisons, rounding, arg-reductions).
public protocol PiecewiseConstant: Primitive {}

extension PiecewiseConstant {
    public var vjpReadsValues: Bool { false }
    public func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?] {
        outputs.map { _ in nil }
    }
    /// Zero at every order.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        outputs.map { _ in nil }
    }
}

/// A primitive bilinear in its two inputs (products): its second-order term is 2·f(aᵢ, bᵢ),
/// its Taylor coefficients the Leibniz rule.
public protocol Bilinear: Primitive {}

extension Bilinear {
    public func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?] {
        bilinearSecondOrder(self, directions: directions, summed: summed)
    }
    /// The Leibniz rule, yₖ = Σᵢ C(k, i)·f(aᵢ, bₖ₋ᵢ) for i = 0…k.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        bilinearTaylor(self, primals, series: series)
    }
}

/// A primitive that is linear in its floating-point inputs wherever it is differentiable
/// (selections, clamps, maxima, padding): its second-order term is zero, and its Taylor
/// coefficients are its jvp rule (linear in the tangents at fixed primals) applied to each
/// input coefficient.
public protocol PiecewiseLinear: Primitive {}

extension PiecewiseLinear {
    public func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?] {
        outputs.map { _ in nil }
    }
    /// yₖ = Df(x₀)[xₖ]: locally the function is linear, so each coefficient passes through the
    /// jvp rule at the primals.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        linearTaylor(self, primals, outputs: outputs, series: series)
    }
}

extension PiecewiseConstant {
    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        outputs.map { _ in nil }
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        primals.map { _ in nil }
    }
}
