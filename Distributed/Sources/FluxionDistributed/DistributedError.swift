// The one error this module throws: what failed, why, and what to do. MPI's failures (with
// `MPI_ERRORS_RETURN` set, a failing call returns a code) carry the code and MPI's own text.

import CMPI

/// A failed collective or a misuse of one: the operation, the problem (with shapes, dtypes
/// and ranks where they matter) and a fix. Failures of MPI itself carry MPI's error code.
public struct DistributedError: Error, CustomStringConvertible, Equatable {
    /// The operation that failed, as the user called it (`allReduce`, `broadcast`, …).
    public let operation: String
    /// What was wrong.
    public let problem: String
    /// What to do about it.
    public let fix: String
    /// MPI's error code, or nil when the check is this module's own.
    public let mpiCode: Int32?

    /// An error of `operation`.
    public init(operation: String, problem: String, fix: String, mpiCode: Int32? = nil) {
        self.operation = operation
        self.problem = problem
        self.fix = fix
        self.mpiCode = mpiCode
    }

    /// `FluxionDistributed: operation: problem (MPI error code). Fix: fix`.
    public var description: String {
        "FluxionDistributed: \(operation): \(problem)\(mpiCode.map { " (MPI error \($0))" } ?? ""). Fix: \(fix)"
    }
}

/// Throws a `DistributedError` for an MPI return code other than `MPI_SUCCESS`, with MPI's text
/// for it.
func check(_ code: Int32, _ operation: String,
           fix: String = "check that every rank calls the same collectives in the same order with the same shapes") throws {
    guard code != MPI_SUCCESS else { return }
    var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
    var length: Int32 = 0
    let message = MPI_Error_string(code, &text, &length) == MPI_SUCCESS
        ? String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        : "unknown MPI error"
    throw DistributedError(operation: operation, problem: message, fix: fix, mpiCode: code)
}
