// Reductions over a set of axes (the reduced axes are removed; `keepDim` is a reshape in the
// array layer), arg-reductions along one axis, and cumulative sums. Integer and bool sums and
// products arrive as int64.
//
// Derivatives: a sum's cotangent is broadcast back over the reduced axes; max and min send it
// to the extreme elements, split equally between ties (as PyTorch's amax/amin); a product's
// derivatives come from a pairwise tree of multiplications over the reduced elements (as
// JAX's): it never divides, so every order is exact with zeros in a slice, where dividing the
// product by each element needs special cases and still loses the second derivative.
// The cotangent of a running sum is the running sum from the other end.

import FluxionKernels

/// A reduction over `axes` of one input.
public protocol AxesReduction: UnaryPrimitive {
    /// The dimensions reduced (non-negative, ascending); they are removed from the output.
    var axes: [Int] { get }
    /// The kernel's reduction.
    var kind: Reduction.Kind { get }
    /// The reduction over `axes`.
    init(axes: [Int])
}

extension AxesReduction {
    public var name: String { "\(kind)" }

    public func evaluate(_ x: StridedArray) -> StridedArray {
        var reduced = [Bool](repeating: false, count: x.rank)
        for a in axes { reduced[a] = true }
        let kept = Reduction.reduce(kind, x, reduced: reduced)
        let shape = x.shape.indices.filter { !reduced[$0] }.map { x.shape[$0] }
        return kept.view(shape: shape, strides: Shape.contiguousStrides(shape))
    }

    /// `r` (a reduced value) reshaped with the reduced axes kept at size 1, then broadcast
    /// back to the input's shape.
    func expand(_ r: NDArray, to shape: [Int]) -> NDArray {
        var kept = shape
        for a in axes { kept[a] = 1 }
        return r.reshape(kept).broadcast(to: shape)
    }

    public func batch(_ inputs: [NDArray], axes batchAxes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let x = inputs[0].moveAxis(from: batchAxes[0]!, to: 0)
        return ([bind(Self(axes: axes.map { $0 + 1 }), x)], [0])
    }
}

// MARK: - Sum

/// The sum over `axes`, accumulated in float64 (`Summation`). Linear: its cotangent is the
/// output's cotangent broadcast back over the reduced axes.
public struct ReduceSum: AxesReduction, LinearPrimitive {
    public let axes: [Int]
    public init(axes: [Int]) { self.axes = axes }
    public var kind: Reduction.Kind { .sum }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { expand($0, to: primals[0].shape) }]
    }
}

// MARK: - Product

/// The product over `axes`; its derivative, the product of the other elements, is right when
/// some elements are zero.
public struct ReduceProd: AxesReduction {
    public let axes: [Int]
    public init(axes: [Int]) { self.axes = axes }
    public var kind: Reduction.Kind { .prod }

    /// `x` with the reduced axes moved last and merged into one: [kept..., m].
    func merged(_ x: NDArray) -> NDArray {
        let kept = (0..<x.rank).filter { !axes.contains($0) }
        return x.permute(kept + axes).reshape(kept.map { x.shape[$0] } + [axes.reduce(1) { $0 * x.shape[$1] }])
    }

    /// The inverse of `merged` for an array of `shape`.
    func unmerged(_ y: NDArray, to shape: [Int]) -> NDArray {
        let order = (0..<shape.count).filter { !axes.contains($0) } + axes
        var inverse = order
        for (i, p) in order.enumerated() { inverse[p] = i }
        return y.reshape(order.map { shape[$0] }).permute(inverse)
    }

