// Ghost rules: each layer's per-example gradient norms and clipped gradient sum from its
// input activations a and output gradients δ (the gradient of Σᵢ Lᵢ at the layer's output,
// whose row i is example i's own). The per-example gradient of a layer whose output is linear
// in each parameter is a sum over positions s of outer products; its squared norm is either
// formed directly or, when positions are fewer than the parameter has elements, by the Gram
// identity
//
// ```
// ‖Σₛ δₛ ⊗ aₛ‖² = Σ_{s,t} (aₛ·aₜ)(δₛ·δₜ)
// ```
//
// whichever is cheaper: T² (Gram) against out·in (direct) per example. Clipped sums scale δ's
// rows by the factors c and contract over examples and positions at once:
// Σᵢ cᵢ Σₛ δᵢₛ ⊗ aᵢₛ = (diag(c)·δ)ᵀ·a as one GEMM.

import Fluxion
import FluxionCore

/// A layer whose per-example gradient norms and clipped sums follow from its input and the
/// gradient at its output (a "ghost clipping" rule). `perSampleGradientNorms` and
/// `clippedGradientSum` use the rule for every layer that adopts this protocol and is called
/// once per batch; other layers fall back to `vmap(grad)`.
///
/// Shapes: `input` is the layer's input for the batch, `[B, ...]`; `outputGradient` the
/// gradient of Σᵢ Lᵢ with respect to its output, `[B, ...]` (the output's shape); `factors`
/// the clipping factors `[B]`. Names are the layer's own parameter names (`weight`, `bias`).
public protocol GhostClippable: Module {
    /// ‖∇_p Lᵢ‖² for each own parameter p, each `[B]`.
    func perExampleSquaredNorms(input: NDArray, outputGradient: NDArray) -> [String: NDArray]
    /// Σᵢ cᵢ·∇_p Lᵢ for each own parameter p, each of p's shape.
    func clippedGradientSum(input: NDArray, outputGradient: NDArray, factors: NDArray) -> [String: NDArray]
}

/// ‖Σₛ δᵢₛ ⊗ aᵢₛ‖² for a `[B, T, m]`, δ `[B, T, n]`: by ‖a‖²‖δ‖² for T = 1, the Gram form when
/// T² ≤ m·n, and the formed per-example gradients otherwise.
func outerProductSquaredNorms(_ a: NDArray, _ delta: NDArray) -> NDArray {
    let (t, m, n) = (a.shape[1], a.shape[2], delta.shape[2])
    if t == 1 {
        return (a * a).sum(dims: [1, 2]) * (delta * delta).sum(dims: [1, 2])
    }
    if t * t <= m * n {
        return (matmul(a, a.mT) * matmul(delta, delta.mT)).sum(dims: [1, 2])
    }
    let g = matmul(delta.mT, a)
    return (g * g).sum(dims: [1, 2])
}

/// δ `[B, ...]` with row i multiplied by cᵢ.
func scaledRows(_ delta: NDArray, _ factors: NDArray) -> NDArray {
    delta * factors.reshape([factors.shape[0]] + Array(repeating: 1, count: delta.rank - 1))
}

// MARK: - Linear

extension Linear: GhostClippable {
    /// Weight: ‖Σₜ δᵢₜ aᵢₜᵀ‖² (a `[B, T, in]`, δ `[B, T, out]`, T = 1 for vector inputs);
    /// bias: ‖Σₜ δᵢₜ‖².
    public func perExampleSquaredNorms(input: NDArray, outputGradient: NDArray) -> [String: NDArray] {
        let batch = input.shape[0]
        let a = input.reshape([batch, -1, inFeatures])
        let d = outputGradient.reshape([batch, -1, outFeatures])
        var norms = ["weight": outerProductSquaredNorms(a, d)]
        if bias != nil {
            let s = d.sum(dim: 1)
            norms["bias"] = (s * s).sum(dim: 1)
        }
        return norms
    }

    /// Weight: (diag(c)·δ)ᵀ·a over all rows (one GEMM); bias: Σ rows of diag(c)·δ.
    public func clippedGradientSum(input: NDArray, outputGradient: NDArray, factors: NDArray) -> [String: NDArray] {
        let rows = scaledRows(outputGradient, factors).reshape([-1, outFeatures])
        var sums = ["weight": matmul(rows.mT, input.reshape([-1, inFeatures]))]
        if bias != nil { sums["bias"] = rows.sum(dim: 0) }
        return sums
    }
}

// MARK: - Conv2d

