// Checks that need an optimised build: `swift run -c release FluxionReleaseChecks`.
//
// 1. Every case of the misuse catalogue (MisuseCases.swift) runs in a child process of this
//    executable and must stop with its message: under `-O` Swift drops the message of a
//    `precondition`, so a check written with one would stop here in silence.
// 2. Results that must not depend on the build configuration (accurate sums, the untaken branch
//    of `where` at second order) are compared with the values the debug test suite checks.
// 3. Anomaly mode names the user's forward line: the caller's file and line for a custom
//    `Function` (an optimised build's call stack has compiler-made frames there), the call
//    stack for an operator.
//
// Prints one line per check and exits with status 1 if any fails.

import Foundation
import Fluxion
import MisuseCases

if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "--case" {
    runMisuseCase(named: CommandLine.arguments[2])
    print("the case returned without stopping")
    exit(0)
}

nonisolated(unsafe) var failures = 0

func report(_ ok: Bool, _ what: String, _ detail: @autoclosure () -> String = "") {
    print("\(ok ? "ok  " : "FAIL") \(what)\(ok ? "" : ": " + detail())")
    if !ok { failures += 1 }
}

/// Runs one misuse case in a child process; returns its exit status, whether a signal ended it,
/// and what it wrote to standard error.
func runChild(_ name: String) throws -> (signaled: Bool, status: Int32, standardError: String) {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    child.arguments = ["--case", name]
    let errors = Pipe()
    child.standardError = errors
    child.standardOutput = FileHandle.nullDevice
    try child.run()
    let data = errors.fileHandleForReading.readDataToEndOfFile()
    child.waitUntilExit()
    return (child.terminationReason == .uncaughtSignal, child.terminationStatus, String(decoding: data, as: UTF8.self))
}

func checkMisuse() throws {
    for misuse in misuseCases {
        let result = try runChild(misuse.name)
        let missing = misuse.expected.filter { !result.standardError.contains($0) }
        report(result.signaled && missing.isEmpty, "misuse: \(misuse.name)",
               "\(result.signaled ? "stopped" : "exited with \(result.status)"), missing \(missing) in: \(result.standardError.prefix(600))")
    }
}

func checkValues() throws {
    let n = 1 << 25
    report(NDArray.ones([n]).sum().item() == Double(n), "float32 sum of 2^25 ones is 2^25")
    let tenth = Float(Double(Float(0.1)) * Double(n))
    report(NDArray.full([n], 0.1).sum().item() == Double(tenth), "float32 sum of 2^25 tenths is correctly rounded")
    report(NDArray.ones([n]).cumsum(dim: 0)[n - 1].item() == Double(n), "float32 cumsum of 2^25 ones ends at 2^25")
    let m = (1 << 24) + 2
    report(NDArray.ones([m, 2]).sum(dim: 0).doubles == [Double(m), Double(m)], "float32 sums over a leading axis are exact")
    let x = NDArray([[1.0, 1], [1e100, 1e100], [1, 1], [-1e100, -1e100]], dtype: .float64)
    report(x.sum(dim: 0).doubles == [2, 2], "float64 sums across rows are compensated")
    let f = { (x: NDArray) in NDArray.where(x .> 0, sqrt(x), 0).sum() }
    let h = try grad { (x: NDArray) in try grad(f)(x).sum() }(NDArray([-1.0, 0, 4], dtype: .float64))
    report(h.doubles == [0, 0, -0.25 / 8], "second derivative through the untaken branch of where", "\(h.doubles)")
    let p = (NDArray([-2.0], dtype: .float64) ** 4).item()
    report(p == 16, "float64 (-2) ** 4", "\(p)")
}

/// x ↦ x with a backward of 0/0.
enum NaNBackward: Function {
    static func forward(_ ctx: FunctionContext, _ x: Tensor) -> Tensor { x * 1 }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] { [gradOutput / (gradOutput - gradOutput)] }
}

/// The forward site anomaly mode reports for the backward of `y`.
func anomalySite(_ y: Tensor) -> String {
    do {
        try y.backward()
    } catch let AutogradError.anomaly(_, _, _, forward) {
        return forward
    } catch {
        return "\(error)"
    }
    return "no anomaly was found"
}

func checkAnomalySites() throws {
    let x = try Tensor([1.0, 2.0], requiresGrad: true)
    try detectAnomaly {
        let applied = #line + 1
        let site = anomalySite(try NaNBackward.apply(x).sum())
        report(site == "\(#fileID):\(applied)", "anomaly mode names a custom Function's forward line", site)
        let operated = #line + 1
        let stack = anomalySite(sqrt(x - x).sum())
        report(stack.hasSuffix("main.swift:\(operated)"), "anomaly mode names an operator's forward line from the call stack", stack)
    }
}

try checkValues()
try checkAnomalySites()
try checkMisuse()
print(failures == 0 ? "all release checks passed" : "\(failures) release checks failed")
exit(failures == 0 ? 0 : 1)
