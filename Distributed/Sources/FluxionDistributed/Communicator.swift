// A group of MPI processes (ranks) and the process-wide MPI lifetime.
//
// MPI is initialised once per process, on first use of `Communicator.world`, with
// `MPI_Init_thread(MPI_THREAD_SERIALIZED)`: calls may come from any thread (Swift tasks move
// between threads) but never two at once, which one process-wide lock around every call
// guarantees. `MPI_Finalize` runs at process exit with status 0 (an `on_exit` handler) or earlier
// through `Communicator.finalize()`; after it no communicator can be used, and calls throw. A
// process that exits with another status calls `MPI_Abort` instead, which ends every rank:
// finalising would wait for ranks that may be waiting for this one.
//
// Errors: every communicator this module makes has `MPI_ERRORS_RETURN` as its error handler, so
// a failing MPI call returns its code instead of aborting the job, and the code becomes a
// thrown `DistributedError` with MPI's own message. A rank that cannot continue while others
// may be waiting in a collective should end the job: `Communicator.abort(code:)`, or
// `exit` with a non-zero status. (A trap, such as a failed bounds check, ends the rank with a
// signal, and mpirun then ends the others.)
//
// Left out: point-to-point messages, non-blocking collectives, and communicators other than
// the world and its splits.

import CMPI
import Foundation

/// A group of MPI processes that take part in collectives together: the world (every process
/// mpirun started) or a part of it made by `split(color:key:)`.
///
/// ```swift
/// let world = try Communicator.world
/// let shard = world.shard(batch)                        // this rank's rows
/// let g = try world.allReduce(localGradient, .mean)     // the same on every rank
/// ```
///
/// Collectives must be called by every rank of the communicator, in the same order, with
/// arrays of the same shapes and dtypes (checked: a mismatch throws on every rank).
public final class Communicator: @unchecked Sendable {
    /// The MPI handle.
    let handle: MPI_Comm
    /// This process's index in the group, 0 ..< size.
    public let rank: Int
    /// The number of processes in the group.
    public let size: Int
    /// Whether the handle was made here and must be freed (every communicator but the world).
    private let owned: Bool
    /// Serialises the process's MPI calls, on every communicator (MPI_THREAD_SERIALIZED).
    static let lock = NSLock()

    init(handle: MPI_Comm, owned: Bool) throws {
        self.handle = handle
        self.owned = owned
        var r: Int32 = 0, s: Int32 = 0
        Communicator.lock.lock()
        defer { Communicator.lock.unlock() }
        try check(MPI_Comm_set_errhandler(handle, cmpi_errors_return()), "Communicator", fix: "check that Open MPI is installed and working")
        try check(MPI_Comm_rank(handle, &r), "Communicator.rank")
        try check(MPI_Comm_size(handle, &s), "Communicator.size")
        rank = Int(r)
        size = Int(s)
    }

    deinit {
        if owned, !MPIEnvironment.isFinalized {
            var h: MPI_Comm? = handle
            Communicator.lock.lock()
            _ = MPI_Comm_free(&h)
            Communicator.lock.unlock()
        }
    }

    /// Every process the job started (`MPI_COMM_WORLD`), initialising MPI on first use. A
    /// program run without mpirun is a world of one rank.
    ///
    /// - Throws: `DistributedError` when MPI was already finalized, or cannot give the thread
    ///   support this module needs.
    public static var world: Communicator {
        get throws { try MPIEnvironment.world() }
    }

    /// The ranks that pass the same `color`, as a new communicator, ordered by `key` (then by
    /// their rank here): `world.split(color: world.rank / 2)` pairs neighbouring ranks.
    /// Every rank of this communicator must call it.
    ///
    /// - Parameters:
    ///   - color: the group to join, ≥ 0.
    ///   - key: the order within the group; the default keeps this communicator's order.
    /// - Returns: the group this rank joined.
    /// - Throws: `DistributedError` for a negative color or a failing MPI call.
    public func split(color: Int, key: Int? = nil) throws -> Communicator {
        guard color >= 0, color <= Int(Int32.max) else {
            throw DistributedError(operation: "Communicator.split", problem: "color \(color) is outside 0 ... \(Int32.max)",
                                   fix: "pass a non-negative color that fits in 32 bits")
        }
        let order = key ?? rank
        guard let order32 = Int32(exactly: order) else {
            throw DistributedError(operation: "Communicator.split", problem: "key \(order) does not fit in 32 bits", fix: "pass a smaller key")
        }
        var newHandle: MPI_Comm? = cmpi_comm_null()
        try call("Communicator.split") { MPI_Comm_split(handle, Int32(color), order32, &newHandle) }
        guard let newHandle else {
            throw DistributedError(operation: "Communicator.split", problem: "MPI returned no communicator", fix: "check the MPI installation")
        }
        return try Communicator(handle: newHandle, owned: true)
    }

