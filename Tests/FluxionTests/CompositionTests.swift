// Transforms composed with each other, each against an independent computation: nested grads
// against closed forms, per-sample gradients against a loop of grad, grad of vmap against a
// loop of grads, vmap of vmap against nested loops, jacfwd of jacrev against differences,
// vmap of hessian against a loop, vmap of jvp against a loop, linearize against jvp, a pullback
// called twice, no perturbation confusion between nested transforms, and trees (dictionaries
// and structs) in and out.

import Foundation
import Testing
import Fluxion

/// A parameter struct for the tree tests.
struct Affine: ArrayStruct {
    var weight: NDArray
    var bias: NDArray
    var name = "affine"
    static var arrayProperties: [ArrayProperty<Affine>] { [.init(\.weight), .init(\.bias)] }
}

@Suite("Compositions of transforms")
struct CompositionTests {
    // MARK: - Perturbation confusion

    @Test("d/dx [x · d/dy (x + y)] at x = 1 is exactly 1 (reverse, forward and mixed)")
    func perturbationConfusion() throws {
        let one = NDArray(1.0, dtype: .float64)
        // Reverse over reverse.
        let reverse = try grad { (x: NDArray) in
            x * (try grad { (y: NDArray) in x + y }(one))
        }(one)
        #expect(reverse.item() == 1)
        // Forward over forward.
        let forward = try jvp({ (x: NDArray) in
            x * (try jvp({ (y: NDArray) in x + y }, at: one, tangents: one).tangent)
        }, at: one, tangents: one).tangent
        #expect(forward.item() == 1)
        // Forward over reverse and reverse over forward.
        let fwdRev = try jvp({ (x: NDArray) in x * (try grad { (y: NDArray) in x + y }(one)) }, at: one, tangents: one).tangent
        #expect(fwdRev.item() == 1)
        let revFwd = try grad { (x: NDArray) in x * (try jvp({ (y: NDArray) in x + y }, at: one, tangents: one).tangent) }(one)
        #expect(revFwd.item() == 1)
        // The inner derivative closes over x and also depends on it: d/dx [x · d/dy (x·y)] = 2x.
        let nested = try grad { (x: NDArray) in x * (try grad { (y: NDArray) in x * y }(one)) }(NDArray(3.0, dtype: .float64))
        #expect(nested.item() == 6)
    }

    // MARK: - Nested derivatives

    @Test("grad(grad(grad f)) of Σ x² sin x is 6 cos x − 6x sin x − x² cos x")
    func tripleGrad() throws {
        let f = { (x: NDArray) in (x * x * sin(x)).sum() }
        let d1 = grad(f)
        let d2 = grad { (x: NDArray) in try d1(x).sum() }
        let d3 = grad { (x: NDArray) in try d2(x).sum() }
        let points = [-2.0, -0.3, 0, 0.8, 2.5]
        let expected = points.map { 6 * Foundation.cos($0) - 6 * $0 * Foundation.sin($0) - $0 * $0 * Foundation.cos($0) }
        expectClose(try d3(float64(points, [5])), expected, rtol: 1e-12, atol: 1e-13)
    }

    @Test("jacfwd(jacrev f) of a vector function: symmetric in the input pair, equal to differences of jacrev")
    func jacfwdOfJacrev() throws {
        let f = { (x: NDArray) in stack([(x * x).sum() * x[0], sin(x[1]) * exp(x[2]) + x[0] * x[2]]) }
        let x = float64([0.3, -1.2, 0.7], [3])
        let second = try jacfwd(jacrev(f))(x)
        #expect(second.shape == [2, 3, 3])
        let numerical = try numericalJacobian(jacrev(f), at: x, eps: 1e-6)
        expectClose(second.doubles, numerical.doubles, shape: [2, 3, 3], rtol: 1e-6, atol: 1e-8, label: "jacfwd(jacrev f)")
        for o in 0..<2 {
            let block = Array(second.doubles[(o * 9)..<(o * 9 + 9)])
            expectClose(block, transposed(block, rows: 3, cols: 3), rtol: 1e-12, atol: 1e-14, label: "output \(o) Hessian symmetry")
        }
        // And the other three orders of composition.
        for (name, other) in [("jacrev(jacrev f)", try jacrev(jacrev(f))(x)), ("jacrev(jacfwd f)", try jacrev(jacfwd(f))(x)),
                              ("jacfwd(jacfwd f)", try jacfwd(jacfwd(f))(x))] {
            expectClose(other.doubles, second.doubles, shape: [2, 3, 3], rtol: 1e-12, atol: 1e-14, label: name)
        }
    }