extension Conv2d: GhostClippable {
    /// The input's windows U = unfold(a) `[B, K, L]` (K = inChannels·kh·kw, L output positions)
    /// and δ `[B, out, L]` make the weight's per-example gradient δᵢ·Uᵢᵀ, a sum of L outer
    /// products; bias: ‖Σ_L δᵢ‖².
    public func perExampleSquaredNorms(input: NDArray, outputGradient: NDArray) -> [String: NDArray] {
        let (u, d) = windows(input, outputGradient)
        var norms = ["weight": outerProductSquaredNorms(u.mT, d.mT)]
        if bias != nil {
            let s = d.sum(dim: 2)
            norms["bias"] = (s * s).sum(dim: 1)
        }
        return norms
    }

    /// Weight: Σᵢ cᵢ δᵢ·Uᵢᵀ as one GEMM over all examples and positions; bias: Σ of cᵢ δᵢ.
    public func clippedGradientSum(input: NDArray, outputGradient: NDArray, factors: NDArray) -> [String: NDArray] {
        let (u, d) = windows(input, scaledRows(outputGradient, factors))
        let k = u.shape[1]
        let rows = d.permute([1, 0, 2]).reshape([outChannels, -1])
        let columns = u.permute([0, 2, 1]).reshape([-1, k])
        var sums = ["weight": matmul(rows, columns).reshape([outChannels, inChannels, kernelSize.0, kernelSize.1])]
        if bias != nil { sums["bias"] = d.sum(dims: [0, 2]) }
        return sums
    }

    /// unfold(a) `[B, K, L]` and δ as `[B, out, L]`.
    private func windows(_ input: NDArray, _ delta: NDArray) -> (NDArray, NDArray) {
        let u = unfold(input, kernelSize: kernelSize, dilation: dilation, padding: padding, stride: stride)
        return (u, delta.reshape([delta.shape[0], outChannels, -1]))
    }
}

// MARK: - Embedding

extension Embedding: GhostClippable {
    /// The per-example gradient of the table is Σₜ e_{idxₜ} ⊗ δₜ, so
    /// ‖·‖² = Σ_{s,t} [idxₛ = idxₜ]·(δₛ·δₜ): a Gram form masked by equal indices (indices
    /// `[B, T]`, δ `[B, T, dim]`).
    public func perExampleSquaredNorms(input: NDArray, outputGradient: NDArray) -> [String: NDArray] {
        let batch = input.shape[0]
        let index = input.reshape([batch, -1])
        let t = index.shape[1]
        let d = outputGradient.reshape([batch, t, embeddingDim])
        // Compared as arrays, not read as numbers, so that the rule stages under `jit`.
        let same = (index.unsqueeze(2) .== index.unsqueeze(1)).to(d.dtype)
        return ["weight": (same * matmul(d, d.mT)).sum(dims: [1, 2])]
    }

    /// The rows of diag(c)·δ added into a zero table at their indices.
    public func clippedGradientSum(input: NDArray, outputGradient: NDArray, factors: NDArray) -> [String: NDArray] {
        let rows = scaledRows(outputGradient, factors).reshape([-1, embeddingDim])
        let index = input.reshape([-1, 1]).expand([rows.shape[0], embeddingDim])
        let table = NDArray.zeros([numEmbeddings, embeddingDim], dtype: rows.dtype)
        return ["weight": table.scatterAdd(dim: 0, index: index, source: rows)]
    }
}

// MARK: - LayerNorm

extension LayerNorm: GhostClippable {
    /// Weight and bias are elementwise, so their per-example gradients are small — x̂ᵢ ⊙ δᵢ and
    /// δᵢ summed over the positions before the normalised dimensions — and are formed directly.
    public func perExampleSquaredNorms(input: NDArray, outputGradient: NDArray) -> [String: NDArray] {
        perExampleGradients(input, outputGradient).mapValues { ($0 * $0).sum(dim: 1) }
    }

    /// Σᵢ cᵢ·gᵢ of the per-example gradients.
    public func clippedGradientSum(input: NDArray, outputGradient: NDArray, factors: NDArray) -> [String: NDArray] {
        perExampleGradients(input, outputGradient).mapValues { matmul(factors.reshape([1, -1]), $0).reshape(normalizedShape) }
    }

    /// The per-example gradients `[B, N]` (N elements of `normalizedShape`) of weight and bias.
    private func perExampleGradients(_ input: NDArray, _ delta: NDArray) -> [String: NDArray] {
        let batch = input.shape[0]
        let n = normalizedShape.reduce(1, *)
        let d = delta.reshape([batch, -1, n])
        var grads: [String: NDArray] = [:]
        if weight != nil {
            let normalized = layerNorm(input, normalizedShape: normalizedShape, eps: eps).reshape([batch, -1, n])
            grads["weight"] = (normalized * d).sum(dim: 1)
        }
        if bias != nil { grads["bias"] = d.sum(dim: 1) }
        return grads
    }
}
