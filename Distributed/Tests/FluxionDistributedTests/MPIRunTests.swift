// The package's tests run the DistributedChecks executable (built with the tests, since this
// target depends on it) under Open MPI's mpirun on loopback, with 1, 2 and 4 ranks, and compare
// the global results of the three runs. A run that does not finish within its timeout is
// killed (coreutils `timeout`, SIGTERM then SIGKILL, and a second deadline here) and fails
// the test; so does any rank's non-zero exit.

import Foundation
import XCTest

final class MPIRunTests: XCTestCase {
    func testChecksOnOneRank() throws {
        try runChecksAndExpectSuccess(ranks: 1)
    }

    func testChecksOnTwoRanks() throws {
        try runChecksAndExpectSuccess(ranks: 2)
    }

    func testChecksOnFourRanks() throws {
        try runChecksAndExpectSuccess(ranks: 4)
    }

    /// Data-parallel training, PINN and MAML losses, DP-SGD steps: the same global numbers on
    /// 1, 2 and 4 ranks up to summation order.
    func testSameResultsOnOneTwoAndFourRanks() throws {
        let runs = try [1, 2, 4].map { ranks in try parseResults(runChecksAndExpectSuccess(ranks: ranks)) }
        XCTAssertFalse(runs[0].isEmpty, "the one-rank run wrote no results")
        for (ranks, run) in zip([2, 4], runs.dropFirst()) {
            XCTAssertEqual(Set(run.keys), Set(runs[0].keys), "results on \(ranks) ranks name different quantities")
            for (name, reference) in runs[0] {
                guard let values = run[name] else { continue }
                XCTAssertEqual(values.count, reference.count, "\(name): \(values.count) values on \(ranks) ranks, \(reference.count) on 1")
                let scale = max(1e-30, (reference + values).map(abs).max() ?? 0)
                let worst = zip(values, reference).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-10 * scale, "\(name) on \(ranks) ranks differs from 1 rank by \(worst) (scale \(scale))")
            }
        }
    }

    /// A rank whose check fails ends the whole job (MPI_Abort) with a non-zero status.
    func testAFailingRankFailsTheRun() throws {
        let run = try MPIRun(ranks: 2, arguments: ["--fail-rank", "1"], timeout: 120).run()
        XCTAssertFalse(run.timedOut, "the job hung after a rank failed:\n\(run.output)")
        XCTAssertNotEqual(run.status, 0, "a failing rank left the run successful:\n\(run.output)")
        XCTAssertTrue(run.output.contains("failing on purpose"), run.output)
    }

    /// A rank that exits with an error while the others wait in a collective ends the job.
    func testARankExitingEarlyFailsTheRun() throws {
        let run = try MPIRun(ranks: 2, arguments: ["--exit-rank", "1"], timeout: 120).run()
        XCTAssertFalse(run.timedOut, "the job hung after a rank exited:\n\(run.output)")
        XCTAssertNotEqual(run.status, 0, "a rank's exit status 3 left the run successful:\n\(run.output)")
    }

    /// A rank that never returns is killed at the timeout, and the run reports it.
    func testAHangingRankIsKilledAtTheTimeout() throws {
        let start = Date()
        let run = try MPIRun(ranks: 2, arguments: ["--hang-rank", "1"], timeout: 8).run()
        XCTAssertTrue(run.timedOut, "a hanging rank was not reported as a timeout:\n\(run.output)")
        XCTAssertNotEqual(run.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "killing the hung job took too long")
    }

    // MARK: - Helpers

    /// Runs the checks on `ranks` ranks and fails unless every rank passed; returns rank 0's results.
    @discardableResult
    func runChecksAndExpectSuccess(ranks: Int, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let results = FileManager.default.temporaryDirectory.appendingPathComponent("fluxion-distributed-\(ProcessInfo.processInfo.processIdentifier)-\(ranks).txt")
        defer { try? FileManager.default.removeItem(at: results) }
        let run = try MPIRun(ranks: ranks, arguments: ["--output", results.path], timeout: 300).run()
        XCTAssertFalse(run.timedOut, "the checks on \(ranks) ranks did not finish in time:\n\(run.output)", file: file, line: line)
        XCTAssertEqual(run.status, 0, "the checks failed on \(ranks) ranks:\n\(run.output)", file: file, line: line)
        XCTAssertTrue(run.output.contains("all checks passed on \(ranks) rank"), "no success line:\n\(run.output)", file: file, line: line)
        return (try? String(contentsOf: results, encoding: .utf8)) ?? ""
    }

    /// Lines `name v1 v2 …` as a dictionary.
    func parseResults(_ text: String) -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let name = fields.first else { continue }
            out[String(name)] = fields.dropFirst().compactMap { Double($0) }
        }
        return out
    }
}

