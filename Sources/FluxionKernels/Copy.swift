// Kernels that move elements without arithmetic on them (beyond the adds of scatter):
// strided → contiguous copies, writes into a region, fill, concatenation, constant padding,
// gather / scatter-add along a dimension and index-select / index-add.

/// Kernels that move elements without arithmetic on them: contiguous copies, writes into a
/// region, fills, concatenation, padding, gathers and scatter-adds.
public enum Copy {
    /// A contiguous copy of `x`.
    public static func contiguous(_ x: StridedArray) -> StridedArray {
        switch x.dtype {
        case .float32: Elementwise.map(x, Kernel.Identity<Float>())
        case .float64: Elementwise.map(x, Kernel.Identity<Double>())
        case .int64: Elementwise.map(x, Kernel.Identity<Int64>())
        case .bool: Elementwise.map(x, Kernel.Identity<Bool>())
        }
    }

    /// A new contiguous block of `shape` filled with `value`.
    public static func full(_ value: Double, shape: [Int], dtype: DType) -> StridedArray {
        switch dtype {
        case .float32: full(Float(value), shape)
        case .float64: full(value, shape)
        case .int64: full(Int64(converting: value), shape)
        case .bool: full(value != 0, shape)
        }
    }

    /// A new contiguous block of `shape` with every element `value`.
    @inlinable
    public static func full<T: Element>(_ value: T, _ shape: [Int]) -> StridedArray {
        let n = Shape.count(shape)
        let s = Storage.allocate(T.dtype, count: n)
        s.pointer(T.self).initialize(repeating: value, count: n)
        return StridedArray(contiguous: s, shape: shape)
    }

    /// The `rows`×`columns` identity: zeros with ones on the main diagonal.
    public static func identity(rows: Int, columns: Int, dtype: DType) -> StridedArray {
        let eye = full(0, shape: [rows, columns], dtype: dtype)
        let diagonal = eye.view(shape: [Swift.min(rows, columns)], strides: [columns + 1])
        assign(full(1, shape: [], dtype: dtype), into: diagonal)
        return eye
    }

    /// Writes `source`, broadcast to `destination.shape`, into the strided region `destination`.
    /// The destination's storage must be a fresh block nobody else has seen yet.
    public static func assign(_ source: StridedArray, into destination: StridedArray) {
        guard source.dtype == destination.dtype else { kernelFailure("assign: a \(source.dtype) source into a \(destination.dtype) destination") }
        switch source.dtype {
        case .float32: assign(source, into: destination, Float.self)
        case .float64: assign(source, into: destination, Double.self)
        case .int64: assign(source, into: destination, Int64.self)
        case .bool: assign(source, into: destination, Bool.self)
        }
    }

    @inlinable
    static func assign<T: Element>(_ source: StridedArray, into destination: StridedArray, _: T.Type) {
        let src = source.pointer(T.self), dst = destination.pointer(T.self)
        let ss = Shape.broadcastStrides(shape: source.shape, strides: source.strides, to: destination.shape)
        Loops.forEachRow(shape: destination.shape, destination.strides, ss) { _, od, os, m, sd, sss in
            for k in 0..<m { dst[od &+ k &* sd] = src[os &+ k &* sss] }
        }
    }

    /// The arrays joined along `axis` (all have one dtype and agree elsewhere).
    public static func concat(_ parts: [StridedArray], axis: Int, shape: [Int]) -> StridedArray {
        let out = Storage.allocate(parts[0].dtype, count: Shape.count(shape))
        let whole = StridedArray(contiguous: out, shape: shape)
        var start = 0
        for part in parts {
            var region = shape
            region[axis] = part.shape[axis]
            assign(part, into: whole.view(shape: region, strides: whole.strides, offset: start * whole.strides[axis]))
            start += part.shape[axis]
        }
        return whole
    }

    /// `x` with `padding[d] = (before, after)` elements of `value` added around dimension d.
    public static func pad(_ x: StridedArray, _ padding: [(Int, Int)], value: Double) -> StridedArray {
        var shape = x.shape
        var offset = 0
        for d in 0..<shape.count { shape[d] += padding[d].0 + padding[d].1 }
        let whole = full(value, shape: shape, dtype: x.dtype)
        for d in 0..<shape.count { offset += padding[d].0 * whole.strides[d] }
        assign(x, into: whole.view(shape: x.shape, strides: whole.strides, offset: offset))
        return whole
    }

    // MARK: - Indexed reads and writes

    /// `out[i][j][k] = x[index[i][j][k]][j][k]` (for `dim` 0; likewise for other dims), as
    /// `torch.gather`. `index` is int64 of the same rank as `x`.
    public static func gather(_ x: StridedArray, dim: Int, index: StridedArray) -> StridedArray {
        switch x.dtype {
        case .float32: gather(x, dim, index, Float.self)
        case .float64: gather(x, dim, index, Double.self)
        case .int64: gather(x, dim, index, Int64.self)
        case .bool: gather(x, dim, index, Bool.self)
        }
    }

