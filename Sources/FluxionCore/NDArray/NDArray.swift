// The immutable array value: shape, dtype, element access and the views that cost no copy.

import FluxionKernels
// The element types belong to the kernels; every layer above sees them through this module.
@_exported import enum FluxionKernels.DType
@_exported import protocol FluxionKernels.Element

/// An n-dimensional array of `float32`, `float64`, `int64` or `bool` elements: an immutable
/// value with NumPy broadcasting and PyTorch's operator vocabulary.
///
/// Copies are cheap (an array shares its storage with its copies and with the views made from
/// it: transposes, slices, broadcasts, reshapes of contiguous data); nothing ever writes to
/// storage an array can see. "Updates" such as `y[0..<2] = z` give `y` new storage.
public struct NDArray: @unchecked Sendable {
    /// The array's layout — shape, dtype, strides — and, for a concrete array, its elements; for
    /// a tracer, only its shape and dtype (over an empty block). Keeping shape and dtype here,
    /// outside any enum, lets the hot path read them without copying (and retaining) a payload.
    @usableFromInline let layout: StridedArray
    /// The tracer standing for this value inside a transform, or nil for concrete arrays.
    @usableFromInline let tracer: Tracer?

    @inlinable init(_ base: StridedArray) {
        layout = base
        tracer = nil
    }

    init(tracer: Tracer) {
        layout = StridedArray(storage: Storage.placeholder(tracer.dtype), shape: tracer.shape, strides: [], offset: 0)
        self.tracer = tracer
    }

    /// True for arrays that hold their elements (not tracers).
    @inlinable var isConcrete: Bool { tracer == nil }

    /// The elements: the array's own, or for a forward or reverse tracer those of the value it
    /// carries (batch tracers have no single value and stop with a clear message).
    @usableFromInline var elements: StridedArray {
        guard let tracer else { return layout }
        return tracer.concreteValue()
    }

    /// The elements when they can be read without reading a batch of values: the array's own,
    /// or a forward or reverse tracer's primal's; nil inside `vmap` and staging. For choosing between
    /// equivalent ways to compute (a view or a copy), never for values.
    var readableElements: StridedArray? {
        switch tracer {
        case nil: layout
        case let t as ForwardTracer: t.primal.readableElements
        case let t as ReverseTracer: t.primal.readableElements
        default: nil
        }
    }

    /// The size of each dimension (empty for a 0-d scalar).
    @inlinable public var shape: [Int] { layout.shape }

    /// The element type.
    @inlinable public var dtype: DType { layout.dtype }

    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The number of elements.
    @inlinable public var count: Int { Shape.count(shape) }

    /// True when the elements lie row-major without gaps.
    public var isContiguous: Bool { elements.isContiguous }

    /// The strides of each dimension, in elements (0 along broadcast dimensions).
    public var strides: [Int] { elements.strides }

    /// Whether two arrays are views of the same storage.
    public func sharesStorage(with other: NDArray) -> Bool { elements.storage === other.elements.storage }
}

// MARK: - Reading elements out

extension NDArray {
    /// The elements in row-major order as `T`, converting from this array's dtype.
    public func scalars<T: Element>(as _: T.Type = T.self) -> [T] {
        let c = Conversion.convert(elements, to: T.dtype).contiguous()
        return withExtendedLifetime(c) { Array(UnsafeBufferPointer(start: c.pointer(T.self), count: c.count)) }
    }

    /// The elements as `Float`.
    public var floats: [Float] { scalars(as: Float.self) }
    /// The elements as `Double`.
    public var doubles: [Double] { scalars(as: Double.self) }
    /// The elements as `Int` (floats truncate toward zero).
    public var ints: [Int] { scalars(as: Int64.self).map { Int($0) } }
    /// The elements as `Bool`.
    public var bools: [Bool] { scalars(as: Bool.self) }

    /// The single element of a one-element array, as `Double`.
    public func item(file: StaticString = #fileID, line: UInt = #line) -> Double {
        guard count == 1 else {
            fail("item", "only a one-element array converts to a scalar; this one has shape \(shape)",
                 fix: "select an element first, e.g. x[0].item(), or reduce with x.sum().item()", file: file, line: line)
        }
        return scalars(as: Double.self)[0]
    }

    /// The single element of a one-element array as `T`.
    public func item<T: Element>(as _: T.Type, file: StaticString = #fileID, line: UInt = #line) -> T {
        T(converting: item(file: file, line: line))
    }
}

// MARK: - Raw access

extension NDArray {
    /// Calls `body` with the elements in row-major order as a buffer of `T` (the array's own
    /// storage when it is contiguous and of dtype `T`, otherwise a converted copy). For
    /// handing data to C libraries; the buffer must not be written or kept.
    public func withUnsafeBufferPointer<T: Element, R>(as _: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        let c = Conversion.convert(elements, to: T.dtype).contiguous()
        return try withExtendedLifetime(c) { try body(UnsafeBufferPointer(start: c.pointer(T.self), count: c.count)) }
    }

    /// A new array of `shape` whose elements `initializer` writes, in row-major order, into a
    /// fresh buffer of `T` (as `Array(unsafeUninitializedCapacity:initializingWith:)`): for
    /// receiving data from C libraries without an extra copy. The dtype is `T`'s.
    ///
    /// `initializer` must write every element and must not keep the buffer; once it returns the
    /// elements are never written again.
    ///
    /// - Throws: what `initializer` throws (the buffer is then dropped).
    public init<T: Element>(shape: [Int], unsafeUninitializedElementsOf _: T.Type,
                            initializingWith initializer: (UnsafeMutableBufferPointer<T>) throws -> Void,
                            file: StaticString = #fileID, line: UInt = #line) rethrows {
        checkShape(shape, "NDArray(shape:unsafeUninitializedElementsOf:initializingWith:)", file: file, line: line)
        let storage = Storage.allocate(T.dtype, count: Shape.count(shape))
        try withExtendedLifetime(storage) {
            try initializer(UnsafeMutableBufferPointer(start: storage.pointer(T.self), count: Shape.count(shape)))
        }
        self.init(StridedArray(contiguous: storage, shape: shape))
    }
}


