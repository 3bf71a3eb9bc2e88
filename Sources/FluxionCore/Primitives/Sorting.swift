// Sorting. The one primitive is the permutation that sorts (argsort); sorted values, top-k and
// k-th values gather the input at that permutation (NDArray+Sorting.swift), so their derivatives
// are gather's: the cotangent of each sorted value goes back to the position it came from, and
// every order of derivative and every transform comes from Gather's rules.
//
// The permutation itself is piecewise constant (zero derivative). Its order is PyTorch's: NaN
// sorts as the largest value, equal elements keep their order (stable).

import FluxionKernels

// MARK: - Argsort

/// The int64 positions along `axis` that sort each slice along `axis` (`torch.argsort` with
/// `stable=True`); the output has the input's shape.
public struct Argsort: UnaryPrimitive, PiecewiseConstant {
    /// The dimension sorted along.
    public let axis: Int
    /// Whether to sort from largest to smallest.
    public let descending: Bool
    public var name: String { "argsort" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        Sorting.argsort(x, dim: axis, descending: descending)
    }
    /// The batch axis stays where it is (each batch element's slices are slices of the batched
    /// array); the sort axis moves one place on when it is at or after the batch axis.
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let b = axes[0]!
        return ([bind(Argsort(axis: axis >= b ? axis + 1 : axis, descending: descending), inputs[0])], [b])
    }
}

// MARK: - Output types (for staging)

extension Argsort {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [ArrayType(shape: inputs[0].shape, dtype: .int64)] }
}
