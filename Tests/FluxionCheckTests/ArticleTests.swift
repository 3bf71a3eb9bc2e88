// The Swift blocks of the documentation article "Checking your derivatives", verbatim, so they
// never rot; each followed by checks of what its comments say.

import Testing
import PropertyBased
import Fluxion
import FluxionCheck

@Suite("The article on checking derivatives")
struct ArticleTests {
    @Test("gradcheck and gradgradcheck pass on correct functions")
    func oneLine() throws {
        try gradcheck({ (x: NDArray) in (tanh(x) * x).sum() }, inputs: NDArray([0.3, -1.2, 2.0]))
        try gradgradcheck({ (x: NDArray) in (x ** 3).sum() }, inputs: NDArray([0.5, -1.5]))
    }

    @Test("a custom rule with a wrong constant is caught, and the report says where")
    func wrongRuleIsCaught() throws {
        let wrong = customVJP({ (x: NDArray) in (x ** 3).sum() }, vjp: { x, _, ct in ct * 2 * x ** 2 })
        let report = try gradcheckReport(wrong, inputs: NDArray([0.5, -1.2], dtype: .float64))
        print(report.passed)                                 // false
        print(report)                                        // which element, expected 3x², got 2x²

        #expect(!report.passed)
        #expect("\(report)".contains("element"))
        #expect(throws: GradcheckFailure.self) { try gradcheck(wrong, inputs: NDArray([0.5, -1.2], dtype: .float64)) }
    }

    @Test("checkDerivatives passes to second order on a smooth function")
    func everythingAtOnce() throws {
        try checkDerivatives({ (x: NDArray) in softplus(x) * x }, at: NDArray([0.3, -1.2], dtype: .float64), order: 2)
    }

    @Test func logSigmoidGradients() async {
        await propertyCheck(count: checkCases(default: 10), input: Gen<NDArray>.array(in: .interval(-4...4))) { x in
            expectGradcheck({ (x: NDArray) in logSigmoid(x).sum() }, inputs: x)
        }
    }
}
