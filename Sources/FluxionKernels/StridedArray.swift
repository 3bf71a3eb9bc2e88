// The kernels' view of an array: a storage block read through shape, strides and offset.
//
// Strides are in elements and may be 0 (a broadcast dimension) but never negative. A view is
// contiguous when its strides are the row-major strides of its shape; kernels take any view
// and produce contiguous results.

/// A strided view of a `Storage` block.
public struct StridedArray: @unchecked Sendable {
    /// The block the elements live in (shared between views).
    public let storage: Storage
    /// The size of each dimension.
    public let shape: [Int]
    /// The step, in elements, between neighbours along each dimension (0: broadcast); never negative.
    public let strides: [Int]
    /// The position of element [0, …, 0] in the storage.
    public let offset: Int

    /// A view of `storage` with the given shape, strides and offset (not checked against the
    /// storage's size).
    @inlinable
    public init(storage: Storage, shape: [Int], strides: [Int], offset: Int = 0) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A contiguous array over the whole of `storage`.
    @inlinable
    public init(contiguous storage: Storage, shape: [Int]) {
        self.init(storage: storage, shape: shape, strides: Shape.contiguousStrides(shape), offset: 0)
    }

    /// The storage's element type.
    @inlinable public var dtype: DType { storage.dtype }
    /// The number of elements: the product of the shape.
    @inlinable public var count: Int { Shape.count(shape) }
    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// Row-major contiguous (size-1 dimensions may have any stride).
    @inlinable public var isContiguous: Bool { Shape.isContiguous(shape: shape, strides: strides) }

    /// The elements as `T` starting at this view's offset.
    @inlinable public func pointer<T: Element>(_: T.Type) -> UnsafeMutablePointer<T> {
        storage.pointer(T.self) + offset
    }

    /// This view with another shape and strides over the same storage.
    @inlinable
    public func view(shape: [Int], strides: [Int], offset: Int? = nil) -> StridedArray {
        StridedArray(storage: storage, shape: shape, strides: strides, offset: offset ?? self.offset)
    }

    /// Contiguous, copying only when the view is not.
    @inlinable public func contiguous() -> StridedArray {
        isContiguous ? self : Copy.contiguous(self)
    }
}

/// Shape arithmetic shared by the kernels and the array layer.
///
/// A valid shape has sizes of 0 or more whose product, over the non-zero sizes, is at most
/// `maxCount`: every element count and every stride then fits an `Int`, and every byte count
/// too. The array layer checks each shape it makes (naming the operation); `count` stops on
/// any shape that slipped past, rather than wrapping around.
public enum Shape {
    /// The most elements an array may have: 2⁶⁰ − 1, so that byte counts of every dtype fit.
    public static let maxCount = Int.max / 8

    /// The number of elements of a valid shape.
    @inlinable public static func count(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            let (product, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { tooLarge(shape) }
            n = product
        }
        return n
    }

    /// The product of the non-zero sizes of `shape` (the count that strides are built from),
    /// or nil when a size is negative or the product exceeds `maxCount`.
    @inlinable public static func checkedExtent(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = n.multipliedReportingOverflow(by: Swift.max(d, 1))
            guard !overflow, product <= maxCount else { return nil }
            n = product
        }
        return n
    }

    /// The stop for a shape whose element count does not fit.
    @usableFromInline static func tooLarge(_ shape: [Int]) -> Never {
        fatalError("Fluxion: an array of shape \(shape) would have more elements than can be addressed (at most \(maxCount)). Fix: use smaller sizes")
    }

    /// The row-major strides of `shape` (the last dimension's is 1).
    @inlinable public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        if shape.isEmpty { return [] }
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s &*= Swift.max(shape[i], 1)
        }
        return strides
    }

    /// Whether the strides are the row-major ones of `shape` (size-1 dimensions may have any stride).
    @inlinable public static func isContiguous(shape: [Int], strides: [Int]) -> Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if shape[i] == 0 { return true }
            if strides[i] != expected { return false }
            expected &*= shape[i]
        }
        return true
    }

    /// Strides that read the elements of a `shape`/`strides` view in row-major order as
    /// `newShape` without copying, or nil when the layout does not allow it (NumPy's
    /// no-copy reshape: each group of old dimensions merged or split must be contiguous
    /// within itself).
    public static func viewStrides(shape: [Int], strides: [Int], as newShape: [Int]) -> [Int]? {
        if count(shape) == 0 { return contiguousStrides(newShape) }
        let old = Swift.zip(shape, strides).filter { $0.0 != 1 }
        var result = [Int](repeating: 0, count: newShape.count)
        var oi = 0, ni = 0
        while ni < newShape.count {
            if newShape[ni] == 1 {
                ni += 1
                continue
            }
            guard oi < old.count else { return nil }
            var op = old[oi].0, np = newShape[ni]
            var oj = oi + 1, nj = ni + 1
            while op != np {
                if op < np {
                    guard oj < old.count else { return nil }
                    op *= old[oj].0
                    oj += 1
                } else {
                    guard nj < newShape.count else { return nil }
                    np *= newShape[nj]
                    nj += 1
                }
            }
            for k in oi..<(oj - 1) where old[k].1 != old[k + 1].1 * old[k + 1].0 { return nil }
            result[nj - 1] = old[oj - 1].1
            var k = nj - 1
            while k > ni {
                result[k - 1] = result[k] * newShape[k]
                k -= 1
            }
            oi = oj
            ni = nj
        }
        return oi == old.count ? result : nil
    }

    /// NumPy broadcasting of two shapes, or nil when they are incompatible.
    @inlinable public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        if a == b { return a }
        let n = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Strides that read an array of `shape`/`strides` as if it had the (broadcast) shape `to`:
    /// new leading dimensions and stretched size-1 dimensions get stride 0.
    @inlinable public static func broadcastStrides(shape: [Int], strides: [Int], to target: [Int]) -> [Int] {
        let lead = target.count - shape.count
        var out = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where !(shape[i] == 1 && target[lead + i] != 1) {
            out[lead + i] = strides[i]
        }
        return out
    }
}