    @Test("hvp equals the Hessian times v; valueAndGrad equals (f, grad f); grad with aux passes the aux through")
    func hvpAndValueAndGrad() throws {
        let f = { (x: NDArray) in (exp(x[0]) * x[1] + x.prod() + sin(x).sum()) }
        let x = float64([0.4, -0.9, 1.3], [3]), v = float64([1, 0.5, -2], [3])
        let h = try hessian(f)(x)
        let expected = naiveMatmul(h.doubles, v.doubles, m: 3, k: 3, n: 1)
        expectClose(try hvp(f, at: x, v: v), expected, rtol: 1e-12, atol: 1e-14)
        let (value, g) = try valueAndGrad(f)(x)
        #expect(value.item() == f(x).item())
        #expect(g.doubles == (try grad(f)(x)).doubles)
        let (g2, aux) = try grad(hasAux: { (x: NDArray) in (f(x), x.shape) })(x)
        #expect(g2.doubles == g.doubles && aux == [3])
        expectClose(g, numericalVJP({ f($0[0]) }, at: [x], cotangent: NDArray(1.0, dtype: .float64), eps: 1e-6)[0].doubles,
                    rtol: 1e-6, atol: 1e-8)
    }

    // MARK: - vmap with derivatives

    static func loss(_ p: Affine, _ x: NDArray, _ y: NDArray) -> NDArray {
        let prediction = tanh(matmul(p.weight, x) + p.bias)
        return ((prediction - y) * (prediction - y)).mean()
    }

    static func parameters() -> Affine {
        var r = CaseRandom(seed: 31)
        return Affine(weight: r.array([3, 4], in: -1...1), bias: r.array([3], in: -1...1))
    }

    @Test("per-sample gradients: vmap(grad loss, inAxes: (nil, 0, 0)) equals a loop of grad")
    func perSampleGradients() throws {
        let p = Self.parameters()
        var r = CaseRandom(seed: 32)
        let xs = r.array([5, 4], in: -1...1), ys = r.array([5, 3], in: -1...1)
        let g = try vmap(grad(Self.loss), inAxes: (nil, 0, 0))(p, xs, ys)
        #expect(g.weight.shape == [5, 3, 4] && g.bias.shape == [5, 3] && g.name == "affine")
        let loop = try (0..<5).map { try grad(Self.loss)(p, xs[$0], ys[$0]) }
        expectClose(g.weight.doubles, stack(loop.map(\.weight)).doubles, rtol: 1e-12, atol: 1e-14, label: "weight gradients")
        expectClose(g.bias.doubles, stack(loop.map(\.bias)).doubles, rtol: 1e-12, atol: 1e-14, label: "bias gradients")
        // The loop's gradients are themselves right: central differences for one sample.
        let numerical = numericalVJP({ Self.loss(Affine(weight: $0[0], bias: $0[1]), xs[2], ys[2]) },
                                         at: [p.weight, p.bias], cotangent: NDArray(1.0, dtype: .float64), eps: 1e-6)
        expectClose([loop[2].weight, loop[2].bias], numerical, rtol: 1e-6, atol: 1e-8, "sample 2")
        // Mapped along the samples' second axis, chunked: the same.
        let chunked = try vmap(grad(Self.loss), inAxes: (nil, 1, 1), chunkSize: 2)(p, xs.T, ys.T)
        expectClose(chunked.weight.doubles, g.weight.doubles, rtol: 1e-12, atol: 1e-14, label: "inAxes 1, chunked")
    }

    @Test("grad(vmap f) equals the stacked gradients of f per example")
    func gradOfVmap() throws {
        let p = Self.parameters()
        let f = { (x: NDArray) in Self.loss(p, x, NDArray.zeros([3], dtype: .float64)) }
        var r = CaseRandom(seed: 33)
        let xs = r.array([4, 4], in: -1...1)
        let g = try grad { (xs: NDArray) in try vmap(f)(xs).sum() }(xs)
        let loop = try stack((0..<4).map { try grad(f)(xs[$0]) })
        expectClose(g.doubles, loop.doubles, rtol: 1e-12, atol: 1e-14, label: "grad of vmap")
        // Over a parameter shared by every example.
        let gp = try grad { (w: NDArray) in
            try vmap({ (x: NDArray) in Self.loss(Affine(weight: w, bias: p.bias), x, NDArray.zeros([3], dtype: .float64)) })(xs).sum()
        }(p.weight)
        let loopP = try (0..<4).map { i in try grad { (w: NDArray) in Self.loss(Affine(weight: w, bias: p.bias), xs[i], NDArray.zeros([3], dtype: .float64)) }(p.weight) }
        expectClose(gp.doubles, loopP.dropFirst().reduce(loopP[0], +).doubles, rtol: 1e-12, atol: 1e-14, label: "shared parameter")
    }

