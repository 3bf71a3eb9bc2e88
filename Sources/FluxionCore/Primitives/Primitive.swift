// The unit of computation: every array operation is a primitive or a composite of primitives
// (like `jax.lax`). A primitive is a value type named for the operation that carries its
// parameters and knows how to evaluate itself on concrete arrays.
//
// `bind` is the single entry point through which every operation runs. Arrays here are always
// concrete, so binding evaluates at once; the unary and binary entry points skip the input
// and output lists so that a small operation costs one allocation (its result).

import FluxionKernels

/// An operation the array layer understands.
public protocol Primitive: Sendable {
    /// The operation's name in messages (`"exp"`, `"matmul"`, …).
    var name: String { get }

    /// The outputs for concrete inputs: the kernel call.
    func evaluate(_ inputs: [StridedArray]) -> [StridedArray]
}

/// A primitive of one input and one output.
public protocol UnaryPrimitive: Primitive {
    func evaluate(_ x: StridedArray) -> StridedArray
}

extension UnaryPrimitive {
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] { [evaluate(inputs[0])] }
}

/// A primitive of two inputs and one output.
public protocol BinaryPrimitive: Primitive {
    func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray
}

extension BinaryPrimitive {
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] { [evaluate(inputs[0], inputs[1])] }
}

/// Applies `primitive` to `inputs`.
@inlinable
public func bind(_ primitive: some Primitive, _ inputs: [NDArray]) -> [NDArray] {
    primitive.evaluate(inputs.map(\.base)).map(NDArray.init)
}

/// Applies a one-input, one-output primitive.
@inlinable
public func bind(_ primitive: some UnaryPrimitive, _ x: NDArray) -> NDArray {
    NDArray(primitive.evaluate(x.base))
}

/// Applies a two-input, one-output primitive.
@inlinable
public func bind(_ primitive: some BinaryPrimitive, _ a: NDArray, _ b: NDArray) -> NDArray {
    NDArray(primitive.evaluate(a.base, b.base))
}
