// Distances and similarities between vectors, built from the primitives so that every
// transform and every order of derivative applies (PyTorch's `torch.nn.functional` names):
//
// ```
// normalize(x)            = x / max(‖x‖ₚ, ε)                     along dim
// cosineSimilarity(a, b)  = Σ (a / max(‖a‖, ε)) · (b / max(‖b‖, ε))  along dim
// pairwiseDistance(a, b)  = ‖a − b + ε‖ₚ                           along the last dim
// dist(a, b)              = ‖a − b‖ₚ                               over all elements
// cdist(a, b)ᵢⱼ           = ‖aᵢ − bⱼ‖ₚ                             rows of a against rows of b
// ```
//
// The norms are `norm`'s, so a zero vector's 2-norm has derivative 0 (PyTorch's too), and a
// distance of 0 between equal rows has derivative 0. cosineSimilarity clamps the norms to ε in
// its value only, as PyTorch does (the clamp is not differentiated): the derivative is that of
// the norm even where ε is selected. cdist forms the differences [..., P, R, M] explicitly,
// which is exact (PyTorch's matrix-product shortcut for large inputs rounds differently) and
// takes P·R·M elements of memory.

import FluxionKernels

/// `x` divided by its p-norm along `dim`, the norm at least `eps`
/// (`torch.nn.functional.normalize`; the default `dim` 1 is PyTorch's).
public func normalize(_ x: NDArray, p: Double = 2, dim: Int = 1, eps: Double = 1e-12,
                      file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let norm = x.norm(p: p, dim: x.normalized(dim, "normalize", file: file, line: line), keepDim: true, file: file, line: line)
    return x / norm.clampMin(eps)
}

/// The cosine of the angle between `a` and `b` along `dim`, after broadcasting them together
/// (`torch.nn.functional.cosine_similarity`): Σ (a/‖a‖)·(b/‖b‖) with each norm at least
/// `eps` in value (see the file's header for its derivative). The result drops `dim`.
public func cosineSimilarity(_ a: NDArray, _ b: NDArray, dim: Int = 1, eps: Double = 1e-8,
                             file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    checkBroadcast("cosineSimilarity", [a, b], file: file, line: line)
    let rank = Swift.max(a.rank, b.rank, 1)
    guard dim >= -rank && dim < rank else {
        fail("cosineSimilarity", "dimension \(dim) is out of range for inputs of shapes \(describe(a.shape)) and \(describe(b.shape)) (valid: \(-rank)...\(rank - 1))",
             fix: "pick a dimension between \(-rank) and \(rank - 1); PyTorch's default is 1, for [N, D] rows", file: file, line: line)
    }
    let dim = dim < 0 ? dim + rank : dim
    func unit(_ x: NDArray) -> NDArray {
        let norm = x.norm(dim: dim, keepDim: true, file: file, line: line)
        return x / (norm + stopGradient(norm.clampMin(eps) - norm))
    }
    let shape = Shape.broadcast(a.shape, b.shape)!
    return (unit(a.broadcast(to: shape)) * unit(b.broadcast(to: shape))).sum(dim: dim, file: file, line: line)
}

/// ‖a − b + eps‖ₚ along the last dimension, after broadcasting
/// (`torch.nn.functional.pairwise_distance`; the small `eps` keeps the derivative finite
/// between equal rows, as PyTorch's).
public func pairwiseDistance(_ a: NDArray, _ b: NDArray, p: Double = 2, eps: Double = 1e-6, keepDim: Bool = false,
                             file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    checkBroadcast("pairwiseDistance", [a, b], file: file, line: line)
    return (a - b + eps).norm(p: p, dim: -1, keepDim: keepDim, file: file, line: line)
}

/// ‖a − b‖ₚ over all elements, after broadcasting (`torch.dist`); a 0-d array.
public func dist(_ a: NDArray, _ b: NDArray, p: Double = 2, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    checkBroadcast("dist", [a, b], file: file, line: line)
    return (a - b).norm(p: p, file: file, line: line)
}

/// The p-norm distance between each row of `a` `[..., P, M]` and each row of `b`
/// `[..., R, M]`, the leading dimensions broadcast: `[..., P, R]` (`torch.cdist`).
public func cdist(_ a: NDArray, _ b: NDArray, p: Double = 2, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard a.rank >= 2, b.rank >= 2, a.shape.last == b.shape.last else {
        fail("cdist", "rows of shapes \(describe(a.shape)) and \(describe(b.shape)) cannot be compared",
             fix: "pass a of shape [..., P, M] and b of shape [..., R, M] (the same M; unsqueeze(0) a single vector)",
             file: file, line: line)
    }
    let (left, right) = (a.unsqueeze(-2), b.unsqueeze(-3))
    checkBroadcast("cdist", [left, right], file: file, line: line)
    return (left - right).norm(p: p, dim: -1, file: file, line: line)
}
