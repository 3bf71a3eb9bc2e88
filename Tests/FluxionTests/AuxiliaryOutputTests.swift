// Auxiliary outputs (`hasAux`) leave a transform as ordinary values of the enclosing level: an
// enclosing grad differentiates them, an enclosing vmap batches them, and they can be read
// after the transform returns (JAX's has_aux semantics).

import Testing
import Fluxion

@Suite("Auxiliary outputs are first-class values")
struct AuxiliaryOutputTests {
    /// inner(x) = grad(hasAux:) of y ↦ (Σ x·y², x³ + y·0): the gradient in y is 2·x·y, the aux x³.
    static func inner(_ x: NDArray) throws -> (NDArray, NDArray) {
        try grad(hasAux: { (y: NDArray) in ((x * y * y).sum(), x * x * x + 0 * y) })(NDArray([1.0, 2.0], dtype: .float64))
    }

    @Test("an enclosing grad differentiates the aux of an inner grad(hasAux:)")
    func differentiatedByAnOuterGrad() throws {
        let x = NDArray([2.0, -1.0], dtype: .float64)
        // d/dx Σ aux = 3x²: 12 and 3 (Fluxion used to say 0).
        let g = try grad { (x: NDArray) in try Self.inner(x).1.sum() }(x)
        #expect(g.doubles == [12, 3])
        // The gradient part, as a function of x: d/dx Σ 2·x·y = 2·y.
        let gy = try grad { (x: NDArray) in try Self.inner(x).0.sum() }(x)
        #expect(gy.doubles == [2, 4])
        // valueAndGrad(hasAux:) and jvp of the aux.
        let t = try jvp({ (x: NDArray) in try Self.inner(x).1 }, at: x, tangents: NDArray.onesLike(x)).tangent
        #expect(t.doubles == [12, 3])
        let second = try grad { (x: NDArray) in
            try valueAndGrad(hasAux: { (y: NDArray) in ((y * y).sum(), (x ** 4).sum()) })(x).aux
        }(x)
        #expect(second.doubles == [32, -4])
    }

    @Test("the aux of a grad(hasAux:) can be read after the transform and batched by vmap")
    func readableAndBatched() throws {
        let x = NDArray([2.0, -1.0], dtype: .float64)
        let (g, aux) = try Self.inner(x)
        #expect(aux.doubles == [8, -1] && g.doubles == [4, -4])
        #expect((aux + 1).doubles == [9, 0])
        let rows = try vmap { (x: NDArray) in try Self.inner(x).1 }(NDArray([[1.0, 2.0], [3.0, 4.0]], dtype: .float64))
        #expect(rows.doubles == [1, 8, 27, 64])
    }

    @Test("vjp(hasAux:) and jvp(hasAux:) return the aux as values of the enclosing level")
    func vjpAndJvp() throws {
        let x = NDArray([2.0, 3.0], dtype: .float64)
        let (value, pullback, aux) = try vjp(hasAux: { (x: NDArray) in (x * x, x.sum()) }, at: x)
        #expect(value.doubles == [4, 9] && aux.item() == 5)
        #expect(try pullback(NDArray.onesLike(x)).doubles == [4, 6])
        let (y, t, a) = try jvp(hasAux: { (x: NDArray) in (x * x, x.sum()) }, at: x, tangents: NDArray.onesLike(x))
        #expect(y.doubles == [4, 9] && t.doubles == [4, 6] && a.item() == 5)
        // An outer grad through the aux of vjp.
        let g = try grad { (x: NDArray) in try vjp(hasAux: { (z: NDArray) in (z, (x * x).sum()) }, at: x).aux }(x)
        #expect(g.doubles == [4, 6])
    }

    @Test("aux of another type passes through unchanged")
    func opaqueAux() throws {
        let (g, shape) = try grad(hasAux: { (x: NDArray) in ((x * x).sum(), x.shape) })(NDArray([1.0, 2.0], dtype: .float64))
        #expect(g.doubles == [2, 4] && shape == [2])
    }
}
