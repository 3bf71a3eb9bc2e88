// The API JAX and torch.func users reach for: argnums on every differentiating transform,
// Jacobians and Hessians of trees, hasAux, chunked Jacobians, and `grad(tanh)` as the first line
// of JAX's cookbook writes it. References are closed forms.

import Foundation
import Testing
import Fluxion

@Suite("argnums, trees and hasAux across the transforms")
struct TransformAPITests {
    /// loss(w, x, y) = Σ (w·x − y)² for vectors w, x and a scalar y.
    static func loss(_ w: NDArray, _ x: NDArray, _ y: NDArray) -> NDArray {
        let r = (w * x).sum() - y
        return r * r
    }
    let w = NDArray([1.0, -2.0], dtype: .float64)
    let x = NDArray([0.5, 3.0], dtype: .float64)
    let y = NDArray(1.5, dtype: .float64)
    /// The residual w·x − y = −7.
    var residual: Double { 0.5 - 6 - 1.5 }

    @Test("grad and valueAndGrad with argnums select arguments, one or several")
    func gradArgnums() throws {
        let r = residual
        #expect(try grad(Self.loss)(w, x, y).doubles == [2 * r * 0.5, 2 * r * 3])
        #expect(try grad(Self.loss, argnums: .second)(w, x, y).doubles == [2 * r * 1, 2 * r * -2])
        #expect(try grad(Self.loss, argnums: .third)(w, x, y).item() == -2 * r)
        let (dw, dy) = try grad(Self.loss, argnums: .firstAndThird)(w, x, y)
        #expect(dw.doubles == [2 * r * 0.5, 2 * r * 3] && dy.item() == -2 * r)
        let (a, b, c) = try grad(Self.loss, argnums: .all)(w, x, y)
        #expect(a.count == 2 && b.doubles == [2 * r, -4 * r] && c.item() == -2 * r)
        let (value, g) = try valueAndGrad(Self.loss, argnums: .secondAndThird)(w, x, y)
        #expect(value.item() == r * r && g.0.doubles == [2 * r, -4 * r] && g.1.item() == -2 * r)
        // Two arguments; the other argument may be any type.
        let scaled = { (w: NDArray, k: Int) in (w * w).sum() * Double(k) }
        #expect(try grad(scaled)(w, 3).doubles == [6, -12])
        let two = { (w: NDArray, x: NDArray) in (w * x).sum() }
        #expect(try grad(two, argnums: .second)(w, x).doubles == w.doubles)
        let (g0, g1) = try grad(two, argnums: .both)(w, x)
        #expect(g0.doubles == x.doubles && g1.doubles == w.doubles)
    }

    @Test("jacrev and jacfwd of a function of a parameter dictionary give a dictionary of blocks")
    func jacobianOfATree() throws {
        let params = ["a": NDArray([1.0, 2.0], dtype: .float64), "b": NDArray(3.0, dtype: .float64)]
        // f(p) = [a₀·b, a₁·b, a₀²]
        let f = { (p: [String: NDArray]) in stack([p["a"]![0] * p["b"]!, p["a"]![1] * p["b"]!, p["a"]![0] * p["a"]![0]]) }
        for jacobian in [jacrev(f), jacfwd(f)] {
            let j = try jacobian(params)
            #expect(j["a"]!.shape == [3, 2] && j["b"]!.shape == [3])
            #expect(j["a"]!.doubles == [3, 0, 0, 3, 2, 0])
            #expect(j["b"]!.doubles == [1, 2, 0])
        }
    }

    @Test("Jacobians of a function with a tree of outputs: one per output leaf")
    func jacobianOfTreeOutputs() throws {
        let f = { (x: NDArray) in [x * x, x.sum().unsqueeze(0)] }
        let x = NDArray([1.0, 2.0, 3.0], dtype: .float64)
        for jacobian in [jacrev(f), jacfwd(f)] {
            let j = try jacobian(x)
            #expect(j.count == 2)
            #expect(j[0].shape == [3, 3] && j[0].doubles == [2, 0, 0, 0, 4, 0, 0, 0, 6])
            #expect(j[1].shape == [1, 3] && j[1].doubles == [1, 1, 1])
        }
    }

    @Test("Jacobians with argnums, as jacrev(f, argnums=(0, 1))")
    func jacobianArgnums() throws {
        let f = { (w: NDArray, x: NDArray) in w * x }
        let (jw, jx) = try jacrev(f, argnums: .both)(w, x)
        #expect(jw.doubles == [0.5, 0, 0, 3] && jx.doubles == [1, 0, 0, -2])
        #expect(try jacfwd(f, argnums: .second)(w, x).doubles == [1, 0, 0, -2])
        #expect(try jacrev(f)(w, x).doubles == [0.5, 0, 0, 3])
        let g = { (w: NDArray, x: NDArray, y: NDArray) in w * x * y }
        #expect(try jacfwd(g, argnums: .third)(w, x, y).doubles == [0.5, -6])
    }

