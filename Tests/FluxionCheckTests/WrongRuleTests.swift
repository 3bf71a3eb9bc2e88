// The checker must reject wrong derivatives: a custom VJP off by a factor, a JVP with the
// wrong sign, a second derivative that is wrong while the first is right, and a batching rule
// that drops the batch axis — and say where.

import Testing
import Fluxion
import FluxionKernels
import FluxionCheck

/// Σ x over every axis, as a user-defined primitive whose evaluation and derivative rules are
/// the built-in sum's but whose batching rule is wrong on purpose: it sums over the batch axis
/// too and declares the result unbatched, dropping the batch axis.
struct SumDroppingBatchAxis: Primitive {
    let sum: ReduceSum
    var name: String { "sumDroppingBatchAxis" }
    func evaluate(_ inputs: [NDArray]) -> [NDArray] { sum.evaluate(inputs) }
    func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        sum.jvp(primals, outputs: outputs, tangents: tangents)
    }
    func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        sum.vjp(primals, outputs: outputs, cotangents: cotangents, needs: needs)
    }
    func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let x = inputs[0]
        return ([bind(ReduceSum(axes: Array(0..<x.rank)), x)], [nil])
    }
}

func sumDroppingBatchAxis(_ x: NDArray) -> NDArray {
    bind(SumDroppingBatchAxis(sum: ReduceSum(axes: Array(0..<x.rank))), [x])[0]
}

@Suite("The checker rejects wrong rules")
struct WrongRuleTests {
    let x = NDArray([0.7, -1.3, 0.4, 2.1], dtype: .float64)

    /// x² with a vjp rule that returns 3x·ȳ instead of 2x·ȳ.
    @Sendable static func offByFactor(_ x: NDArray) throws -> NDArray {
        try customVJP({ (x: NDArray) in x * x }, vjp: { x, _, cotangent in 3 * x * cotangent }, name: "square")(x)
    }
    /// sin with a jvp rule of the wrong sign.
    @Sendable static func wrongSign(_ x: NDArray) throws -> NDArray {
        try customJVP({ (x: NDArray) in sin(x) }, jvp: { x, _, tangent in -cos(x) * tangent }, name: "sin")(x)
    }
    /// sin with a correct first derivative whose own derivative is lost (stopGradient), so
    /// that second derivatives are wrong.
    @Sendable static func frozenRule(_ x: NDArray) throws -> NDArray {
        try customVJP({ (x: NDArray) in sin(x) }, vjp: { x, _, cotangent in cotangent * stopGradient(cos(x)) }, name: "sin")(x)
    }

    @Test("a custom VJP off by a factor fails gradcheck in both modes, entry by entry")
    func vjpOffByFactor() throws {
        let error = #expect(throws: GradcheckFailure.self) { try gradcheck(Self.offByFactor, inputs: x) }
        let report = try #require(error?.report)
        #expect(report.failures.map(\.name) == ["reverse mode (vjp) against central differences",
                                                "forward mode (jvp) against central differences"])
        let reverse = report.failures[0]
        // Only the diagonal of the elementwise Jacobian is wrong: 4 of 16 entries.
        #expect(reverse.compared == 16 && reverse.mismatches.count == 4)
        for m in reverse.mismatches {
            let i = try #require(m.input?.element.first)
            #expect(m.input?.element == m.output?.element)
            #expect(abs(m.analytic - 3 * x.doubles[i]) < 1e-12)
            #expect(abs(m.expected - 2 * x.doubles[i]) < 1e-6)
            #expect(abs(m.allowed - (1e-5 + 1e-3 * abs(m.expected))) < 1e-15)
        }
        // Worst first: the largest |x| is element 3.
        #expect(reverse.mismatches[0].input == ArrayPosition(leaf: 0, element: [3]))
    }

    @Test("a custom VJP off by a factor fails checkDerivatives")
    func vjpOffByFactorDerivatives() throws {
        let report = try derivativeReport(Self.offByFactor, at: x, order: 1)
        let failed = Set(report.failures.map(\.name))
        #expect(failed.contains("f: vjp against central differences of ⟨u, f⟩"))
        #expect(failed.contains("f: jvp against central differences along v"))
        #expect(failed.contains("f: jacrev against central differences"))
        #expect(!failed.contains("f: vmap along axis 0 against a loop over 3 examples"))
        #expect(throws: GradcheckFailure.self) { try checkDerivatives(Self.offByFactor, at: x) }
    }

    @Test("a JVP with the wrong sign fails gradcheck and checkDerivatives")
    func jvpWrongSign() throws {
        let error = #expect(throws: GradcheckFailure.self) { try gradcheck(Self.wrongSign, inputs: x, modes: .forward) }
        let forward = try #require(error?.report.failures.first)
        #expect(forward.mismatches.count == 4)
        for m in forward.mismatches { #expect(abs(m.analytic + m.expected) < 1e-6) }
        #expect(throws: GradcheckFailure.self) { try checkDerivatives(Self.wrongSign, at: x, order: 1) }
    }

    @Test("a rule whose first derivative is right and second is wrong passes gradcheck, fails gradgradcheck")
    func wrongSecondDerivative() throws {
        try gradcheck(Self.frozenRule, inputs: x)
        try checkDerivatives(Self.frozenRule, at: x, order: 1)
        let error = #expect(throws: GradcheckFailure.self) { try gradgradcheck(Self.frozenRule, inputs: x) }
        let failure = try #require(error?.report.failures.first)
        // d/dx (ȳ·cos x) should be −ȳ·sin x; the frozen rule gives 0 there.
        #expect(failure.mismatches.contains { $0.analytic == 0 && $0.expected != 0 })
        #expect(throws: GradcheckFailure.self) { try checkDerivatives(Self.frozenRule, at: x, order: 2) }
    }

    @Test("a batching rule that drops the batch axis fails checkDerivatives through vmap, though its derivatives are right")
    func batchRuleDropsAxis() throws {
        let f = { (x: NDArray) in sumDroppingBatchAxis(x * x) }
        let a = NDArray([[0.7, -1.3], [0.4, 2.1]], dtype: .float64)
        try gradcheck(f, inputs: a)
        let report = try derivativeReport(f, at: a, order: 1)
        let failed = report.failures.map(\.name)
        #expect(failed.contains("f: vmap along axis 0 against a loop over 3 examples"))
        #expect(failed.contains("f: vmap along the last axis against a loop over 3 examples"))
        #expect(!failed.contains { $0.contains("central differences") }, "\(report)")
        #expect(throws: GradcheckFailure.self) { try checkDerivatives(f, at: a, order: 1) }
        // The built-in sum in the same place passes.
        try checkDerivatives({ (x: NDArray) in (x * x).sum() }, at: a)
    }
}
