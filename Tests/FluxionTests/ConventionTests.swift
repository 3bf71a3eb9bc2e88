// Derivative conventions at the points where a derivative is not classically defined, and no
// NaN where a finite answer exists: relu′(0) = 0 and |x|′(0) = 0 (PyTorch), ties of maximum,
// minimum and max-reductions split equally, the untaken branch of `where` contributes exactly
// zero even where its derivative is infinite or NaN, products with zeros, d(aᵇ)/db at a = 0,
// and the symmetric-input convention of cholesky and eigh.

import Foundation
import Testing
import Fluxion

@Suite("Derivative conventions")
struct ConventionTests {
    let zero = NDArray(0.0, dtype: .float64)

    @Test("relu′(0) = 0 and |x|′(0) = 0, in both modes")
    func kinksAtZero() throws {
        let x = float64([-1, 0, 0, 2], [4])
        #expect(try grad { (x: NDArray) in relu(x).sum() }(x).doubles == [0, 0, 0, 1])
        #expect(try grad { (x: NDArray) in abs(x).sum() }(x).doubles == [-1, 0, 0, 1])
        #expect(try jvp({ relu($0) }, at: x, tangents: NDArray.onesLike(x)).tangent.doubles == [0, 0, 0, 1])
        #expect(try jvp({ abs($0) }, at: x, tangents: NDArray.onesLike(x)).tangent.doubles == [-1, 0, 0, 1])
    }

    @Test("maximum and minimum split the gradient 0.5/0.5 between tied operands")
    func elementwiseTies() throws {
        let a = float64([1, 2, 3], [3]), b = float64([1, 5, 0], [3])
        typealias Extreme = (NDArray, NDArray) -> NDArray
        let cases: [(name: String, f: Extreme, first: [Double], second: [Double])] = [
            ("maximum", { maximum($0, $1) }, [0.5, 0, 1], [0.5, 1, 0]),
            ("minimum", { minimum($0, $1) }, [0.5, 1, 0], [0.5, 0, 1]),
        ]
        for (name, f, first, second) in cases {
            let ga = try grad { (a: NDArray, b: NDArray) in f(a, b).sum() }(a, b)
            let gb = try grad { (b: NDArray, a: NDArray) in f(a, b).sum() }(b, a)
            #expect(ga.doubles == first, "\(name): gradient of the first operand")
            #expect(gb.doubles == second, "\(name): gradient of the second operand")
            // Forward mode splits the same way: ½(ȧ + ḃ) at a tie.
            let t = try jvp({ (ab: [NDArray]) in f(ab[0], ab[1]) }, at: [a, b],
                            tangents: [float64([2, 2, 2], [3]), float64([4, 4, 4], [3])]).tangent
            #expect(t.doubles[0] == 3, "\(name): tangent at the tie")
        }
        // A scalar tie through broadcasting sums both halves back: d/dc max(x, c) at x = c.
        let g = try grad { (c: NDArray) in maximum(float64([1, 1, 3], [3]), c).sum() }(NDArray(1.0, dtype: .float64))
        #expect(g.item() == 1)
    }

    @Test("max and min reductions split the gradient equally between tied extremes")
    func reductionTies() throws {
        let x = float64([1, 3, 3, 2, 3, -1], [2, 3])
        #expect(try grad { (x: NDArray) in x.max() }(x).doubles == [0, 1.0 / 3, 1.0 / 3, 0, 1.0 / 3, 0])
        #expect(try grad { (x: NDArray) in x.max(dim: 1).sum() }(x).doubles == [0, 0.5, 0.5, 0, 1, 0])
        #expect(try grad { (x: NDArray) in x.min(dim: 0).sum() }(x).doubles == [1, 0.5, 0, 0, 0.5, 1])
        #expect(try jvp({ $0.max() }, at: x, tangents: float64([0, 3, 6, 0, 9, 0], [2, 3])).tangent.item() == 6)
    }