    @Test("jacrev and jacfwd with hasAux return the aux as values of the enclosing level")
    func jacobianHasAux() throws {
        let f = { (x: NDArray) in (x * x, x.sum()) }
        let x = NDArray([1.0, 2.0], dtype: .float64)
        for jacobian in [jacrev(hasAux: f), jacfwd(hasAux: f)] {
            let (j, aux) = try jacobian(x)
            #expect(j.doubles == [2, 0, 0, 4] && aux.item() == 3)
        }
        // An enclosing grad differentiates the aux.
        let g = try grad { (x: NDArray) in try jacrev(hasAux: f)(x).1 * 2 }(x)
        #expect(g.doubles == [2, 2])
    }

    @Test("Hessians of trees and with argnums")
    func hessians() throws {
        // f(a, b) = a₀²·b + a₁·b²
        let f = { (a: NDArray, b: NDArray) in a[0] * a[0] * b + a[1] * b * b }
        let a = NDArray([1.0, 2.0], dtype: .float64), b = NDArray(3.0, dtype: .float64)
        #expect(try hessian(f, argnums: .first)(a, b).doubles == [6, 0, 0, 0])
        #expect(try hessian(f, argnums: .second)(a, b).item() == 2 * 2)
        let rows = try hessian(f, argnums: .both)(a, b)  // one row per selected leaf: (∂a, ∂b) each
        #expect(rows.count == 2)
        #expect(rows[0].0.doubles == [6, 0, 0, 0] && rows[0].1.doubles == [2, 6])
        #expect(rows[1].0.doubles == [2, 6] && rows[1].1.item() == 4)
        let tree = try hessian { (p: [NDArray]) in f(p[0], p[1]) }([a, b])
        #expect(tree[1][0].doubles == [2, 6] && tree[1][1].item() == 4)
    }

    @Test("chunkSize gives the same Jacobian, for both modes and nested")
    func chunked() throws {
        let f = { (x: NDArray) in tanh(matmul(NDArray.eye(4, dtype: .float64) * 0.5 + 0.1, x)) * x.sum() }
        let x = NDArray([0.1, -0.4, 0.7, 1.3], dtype: .float64)
        let whole = try jacrev(f)(x).doubles
        for chunk in [1, 3] {
            #expect(try jacrev(f, chunkSize: chunk)(x).doubles == whole)
            expectClose(try jacfwd(f, chunkSize: chunk)(x), whole, rtol: 1e-14, atol: 1e-15)
        }
        let second = try jacrev(jacrev(f), chunkSize: 5)(x).doubles
        expectClose(try jacfwd(jacfwd(f))(x), second, rtol: 1e-13, atol: 1e-14)
    }

    @Test("the first line of JAX's autodiff cookbook: grad(tanh), and derivatives of it")
    func cookbook() throws {
        let gradTanh = grad(tanh)
        let t = Foundation.tanh(2.0)
        #expect(Swift.abs(try gradTanh(NDArray(2.0, dtype: .float64)).item() - (1 - t * t)) < 1e-15)
        let third = try grad(grad(grad(tanh)))(NDArray(2.0, dtype: .float64)).item()
        // d³/dx³ tanh = −2(1 − t²)(1 − 3t²)
        #expect(Swift.abs(third - (-2 * (1 - t * t) * (1 - 3 * t * t))) < 1e-14)
    }
}

@Suite("Model ensembles under vmap")
struct EnsembleTests {
    @Test("vmap over stacked weights of x·Wᵀ (one GEMM, no copy) equals a loop, with gradients")
    func stackedWeights() throws {
        let w = NDArray((0..<60).map { Foundation.sin(Double($0)) }, dtype: .float64).reshape([3, 4, 5])  // 3 models, 5 → 4
        let x = NDArray((0..<10).map { Foundation.cos(Double($0)) }, dtype: .float64).reshape([2, 5])
        let f = { (w: NDArray) in tanh(matmul(x, w.mT)) }
        let batched = try vmap(f)(w)
        let loop = stack((0..<3).map { f(w[$0]) })
        #expect(batched.shape == [3, 2, 4])
        expectClose(batched, loop.doubles, rtol: 1e-14, atol: 1e-15)
        let g = try grad { (w: NDArray) in try vmap(f)(w).sum() }(w)
        let gLoop = stack(try (0..<3).map { i in try grad { (v: NDArray) in f(v).sum() }(w[i]) })
        expectClose(g, gLoop.doubles, rtol: 1e-13, atol: 1e-14)
    }
}
