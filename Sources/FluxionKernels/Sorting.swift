// Sorting along one dimension: the permutation that sorts each slice (argsort). Sorted values,
// top-k and k-th values are that permutation gathered, in the array layer.
//
// Order, as PyTorch sorts: ascending or descending, NaN counted larger than every number (last
// ascending, first descending), equal elements in their original order (stable; −0 equals +0).
// The comparison breaks ties by position, which makes it a strict total order: the result does
// not depend on whether the sort underneath is stable.

/// The permutation that sorts each slice along a dimension, as PyTorch orders: NaN largest, and
/// equal elements in their original order.
public enum Sorting {
    /// The int64 positions along `dim` that sort each slice of `x` along `dim`: `x` gathered
    /// at them along `dim` is sorted. Same shape as `x`; the result is laid out with `dim`
    /// innermost (each slice's permutation contiguous), a strided view for other dims.
    public static func argsort(_ x: StridedArray, dim: Int, descending: Bool) -> StridedArray {
        switch x.dtype {
        case .float32:
            argsort(x, dim, Float.self, descending ? { $0 > $1 || ($0.isNaN && !$1.isNaN) } : { $0 < $1 || (!$0.isNaN && $1.isNaN) })
        case .float64:
            argsort(x, dim, Double.self, descending ? { $0 > $1 || ($0.isNaN && !$1.isNaN) } : { $0 < $1 || (!$0.isNaN && $1.isNaN) })
        case .int64:
            argsort(x, dim, Int64.self, descending ? { $0 > $1 } : { $0 < $1 })
        case .bool:
            argsort(Conversion.convert(x, to: .int64), dim: dim, descending: descending)
        }
    }

    /// Argsort with `before(a, b)` the strict order of values (a sorts ahead of b); elements
    /// neither before the other keep their order.
    @inlinable
    static func argsort<T: Element>(_ x: StridedArray, _ dim: Int, _: T.Type, _ before: (T, T) -> Bool) -> StridedArray {
        let n = x.shape[dim]
        var kept = x.shape, keptStrides = x.strides
        kept.remove(at: dim)
        let step = keptStrides.remove(at: dim)
        let out = Storage.allocate(.int64, count: x.count)
        if x.count > 0 {
            let o = out.pointer(Int64.self), src = x.pointer(T.self)
            let values = UnsafeMutablePointer<T>.allocate(capacity: n)
            let order = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
            defer {
                values.deallocate()
                order.deallocate()
            }
            // One slice per position of the kept dimensions, visited in row-major order, so the
            // slice at kept position p writes its permutation to o[p·n ..< (p + 1)·n].
            Loops.forEachRow(shape: kept, keptStrides, keptStrides) { oo, ox, _, m, sx, _ in
                for k in 0..<m {
                    let p = src + (ox &+ k &* sx)
                    for i in 0..<n {
                        values[i] = p[i &* step]
                        order[i] = i
                    }
                    var permutation = order  // the same memory: sorting it sorts `order`
                    permutation.sort { i, j in before(values[i], values[j]) || (!before(values[j], values[i]) && i < j) }
                    let row = o + (oo &+ k) &* n
                    for i in 0..<n { row[i] = Int64(order[i]) }
                }
            }
        }
        var strides = Array(Shape.contiguousStrides(kept + [n]).dropLast())
        strides.insert(1, at: dim)
        return StridedArray(storage: out, shape: x.shape, strides: strides)
    }
}