    @Test("where(x > 0, sqrt(x), 0) has gradient 0, not NaN, at x = -1 and 0")
    func untakenBranch() throws {
        let f = { (x: NDArray) in NDArray.where(x .> 0, sqrt(x), 0).sum() }
        let x = float64([-1, 0, 4], [3])
        #expect(try grad(f)(x).doubles == [0, 0, 0.25])
        #expect(try jvp({ NDArray.where($0 .> 0, sqrt($0), 0) }, at: x, tangents: NDArray.onesLike(x)).tangent.doubles == [0, 0, 0.25])
        // The same through log, whose derivative 1/x is infinite at 0 and finite but unused below.
        let g = { (x: NDArray) in NDArray.where(x .> 0, log(x), x).sum() }
        #expect(try grad(g)(x).doubles == [1, 1, 0.25])
    }

    /// f(x) = Σ where(x > 0, √x, 0) at x = [-1, 0, 4]: every derivative is 0 where the branch
    /// is not taken; at 4, f″ = −x^(−3/2)/4 and f‴ = 3·x^(−5/2)/8.
    static let branchPoint: [Double] = [-1, 0, 4]
    static let secondDerivative: [Double] = [0, 0, -0.25 / 8]
    static let thirdDerivative: [Double] = [0, 0, 0.375 / 32]
    static func untaken(_ x: NDArray) -> NDArray { NDArray.where(x .> 0, sqrt(x), 0).sum() }

    @Test("the second derivative of where(x > 0, sqrt(x), 0) is 0 on the untaken branch, by every route")
    func untakenBranchSecondOrder() throws {
        let f = { (x: NDArray) in Self.untaken(x) }
        let x = float64(Self.branchPoint, [3])
        let expected = Self.secondDerivative
        let diagonal = float64(expected, [3]) * NDArray.eye(3, dtype: .float64)
        expectClose(try grad { (x: NDArray) in try grad(f)(x).sum() }(x), expected, rtol: 1e-14, atol: 0)
        expectClose(try jvp(grad(f), at: x, tangents: NDArray.onesLike(x)).tangent, expected, rtol: 1e-14, atol: 0)
        expectClose(try vjp(grad(f), at: x).pullback(NDArray.onesLike(x)), expected, rtol: 1e-14, atol: 0)
        expectClose(try hessian(f)(x), diagonal.doubles, rtol: 1e-14, atol: 0)
        expectClose(try jacrev(grad(f))(x), diagonal.doubles, rtol: 1e-14, atol: 0)
        expectClose(try jacfwd(grad(f))(x), diagonal.doubles, rtol: 1e-14, atol: 0)
        expectClose(try jacrev(jacrev(f))(x), diagonal.doubles, rtol: 1e-14, atol: 0)
        expectClose(try jacfwd(jacfwd(f))(x), diagonal.doubles, rtol: 1e-14, atol: 0)
        // The facade's createGraph runs the same rules.
        let t = try Tensor(x, requiresGrad: true)
        let y = Tensor.where(t .> 0, sqrt(t), 0).sum()
        let g = try Autograd.grad(outputs: y, inputs: t, createGraph: true)[0]!
        let h = try Autograd.grad(outputs: g.sum(), inputs: t)[0]!
        expectClose(h.value, expected, rtol: 1e-14, atol: 0)
    }

