// Operations the torch.func and JAX tutorials use: einsum over any number of operands with
// diagonals and traces, tensordot, vdot, isClose/allClose, randint, arange with floating
// bounds, and the method spelling of every elementwise function. Values against plain Swift
// loops; derivatives through FluxionCheck.

import Foundation
import Testing
import Fluxion
import FluxionCheck

@Suite("Einsum, tensordot, vdot, closeness, randint, arange")
struct VocabularyTests {
    let a = NDArray((0..<9).map { Double($0) * 0.5 - 1 }, dtype: .float64).reshape([3, 3])
    let b = NDArray((0..<6).map { 1 - Double($0) * 0.3 }, dtype: .float64).reshape([3, 2])

    @Test("einsum of one operand: trace, diagonal, transpose, sums")
    func oneOperand() throws {
        let v = a.doubles
        #expect(einsum("ii->", a).item() == v[0] + v[4] + v[8])
        #expect(einsum("ii->i", a).doubles == [v[0], v[4], v[8]])
        #expect(einsum("ij->ji", a).doubles == a.T.contiguousDoubles)
        #expect(einsum("ij->j", a).doubles == [v[0] + v[3] + v[6], v[1] + v[4] + v[7], v[2] + v[5] + v[8]])
        #expect(einsum("ij", a).doubles == a.doubles)  // implicit output: i, j
        // A batch of traces, as the "NMKK->NM".
        let batch = NDArray((0..<24).map(Double.init), dtype: .float64).reshape([2, 3, 2, 2])
        let traces = einsum("NMKK->NM", batch)
        #expect(traces.shape == [2, 3])
        let expected: [Double] = (0..<6).map { (m: Int) -> Double in Double(8 * m + 3) }
        #expect(traces.doubles == expected)
        try gradcheck({ (x: NDArray) in einsum("NMKK->NM", x) }, inputs: batch * 0.1)
    }

    @Test("einsum of two and three operands, with repeated letters and implicit outputs")
    func severalOperands() throws {
        expectClose(einsum("ij,jk->ik", a, b), matmul(a, b).doubles, rtol: 1e-15, atol: 1e-15)
        expectClose(einsum("ij,jk", a, b), matmul(a, b).doubles, rtol: 1e-15, atol: 1e-15)
        // Σᵢ aᵢᵢ·bᵢ₀: a diagonal meeting a contraction.
        let v = a.doubles, w = b.doubles
        expectClose(einsum("ii,ij->j", a, b), [v[0] * w[0] + v[4] * w[2] + v[8] * w[4], v[0] * w[1] + v[4] * w[3] + v[8] * w[5]],
                    rtol: 1e-15, atol: 1e-15)
        // A chain of three: a·a·b.
        expectClose(einsum("ij,jk,kl->il", a, a, b), matmul(matmul(a, a), b).doubles, rtol: 1e-14, atol: 1e-14)
        try gradcheck({ (p: [NDArray]) in einsum("ij,jk,kl->il", p[0], p[1], p[2]) }, inputs: [a, a * 0.5, b])
        try gradcheck({ (p: [NDArray]) in einsum("ii,ij->j", p[0], p[1]) }, inputs: [a, b])
    }

    @Test("tensordot and vdot")
    func products() throws {
        let x = NDArray((0..<24).map { Double($0) * 0.1 }, dtype: .float64).reshape([2, 3, 4])
        let y = NDArray((0..<60).map { 1 - Double($0) * 0.05 }, dtype: .float64).reshape([3, 4, 5])
        let t = tensordot(x, y, dims: 2)
        #expect(t.shape == [2, 5])
        expectClose(t, einsum("ijk,jkl->il", x, y).doubles, rtol: 1e-14, atol: 1e-14)
        let u = tensordot(x, y, axes: ([1], [0]))
        #expect(u.shape == [2, 4, 4, 5])
        expectClose(u, einsum("ijk,jlm->iklm", x, y).doubles, rtol: 1e-14, atol: 1e-14)
        #expect(tensordot(x, y, dims: 0).shape == [2, 3, 4, 3, 4, 5])
        let dotted = vdot(a, a).item()
        #expect(Swift.abs(dotted - a.doubles.reduce(0) { $0 + $1 * $1 }) < 1e-14)
        try gradcheck({ (p: [NDArray]) in tensordot(p[0], p[1], dims: 2) }, inputs: [x, y])
    }

    @Test("isClose and allClose follow torch.isclose's formula")
    func closeness() {
        let x = NDArray([1.0, 2.0, .infinity, .nan, 1e-9], dtype: .float64)
        let y = NDArray([1.0 + 1e-6, 2.1, .infinity, .nan, 0], dtype: .float64)
        #expect(NDArray.isClose(x, y).bools == [true, false, true, false, true])
        #expect(NDArray.isClose(x, y, equalNaN: true).bools == [true, false, true, true, true])
        #expect(NDArray.allClose(x[0], y[0]))
        #expect(!NDArray.allClose(x, y))
    }

    @Test("randint draws integers in the range, reproducibly, uniformly")
    func randint() {
        let r = NDArray.randint(low: -3, high: 4, [20_000], key: RandomKey(seed: 9))
        #expect(r.dtype == .int64 && r.shape == [20_000])
        let values = r.ints
        #expect(values.allSatisfy { (-3..<4).contains($0) })
        for k in -3..<4 {
            let frequency = Double(values.filter { $0 == k }.count) / 20_000
            #expect(Swift.abs(frequency - 1.0 / 7) < 0.01, "value \(k) drawn with frequency \(frequency)")
        }
        #expect(NDArray.randint(high: 10, [5], key: RandomKey(seed: 9)).ints == NDArray.randint(high: 10, [5], key: RandomKey(seed: 9)).ints)
    }

    @Test("arange: floating bounds give float32, integer bounds int64")
    func arange() {
        #expect(NDArray.arange(3.0).dtype == .float32 && NDArray.arange(3.0).doubles == [0, 1, 2])
        #expect(NDArray.arange(3).dtype == .int64)
        #expect(NDArray.arange(0, 3).dtype == .int64)
        #expect(NDArray.arange(0.0, 3.0).dtype == .float32)
        #expect(NDArray.arange(0, 1, step: 0.5).doubles == [0, 0.5])
        #expect(NDArray.arange(4, dtype: .float64).dtype == .float64)
    }

    @Test("every elementwise function has a method spelling that agrees with the free function")
    func methodSpellings() {
        let x = NDArray([0.3, -0.6, 1.4], dtype: .float64)
        let pairs: [(NDArray, NDArray)] = [
            (x.floor(), floor(x)), (x.ceil(), ceil(x)), (x.round(), round(x)), (x.sign(), sign(x)), (x.tan(), tan(x)),
            (x.log1p(), log1p(x)), (x.expm1(), expm1(x)), (x.atan(), atan(x)), (x.sinh(), sinh(x)), (x.cosh(), cosh(x)),
            (x.softplus(), softplus(x)), (x.erf(), erf(x)), (x.silu(), silu(x)), (x.gelu(), gelu(x)),
            (x.logSigmoid(), logSigmoid(x)), (x.leakyRelu(), leakyRelu(x)), (x.abs().rsqrt(), rsqrt(abs(x))),
            ((x * 0.5).asin(), asin(x * 0.5)), ((x * 0.5).acos(), acos(x * 0.5)),
        ]
        for (method, function) in pairs { #expect(method.doubles == function.doubles) }
    }
}

extension NDArray {
    /// The elements of a possibly non-contiguous array in row-major order.
    var contiguousDoubles: [Double] { (self + 0).doubles }
}
