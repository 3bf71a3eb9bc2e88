// The seed tutorials' derivative examples, written with the function transforms: closed forms
// checked at the tutorials' points, in float64 and float32.

import Foundation
import Testing
import Fluxion

@Suite("Seed examples in functional form")
struct SeedExampleTests {
    @Test("d(x² + 3x)/dx at 2 is 7", arguments: [DType.float64, .float32])
    func quadratic(_ dtype: DType) throws {
        let df = grad { (x: NDArray) in x ** 2 + 3 * x }
        #expect(try df(NDArray(2.0, dtype: dtype)).item() == 7)
        #expect(try df(NDArray(2.0, dtype: dtype)).dtype == dtype)
        let (value, g) = try valueAndGrad { (x: NDArray) in x * x + 3 * x }(NDArray(2.0, dtype: dtype))
        #expect(value.item() == 10 && g.item() == 7)
    }

    @Test("d(x³)/dx at 2 is 12 and d²(x³)/dx² at 2 is 12", arguments: [DType.float64, .float32])
    func cube(_ dtype: DType) throws {
        let x = NDArray(2.0, dtype: dtype)
        for (name, f) in [("x ** 3", { (x: NDArray) in x ** 3 }), ("x * x * x", { (x: NDArray) in x * x * x })] {
            let d1 = grad(f)
            let d2 = grad { (x: NDArray) in try d1(x) }
            #expect(try d1(x).item() == 12, "\(name)")
            #expect(try d2(x).item() == 12, "\(name)")
            // The same second derivative by forward over reverse and forward over forward.
            #expect(try jvp(d1, at: x, tangents: NDArray(1.0, dtype: dtype)).tangent.item() == 12, "\(name)")
            let slope = { (x: NDArray) in try jvp(f, at: x, tangents: NDArray(1.0, dtype: dtype)).tangent }
            #expect(try jvp(slope, at: x, tangents: NDArray(1.0, dtype: dtype)).tangent.item() == 12, "\(name)")
        }
    }

    @Test("d Σ(x³ − 2x)/dx = 3x² − 2")
    func sumOfCubes() throws {
        let points = [-2.0, -0.5, 0, 1, 1.5, 3]
        let g = try grad { (x: NDArray) in (x ** 3 - 2 * x).sum() }(float64(points, [2, 3]))
        #expect(g.shape == [2, 3])
        expectClose(g, points.map { 3 * $0 * $0 - 2 }, rtol: 1e-15, atol: 0)
    }

    @Test("sigmoid′ = s(1 − s)")
    func sigmoidDerivative() throws {
        let points = [-6.0, -2, -0.5, 0, 0.5, 2, 6]
        let x = float64(points, [7])
        let g = try grad { (x: NDArray) in sigmoid(x).sum() }(x)
        let s = points.map { 1 / (1 + Foundation.exp(-$0)) }
        expectClose(g, s.map { $0 * (1 - $0) }, rtol: 1e-14, atol: 1e-16)
        // And the same by the composite 1 / (1 + e^−x), differentiated operation by operation.
        let composite = try grad { (x: NDArray) in (1 / (1 + exp(-x))).sum() }(x)
        expectClose(composite, s.map { $0 * (1 - $0) }, rtol: 1e-13, atol: 1e-16)
    }
}
