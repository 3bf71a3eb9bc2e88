// Failures say where and by how much: the thrown error's description names the input and
// element, the analytic and numeric values and the tolerance, and lists the worst offenders;
// the recording forms put the issue at the caller's line; expectClose and assertClose report
// the largest absolute and relative errors with their indices.

import Testing
import Fluxion
import FluxionCheck

@Suite("Reports and recorded issues")
struct ReportTests {
    /// x ↦ x·w with a vjp that is right except for element 2 (and 5), whose cotangent it doubles.
    static func partlyWrong(_ x: NDArray) throws -> NDArray {
        let mask = NDArray([1.0, 1, 2, 1, 1, 2], dtype: .float64).reshape([2, 3])
        return try customVJP({ (x: NDArray) in x * 3 }, vjp: { _, _, ct in ct * 3 * mask }, name: "scale")(x)
    }

    let x = NDArray([[0.5, -1.0, 2.0], [1.5, 0.25, -2.5]], dtype: .float64)

    @Test("the description names the input, element, analytic and numeric values, tolerance and worst offenders")
    func description() throws {
        let error = #expect(throws: GradcheckFailure.self) { try gradcheck(Self.partlyWrong, inputs: x, modes: .reverse) }
        let text = try #require(error?.description)
        #expect(text.contains("gradcheck FAILED"))
        #expect(text.contains("2 of 36 entries outside atol 1e-05 + rtol 0.001·|numeric|"))
        // Central differences of 3x with step 1e-6 are 3 to about 1e-10.
        #expect(text.contains("at input 0 element [0, 2] → output 0 element [0, 2]: analytic 6.0, numeric 2.9999999"))
        #expect(text.contains("allowed 0.003"))
        #expect(text.contains("worst offenders"))
        #expect(text.contains("input 0 element [1, 2] → output 0 element [1, 2]: analytic 6.0, numeric 3"))
        #expect(text.contains("ReportTests.swift"), "the call site")
        let failure = try #require(error?.report.failures.first)
        #expect(failure.mismatches.map(\.input) == [ArrayPosition(leaf: 0, element: [0, 2]), ArrayPosition(leaf: 0, element: [1, 2])])
        #expect(failure.mismatches.allSatisfy { $0.error > $0.allowed })
    }

    @Test("at most five offenders are listed, then a count of the rest")
    func longLists() throws {
        let wrong = customVJP({ (x: NDArray) in x * 2 }, vjp: { _, _, ct in ct }, name: "half")
        let error = #expect(throws: GradcheckFailure.self) {
            try gradcheck(wrong, inputs: NDArray.ones([8], dtype: .float64), modes: .reverse)
        }
        #expect(error?.description.contains("… and 3 more") == true)
    }

    @Test("expectGradcheck records one issue at the caller's line and returns false")
    func recordsAtCaller() {
        let line = #line + 2
        withKnownIssue("the failure this test provokes is the report under test") {
            let passed = expectGradcheck(Self.partlyWrong, inputs: x)
            #expect(!passed)
        } matching: { issue in
            issue.sourceLocation?.line == line && issue.sourceLocation?.fileName == "ReportTests.swift"
                && "\(issue)".contains("analytic 6.0, numeric 2.9999999")
        }
    }

    @Test("expectDerivatives and expectGradgradcheck record issues for wrong rules")
    func otherRecordingForms() {
        withKnownIssue("the failure this test provokes is the report under test") { #expect(!expectDerivatives(Self.partlyWrong, at: x, order: 1)) }
        let frozen = customVJP({ (x: NDArray) in sin(x) }, vjp: { x, _, ct in ct * stopGradient(cos(x)) })
        withKnownIssue("the failure this test provokes is the report under test") { #expect(!expectGradgradcheck(frozen, inputs: x)) }
        #expect(expectDerivatives({ (x: NDArray) in sin(x) * x }, at: x))
    }

    @Test("a function that throws at the point makes the check throw that error")
    func throwingFunction() {
        struct Broken: Error {}
        #expect(throws: Broken.self) { try gradcheck({ (_: NDArray) throws -> NDArray in throw Broken() }, inputs: x) }
    }

    @Test("a function that is not finite at the point fails with a message about the domain")
    func notFinite() {
        let error = #expect(throws: GradcheckFailure.self) { try gradcheck({ (x: NDArray) in log(x) }, inputs: x) }
        #expect(error?.description.contains("not finite at the check point") == true)
    }

    @Test("expectClose reports the count, the first offender, and the largest absolute and relative errors with indices")
    func expectCloseReport() {
        let expected = NDArray([[1.0, 2.0], [3.0, 4.0]], dtype: .float64)
        let actual = NDArray([[1.0, 2.5], [3.0, 4.0001]], dtype: .float64)
        let line = #line + 2
        withKnownIssue("the failure this test provokes is the report under test") {
            expectClose(actual, expected, rtol: 1e-6, atol: 1e-9)
        } matching: { issue in
            let text = "\(issue)"
            return issue.sourceLocation?.line == line
                && text.contains("2 of 4 elements differ") && text.contains("first at [0, 1]")
                && text.contains("largest absolute error 0.5 at [0, 1]") && text.contains("largest relative error 0.25 at [0, 1]")
        }
        #expect(expectClose(actual, expected, rtol: 0.3, atol: 0))
    }

    @Test("assertClose forwards file and line, and reports shapes that differ")
    func assertCloseForwards() {
        let line = #line + 2
        withKnownIssue("the failure this test provokes is the report under test") {
            assertClose(NDArray([1.0, 2.0], dtype: .float64), NDArray([1.0, 2.0, 3.0], dtype: .float64))
        } matching: { issue in
            issue.sourceLocation?.line == line && issue.sourceLocation?.fileName == "ReportTests.swift"
                && "\(issue)".contains("shapes differ: actual [2], expected [3]")
        }
        assertClose(NDArray([1.0, 2.0], dtype: .float32), NDArray([1.0, 2.0000001], dtype: .float64))
    }
}
