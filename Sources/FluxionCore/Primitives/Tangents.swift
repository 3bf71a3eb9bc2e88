// Tangent algebra in one place: symbolic zeros (nil), sums, the unbroadcast rule, and the axis
// moves batching rules share.
//
// Strong zeros. A primitive whose derivative is infinite or undefined at the edge of its domain
// (log, sqrt, rsqrt, asin, acos, powers below 1, division, pow, atan2 at the origin) applies
// its chain rule with `mulStrongZero` (Binary.swift), for which 0 · ∞ = 0 · NaN = 0: a zero
// (co)tangent — the untaken branch of `where`, a masked-out element — contributes exactly
// nothing there, where plain multiplication would turn it into NaN. Those primitives write
// their derivatives with the same operations (division, mulStrongZero), and the derivative of
// `mulStrongZero` is again `mulStrongZero`, so the convention holds at every order and in both
// modes. Every other primitive multiplies plainly, so an overflow still shows: the derivative
// of exp at +∞ times a cotangent that underflowed to 0 is NaN, as in PyTorch, not a wrong 0.
//
// Unbroadcast: when an input of shape s was broadcast to the output's shape, its cotangent is
// the output cotangent summed over the broadcast dimensions (the leading ones it lacked and
// those where s has size 1), reshaped to s.

import FluxionKernels

extension NDArray {
    /// This cotangent summed back to `shape` after broadcasting.
    package func unbroadcast(to shape: [Int]) -> NDArray {
        if self.shape == shape { return self }
        let lead = rank - shape.count
        var axes = Array(0..<lead)
        for i in 0..<shape.count where shape[i] == 1 && self.shape[lead + i] != 1 { axes.append(lead + i) }
        let summed = axes.isEmpty ? self : sum(dims: axes, keepDim: true)
        return summed.reshape(shape)
    }

    /// Dimension `from` moved to position `to`.
    func moveAxis(from: Int, to: Int) -> NDArray {
        if from == to { return self }
        var order = Array(0..<rank)
        order.remove(at: from)
        order.insert(from, at: to)
        return permute(order)
    }

    /// This batched value with its batch axis first, or (when unbatched) broadcast along a new
    /// first axis of `size`.
    func batchFirst(_ axis: Int?, size: Int) -> NDArray {
        guard let axis else { return unsqueeze(0).broadcast(to: [size] + shape) }
        return moveAxis(from: axis, to: 0)
    }
}

/// The sum of two tangents, either of which may be a symbolic zero.
func addTangents(_ a: NDArray?, _ b: NDArray?) -> NDArray? {
    guard let a else { return b }
    guard let b else { return a }
    return a + b
}

/// Inputs of an elementwise primitive with batch axes aligned: every batched input gets its
/// batch axis first and size-1 dimensions so that it broadcasts against the others' logical
/// shapes; unbatched inputs already broadcast. The output's batch axis is 0.
func alignElementwise(_ inputs: [NDArray], _ axes: [Int?]) -> [NDArray] {
    let logicalRank = zip(inputs, axes).map { x, a in a == nil ? x.rank : x.rank - 1 }.max() ?? 0
    return zip(inputs, axes).map { x, a in
        guard let a else { return x }
        let moved = x.moveAxis(from: a, to: 0)
        let logical = Array(moved.shape.dropFirst())
        let padded = [moved.shape[0]] + [Int](repeating: 1, count: logicalRank - logical.count) + logical
        return padded == moved.shape ? moved : moved.reshape(padded)
    }
}