    @Test("the third derivative of where(x > 0, sqrt(x), 0) is 0 on the untaken branch, by every route")
    func untakenBranchThirdOrder() throws {
        let f = { (x: NDArray) in Self.untaken(x) }
        let x = float64(Self.branchPoint, [3])
        let expected = Self.thirdDerivative
        let second = { (x: NDArray) in try grad { (x: NDArray) in try grad(f)(x).sum() }(x) }
        expectClose(try grad { (x: NDArray) in try second(x).sum() }(x), expected, rtol: 1e-14, atol: 0)
        expectClose(try jvp(second, at: x, tangents: NDArray.onesLike(x)).tangent, expected, rtol: 1e-14, atol: 0)
        let forward = { (x: NDArray) in try jvp(grad(f), at: x, tangents: NDArray.onesLike(x)).tangent }
        expectClose(try jvp(forward, at: x, tangents: NDArray.onesLike(x)).tangent, expected, rtol: 1e-14, atol: 0)
        expectClose(try grad { (x: NDArray) in try forward(x).sum() }(x), expected, rtol: 1e-14, atol: 0)
        // The Hessian of Σ f′: its diagonal is f‴.
        let h = try hessian { (x: NDArray) in try grad(f)(x).sum() }(x)
        expectClose(h, (float64(expected, [3]) * NDArray.eye(3, dtype: .float64)).doubles, rtol: 1e-14, atol: 0)
        let t = try Tensor(x, requiresGrad: true)
        let y = Tensor.where(t .> 0, sqrt(t), 0).sum()
        let g1 = try Autograd.grad(outputs: y, inputs: t, createGraph: true)[0]!
        let g2 = try Autograd.grad(outputs: g1.sum(), inputs: t, createGraph: true)[0]!
        let g3 = try Autograd.grad(outputs: g2.sum(), inputs: t)[0]!
        expectClose(g3.value, expected, rtol: 1e-14, atol: 0)
    }

    @Test("x.norm() has gradient 0 at x = 0 (not NaN) and x/|x| elsewhere")
    func normAtZero() throws {
        let away = try grad { (x: NDArray) in x.norm() }(float64([3, -4], [2]))
        expectClose(away, [0.6, -0.8], rtol: 1e-15, atol: 0)
        let g = try grad { (x: NDArray) in x.norm() }(NDArray.zeros([3], dtype: .float64))
        #expect(g.doubles == [0, 0, 0], "grad of norm at 0 should be the zero subgradient, as PyTorch's")
        let rows = try grad { (x: NDArray) in x.norm(dim: 1).sum() }(float64([0, 0, 3, 4], [2, 2]))
        expectClose(rows, [0, 0, 0.6, 0.8], rtol: 1e-15, atol: 0)
    }

    /// ∂²(∏x)/∂xᵢ∂xₖ = ∏_{j ≠ i, k} xⱼ for i ≠ k, and 0 on the diagonal.
    static func productHessian(_ x: [Double]) -> [Double] {
        let n = x.count
        return (0..<(n * n)).map { f in
            let (i, k) = (f / n, f % n)
            return i == k ? 0 : x.indices.filter { $0 != i && $0 != k }.reduce(1) { $0 * x[$1] }
        }
    }

    @Test("prod: first and second derivatives with no, one, two and three zeros",
          arguments: [[2.0, 5, 3, -1], [2, 0, 3, -1], [0, 2, 0, 3], [0, 0, -2, 0], [0, 0, 0, 0]])
    func productWithZeros(_ values: [Double]) throws {
        let p = { (x: NDArray) in x.prod() }
        let x = float64(values, [values.count])
        let gradient = values.indices.map { i in values.indices.filter { $0 != i }.reduce(1) { $0 * values[$1] } }
        #expect(try grad(p)(x).doubles == gradient)
        let v = float64([1, -2, 0.5, 3], [4])
        #expect(try jvp(p, at: x, tangents: v).tangent.item() == dotProduct(gradient, v.doubles))
        let h = Self.productHessian(values)
        #expect(try hessian(p)(x).doubles == h, "hessian (forward over reverse)")
        #expect(try jacrev(jacrev(p))(x).doubles == h, "reverse over reverse")
        #expect(try jacfwd(jacfwd(p))(x).doubles == h, "forward over forward")
        // Third order: ∂³/∂x₀∂x₁∂x₂ of x₀x₁x₂x₃ is x₃.
        let third = try jacfwd(hessian(p))(x)
        #expect(third.shape == [4, 4, 4])
        #expect(third.doubles[0 * 16 + 1 * 4 + 2] == values[3])
    }

