// Reporting into the test framework that is running: Swift Testing issues at the caller's
// source location inside a `@Test`, XCTest failures otherwise. And `expectClose` /
// `assertClose`, which compare arrays elementwise within atol + rtol·|expected| and, on
// failure, report the number of offending elements, the first, and the largest absolute and
// relative errors with their indices — at the caller's file and line, never the helper's.

import Fluxion
import Testing
#if canImport(XCTest)
import XCTest
#endif

/// Records `message` as a failure of the running test, at `sourceLocation`.
func recordFailure(_ message: String, sourceLocation: SourceLocation) {
    if Test.current != nil {
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        return
    }
    #if canImport(XCTest)
    XCTFail("\(sourceLocation.filePath):\(sourceLocation.line): \(message)")
    #else
    Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    #endif
}

/// Runs a check that produces a report, recording a failure for a failed report or a thrown
/// error; returns whether it passed.
func recording(_ sourceLocation: SourceLocation, _ check: () throws -> GradcheckReport) -> Bool {
    do {
        let report = try check()
        if !report.passed { recordFailure(report.description, sourceLocation: sourceLocation) }
        return report.passed
    } catch {
        recordFailure("the check threw \(error)", sourceLocation: sourceLocation)
        return false
    }
}

// MARK: - Comparing arrays

/// How two arrays compare elementwise: nil when every element satisfies
/// |actual − expected| ≤ atol + rtol·|expected| (NaN matching NaN, equal infinities matching),
/// otherwise a description of the offenders.
///
/// Shapes must be equal (no broadcasting: a [3] array is not close to a [1, 3] one).
public func closeness(_ actual: NDArray, _ expected: NDArray, rtol: Double, atol: Double) -> String? {
    guard actual.shape == expected.shape else {
        return "shapes differ: actual \(actual.shape), expected \(expected.shape)"
    }
    let a = actual.doubles, e = expected.doubles
    var mismatches = 0
    var first: Int?
    var worstAbsolute = (error: 0.0, index: 0), worstRelative = (error: 0.0, index: 0)
    for i in a.indices {
        let x = a[i], y = e[i]
        let ok = x == y || (x.isNaN && y.isNaN) || (x.isFinite && y.isFinite && Swift.abs(x - y) <= atol + rtol * Swift.abs(y))
        let error = ok && !(x.isFinite && y.isFinite) ? 0 : (x.isFinite && y.isFinite ? Swift.abs(x - y) : .infinity)
        let relative = y == 0 ? (error == 0 ? 0 : .infinity) : error / Swift.abs(y)
        if error > worstAbsolute.error { worstAbsolute = (error, i) }
        if relative > worstRelative.error { worstRelative = (relative, i) }
        if !ok {
            mismatches += 1
            if first == nil { first = i }
        }
    }
    guard let first else { return nil }
    func at(_ i: Int) -> String { "\(multiIndex(i, actual.shape)) (actual \(a[i]), expected \(e[i]))" }
    return "\(mismatches) of \(a.count) elements differ beyond atol \(atol) + rtol \(rtol)·|expected|; "
        + "first at \(at(first)); largest absolute error \(worstAbsolute.error) at \(at(worstAbsolute.index)); "
        + "largest relative error \(worstRelative.error) at \(at(worstRelative.index))"
}

/// Default tolerances for comparing arrays of `dtype`: a few units in the last place.
func defaultTolerances(_ a: NDArray, _ b: NDArray) -> (rtol: Double, atol: Double) {
    a.dtype == .float32 || b.dtype == .float32 ? (1e-5, 1e-6) : (a.dtype == .float64 || b.dtype == .float64 ? (1e-12, 1e-13) : (0, 0))
}

/// Swift Testing: expects `actual` to equal `expected` elementwise within
/// `atol + rtol·|expected|` (defaults: a few units in the last place of the arrays' dtype),
/// recording an issue at the caller's location that names the largest absolute and relative
/// errors and their indices. Returns whether they were close.
@discardableResult
public func expectClose(_ actual: NDArray, _ expected: NDArray, rtol: Double? = nil, atol: Double? = nil,
                        _ comment: @autoclosure () -> String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    let defaults = defaultTolerances(actual, expected)
    guard let problem = closeness(actual, expected, rtol: rtol ?? defaults.rtol, atol: atol ?? defaults.atol) else { return true }
    recordFailure((comment().map { "\($0): " } ?? "") + problem, sourceLocation: sourceLocation)
    return false
}

/// XCTest style (usable from Swift Testing too): asserts that `actual` equals `expected`
/// elementwise within `atol + rtol·|expected|`, failing at the caller's `file` and `line` with
/// the largest absolute and relative errors and their indices.
public func assertClose(_ actual: NDArray, _ expected: NDArray, rtol: Double? = nil, atol: Double? = nil,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    let defaults = defaultTolerances(actual, expected)
    guard let problem = closeness(actual, expected, rtol: rtol ?? defaults.rtol, atol: atol ?? defaults.atol) else { return }
    let text = message().isEmpty ? problem : "\(message()): \(problem)"
    if Test.current != nil {
        let path = "\(file)"
        let parts = path.split(separator: "/")
        let fileID = parts.suffix(2).joined(separator: "/")
        Issue.record(Comment(rawValue: text),
                     sourceLocation: SourceLocation(fileID: fileID.contains("/") ? fileID : "Tests/\(fileID)", filePath: path,
                                                    line: Int(line), column: 1))
        return
    }
    #if canImport(XCTest)
    XCTFail(text, file: file, line: line)
    #else
    Issue.record(Comment(rawValue: text))
    #endif
}
