// The forms of custom rules JAX users write (custom_vjp with fwd/bwd and residuals,
// nondiff_argnums, two arguments with a None cotangent; custom_jvp of two arguments), under
// every transform and to second order. Rules that differ from the true derivative by a factor
// show which derivative was used.

import Foundation
import Testing
import Fluxion

@Suite("Custom rules in JAX's forms")
struct CustomRuleFormsTests {
    let x = NDArray([0.3, -1.1, 2.0], dtype: .float64)

    @Test("forward/backward with residuals: first and second derivatives, every transform")
    func residuals() throws {
        nonisolated(unsafe) var forwardRuns = 0
        let f = customVJP({ (x: NDArray) in sin(x) },
                          forward: { (x: NDArray) in
                              forwardRuns += 1
                              return (sin(x), cos(x))
                          },
                          backward: { cosine, ct in ct * cosine })
        let cosx = x.doubles.map(Foundation.cos), sinx = x.doubles.map(Foundation.sin)
        // Outside any transform the plain function runs and no residuals are made.
        #expect(try f(x).doubles == sinx && forwardRuns == 0)
        expectClose(try grad { (x: NDArray) in try f(x).sum() }(x), cosx, rtol: 1e-15, atol: 0)
        expectClose(try jvp(f, at: x, tangents: NDArray.onesLike(x)).tangent, cosx, rtol: 1e-15, atol: 0)
        expectClose(try vmap(grad { (x: NDArray) in try f(x).sum() })(x.reshape([3, 1])).reshape([3]), cosx, rtol: 1e-15, atol: 0)
        // Second order: the backward pass is array code of the residual cos x, whose own derivative
        // comes from the forward pass: d²/dx² sin = −sin, by both routes.
        let minusSin = sinx.map { -$0 }
        expectClose(try grad { (x: NDArray) in try grad { (x: NDArray) in try f(x).sum() }(x).sum() }(x), minusSin, rtol: 1e-14, atol: 1e-15)
        let h = try hessian { (x: NDArray) in try f(x).sum() }(x)
        expectClose(h, (NDArray(minusSin, dtype: .float64) * NDArray.eye(3, dtype: .float64)).doubles, rtol: 1e-14, atol: 1e-15)
    }

    @Test("a non-differentiated argument: the cookbook's clip_gradient")
    func nondiffArgument() throws {
        let clipGradient = customVJP({ (x: NDArray, bounds: (Double, Double)) in x },
                                     forward: { (x: NDArray, _: (Double, Double)) in (x, [NDArray]()) },
                                     backward: { bounds, _, ct in ct.clamp(min: bounds.0, max: bounds.1) })
        #expect(try clipGradient(x, (-1, 1)).doubles == x.doubles)
        let g = try grad { (x: NDArray) in (try clipGradient(x, (-1, 1)) * NDArray([5.0, -0.5, -3.0], dtype: .float64)).sum() }(x)
        #expect(g.doubles == [1, -0.5, -1])
        let batched = try vmap({ (x: NDArray) in try grad { (x: NDArray) in try clipGradient(x, (-0.25, 0.25)).sum() * 4 }(x) })(x.reshape([3, 1]))
        #expect(batched.doubles == [0.25, 0.25, 0.25])
        // A backward that returns nil: a zero cotangent.
        let blocked = customVJP({ (x: NDArray, _: Int) in x * 2 }, forward: { (x: NDArray, _: Int) in (x * 2, [NDArray]()) },
                                backward: { (_: Int, _: [NDArray], _: NDArray) -> NDArray? in nil })
        #expect(try grad { (x: NDArray) in try blocked(x, 0).sum() }(x).doubles == [0, 0, 0])
    }

    @Test("two differentiated arguments, one cotangent nil")
    func twoArgumentsVJP() throws {
        let f = customVJP({ (a: NDArray, b: NDArray) in a * b }, vjp: { _, b, _, ct in (10 * ct * b, nil) })
        let b = NDArray([2.0, 3.0, 4.0], dtype: .float64)
        #expect(try f(x, b).doubles == (x * b).doubles)
        let (ga, gb) = try grad({ (a: NDArray, b: NDArray) in try f(a, b).sum() }, argnums: .both)(x, b)
        #expect(ga.doubles == [20, 30, 40] && gb.doubles == [0, 0, 0])
        // Forward mode from the reverse rule, by transposition.
        let t = try jvp({ (a: NDArray) in try f(a, b) }, at: x, tangents: NDArray.onesLike(x)).tangent
        #expect(t.doubles == [20, 30, 40])
    }

    @Test("customJVP of two arguments and with a non-differentiated argument")
    func jvpForms() throws {
        let f = customJVP({ (a: NDArray, b: NDArray) in a * b }, jvp: { a, b, _, ta, tb in 10 * (ta * b + a * tb) })
        let b = NDArray([2.0, 3.0, 4.0], dtype: .float64)
        let t = try jvp({ (p: [NDArray]) in try f(p[0], p[1]) }, at: [x, b], tangents: [NDArray.onesLike(x), NDArray.zerosLike(b)]).tangent
        #expect(t.doubles == [20, 30, 40])
        let (ga, gb) = try grad({ (a: NDArray, b: NDArray) in try f(a, b).sum() }, argnums: .both)(x, b)
        #expect(ga.doubles == [20, 30, 40])
        expectClose(gb, x.doubles.map { 10 * $0 }, rtol: 1e-15, atol: 0)
        let power = customJVP({ (x: NDArray, k: Int) in x ** Double(k) },
                              jvp: { x, k, _, t in Double(k) * x ** Double(k - 1) * t })
        expectClose(try grad { (x: NDArray) in try power(x, 3).sum() }(x), x.doubles.map { 3 * $0 * $0 }, rtol: 1e-14, atol: 0)
    }

    @Test("the cookbook's log1pexp: a custom JVP keeps the gradient finite where the composition overflows")
    func log1pexp() throws {
        let plain = { (x: NDArray) in log(1 + exp(x)) }
        let stable = customJVP(plain, jvp: { x, _, t in (1 - 1 / (1 + exp(x))) * t })
        let big = NDArray([1000.0], dtype: .float64)  // exp overflows
        #expect(try grad { (x: NDArray) in plain(x).sum() }(big).doubles[0].isNaN)
        #expect(try grad { (x: NDArray) in try stable(x).sum() }(big).doubles == [1])
        let second = try grad { (x: NDArray) in try grad { (x: NDArray) in try stable(x).sum() }(x).sum() }(NDArray([0.0], dtype: .float64))
        expectClose(second, [0.25], rtol: 1e-15, atol: 0)
    }
}
