// Reductions over a set of axes (the reduced axes are removed; `keepDim` is a reshape in the
// array layer), arg-reductions along one axis, and cumulative sums. Integer and bool sums and
// products arrive as int64.

import FluxionKernels

/// A reduction over `axes` of one input.
public protocol AxesReduction: UnaryPrimitive {
    var axes: [Int] { get }
    var kind: Reduction.Kind { get }
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
}

// MARK: - Sum, product, extremes
public struct ReduceSum: AxesReduction { public let axes: [Int]; public var kind: Reduction.Kind { .sum } }
public struct ReduceProd: AxesReduction { public let axes: [Int]; public var kind: Reduction.Kind { .prod } }
public struct ReduceMax: AxesReduction { public let axes: [Int]; public var kind: Reduction.Kind { .max } }
public struct ReduceMin: AxesReduction { public let axes: [Int]; public var kind: Reduction.Kind { .min } }

// MARK: - Arg-reductions

/// The int64 index of the largest (or smallest) element along `axis`, which is removed.
public struct ArgExtreme: UnaryPrimitive {
    public let axis: Int
    public let largest: Bool
    public var name: String { largest ? "argmax" : "argmin" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        let kept = Reduction.argExtreme(x, dim: axis, largest: largest)
        var shape = x.shape
        shape.remove(at: axis)
        return kept.view(shape: shape, strides: Shape.contiguousStrides(shape))
    }
}

// MARK: - Cumulative sum

/// Running sums along `axis`.
public struct CumSum: UnaryPrimitive {
    public let axis: Int
    public var name: String { "cumsum" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Reduction.cumsum(x, dim: axis) }
}
