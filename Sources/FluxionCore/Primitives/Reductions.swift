// Reductions over a set of axes (the reduced axes are removed; `keepDim` is a reshape in the
// array layer), arg-reductions along one axis, and cumulative sums. Integer and bool sums and
// products arrive as int64.
//
// Derivatives: a sum's cotangent is broadcast back over the reduced axes; max and min send it
// to the extreme elements, split equally between ties (as PyTorch's amax/amin); a product's
// partial derivative for each element is the product of the others, computed without dividing
// by zero (one zero in a slice: only the zero gets the product of the rest; two or more: all 0).
// The cotangent of a running sum is the running sum from the other end.

import FluxionKernels

/// A reduction over `axes` of one input.
public protocol AxesReduction: UnaryPrimitive {
    var axes: [Int] { get }
    var kind: Reduction.Kind { get }
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

public struct ReduceSum: AxesReduction, LinearPrimitive {
    public let axes: [Int]
    public init(axes: [Int]) { self.axes = axes }
    public var kind: Reduction.Kind { .sum }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { expand($0, to: primals[0].shape) }]
    }
}

// MARK: - Product

public struct ReduceProd: AxesReduction {
    public let axes: [Int]
    public init(axes: [Int]) { self.axes = axes }
    public var kind: Reduction.Kind { .prod }

    /// ∂(∏x)/∂xᵢ: the product of the other elements of xᵢ's slice.
    func partial(_ x: NDArray) -> NDArray {
        let isZero = x .== 0
        let zeros = expand(isZero.to(x.dtype).sum(dims: axes), to: x.shape)
        let safe = NDArray.where(isZero, NDArray.onesLike(x), x)
        let others = expand(bind(ReduceProd(axes: axes), safe), to: x.shape)
        let noZero = others / safe
        let onlyZero = NDArray.where(isZero, others, NDArray.zerosLike(x))
        return NDArray.where(zeros .== 0, noZero, NDArray.where(zeros .== 1, onlyZero, NDArray.zerosLike(x)))
    }

    public func jvp(_ primals: [NDArray], _ tangents: [NDArray?], outputs: [NDArray]) -> [NDArray?] {
        [tangents[0].map { bind(ReduceSum(axes: axes), $0 * partial(primals[0])) }]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { expand($0, to: primals[0].shape) * partial(primals[0]) }]
    }
}

// MARK: - Extremes

/// Shared by max and min: the cotangent goes to the elements equal to the extreme.
protocol ExtremeReduction: AxesReduction {}

extension ExtremeReduction {
    /// 1/(number of ties) at the extreme elements, 0 elsewhere.
    func share(_ x: NDArray, _ y: NDArray) -> NDArray {
        let hit = (x .== expand(y, to: x.shape)).to(x.dtype)
        return hit / expand(bind(ReduceSum(axes: axes), hit), to: x.shape)
    }

    public func jvp(_ primals: [NDArray], _ tangents: [NDArray?], outputs: [NDArray]) -> [NDArray?] {
        [tangents[0].map { bind(ReduceSum(axes: axes), $0 * share(primals[0], outputs[0])) }]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { expand($0, to: primals[0].shape) * share(primals[0], outputs[0]) }]
    }
}

public struct ReduceMax: ExtremeReduction {
    public let axes: [Int]
    public init(axes: [Int]) { self.axes = axes }
    public var kind: Reduction.Kind { .max }
}

public struct ReduceMin: ExtremeReduction {
    public let axes: [Int]
    public init(axes: [Int]) { self.axes = axes }
    public var kind: Reduction.Kind { .min }
}

// MARK: - Arg-reductions

/// The int64 index of the largest (or smallest) element along `axis`, which is removed.
public struct ArgExtreme: UnaryPrimitive, PiecewiseConstant {
    public let axis: Int
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
