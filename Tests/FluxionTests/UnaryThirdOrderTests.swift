// Elementwise functions differentiated three times, against closed forms for f′, f″ and f‴:
// reverse over reverse over reverse, forward over forward over forward, and forward over
// reverse over reverse. For an elementwise f, the gradient of Σ f(x) is f′(x) elementwise, and
// the jvp along ones is the same, so every order is read off one vector of points.

import Foundation
import Testing
import Fluxion

/// An elementwise function with its first three derivatives in closed form.
struct UnaryClosedForm: Sendable, CustomTestStringConvertible {
    let name: String
    let points: [Double]
    let f: @Sendable (NDArray) -> NDArray
    let derivatives: [@Sendable (Double) -> Double]
    var testDescription: String { name }

    init(_ name: String, _ points: [Double], _ f: @escaping @Sendable (NDArray) -> NDArray,
         _ d1: @escaping @Sendable (Double) -> Double, _ d2: @escaping @Sendable (Double) -> Double,
         _ d3: @escaping @Sendable (Double) -> Double) {
        self.name = name
        self.points = points
        self.f = f
        self.derivatives = [d1, d2, d3]
    }
}

private let general = [-1.7, -0.6, 0.3, 1.1, 1.9]
private let positive = [0.3, 0.8, 1.4, 2.5]
private let unit = [-0.8, -0.3, 0.2, 0.7]
private let offGrid = [-2.3, -0.7, 0.4, 1.2]
private let sqrtPi = Double.pi.squareRoot()
private func logistic(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

let unaryClosedForms: [UnaryClosedForm] = [
    UnaryClosedForm("neg", general, { -$0 }, { _ in -1 }, { _ in 0 }, { _ in 0 }),
    UnaryClosedForm("abs", general, { abs($0) }, { $0 > 0 ? 1 : -1 }, { _ in 0 }, { _ in 0 }),
    UnaryClosedForm("sign", general, { sign($0) }, { _ in 0 }, { _ in 0 }, { _ in 0 }),
    UnaryClosedForm("exp", general, { exp($0) }, { Foundation.exp($0) }, { Foundation.exp($0) }, { Foundation.exp($0) }),
    UnaryClosedForm("log", positive, { log($0) }, { 1 / $0 }, { -1 / ($0 * $0) }, { 2 / ($0 * $0 * $0) }),
    UnaryClosedForm("log1p", unit, { log1p($0) }, { 1 / (1 + $0) }, { -1 / ((1 + $0) * (1 + $0)) },
                    { 2 / ((1 + $0) * (1 + $0) * (1 + $0)) }),
    UnaryClosedForm("expm1", general, { expm1($0) }, { Foundation.exp($0) }, { Foundation.exp($0) }, { Foundation.exp($0) }),
    UnaryClosedForm("sqrt", positive, { sqrt($0) }, { 0.5 * Foundation.pow($0, -0.5) }, { -0.25 * Foundation.pow($0, -1.5) },
                    { 0.375 * Foundation.pow($0, -2.5) }),
    UnaryClosedForm("rsqrt", positive, { rsqrt($0) }, { -0.5 * Foundation.pow($0, -1.5) }, { 0.75 * Foundation.pow($0, -2.5) },
                    { -1.875 * Foundation.pow($0, -3.5) }),
    UnaryClosedForm("pow(x, 3)", general, { $0 ** 3 }, { 3 * $0 * $0 }, { 6 * $0 }, { _ in 6 }),
    UnaryClosedForm("pow(x, 2)", general, { $0 ** 2 }, { 2 * $0 }, { _ in 2 }, { _ in 0 }),
    UnaryClosedForm("pow(x, 2.5)", positive, { $0 ** 2.5 }, { 2.5 * Foundation.pow($0, 1.5) }, { 3.75 * Foundation.pow($0, 0.5) },
                    { 1.875 * Foundation.pow($0, -0.5) }),
    UnaryClosedForm("pow(x, -1.5)", positive, { $0 ** -1.5 }, { -1.5 * Foundation.pow($0, -2.5) },
                    { 3.75 * Foundation.pow($0, -3.5) }, { -13.125 * Foundation.pow($0, -4.5) }),
    UnaryClosedForm("sin", general, { sin($0) }, { Foundation.cos($0) }, { -Foundation.sin($0) }, { -Foundation.cos($0) }),
    UnaryClosedForm("cos", general, { cos($0) }, { -Foundation.sin($0) }, { -Foundation.cos($0) }, { Foundation.sin($0) }),
    UnaryClosedForm("tan", unit, { tan($0) }, { let t = Foundation.tan($0); return 1 + t * t },
                    { let t = Foundation.tan($0); return 2 * t * (1 + t * t) },
                    { let t = Foundation.tan($0); return 2 * (1 + t * t) * (1 + 3 * t * t) }),
    UnaryClosedForm("asin", unit, { asin($0) }, { 1 / (1 - $0 * $0).squareRoot() }, { $0 * Foundation.pow(1 - $0 * $0, -1.5) },
                    { (1 + 2 * $0 * $0) * Foundation.pow(1 - $0 * $0, -2.5) }),
    UnaryClosedForm("acos", unit, { acos($0) }, { -1 / (1 - $0 * $0).squareRoot() }, { -$0 * Foundation.pow(1 - $0 * $0, -1.5) },
                    { -(1 + 2 * $0 * $0) * Foundation.pow(1 - $0 * $0, -2.5) }),
    UnaryClosedForm("atan", general, { atan($0) }, { 1 / (1 + $0 * $0) }, { -2 * $0 / ((1 + $0 * $0) * (1 + $0 * $0)) },
                    { (6 * $0 * $0 - 2) / Foundation.pow(1 + $0 * $0, 3) }),
    UnaryClosedForm("sinh", general, { sinh($0) }, { Foundation.cosh($0) }, { Foundation.sinh($0) }, { Foundation.cosh($0) }),
    UnaryClosedForm("cosh", general, { cosh($0) }, { Foundation.sinh($0) }, { Foundation.cosh($0) }, { Foundation.sinh($0) }),
    UnaryClosedForm("tanh", general, { tanh($0) }, { let t = Foundation.tanh($0); return 1 - t * t },
                    { let t = Foundation.tanh($0); return -2 * t * (1 - t * t) },
                    { let t = Foundation.tanh($0); return (1 - t * t) * (6 * t * t - 2) }),
    UnaryClosedForm("sigmoid", general, { sigmoid($0) }, { let s = logistic($0); return s * (1 - s) },
                    { let s = logistic($0); return s * (1 - s) * (1 - 2 * s) },
                    { let s = logistic($0); return s * (1 - s) * (1 - 6 * s + 6 * s * s) }),
    UnaryClosedForm("relu", general, { relu($0) }, { $0 > 0 ? 1 : 0 }, { _ in 0 }, { _ in 0 }),
    UnaryClosedForm("softplus", general, { softplus($0) }, { logistic($0) }, { let s = logistic($0); return s * (1 - s) },
                    { let s = logistic($0); return s * (1 - s) * (1 - 2 * s) }),
    UnaryClosedForm("erf", general, { erf($0) }, { 2 / sqrtPi * Foundation.exp(-$0 * $0) },
                    { -4 * $0 / sqrtPi * Foundation.exp(-$0 * $0) },
                    { (8 * $0 * $0 - 4) / sqrtPi * Foundation.exp(-$0 * $0) }),
    UnaryClosedForm("floor", offGrid, { floor($0) }, { _ in 0 }, { _ in 0 }, { _ in 0 }),
    UnaryClosedForm("ceil", offGrid, { ceil($0) }, { _ in 0 }, { _ in 0 }, { _ in 0 }),
    UnaryClosedForm("round", offGrid, { round($0) }, { _ in 0 }, { _ in 0 }, { _ in 0 }),
]

@Suite("Unary functions to third order against closed forms")
struct UnaryThirdOrderTests {
    /// Closed-form derivatives are evaluated with Foundation's functions and Fluxion's with its
    /// kernels: agreement to a few units in the last place of float64.
    static let rtol = 1e-10, atol = 1e-12

    @Test("grad∘grad∘grad, jvp∘jvp∘jvp and jvp∘grad∘grad", arguments: unaryClosedForms)
    func thirdOrder(_ c: UnaryClosedForm) throws {
        let x = float64(c.points, [c.points.count])
        let f = c.f
        // Reverse: each order is the gradient of the sum of the previous one.
        var reverse: [(NDArray) throws -> NDArray] = []
        var previous: (NDArray) throws -> NDArray = { f($0) }
        for _ in 0..<3 {
            let g = previous
            let next: (NDArray) throws -> NDArray = grad { try g($0).sum() }
            reverse.append(next)
            previous = next
        }
        // Forward: each order is the jvp of the previous one along ones.
        var forward: [(NDArray) throws -> NDArray] = []
        previous = { f($0) }
        for _ in 0..<3 {
            let g = previous
            let next: (NDArray) throws -> NDArray = { try jvp(g, at: $0, tangents: NDArray.onesLike($0)).tangent }
            forward.append(next)
            previous = next
        }
        let mixed = try jvp(reverse[1], at: x, tangents: NDArray.onesLike(x)).tangent
        for order in 0..<3 {
            let expected = c.points.map(c.derivatives[order])
            expectClose(try reverse[order](x), expected, rtol: Self.rtol, atol: Self.atol)
            expectClose(try forward[order](x), expected, rtol: Self.rtol, atol: Self.atol)
        }
        expectClose(mixed, c.points.map(c.derivatives[2]), rtol: Self.rtol, atol: Self.atol)
    }

    @Test("d³/dx³ sin = −cos, exp = exp, tanh, log = 2/x³, sqrt = 3/(8x^2.5), pow(x, 3) = 6 at single points")
    func namedThirdDerivatives() throws {
        func third(_ f: @escaping (NDArray) -> NDArray, at x: Double) throws -> Double {
            let d3 = grad { (x: NDArray) in try grad { (x: NDArray) in try grad { (x: NDArray) in f(x) }(x) }(x) }
            return try d3(NDArray(x, dtype: .float64)).item()
        }
        let x = 0.7
        let t = Foundation.tanh(x)
        #expect(Swift.abs(try third({ sin($0) }, at: x) - -Foundation.cos(x)) < 1e-14)
        #expect(Swift.abs(try third({ exp($0) }, at: x) - Foundation.exp(x)) < 1e-14)
        #expect(Swift.abs(try third({ tanh($0) }, at: x) - (1 - t * t) * (6 * t * t - 2)) < 1e-14)
        #expect(Swift.abs(try third({ log($0) }, at: x) - 2 / (x * x * x)) < 1e-13)
        #expect(Swift.abs(try third({ sqrt($0) }, at: x) - 0.375 * Foundation.pow(x, -2.5)) < 1e-14)
        #expect(try third({ $0 ** 3 }, at: x) == 6)
        #expect(try third({ $0 ** 3 }, at: -2) == 6)
    }
}
