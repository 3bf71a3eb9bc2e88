// The README's examples of FluxionCheck, verbatim, so they never rot: the one-line check of a
// user's function and the property test with a generator.

import Testing
import PropertyBased
import Fluxion
import FluxionCheck

@Suite("The README's examples")
struct ReadmeTests {
    @Test func cubicHasTheRightDerivatives() throws {
        try gradcheck({ (x: NDArray) in (x ** 3 - 2 * x).sum() }, inputs: NDArray([0.5, -1.2, 2.0]))
    }

    @Test func sigmoidSumGradients() async {
        await propertyCheck(count: checkCases(default: 20), input: Gen<NDArray>.array(in: .interval(-4...4))) { x in
            expectGradcheck({ (x: NDArray) in sigmoid(x).sum() }, inputs: x)
        }
    }

    @Test("the one-line check of the README fails for a wrong function, so the example can fail")
    func canFail() {
        let wrong = customVJP({ (x: NDArray) in (x ** 3 - 2 * x).sum() }, vjp: { x, _, ct in ct * 3 * x ** 2 })
        #expect(throws: GradcheckFailure.self) { try gradcheck(wrong, inputs: NDArray([0.5, -1.2, 2.0])) }
    }
}
