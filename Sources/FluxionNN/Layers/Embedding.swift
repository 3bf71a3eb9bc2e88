// A lookup table (`nn.Embedding`): row i of the weight for each index i. The gradient of a
// row is the sum of the gradients at the positions that looked it up (index-add, the adjoint
// of index-select).

import Fluxion
import FluxionCore

/// Rows of a learned `[numEmbeddings, embeddingDim]` table, looked up by int64 indices of
/// any shape: output shape = index shape + [embeddingDim]. The table starts N(0, 1).
public final class Embedding: Module, @unchecked Sendable {
    /// The number of rows of the table: indices run over 0..<numEmbeddings.
    public let numEmbeddings: Int
    /// The length of each row.
    public let embeddingDim: Int
    /// The table, `[numEmbeddings, embeddingDim]`.
    @Parameter public var weight: Tensor

    /// A table of `numEmbeddings` rows of length `embeddingDim`, drawn from N(0, 1) with `key`
    /// (default: the default stream), of `dtype`.
    public init(_ numEmbeddings: Int, _ embeddingDim: Int, dtype: DType = .float32, key: RandomKey? = nil) {
        self.numEmbeddings = numEmbeddings
        self.embeddingDim = embeddingDim
        weight = Tensor(NDArray.normal([numEmbeddings, embeddingDim], key: key ?? RandomKey.next(), dtype: dtype))
    }

    public override func forward(_ input: Tensor) -> Tensor {
        embedding(input, weight: weight)
    }

    public override var extraDescription: String { "\(numEmbeddings), \(embeddingDim)" }
}

/// The rows of `weight` at the int64 `indices` (`torch.nn.functional.embedding`), as one node
/// (`EmbeddingBackward0`).
public func embedding(_ indices: Tensor, weight: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let index = indices.value
    return Tensor.composite("EmbeddingBackward0", [weight]) { embedding(index, weight: $0[0], file: file, line: line) }
}

/// The rows of `weight` at the int64 `indices`, on arrays.
public func embedding(_ indices: NDArray, weight: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard indices.dtype == .int64 else {
        fail("embedding", "indices must be int64, got \(indices.dtype)", fix: "convert them with .to(.int64)", file: file, line: line)
    }
    let rowCount = weight.shape[0]
    if let bad = indices.firstIndex(outside: 0..<rowCount) {
        fail("embedding", "index \(bad) is out of range for a table of \(rowCount) rows",
             fix: "use indices in 0..<\(rowCount), or make the table larger (numEmbeddings)", file: file, line: line)
    }
    let rows = weight.indexSelect(dim: 0, index: indices.reshape([-1]), file: file, line: line)
    return rows.reshape(indices.shape + [weight.shape[1]])
}
