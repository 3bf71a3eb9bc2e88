// Reads and writes at integer positions: gather / scatter-add along a dimension (each other's
// adjoint) and index-select / index-add of whole slices (likewise).

import FluxionKernels

// MARK: - Gather

/// `out[i][j] = x[index[i][j]][j]` along `dim` (as `torch.gather`); inputs (x, index).
public struct Gather: BinaryPrimitive {
    public let dim: Int
    public var name: String { "gather" }
    public func evaluate(_ x: StridedArray, _ index: StridedArray) -> StridedArray {
        Copy.gather(x, dim: dim, index: index)
    }
}

// MARK: - Scatter-add

/// Zeros of `shape` with `out[index[i][j]][j] += source[i][j]` along `dim`; inputs (index, source).
public struct ScatterAdd: BinaryPrimitive {
    public let dim: Int
    public let shape: [Int]
    public var name: String { "scatterAdd" }
    public func evaluate(_ index: StridedArray, _ source: StridedArray) -> StridedArray {
        Copy.scatterAdd(shape: shape, dim: dim, index: index, source: source)
    }
}

// MARK: - Index select

/// The slices of x along `dim` at the positions of a 1-D int64 index; inputs (x, indices).
public struct IndexSelect: BinaryPrimitive {
    public let dim: Int
    public var name: String { "indexSelect" }
    public func evaluate(_ x: StridedArray, _ indices: StridedArray) -> StridedArray {
        Copy.indexSelect(x, dim: dim, indices: indices)
    }
}

// MARK: - Index add

/// Zeros of `shape` with slice `indices[j]` along `dim` increased by slice j of source;
/// inputs (indices, source).
public struct IndexAdd: BinaryPrimitive {
    public let dim: Int
    public let shape: [Int]
    public var name: String { "indexAdd" }
    public func evaluate(_ indices: StridedArray, _ source: StridedArray) -> StridedArray {
        Copy.indexAdd(shape: shape, dim: dim, indices: indices, source: source)
    }
}
