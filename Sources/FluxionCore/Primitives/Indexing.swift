// Reads and writes at integer positions: gather / scatter-add along a dimension (each other's
// adjoint) and index-select / index-add of whole slices (likewise). All are linear in their
// array operand; indices have no derivative.

import FluxionKernels

/// Batches (x, index) pairs for the indexed primitives: both get a batch axis in front (an
/// unbatched operand is broadcast), so the operation applies per batch element along dim + 1.
func batchedPair(_ inputs: [NDArray], _ axes: [Int?], _ size: Int) -> (NDArray, NDArray) {
    (inputs[0].batchFirst(axes[0], size: size), inputs[1].batchFirst(axes[1], size: size))
}

// MARK: - Gather

/// `out[i][j] = x[index[i][j]][j]` along `dim` (as `torch.gather`); inputs (x, index).
public struct Gather: BinaryPrimitive, LinearPrimitive {
    /// The dimension gathered along.
    public let dim: Int
    public var name: String { "gather" }
    public func evaluate(_ x: StridedArray, _ index: StridedArray) -> StridedArray {
        Copy.gather(x, dim: dim, index: index)
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { bind(ScatterAdd(dim: dim, shape: primals[0].shape), primals[1], $0) }, nil]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let x = inputs[0].batchFirst(axes[0], size: size)
        let index = inputs[1].batchFirst(axes[1], size: size)
        return ([bind(Gather(dim: dim + 1), x, index)], [0])
    }
}

// MARK: - Scatter-add

/// Zeros of `shape` with `out[index[i][j]][j] += source[i][j]` along `dim`; inputs (index, source).
public struct ScatterAdd: BinaryPrimitive, LinearPrimitive {
    /// The dimension scattered along.
    public let dim: Int
    /// The output's shape.
    public let shape: [Int]
    public var name: String { "scatterAdd" }
    public func evaluate(_ index: StridedArray, _ source: StridedArray) -> StridedArray {
        Copy.scatterAdd(shape: shape, dim: dim, index: index, source: source)
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [nil, cotangents[0].map { bind(Gather(dim: dim), $0, primals[0]) }]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let (index, source) = batchedPair(inputs, axes, size)
        return ([bind(ScatterAdd(dim: dim + 1, shape: [size] + shape), index, source)], [0])
    }
}

// MARK: - Index select

/// The slices of x along `dim` at the positions of a 1-D int64 index; inputs (x, indices).
public struct IndexSelect: BinaryPrimitive, LinearPrimitive {
    /// The dimension selected along.
    public let dim: Int
    public var name: String { "indexSelect" }
    public func evaluate(_ x: StridedArray, _ indices: StridedArray) -> StridedArray {
        Copy.indexSelect(x, dim: dim, indices: indices)
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { bind(IndexAdd(dim: dim, shape: primals[0].shape), primals[1], $0) }, nil]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        if axes[1] == nil {
            return ([bind(IndexSelect(dim: dim + 1), inputs[0].moveAxis(from: axes[0]!, to: 0), inputs[1])], [0])
        }
        // A batched index becomes a gather with the index placed along `dim` and broadcast.
        let x = inputs[0].batchFirst(axes[0], size: size)
        let index = inputs[1].moveAxis(from: axes[1]!, to: 0)
        var shape = x.shape
        shape[dim + 1] = index.shape[1]
        var placed = [Int](repeating: 1, count: x.rank)
        placed[0] = size
        placed[dim + 1] = index.shape[1]
        return ([bind(Gather(dim: dim + 1), x, index.reshape(placed).broadcast(to: shape))], [0])
    }
}

// MARK: - Index add

/// Zeros of `shape` with slice `indices[j]` along `dim` increased by slice j of source;
/// inputs (indices, source).
public struct IndexAdd: BinaryPrimitive, LinearPrimitive {
    /// The dimension added along.
    public let dim: Int
    /// The output's shape.
    public let shape: [Int]
    public var name: String { "indexAdd" }
    public func evaluate(_ indices: StridedArray, _ source: StridedArray) -> StridedArray {
        Copy.indexAdd(shape: shape, dim: dim, indices: indices, source: source)
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [nil, cotangents[0].map { bind(IndexSelect(dim: dim), $0, primals[0]) }]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        if axes[0] == nil {
            return ([bind(IndexAdd(dim: dim + 1, shape: [size] + shape), inputs[0], inputs[1].moveAxis(from: axes[1]!, to: 0))], [0])
        }
        // A batched index becomes a scatter-add with the index placed along `dim` and broadcast.
        let source = inputs[1].batchFirst(axes[1], size: size)
        let index = inputs[0].moveAxis(from: axes[0]!, to: 0)
        var placed = [Int](repeating: 1, count: source.rank)
        placed[0] = size
        placed[dim + 1] = index.shape[1]
        return ([bind(ScatterAdd(dim: dim + 1, shape: [size] + shape), index.reshape(placed).broadcast(to: source.shape), source)], [0])
    }
}

// MARK: - Output types (for staging)

extension Gather {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0].with(shape: inputs[1].shape)] }
}

extension ScatterAdd {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[1].with(shape: shape)] }
}

extension IndexSelect {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        var shape = inputs[0].shape
        shape[dim] = inputs[1].shape.reduce(1, *)
        return [inputs[0].with(shape: shape)]
    }
}

extension IndexAdd {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[1].with(shape: shape)] }
}
