// FluxionCheck from XCTest: the throwing checks fail a throwing test method with the report,
// and assertClose takes XCTest's file and line.

import XCTest
import Fluxion
import FluxionCheck

final class XCTestUsageTests: XCTestCase {
    func testGradcheckInAThrowingTestMethod() throws {
        try gradcheck({ (x: NDArray) in (x ** 3 - 2 * x).sum() }, inputs: NDArray([0.5, -1.2, 2.0]))
        try checkDerivatives({ (x: NDArray) in sigmoid(x) * x }, at: NDArray([0.5, -1.2], dtype: .float64))
    }

    func testAWrongRuleThrowsTheReport() {
        let wrong = customVJP({ (x: NDArray) in x * x }, vjp: { x, _, ct in 3 * x * ct })
        XCTAssertThrowsError(try gradcheck(wrong, inputs: NDArray([1.5], dtype: .float64))) { error in
            XCTAssertTrue("\(error)".contains("analytic 4.5"), "\(error)")
        }
    }

    func testAssertClose() throws {
        assertClose(try grad { (x: NDArray) in (x * x).sum() }(NDArray([1.0, -2.0], dtype: .float64)),
                    NDArray([2.0, -4.0], dtype: .float64))
    }
}
