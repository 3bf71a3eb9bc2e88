// Reductions over any set of dimensions (sum, prod, max, min), arg-reductions along one
// dimension, and cumulative sums.
//
// A reduction walks the input once in row-major order with an accumulator array whose strides
// are 0 along the reduced dimensions: a row along a reduced dimension folds into one
// accumulator, a row along a kept dimension adds into a row of accumulators. Floating sums and
// running sums are accurate and deterministic (Summation.swift); float32 products accumulate
// in float64, so no partial product overflows or underflows before the result does. max and
// min propagate NaN, as PyTorch's do; argmax and argmin return the first index of the extreme
// value (NaN counting as the extreme). Integer sums and products wrap around on overflow, as
// PyTorch's and NumPy's do.

import RealModule

/// Reductions over any set of dimensions, arg-reductions along one, and cumulative sums;
/// floating sums through `Summation`.
public enum Reduction {
    /// The reduction: sum, product (accumulated in float64 for float32), maximum or minimum
    /// (propagating NaN).
    public enum Kind: Sendable { /** Sum, product (float32 accumulated in float64), maximum, minimum (NaN propagating). */ case sum, prod, max, min }

    /// `x` reduced over the dimensions where `reduced[d]` is true; the result keeps those
    /// dimensions with size 1. Integer and bool sums and products must be given as int64.
    public static func reduce(_ kind: Kind, _ x: StridedArray, reduced: [Bool]) -> StridedArray {
        switch x.dtype {
        case .float32: return reduceFloating(kind, x, reduced, Float.self)
        case .float64: return reduceFloating(kind, x, reduced, Double.self)
        case .int64:
            switch kind {
            case .sum: return fold(x, reduced, Int64(0)) { $0 &+ $1 } row: { p, n, s in
                var acc: Int64 = 0
                for k in 0..<n { acc &+= p[k &* s] }
                return acc
            }
            case .prod: return fold(x, reduced, Int64(1)) { $0 &* $1 } row: { p, n, s in
                var acc: Int64 = 1
                for k in 0..<n { acc &*= p[k &* s] }
                return acc
            }
            case .max: return fold(x, reduced, Int64.min) { Swift.max($0, $1) }
            case .min: return fold(x, reduced, Int64.max) { Swift.min($0, $1) }
            }
        case .bool: kernelFailure("reduce bool arrays as int64")
        }
    }

    @inlinable
    static func reduceFloating<T: FloatingElement>(_ kind: Kind, _ x: StridedArray, _ reduced: [Bool], _: T.Type) -> StridedArray {
        switch kind {
        case .sum: return Summation.reduce(x, reduced: reduced, T.self)
        case .prod:
            guard T.self == Float.self else { return fold(x, reduced, T(1)) { $0 * $1 } }
            let wide = fold(Conversion.convert(x, to: .float64), reduced, 1.0) { $0 * $1 }
            return Conversion.convert(wide, to: .float32)
        case .max: return fold(x, reduced, -T.infinity) { $1 > $0 || $1.isNaN ? $1 : $0 }
        case .min: return fold(x, reduced, T.infinity) { $1 < $0 || $1.isNaN ? $1 : $0 }
        }
    }

    /// Folds `x` into accumulators starting at `initial`, combining with `op`; `row` folds a
    /// whole strided row into one value when given.
    @inlinable
    static func fold<T: Element>(
        _ x: StridedArray, _ reduced: [Bool], _ initial: T, _ op: (T, T) -> T,
        row: ((UnsafeMutablePointer<T>, Int, Int) -> T)? = nil
    ) -> StridedArray {
        var outShape = x.shape
        for d in 0..<outShape.count where reduced[d] { outShape[d] = 1 }
        let count = Shape.count(outShape)
        let out = Copy.full(initial, outShape)
        let acc = out.pointer(T.self)
        let src = x.pointer(T.self)
        var accStrides = out.strides
        for d in 0..<accStrides.count where reduced[d] { accStrides[d] = 0 }
        if count == 0 { return out }
        Loops.forEachRow(shape: x.shape, accStrides, x.strides) { _, oa, ox, n, sa, sx in
            let a = acc + oa, p = src + ox
            if sa == 0 {
                if let row {
                    a[0] = op(a[0], row(p, n, sx))
                } else {
                    var v = a[0]
                    for k in 0..<n { v = op(v, p[k &* sx]) }
                    a[0] = v
                }
            } else if sa == 1 && sx == 1 {
                for k in 0..<n { a[k] = op(a[k], p[k]) }
            } else {
                for k in 0..<n { a[k &* sa] = op(a[k &* sa], p[k &* sx]) }
            }
        }
        return out
    }