    @inlinable
    static func gather<T: Element>(_ x: StridedArray, _ dim: Int, _ index: StridedArray, _: T.Type) -> StridedArray {
        let n = index.count
        let out = Storage.allocate(T.dtype, count: n)
        let o = out.pointer(T.self), src = x.pointer(T.self)
        forEachIndexed("gather", index, dim: dim, size: x.shape[dim]) { i, position, target in
            o[i] = src[offset(of: position, strides: x.strides, replacing: dim, with: target)]
        }
        return StridedArray(contiguous: out, shape: index.shape)
    }

    /// `zeros(shape)` with `out[index[i][j][k]][j][k] += source[i][j][k]` (for `dim` 0), as
    /// `torch.scatter_add` onto zeros; `source` has `index`'s shape.
    public static func scatterAdd(shape: [Int], dim: Int, index: StridedArray, source: StridedArray) -> StridedArray {
        switch source.dtype {
        case .float32: scatterAdd(shape, dim, index, source, Float.self)
        case .float64: scatterAdd(shape, dim, index, source, Double.self)
        case .int64: scatterAdd(shape, dim, index, source, Int64.self)
        case .bool: kernelFailure("scatterAdd is not defined for bool")
        }
    }

    @inlinable
    static func scatterAdd<T: Element & AdditiveArithmetic>(
        _ shape: [Int], _ dim: Int, _ index: StridedArray, _ source: StridedArray, _: T.Type
    ) -> StridedArray {
        let whole = full(T.zero, shape)
        let o = whole.pointer(T.self)
        let values = Elementwise.broadcast(source, to: index.shape).contiguous()
        withExtendedLifetime(values) {
            let src = values.pointer(T.self)
            forEachIndexed("scatterAdd", index, dim: dim, size: shape[dim]) { i, position, target in
                o[offset(of: position, strides: whole.strides, replacing: dim, with: target)] += src[i]
            }
        }
        return whole
    }

    /// Visits every element of the int64 array `index` in row-major order with its flat number,
    /// its multi-index and its value, checking the value lies in `0..<size`.
    @inlinable
    static func forEachIndexed(_ operation: String, _ index: StridedArray, dim: Int, size: Int, _ body: (Int, [Int], Int) -> Void) {
        let indices = index.contiguous()
        defer { withExtendedLifetime(indices) {} }
        let idx = indices.pointer(Int64.self)
        let n = index.count
        var position = [Int](repeating: 0, count: index.rank)
        for i in 0..<n {
            let target = Int(idx[i])
            guard target >= 0 && target < size else {
                kernelFailure("\(operation): index \(target) is out of range for dimension \(dim) of size \(size). Fix: use indices in 0..<\(size)")
            }
            body(i, position, target)
            var d = index.rank - 1
            while d >= 0 {
                position[d] += 1
                if position[d] < index.shape[d] { break }
                position[d] = 0
                d -= 1
            }
        }
    }

    @inlinable
    static func offset(of position: [Int], strides: [Int], replacing dim: Int, with value: Int) -> Int {
        var o = 0
        for d in 0..<position.count { o &+= (d == dim ? value : position[d]) &* strides[d] }
        return o
    }

    /// The slices of `x` along `dim` picked by the 1-D int64 `indices`, as `torch.index_select`.
    public static func indexSelect(_ x: StridedArray, dim: Int, indices: StridedArray) -> StridedArray {
        let idx = indices.contiguous()
        defer { withExtendedLifetime(idx) {} }
        let ip = idx.pointer(Int64.self)
        var shape = x.shape
        shape[dim] = idx.count
        let whole = StridedArray(contiguous: Storage.allocate(x.dtype, count: Shape.count(shape)), shape: shape)
        var region = shape
        region[dim] = 1
        for j in 0..<idx.count {
            let i = Int(ip[j])
            guard i >= 0 && i < x.shape[dim] else {
                kernelFailure("indexSelect: index \(i) is out of range for dimension \(dim) of size \(x.shape[dim]). Fix: use indices in 0..<\(x.shape[dim])")
            }
            assign(x.view(shape: region, strides: x.strides, offset: x.offset + i * x.strides[dim]),
                   into: whole.view(shape: region, strides: whole.strides, offset: j * whole.strides[dim]))
        }
        return whole
    }

    /// `zeros(shape)` with slice `indices[j]` along `dim` increased by slice j of `source`: the
    /// adjoint of `indexSelect`, as `torch.index_add`.
    public static func indexAdd(shape: [Int], dim: Int, indices: StridedArray, source: StridedArray) -> StridedArray {
        let index = broadcastIndex(indices, along: dim, to: source.shape)
        return scatterAdd(shape: shape, dim: dim, index: index, source: source)
    }

    /// A 1-D index placed along `dim` and broadcast to `shape`, for scatter and gather.
    static func broadcastIndex(_ indices: StridedArray, along dim: Int, to shape: [Int]) -> StridedArray {
        var strides = [Int](repeating: 0, count: shape.count)
        strides[dim] = indices.strides.first ?? 0
        return indices.view(shape: shape, strides: strides)
    }
}
