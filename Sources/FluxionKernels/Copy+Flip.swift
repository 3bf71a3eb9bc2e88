// Reversing the order of elements along some dimensions (`torch.flip`).
//
// A view cannot express a flip: strides are never negative (StridedArray.swift), so a flip is
// a copy. Inside this one loop the source is read from the far end of each flipped dimension
// with that dimension's stride negated; the row machinery of `Loops.forEachRow` only adds and
// multiplies strides, so it merges and walks negative strides as it does positive ones. No
// array with a negative stride ever leaves this function.

extension Copy {
    /// `x` with its elements in reverse order along every dimension d where `flipped[d]`, as a
    /// new contiguous array of the same shape and dtype.
    public static func flip(_ x: StridedArray, flipped: [Bool]) -> StridedArray {
        switch x.dtype {
        case .float32: flip(x, flipped, Float.self)
        case .float64: flip(x, flipped, Double.self)
        case .int64: flip(x, flipped, Int64.self)
        case .bool: flip(x, flipped, Bool.self)
        }
    }

    @inlinable
    static func flip<T: Element>(_ x: StridedArray, _ flipped: [Bool], _: T.Type) -> StridedArray {
        let out = Storage.allocate(T.dtype, count: x.count)
        let o = out.pointer(T.self)
        var start = 0
        var strides = x.strides
        for d in 0..<x.rank where flipped[d] && x.shape[d] > 1 {
            start &+= (x.shape[d] &- 1) &* strides[d]
            strides[d] = -strides[d]
        }
        let src = x.pointer(T.self) + start
        Loops.forEachRow(shape: x.shape, strides, strides) { oo, os, _, m, ss, _ in
            for k in 0..<m { o[oo &+ k] = src[os &+ k &* ss] }
        }
        return StridedArray(contiguous: out, shape: x.shape)
    }
}
