// Custom rules whose function or rule captures a value of an enclosing transform — an array an
// outer vmap maps, or an outer grad or jvp differentiates — compose with that transform (JAX
// converts such captured values into inputs). The custom rule gives the derivative with respect
// to the explicit input; derivatives with respect to captured values are those of the function's
// own operations. Each rule below deliberately differs from the true derivative (a factor of 10)
// so the tests see which one was used.

import Testing
import Fluxion

@Suite("Custom rules that capture values of enclosing transforms")
struct CustomRuleCaptureTests {
    /// f(x) = x·c with the rule x̄ = 10·ȳ·c (deliberately not the true derivative).
    static func scaled(by c: NDArray) -> (NDArray) throws -> NDArray {
        customVJP({ (x: NDArray) in x * c }, vjp: { _, _, ct in 10 * ct * c })
    }

    @Test("customVJP capturing a vmapped value: values and the custom rule under vmap")
    func underVmap() throws {
        let cs = NDArray([1.0, 2.0, 3.0], dtype: .float64)
        let x = NDArray(2.0, dtype: .float64)
        let values = try vmap { (c: NDArray) in try Self.scaled(by: c)(x) }(cs)
        #expect(values.doubles == [2, 4, 6])
        let grads = try vmap { (c: NDArray) in try grad { (x: NDArray) in try Self.scaled(by: c)(x) }(x) }(cs)
        #expect(grads.doubles == [10, 20, 30])
        // The input mapped too.
        let both = try vmap({ (c: NDArray, x: NDArray) in try grad { (x: NDArray) in try Self.scaled(by: c)(x) }(x) })(cs, cs)
        #expect(both.doubles == [10, 20, 30])
    }

    @Test("customVJP capturing a value an outer grad or jvp differentiates")
    func underOuterDerivatives() throws {
        let x = NDArray(2.0, dtype: .float64)
        // d/dc f(x) through the function's own operations: x.
        let dc = try grad { (c: NDArray) in try Self.scaled(by: c)(x) }(NDArray(3.0, dtype: .float64))
        #expect(dc.item() == 2)
        let tc = try jvp({ (c: NDArray) in try Self.scaled(by: c)(x) }, at: NDArray(3.0, dtype: .float64),
                         tangents: NDArray(1.0, dtype: .float64)).tangent
        #expect(tc.item() == 2)
        // The custom rule's result, a function of c, differentiated by an outer grad: d/dc 10·c = 10.
        let mixed = try grad { (c: NDArray) in try grad { (x: NDArray) in try Self.scaled(by: c)(x) }(x) }(NDArray(3.0, dtype: .float64))
        #expect(mixed.item() == 10)
    }

    @Test("customJVP capturing a vmapped or differentiated value")
    func customJVPCaptures() throws {
        func cubed(_ c: NDArray) -> (NDArray) throws -> NDArray {
            customJVP({ (x: NDArray) in x * x * x * c }, jvp: { x, _, t in 30 * x * x * c * t })
        }
        let x = NDArray(2.0, dtype: .float64)
        let cs = NDArray([1.0, 2.0], dtype: .float64)
        #expect(try vmap { (c: NDArray) in try cubed(c)(x) }(cs).doubles == [8, 16])
        #expect(try vmap { (c: NDArray) in try jvp(cubed(c), at: x, tangents: NDArray(1.0, dtype: .float64)).tangent }(cs).doubles == [120, 240])
        #expect(try vmap { (c: NDArray) in try grad(cubed(c))(x) }(cs).doubles == [120, 240])
        #expect(try grad { (c: NDArray) in try cubed(c)(x) }(NDArray(1.5, dtype: .float64)).item() == 8)
    }

    @Test("an error thrown by a custom function is the error the caller sees")
    func errorsThroughCustomRules() throws {
        struct Refused: Error {}
        let f = customVJP({ (x: NDArray) throws -> NDArray in throw Refused() }, vjp: { _, _, ct in ct })
        #expect(throws: Refused.self) { try grad { (x: NDArray) in try f(x).sum() }(NDArray.ones([2], dtype: .float64)) }
        #expect(throws: Refused.self) { try vmap(f)(NDArray.ones([2, 2], dtype: .float64)) }
    }
}