    @Test("vmap(hessian f) equals a loop of hessian")
    func vmapOfHessian() throws {
        let f = { (x: NDArray) in (sin(x) * x.cumsum(dim: 0)).sum() + x.prod() }
        var r = CaseRandom(seed: 34)
        let xs = r.array([4, 3], in: -1...1)
        let batched = try vmap(hessian(f))(xs)
        #expect(batched.shape == [4, 3, 3])
        let loop = try stack((0..<4).map { try hessian(f)(xs[$0]) })
        expectClose(batched.doubles, loop.doubles, rtol: 1e-12, atol: 1e-14, label: "vmap of hessian")
        let numerical = try numericalJacobian(grad(f), at: xs[1], eps: 1e-6)
        expectClose(loop[1].doubles, numerical.doubles, rtol: 1e-6, atol: 1e-8, label: "hessian against differences of grad")
    }

    @Test("vmap(vmap f) equals nested loops, for inner and outer axes 0 and 1")
    func vmapOfVmap() throws {
        let w = float64([0.5, -1, 2, 0.25, 1.5, -0.5], [3, 2])
        let f = { (x: NDArray) in tanh(matmul(w, x)).max() + x.sum() }
        var r = CaseRandom(seed: 35)
        let xs = r.array([4, 5, 2], in: -1...1)
        let loop = stack((0..<4).map { i in stack((0..<5).map { j in f(xs[i, j]) }) })
        let nested = try vmap { (row: NDArray) in try vmap(f)(row) }(xs)
        expectClose(nested.doubles, loop.doubles, rtol: 1e-12, atol: 1e-14, label: "inAxes 0, 0")
        // Outer over axis 1, inner over axis 0 of what remains: result [5, 4].
        let swapped = try vmap({ (column: NDArray) in try vmap(f)(column) }, inAxes: 1)(xs)
        expectClose(swapped.doubles, loop.T.contiguousCopy().doubles, rtol: 1e-12, atol: 1e-14, label: "inAxes 1, 0")
        // Inner placed last by outAxes: [4, 5] again, read as the inner loop index last.
        let inner = try vmap { (row: NDArray) in try vmap(f, outAxes: -1)(row) }(xs)
        expectClose(inner.doubles, loop.doubles, rtol: 1e-12, atol: 1e-14, label: "inner outAxes -1")
    }

    @Test("vmap(jvp) over tangents and over points equals a loop of jvp")
    func vmapOfJvp() throws {
        let f = { (x: NDArray) in exp(x) * x.sum() - matmul(x, x.unsqueeze(1)).squeeze() }
        var r = CaseRandom(seed: 36)
        let x = r.array([3], in: -1...1), vs = r.array([4, 3], in: -1...1), xs = r.array([4, 3], in: -1...1)
        let overTangents = try vmap { (v: NDArray) in try jvp(f, at: x, tangents: v).tangent }(vs)
        let loopT = try stack((0..<4).map { try jvp(f, at: x, tangents: vs[$0]).tangent })
        expectClose(overTangents.doubles, loopT.doubles, rtol: 1e-12, atol: 1e-14, label: "over tangents")
        let overPoints = try vmap { (x: NDArray, v: NDArray) in try jvp(f, at: x, tangents: v).tangent }(xs, vs)
        let loopP = try stack((0..<4).map { try jvp(f, at: xs[$0], tangents: vs[$0]).tangent })
        expectClose(overPoints.doubles, loopP.doubles, rtol: 1e-12, atol: 1e-14, label: "over points")
        let numerical = numericalJVP({ f($0[0]) }, at: [x], tangents: [vs[0]], eps: 1e-6)
        expectClose(loopT[0].doubles, numerical.doubles, rtol: 1e-6, atol: 1e-8, label: "jvp against differences")
    }

    // MARK: - Linearize and pullbacks

    @Test("linearize gives f(x) and the same tangents as jvp, for several tangents")
    func linearizeMatchesJvp() throws {
        let f = { (x: NDArray) in softplus(matmul(x, x.T)) * cos(x.sum(dim: 1, keepDim: true)) }
        var r = CaseRandom(seed: 37)
        let x = r.array([2, 3], in: -1...1)
        let (value, linear) = try linearize(f, at: x)
        #expect(value.doubles == f(x).doubles)
        for i in 0..<3 {
            let v = r.array([2, 3], in: -1...1)
            expectClose(try linear(v).doubles, try jvp(f, at: x, tangents: v).tangent.doubles, rtol: 1e-12, atol: 1e-14,
                        label: "tangent \(i)")
        }
        // Linear in the tangent: L(2v + w) = 2L(v) + L(w).
        let v = r.array([2, 3], in: -1...1), w = r.array([2, 3], in: -1...1)
        expectClose(try linear(2 * v + w).doubles, (2 * (try linear(v)) + (try linear(w))).doubles, rtol: 1e-12, atol: 1e-14,
                    label: "linearity")
    }