    // MARK: - Arg-reductions

    /// The index along `dim` of the largest (`largest`) or smallest element, int64, with `dim`
    /// kept at size 1.
    public static func argExtreme(_ x: StridedArray, dim: Int, largest: Bool) -> StridedArray {
        guard x.shape[dim] > 0 else { kernelFailure("argmax/argmin of the empty dimension \(dim) of shape \(x.shape)") }
        switch x.dtype {
        case .float32: return argExtreme(x, dim, Float.self) { largest ? ($0 > $1 || ($0.isNaN && !$1.isNaN)) : ($0 < $1 || ($0.isNaN && !$1.isNaN)) }
        case .float64: return argExtreme(x, dim, Double.self) { largest ? ($0 > $1 || ($0.isNaN && !$1.isNaN)) : ($0 < $1 || ($0.isNaN && !$1.isNaN)) }
        case .int64: return argExtreme(x, dim, Int64.self) { largest ? $0 > $1 : $0 < $1 }
        case .bool: return argExtreme(Conversion.convert(x, to: .int64), dim: dim, largest: largest)
        }
    }

    @inlinable
    static func argExtreme<T: Element>(_ x: StridedArray, _ dim: Int, _: T.Type, _ better: (T, T) -> Bool) -> StridedArray {
        var outShape = x.shape
        outShape[dim] = 1
        let count = Shape.count(outShape)
        let out = Storage.allocate(.int64, count: count)
        let o = out.pointer(Int64.self)
        // Visit each output position through a view with the reduced dimension removed.
        var shape = x.shape, strides = x.strides
        let n = shape.remove(at: dim), step = strides.remove(at: dim)
        let src = x.pointer(T.self)
        Loops.forEachRow(shape: shape, strides, strides) { oo, ox, _, m, sx, _ in
            for k in 0..<m {
                let p = src + ox + k &* sx
                var best = p[0], bestIndex = 0
                for i in 1..<Swift.max(n, 1) where better(p[i &* step], best) {
                    best = p[i &* step]
                    bestIndex = i
                }
                o[oo + k] = Int64(bestIndex)
            }
        }
        return StridedArray(contiguous: out, shape: outShape)
    }

    // MARK: - Cumulative sums

    /// Running sums of `x` along `dim` (float or int64).
    public static func cumsum(_ x: StridedArray, dim: Int) -> StridedArray {
        switch x.dtype {
        case .float32: return Summation.cumulative(x, dim: dim, Float.self)
        case .float64: return Summation.cumulative(x, dim: dim, Double.self)
        case .int64: return integerCumsum(x, dim)
        case .bool: return cumsum(Conversion.convert(x, to: .int64), dim: dim)
        }
    }

    static func integerCumsum(_ x: StridedArray, _ dim: Int) -> StridedArray {
        let c = Copy.contiguous(x)
        let p = c.pointer(Int64.self)
        let n = x.shape[dim]
        let inner = Shape.count(Array(x.shape[(dim + 1)...]))
        let outer = Shape.count(Array(x.shape[..<dim]))
        for o in 0..<outer {
            let base = p + o &* n &* inner
            for i in 1..<Swift.max(n, 1) {
                let row = base + i &* inner, previous = row - inner
                for k in 0..<inner { row[k] &+= previous[k] }
            }
        }
        return c
    }
}
