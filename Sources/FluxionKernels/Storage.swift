import CBLAS
import Synchronization

// Element storage: one heap allocation per buffer (header and elements together), so that the
// result of a small operation costs a single allocation.

/// The header of a `Storage` block.
public struct StorageHeader: Sendable {
    /// The element type of the block.
    public let dtype: DType
    /// The number of elements in the block.
    public let count: Int
    /// A header for `count` elements of `dtype`.
    @inlinable public init(dtype: DType, count: Int) {
        self.dtype = dtype
        self.count = count
    }
}

/// A contiguous block of elements of one dtype. Views share it; nothing writes to a block after
/// the kernel that filled it returns, which is what makes arrays immutable values.
public final class Storage: ManagedBuffer<StorageHeader, UInt64> {
    /// A new, uninitialised block for `count` elements of `dtype` — or, while a staged program's
    /// `StoragePool` serves this thread, one of its blocks that nothing else references.
    public static func allocate(_ dtype: DType, count: Int) -> Storage {
        guard count >= 0 && count <= Shape.maxCount else { Shape.tooLarge([count]) }
        let state = KernelThreadState.current
        if let pool = state.pool { return pool.block(dtype, count: count, state: state) }
        return fresh(dtype, count: count, state: state)
    }

    /// How many blocks have been made on the calling thread so far (blocks a pool handed out
    /// again are not made): the difference over a stretch of code is what it allocated.
    public static var blocksMadeOnThisThread: Int { KernelThreadState.current.blocksMade }

    /// A block fresh from the heap, counted on the thread's state.
    static func fresh(_ dtype: DType, count: Int, state: KernelThreadState) -> Storage {
        state.blocksMade += 1
        let words = Swift.max((count * dtype.byteSize + 7) / 8, 1)
        if words >= 1 << 14 {
            _ = heapConfigured
            if words >= 1 << 23 { ensureAvailable(bytes: words * 8, count: count, dtype: dtype) }
        }
        let block = create(minimumCapacity: words) { _ in StorageHeader(dtype: dtype, count: count) }
        let storage = unsafeDowncast(block, to: Storage.self)
        liveCounter.add(1, ordering: .relaxed)
        let raw = storage.raw
        switch dtype {
        case .bool: raw.bindMemory(to: Bool.self, capacity: count)
        case .int64: raw.bindMemory(to: Int64.self, capacity: count)
        case .float32: raw.bindMemory(to: Float.self, capacity: count)
        case .float64: raw.bindMemory(to: Double.self, capacity: count)
        }
        return storage
    }

    deinit { Storage.liveCounter.subtract(1, ordering: .relaxed) }

    /// How many blocks are alive in the process: for tests and diagnostics (a loop whose
    /// count keeps growing is keeping results alive).
    public static var liveBlocks: Int { liveCounter.load(ordering: .relaxed) }

    @usableFromInline static let liveCounter = Atomic<Int>(0)

    /// A new block holding `values`.
    @inlinable
    public static func make<T: Element>(_ values: some Collection<T>) -> Storage {
        let storage = allocate(T.dtype, count: values.count)
        let p = storage.pointer(T.self)
        var i = 0
        for v in values { p[i] = v; i += 1 }
        return storage
    }

    /// Large blocks come and go with every operation on big arrays. glibc serves blocks above
    /// its mmap threshold with fresh pages from the kernel and returns the heap's free top to it
    /// above the trim threshold, so each new result would pay a page fault per 4 KiB (at a
    /// gigabyte of per-example gradients, more than half the time). Both thresholds are raised:
    /// freed blocks stay with the process, up to 2 GiB, and are reused, as a caching allocator
    /// does; `malloc_trim(0)` hands them back.
    @usableFromInline static let heapConfigured: Bool = {
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        return true
    }()

    /// Stops with Fluxion's message when a large block cannot be had, instead of the runtime's
    /// bare "could not allocate memory". The trial block is handed straight back; the heap
    /// keeps it for the allocation that follows.
    @usableFromInline static func ensureAvailable(bytes: Int, count: Int, dtype: DType) {
        guard let trial = malloc(bytes) else {
            let gib = Double(bytes) / Double(1 << 30)
            fatalError("Fluxion: out of memory: an array of \(count) \(dtype) elements needs \((gib * 10).rounded() / 10) GiB, which this process cannot allocate. Fix: work in smaller pieces (e.g. vmap's chunkSize:), use float32, or release large arrays first")
        }
        free(trial)
    }

    // Read the header through its pointer: the `header` property is a class `var`, and each
    // access to it would pay a dynamic exclusivity check on this hot path.
    /// An empty block of each dtype, shared by arrays that only need a dtype.
    nonisolated(unsafe) public static let placeholders: [Storage] = DType.allCases.map { allocate($0, count: 0) }

    /// The shared empty block of `dtype`.
    @inlinable public static func placeholder(_ dtype: DType) -> Storage { placeholders[Int(dtype.rawValue)] }

    /// The element type of the block.
    @inlinable public var dtype: DType { withUnsafeMutablePointerToHeader { $0.pointee.dtype } }
    /// The number of elements in the block.
    @inlinable public var count: Int { withUnsafeMutablePointerToHeader { $0.pointee.count } }

    /// The start of the elements, untyped.
    @inlinable public var raw: UnsafeMutableRawPointer {
        withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
    }

    /// The elements as `T`; `T` must match `dtype`.
    @inlinable public func pointer<T: Element>(_: T.Type) -> UnsafeMutablePointer<T> {
        raw.assumingMemoryBound(to: T.self)
    }
}