/// One mpirun of the checks executable, with a timeout.
struct MPIRun {
    let ranks: Int
    let arguments: [String]
    let timeout: TimeInterval

    struct Outcome {
        let status: Int32
        let timedOut: Bool
        let output: String
    }

    func run() throws -> Outcome {
        let mpirun = try locate("mpirun", in: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
        let checks = try checksExecutable()
        var command = [mpirun, "--oversubscribe", "--allow-run-as-root", "--mca", "btl", "self,\(sharedMemoryTransport(mpirun))",
                       "-np", "\(ranks)", checks] + arguments
        // coreutils' timeout ends mpirun (and mpirun its ranks) with SIGTERM, then SIGKILL.
        let timeoutTool = try? locate("timeout", in: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
        if let timeoutTool { command = [timeoutTool, "-k", "10", "\(Int(timeout))"] + command }

        let log = FileManager.default.temporaryDirectory.appendingPathComponent("fluxion-mpirun-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        // Robust in containers: no single-copy mechanism (needs ptrace rights), ranks beyond
        // the cores allowed, root allowed, one BLAS thread per rank (the ranks share the cores).
        environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        // Open MPI's own point-to-point layer over the transports chosen above, never UCX, which
        // probes devices a container may not have.
        environment["OMPI_MCA_pml"] = "ob1"
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()

        // A second deadline in case `timeout` is missing or cannot end the job.
        let deadline = Date().addingTimeInterval(timeout + 30)
        var killedHere = false
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                Thread.sleep(forTimeInterval: 5)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                killedHere = true
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        // `timeout` exits with 124 when it had to end the command (137 when SIGKILL was needed).
        let timedOut = killedHere || (timeoutTool != nil && (process.terminationStatus == 124 || process.terminationStatus == 137))
        return Outcome(status: process.terminationStatus, timedOut: timedOut, output: output)
    }

    /// The DistributedChecks executable: `FLUXION_DISTRIBUTED_CHECKS` if set, else next to this
    /// test bundle in the build folder (SwiftPM builds it with the tests).
    func checksExecutable() throws -> String {
        if let path = ProcessInfo.processInfo.environment["FLUXION_DISTRIBUTED_CHECKS"] { return path }
        var candidates = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        candidates += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        for directory in candidates {
            let path = directory.appendingPathComponent("DistributedChecks").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw RunError("the DistributedChecks executable was not found next to the tests (looked in \(candidates.map(\.path)))",
                       fix: "build it with `swift build --package-path Distributed --product DistributedChecks`, or set FLUXION_DISTRIBUTED_CHECKS")
    }

    /// Open MPI 4 calls its shared-memory transport `vader`, Open MPI 5 `sm`.
    func sharedMemoryTransport(_ mpirun: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        guard (try? process.run()) != nil else { return "vader" }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let range = text.range(of: #"\d+\."#, options: .regularExpression), let major = Int(text[range].dropLast()) else { return "vader" }
        return major >= 5 ? "sm" : "vader"
    }

    func locate(_ tool: String, in path: String) throws -> String {
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw RunError("\(tool) is not on PATH", fix: "install Open MPI: apt-get install -y openmpi-bin libopenmpi-dev")
    }
}

struct RunError: Error, CustomStringConvertible {
    let description: String
    init(_ problem: String, fix: String) { description = "\(problem). Fix: \(fix)" }
}

/// The README's Swift blocks cannot drift from the code: each (its imports aside) appears line
/// for line in the checks, which compile and run it.
final class ReadmeTests: XCTestCase {
    func testEveryReadmeBlockIsInTheChecks() throws {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: package.appendingPathComponent("README.md"), encoding: .utf8)
        let checks = try String(contentsOf: package.appendingPathComponent("Sources/DistributedChecks/main.swift"), encoding: .utf8)
        func codeLines(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("import ") }
        }
        let blocks = readme.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        XCTAssertFalse(blocks.isEmpty, "README.md has no Swift block")
        let file = codeLines(checks)
        for block in blocks {
            let lines = codeLines(block)
            let found = file.count >= lines.count && (0...(file.count - lines.count)).contains { Array(file[$0..<($0 + lines.count)]) == lines }
            XCTAssertTrue(found, "this README block is not in DistributedChecks/main.swift line for line:\n\(block)")
        }
    }
}
