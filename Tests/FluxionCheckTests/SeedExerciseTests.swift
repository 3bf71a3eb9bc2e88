// The seed's exercise: f(x) = (x³ − 2x).sum() and sigmoid(x).sum() at random x pass
// gradcheck in float64, and so does a function with a custom rule. Random x comes from the
// package's own generators, so a failure shrinks to a small array and prints its seed.

import Foundation
import Testing
import PropertyBased
import Fluxion
import FluxionCheck

@Suite("The seed exercise")
struct SeedExerciseTests {
    @Sendable static func cubic(_ x: NDArray) -> NDArray { (x ** 3 - 2 * x).sum() }
    @Sendable static func sigmoidSum(_ x: NDArray) -> NDArray { sigmoid(x).sum() }

    @Test("(x³ − 2x).sum() passes gradcheck and gradgradcheck at random x")
    func cubic() async {
        await propertyCheck(count: checkCases(default: 10), input: Gen<NDArray>.array(in: .standard)) { x in
            #expect(x.dtype == .float64)
            expectGradcheck(Self.cubic, inputs: x)
            expectGradgradcheck(Self.cubic, inputs: x)
        }
    }

    @Test("sigmoid(x).sum() passes gradcheck and gradgradcheck at random x")
    func sigmoidSum() async {
        await propertyCheck(count: checkCases(default: 10), input: Gen<NDArray>.array(in: .interval(-4...4))) { x in
            expectGradcheck(Self.sigmoidSum, inputs: x)
            expectGradgradcheck(Self.sigmoidSum, inputs: x)
        }
    }

    @Test("the derivative gradcheck confirms is the closed form: 3x² − 2 and σ(x)(1 − σ(x))")
    func closedForms() throws {
        let x = NDArray([-1.5, 0.25, 2.0], dtype: .float64)
        try gradcheck(Self.cubic, inputs: x)
        expectClose(try grad(Self.cubic)(x), NDArray([4.75, -1.8125, 10.0], dtype: .float64))
        let s = x.doubles.map { 1 / (1 + Foundation.exp(-$0)) }
        expectClose(try grad(Self.sigmoidSum)(x), NDArray(s.map { $0 * (1 - $0) }, dtype: .float64))
    }

    /// log(1 + eˣ) with the stable derivative σ(x) as a custom rule: the composite's own
    /// derivative would overflow for large x.
    @Sendable static func softplusWithRule(_ x: NDArray) throws -> NDArray {
        try customVJP({ (x: NDArray) in log1p(exp(-abs(x))) + relu(x) },
                      vjp: { x, _, cotangent in cotangent * sigmoid(x) }, name: "softplus")(x)
    }

    @Test("a custom function passes gradcheck, gradgradcheck and checkDerivatives")
    func customFunction() async {
        await propertyCheck(count: checkCases(default: 5), input: Gen<NDArray>.array(in: .awayFromZero)) { x in
            expectGradcheck(Self.softplusWithRule, inputs: x)
            expectGradgradcheck(Self.softplusWithRule, inputs: x)
            expectDerivatives(Self.softplusWithRule, at: x)
        }
    }

    @Test("float32 inputs are checked in float64")
    func float32Inputs() throws {
        let x = NDArray([0.5, -1.25, 2.0], dtype: .float32)
        let report = try gradcheck(Self.cubic, inputs: x)
        #expect(report.precision == .float64)
        #expect(report.tolerance == CheckTolerance.derived(for: .float64))
    }
}