    /// The levels of the pairwise product tree over the last axis of `x` ([kept..., m], m ≥ 1):
    /// each level's halves (after padding an odd length with a 1) and its length before
    /// padding, bottom up; the product of the last level's halves is the result.
    func tree(_ x: NDArray) -> [(a: NDArray, b: NDArray, length: Int)] {
        var levels: [(NDArray, NDArray, Int)] = []
        var p = x, m = x.shape[x.rank - 1]
        while m > 1 {
            if m % 2 == 1 { p = p.pad([(0, 1)], value: 1) }
            let h = (m + 1) / 2
            let (a, b) = (p.narrow(dim: -1, start: 0, length: h), p.narrow(dim: -1, start: h, length: h))
            levels.append((a, b, m))
            p = a * b
            m = h
        }
        return levels
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard let t = tangents[0] else { return [nil] }
        let x = merged(primals[0])
        guard x.shape[x.rank - 1] > 0 else { return [NDArray.zeros(outputs[0].shape, dtype: t.dtype)] }
        // Up the tree: the product rule at every pair.
        var dp = merged(t)
        for (a, b, length) in tree(x) {
            if length % 2 == 1 { dp = dp.pad([(0, 1)], value: 0) }
            let h = (length + 1) / 2
            dp = dp.narrow(dim: -1, start: 0, length: h) * b + a * dp.narrow(dim: -1, start: h, length: h)
        }
        return [dp.reshape(outputs[0].shape)]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil] }
        let x = merged(primals[0])
        guard x.shape[x.rank - 1] > 0 else { return [NDArray.zeros(primals[0].shape, dtype: ct.dtype)] }
        // Down the tree: a pair's product sends each half the cotangent times the other half.
        var g = ct.reshape(Array(x.shape.dropLast()) + [1])
        for (a, b, length) in tree(x).reversed() {
            let both = concat([g * b, g * a], dim: -1)
            g = length % 2 == 1 ? both.narrow(dim: -1, start: 0, length: length) : both
        }
        return [unmerged(g, to: primals[0].shape)]
    }

    /// Up the same tree with series: each pair's product by the Leibniz rule
    /// (ab)ₖ = Σᵢ C(k, i)·aᵢ·bₖ₋ᵢ, so every coefficient is exact with zeros in a slice.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        let x = merged(primals[0])
        var m = x.shape[x.rank - 1]
        guard m > 0 else { return [nil] }
        var terms: [NDArray?] = [x] + s.map { $0.map(merged) }
        while m > 1 {
            if m % 2 == 1 { terms = terms.indices.map { k in terms[k]?.pad([(0, 1)], value: k == 0 ? 1 : 0) } }
            let h = (m + 1) / 2
            let a = terms.map { $0?.narrow(dim: -1, start: 0, length: h) }, b = terms.map { $0?.narrow(dim: -1, start: h, length: h) }
            terms = terms.indices.map { k in leibnizSum(k, a, b, from: 0, through: k) }
            m = h
        }
        return [terms.dropFirst().map { $0?.reshape(outputs[0].shape) }]
    }
}

// MARK: - Extremes

/// Shared by max and min: the cotangent goes to the elements equal to the extreme.
protocol ExtremeReduction: AxesReduction, PiecewiseLinear {}

extension ExtremeReduction {
    /// 1/(number of ties) at the extreme elements, 0 elsewhere.
    func share(_ x: NDArray, _ y: NDArray) -> NDArray {
        let hit = (x .== expand(y, to: x.shape)).to(x.dtype)
        return hit / expand(bind(ReduceSum(axes: axes), hit), to: x.shape)
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        [tangents[0].map { bind(ReduceSum(axes: axes), $0 * share(primals[0], outputs[0])) }]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { expand($0, to: primals[0].shape) * share(primals[0], outputs[0]) }]
    }
}

/// The largest element over `axes`; NaN propagates, and tied maxima share the derivative equally.
public struct ReduceMax: ExtremeReduction {
    public let axes: [Int]
    public init(axes: [Int]) { self.axes = axes }
    public var kind: Reduction.Kind { .max }
}

/// The smallest element over `axes`; NaN propagates, and tied minima share the derivative equally.
public struct ReduceMin: ExtremeReduction {
    public let axes: [Int]
    public init(axes: [Int]) { self.axes = axes }
    public var kind: Reduction.Kind { .min }
}

// MARK: - Arg-reductions

/// The int64 index of the largest (or smallest) element along `axis`, which is removed.
public struct ArgExtreme: UnaryPrimitive, PiecewiseConstant {
    /// The dimension searched; it is removed from the output.
    public let axis: Int
    /// Whether to find the largest (argmax) rather than the smallest (argmin).
    public let largest: Bool
    public var name: String { largest ? "argmax" : "argmin" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        let kept = Reduction.argExtreme(x, dim: axis, largest: largest)
        var shape = x.shape
        shape.remove(at: axis)
        return kept.view(shape: shape, strides: Shape.contiguousStrides(shape))
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(ArgExtreme(axis: axis + 1, largest: largest), inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Cumulative sum

/// Running sums along `axis`.
public struct CumSum: UnaryPrimitive, LinearPrimitive {
    /// The dimension summed along.
    public let axis: Int
    public var name: String { "cumsum" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Reduction.cumsum(x, dim: axis) }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        // Σ_{j ≥ i} ct_j = total − (running sum up to i) + ct_i.
        [cotangents[0].map { ct in ct.sum(dim: axis, keepDim: true) - bind(self, ct) + ct }]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(CumSum(axis: axis + 1), inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Output types (for staging)

extension AxesReduction {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        let x = inputs[0]
        return [x.with(shape: x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] })]
    }
}

extension ArgExtreme {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        var shape = inputs[0].shape
        shape.remove(at: axis)
        return [ArrayType(shape: shape, dtype: .int64)]
    }
}

extension CumSum {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0]] }
}