    @Test("prod over one axis of a matrix with zeros, against closed forms")
    func productAlongAxis() throws {
        let x = float64([0, 2, 3, 0, 4, 0, 5, 6], [2, 4])
        let g = try grad { (x: NDArray) in x.prod(dim: 1).sum() }(x)
        #expect(g.doubles == [0, 0, 0, 0, 0, 120, 0, 0])
        let g0 = try grad { (x: NDArray) in x.prod(dim: 0).sum() }(x)
        #expect(g0.doubles == [4, 0, 5, 6, 0, 2, 3, 0])
    }

    @Test("d(aᵇ)/db is 0 at a = 0 (the limit along b > 0), d(a²)/da is 0 at a = 0")
    func powerAtZero() throws {
        let a = float64([0, 2], [2]), b = float64([2, 3], [2])
        let gb = try grad { (b: NDArray, a: NDArray) in (a ** b).sum() }(b, a)
        expectClose(gb, [0, 8 * Foundation.log(2.0)], rtol: 1e-15, atol: 0)
        let ga = try grad { (a: NDArray, b: NDArray) in (a ** b).sum() }(a, b)
        expectClose(ga, [0, 12], rtol: 1e-15, atol: 0)
    }

    @Test("conversion to an integer dtype has zero derivative; between float dtypes it passes")
    func conversions() throws {
        let x = float64([1.5, -2.25], [2])
        #expect(try grad { (x: NDArray) in x.to(.int64).to(.float64).sum() }(x).doubles == [0, 0])
        #expect(try jvp({ $0.to(.int64).to(.float64) }, at: x, tangents: NDArray.onesLike(x)).tangent.doubles == [0, 0])
        let g = try grad { (x: NDArray) in (x.to(.float32) * 3).sum() }(x)
        #expect(g.dtype == .float64 && g.doubles == [3, 3])
    }

    /// A symmetric positive-definite 3×3 matrix.
    static let spd = float64([4, 1, 0.5, 1, 3, -0.2, 0.5, -0.2, 2], [3, 3])

    /// Reverse and forward mode of `f(A)` at a symmetric A (on arbitrary, non-symmetric
    /// cotangents and tangents) against central differences of A ↦ f((A + Aᵀ)/2), the
    /// function whose derivative cholesky and eigh promise (as PyTorch).
    func checkSymmetricConvention(_ f: @escaping (NDArray) -> NDArray, at a: NDArray, _ label: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let symmetrized = { (xs: [NDArray]) in f((xs[0] + xs[0].mT) * 0.5) }
        var r = CaseRandom(seed: 21)
        let y = f(a)
        let u = r.array(y.shape, in: -1...1), v = r.array(a.shape, in: -1...1)
        let reverse = try vjp(f, at: a).pullback(u)
        let numerical = numericalVJP(symmetrized, at: [a], cotangent: u, eps: 1e-6)[0]
        expectClose(reverse, numerical.doubles, rtol: 1e-6, atol: 1e-8, sourceLocation: sourceLocation)
        expectClose(reverse.doubles, transposed(reverse.doubles, rows: 3, cols: 3), rtol: 1e-12, atol: 1e-14,
                    label: "\(label): the gradient should be symmetric", sourceLocation: sourceLocation)
        let forward = try jvp(f, at: a, tangents: v).tangent
        let numericalForward = numericalJVP(symmetrized, at: [a], tangents: [v], eps: 1e-6)
        expectClose(forward, numericalForward.doubles, rtol: 1e-6, atol: 1e-8, sourceLocation: sourceLocation)
    }

    @Test("cholesky: derivatives are those of A ↦ cholesky((A + Aᵀ)/2)")
    func choleskySymmetric() throws {
        try checkSymmetricConvention({ cholesky($0) }, at: Self.spd, "cholesky")
    }

    @Test("eigh: derivatives are those of A ↦ eigh((A + Aᵀ)/2)")
    func eighSymmetric() throws {
        try checkSymmetricConvention({ eigh($0).values }, at: Self.spd, "eigh values")
        // Vectors with their sign fixed by the first row (smooth where it has no zeros).
        try checkSymmetricConvention({ a in
            let v = eigh(a).vectors
            return v * sign(v[0..<1])
        }, at: Self.spd, "eigh vectors")
    }
}