    /// Waits until every rank of the group has called `barrier()` (`MPI_Barrier`).
    ///
    /// - Throws: `DistributedError` when the MPI call fails.
    public func barrier() throws {
        try call("barrier") { MPI_Barrier(handle) }
    }

    /// Ends the whole job at once with exit code `code` on every rank (`MPI_Abort`): what a
    /// rank should do on an error it cannot recover from, so that the other ranks do not wait
    /// for it forever.
    public static func abort(code: Int32 = 1) -> Never {
        if MPIEnvironment.isInitialized, !MPIEnvironment.isFinalized {
            _ = MPI_Abort(cmpi_comm_world(), code)
        }
        exit(code)
    }

    /// Finalises MPI now instead of at exit (`MPI_Finalize`); every rank must call it. Later
    /// uses of any communicator throw. Calling it again, or without MPI started, does nothing.
    ///
    /// - Throws: `DistributedError` when `MPI_Finalize` fails.
    public static func finalize() throws {
        try MPIEnvironment.finalize()
    }

    /// Runs `body` (one MPI call) under the process-wide lock and turns a failing return code
    /// into a thrown error naming `operation`.
    func call(_ operation: String, fix: String = "check that every rank calls the same collectives in the same order with the same shapes",
              _ body: () -> Int32) throws {
        guard !MPIEnvironment.isFinalized else {
            throw DistributedError(operation: operation, problem: "MPI has been finalized", fix: "make every collective call before Communicator.finalize()")
        }
        Communicator.lock.lock()
        let code = body()
        Communicator.lock.unlock()
        try check(code, operation, fix: fix)
    }
}

/// The process's MPI state: initialised once, finalised once.
enum MPIEnvironment {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var worldCommunicator: Communicator?

    static var isInitialized: Bool {
        var flag: Int32 = 0
        _ = MPI_Initialized(&flag)
        return flag != 0
    }

    static var isFinalized: Bool {
        var flag: Int32 = 0
        _ = MPI_Finalized(&flag)
        return flag != 0
    }

    static func world() throws -> Communicator {
        lock.lock()
        defer { lock.unlock() }
        if let worldCommunicator { return worldCommunicator }
        guard !isFinalized else {
            throw DistributedError(operation: "Communicator.world", problem: "MPI has been finalized and cannot be started again",
                                   fix: "finalize only once, after the last collective")
        }
        if !isInitialized {
            var provided: Int32 = 0
            let code = MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided)
            try check(code, "Communicator.world (MPI_Init_thread)", fix: "run under mpirun, or check the Open MPI installation")
            guard provided >= cmpi_thread_serialized() else {
                throw DistributedError(operation: "Communicator.world", problem: "MPI gives thread level \(provided), below MPI_THREAD_SERIALIZED",
                                       fix: "use an MPI built with thread support (Debian's Open MPI is)")
            }
            #if canImport(Glibc)
            on_exit({ status, _ in MPIEnvironment.endAtExit(status: status) }, nil)
            #else
            atexit { MPIEnvironment.endAtExit(status: 0) }
            #endif
        }
        let world = try Communicator(handle: cmpi_comm_world(), owned: false)
        worldCommunicator = world
        return world
    }

    static func finalize() throws {
        lock.lock()
        defer { lock.unlock() }
        guard isInitialized, !isFinalized else { return }
        worldCommunicator = nil
        try check(MPI_Finalize(), "Communicator.finalize", fix: "call it once on every rank, after the last collective")
    }

    /// At process exit: `MPI_Finalize` after a successful run; after a failing one
    /// (`exit(status)` with status ≠ 0) `MPI_Abort`, because finalising waits for the other
    /// ranks, which may be waiting in a collective for this one: the job would hang.
    static func endAtExit(status: Int32) {
        guard isInitialized, !isFinalized else { return }
        if status != 0 {
            _ = MPI_Abort(cmpi_comm_world(), status)
        } else {
            _ = MPI_Finalize()
        }
    }
}