    @Test("a vjp pullback called twice gives the same result, and matches differences")
    func pullbackTwice() throws {
        let f = { (x: NDArray) in x.cumsum(dim: 0) * tanh(x) }
        var r = CaseRandom(seed: 38)
        let x = r.array([4], in: -1...1), u = r.array([4], in: -1...1)
        let (value, pullback) = try vjp(f, at: x)
        #expect(value.doubles == f(x).doubles)
        let first = try pullback(u), second = try pullback(u)
        #expect(first.doubles == second.doubles)
        let other = try pullback(2 * u)
        expectClose(other.doubles, (2 * first).doubles, rtol: 1e-15, atol: 0, label: "linearity of the pullback")
        expectClose(first.doubles, numericalVJP({ f($0[0]) }, at: [x], cotangent: u, eps: 1e-6)[0].doubles,
                    rtol: 1e-6, atol: 1e-8, label: "pullback against differences")
    }

    // MARK: - Trees

    @Test("grad of a function of a [String: NDArray] returns the same keys and shapes")
    func dictionaryTree() throws {
        var r = CaseRandom(seed: 39)
        let params: [String: NDArray] = ["w": r.array([2, 3], in: -1...1), "b": r.array([2], in: -1...1), "scale": NDArray(1.5, dtype: .float64)]
        let x = r.array([3], in: -1...1)
        let f = { (p: [String: NDArray]) in (p["scale"]! * sigmoid(matmul(p["w"]!, x) + p["b"]!)).sum() }
        let g = try grad(f)(params)
        #expect(Set(g.keys) == Set(params.keys))
        for key in params.keys { #expect(g[key]!.shape == params[key]!.shape, "\(key)") }
        // Against differences, one key at a time.
        for key in params.keys.sorted() {
            let numerical = numericalVJP({ xs in
                var p = params
                p[key] = xs[0]
                return f(p)
            }, at: [params[key]!], cotangent: NDArray(1.0, dtype: .float64), eps: 1e-6)[0]
            expectClose(g[key]!.doubles, numerical.doubles, rtol: 1e-6, atol: 1e-8, label: "gradient of \(key)")
        }
    }

    @Test("grad of a function of an ArrayStruct returns a struct of the same type")
    func structTree() throws {
        let p = Self.parameters()
        var r = CaseRandom(seed: 40)
        let x = r.array([4], in: -1...1), y = r.array([3], in: -1...1)
        let g: Affine = try grad { (p: Affine) in Self.loss(p, x, y) }(p)
        #expect(g.weight.shape == [3, 4] && g.bias.shape == [3] && g.name == "affine")
        let numerical = numericalVJP({ Self.loss(Affine(weight: $0[0], bias: $0[1]), x, y) },
                                         at: [p.weight, p.bias], cotangent: NDArray(1.0, dtype: .float64), eps: 1e-6)
        expectClose([g.weight, g.bias], numerical, rtol: 1e-6, atol: 1e-8, "struct gradient")
        // An array of structs is a tree too.
        let gs = try grad { (ps: [Affine]) in Self.loss(ps[0], x, y) + 2 * Self.loss(ps[1], x, y) }([p, p])
        expectClose(gs[1].weight.doubles, (2 * g.weight).doubles, rtol: 1e-14, atol: 0, label: "array of structs")
    }

    @Test("functions that do not depend on their input: zero derivatives, vmap broadcasts")
    func constantFunctions() throws {
        let x = float64([1, 2], [2])
        let constant = { (_: NDArray) in float64([3, 1], [2]) }
        #expect(try grad { (x: NDArray) in constant(x).sum() }(x).doubles == [0, 0])
        #expect(try jacrev(constant)(x).doubles == [0, 0, 0, 0])
        #expect(try jacfwd(constant)(x).doubles == [0, 0, 0, 0])
        #expect(try hessian { (x: NDArray) in constant(x).sum() }(x).doubles == [0, 0, 0, 0])
        #expect(try vmap(constant)(NDArray.zeros([3, 2], dtype: .float64)).doubles == [3, 1, 3, 1, 3, 1])
        // Empty inputs and outputs give empty Jacobians of the right shape.
        #expect(try jacrev { (x: NDArray) in x.sum() }(NDArray.zeros([0], dtype: .float64)).shape == [0])
        #expect(try jacfwd { (x: NDArray) in x[0..<0] }(x).shape == [0, 2])
    }

    @Test("stopGradient inside a composition: d/dx [x · stop(x)] = stop(x)")
    func stopGradientComposition() throws {
        let x = float64([1.5, -2], [2])
        #expect(try grad { (x: NDArray) in (x * stopGradient(x)).sum() }(x).doubles == [1.5, -2])
        #expect(try grad { (x: NDArray) in try grad { (x: NDArray) in (x * stopGradient(x * x)).sum() }(x).sum() }(x).doubles == [0, 0])
    }
}
