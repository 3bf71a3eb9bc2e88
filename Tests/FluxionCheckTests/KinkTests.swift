// Central differences that straddle a non-differentiable point are reported as kinks, not as
// failures — and a rule that is wrong at such a point still fails.

import Testing
import PropertyBased
import Fluxion
import FluxionCheck

@Suite("Non-differentiable points")
struct KinkTests {
    @Test("relu at 0: the one-sided derivatives 0 and 1 are reported, relu'(0) = 0 lies between them")
    func reluAtZero() throws {
        let x = NDArray([0.0, 1.0, -1.0], dtype: .float64)
        let report = try gradcheck({ (x: NDArray) in relu(x) }, inputs: x)
        #expect(report.kinks.count == 2, "one per mode: \(report)")
        for kink in report.kinks {
            #expect(kink.place == "input 0 element [0] → output 0 element [0]")
            #expect(kink.kind == .atPoint(left: 0, right: 1))
            #expect(kink.analytic == 0 && abs(kink.numeric - 0.5) < 1e-9)
        }
        #expect(report.description.contains("not differentiable at this point"))
        try checkDerivatives({ (x: NDArray) in relu(x) }, at: x)
    }

    @Test("abs 3e-7 from its kink: the step 1e-6 straddles it, a finer step agrees")
    func absNearZero() throws {
        let report = try gradcheck({ (x: NDArray) in abs(x) }, inputs: NDArray([3e-7, -0.5], dtype: .float64))
        #expect(report.kinks.map(\.kind) == [.withinStep, .withinStep])
        #expect(report.kinks.allSatisfy { $0.place == "input 0 element [0] → output 0 element [0]" && $0.analytic == 1 })
    }

    @Test("ties of max and maximum split the gradient, as central differences do: no kink, no failure")
    func ties() throws {
        let x = NDArray([1.0, 1.0, 0.5], dtype: .float64)
        let reduction = try gradcheck({ (x: NDArray) in x.max() }, inputs: x)
        #expect(reduction.kinks.isEmpty)
        let pair = try gradcheck({ (xs: [NDArray]) in maximum(xs[0], xs[1]) }, inputs: [x, NDArray([1.0, 0.0, 0.5], dtype: .float64)])
        #expect(pair.kinks.isEmpty)
    }

    @Test("second order at a kink of the first derivative: the gradient jumps, reported as a jump")
    func jumps() throws {
        for f in [{ (x: NDArray) in abs(x) }, { (x: NDArray) in maximum(x, NDArray([0.0, 0.0], dtype: .float64)) * 2 }] {
            let report = try checkDerivatives(f, at: NDArray([0.0, 0.5], dtype: .float64), order: 2)
            let jumps = report.kinks.filter { if case .jump = $0.kind { true } else { false } }
            #expect(!jumps.isEmpty && jumps.allSatisfy { $0.check.hasPrefix("∇g1") }, "\(report)")
            #expect(jumps.allSatisfy { $0.place.contains("element [0]") })
        }
    }

    @Test("a rule that is wrong at the kink (2 at relu's 0) fails there, noted as at a non-differentiable point")
    func wrongAtKink() throws {
        let badRelu = customVJP({ (x: NDArray) in relu(x) }, vjp: { x, _, ct in ct * NDArray.where(x .>= 0, 2.0 * NDArray.onesLike(x), 0) })
        let error = #expect(throws: GradcheckFailure.self) {
            try gradcheck(badRelu, inputs: NDArray([0.0, -1.0], dtype: .float64), modes: .reverse)
        }
        let mismatch = try #require(error?.report.failures.first?.mismatches.first)
        #expect(mismatch.input == ArrayPosition(leaf: 0, element: [0]))
        #expect(mismatch.note?.contains("non-differentiable point") == true)
    }

    @Test("values drawn away from the kink meet none")
    func awayFromKinks() async {
        await propertyCheck(count: checkCases(default: 10), input: Gen<NDArray>.array(in: .awayFromZero)) { x in
            let report = try gradcheckReport({ (x: NDArray) in relu(x) * abs(x) }, inputs: x)
            #expect(report.passed && report.kinks.isEmpty, "\(report)")
        }
    }
}
