// Planned memory for repeated calls: the storage blocks one call of a staged program used are
// kept and handed out again by the next, so that after its first calls a jitted function makes
// no new blocks — no allocator call and no fresh pages for its intermediates or its results.
//
// A pool serves every block requested on its thread while it is active (`withBlocks`). A block
// is handed out again only when the pool holds the only reference to it: an intermediate
// released after its last reader, or a result from an earlier call that the caller has since
// dropped. Reuse within one call follows from the same rule, so the pool's blocks are at most
// the call's peak working set; a block still referenced (a result the caller kept, a view of it
// in an output) is never written, so nothing a caller holds can change. At the end of each call
// the pool keeps exactly the blocks that call used and lets go of the rest (results the caller
// still holds belong to the caller alone from then on). A pool serves one call at a time; a call
// on another thread meanwhile allocates as usual.
//
// The cost is memory held between calls: a program's pool keeps its peak working set for as long
// as the program lives (as XLA keeps an executable's buffers).

import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Storage blocks kept from one call of a staged program to the next and handed out again.
public final class StoragePool: @unchecked Sendable {
    /// Each block's dtype and count, packed (`count << 2 | dtype`), for a quick scan.
    private var keys: [Int] = []
    private var blocks: [Storage] = []
    /// Whether each block was handed out during the current call.
    private var used: [Bool] = []
    private let busy = Atomic<Bool>(false)

    /// An empty pool.
    public init() {}

    /// How many blocks the pool keeps between calls.
    public var count: Int { blocks.count }

    /// Runs `body` with the storage requested on this thread served by the pool — unless another
    /// thread is using it, in which case `body` runs with ordinary allocation.
    public func withBlocks<R>(_ body: () throws -> R) rethrows -> R {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return try body() }
        let state = KernelThreadState.current
        let previous = state.pool
        state.pool = self
        defer {
            state.pool = previous
            keepUsed()
            busy.store(false, ordering: .releasing)
        }
        return try body()
    }

    /// A block for `count` elements of `dtype`: one of the pool's that nothing else references,
    /// or a new one the pool keeps.
    func block(_ dtype: DType, count: Int, state: KernelThreadState) -> Storage {
        let key = count << 2 | Int(dtype.rawValue)
        for i in keys.indices where keys[i] == key && isKnownUniquelyReferenced(&blocks[i]) {
            used[i] = true
            return blocks[i]
        }
        let block = Storage.fresh(dtype, count: count, state: state)
        keys.append(key)
        blocks.append(block)
        used.append(true)
        return block
    }

    /// Keeps the blocks the call just finished used, and no others.
    private func keepUsed() {
        var kept = 0
        for i in blocks.indices where used[i] {
            keys[kept] = keys[i]
            blocks.swapAt(kept, i)
            used[kept] = false
            kept += 1
        }
        keys.removeLast(keys.count - kept)
        blocks.removeLast(blocks.count - kept)
        used.removeLast(used.count - kept)
    }
}

/// What the kernels keep per thread.
final class KernelThreadState {
    /// The pool serving this thread's storage requests, if one is active.
    var pool: StoragePool?
    /// How many storage blocks were made on this thread (not handed out again by a pool).
    var blocksMade = 0
    private var scratch: UnsafeMutableRawPointer?
    private var scratchBytes = 0

    /// Scratch space of at least `bytes` bytes, 64-byte aligned, valid until the next request on
    /// this thread: for a kernel's temporary buffers, so that they cost no allocation per call.
    func scratch(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > scratchBytes {
            scratch?.deallocate()
            scratchBytes = Swift.max(bytes, 2 * scratchBytes)
            scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        }
        return scratch!
    }

    deinit { scratch?.deallocate() }

    /// The key of each thread's state, released with the thread.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { if let p = $0 { Unmanaged<KernelThreadState>.fromOpaque(p).release() } }
        return key
    }()

    /// This thread's state, made on its first use.
    static var current: KernelThreadState {
        if let p = pthread_getspecific(key) { return Unmanaged<KernelThreadState>.fromOpaque(p).takeUnretainedValue() }
        let state = KernelThreadState()
        pthread_setspecific(key, Unmanaged.passRetained(state).toOpaque())
        return state
    }
}
