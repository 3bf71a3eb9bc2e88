// Matrix products and the factorizations behind solve, inverse, determinants and symmetric
// eigendecomposition. Inputs carry explicit, already broadcast batch dimensions ([..., m, k]).
//
// Derivatives (X = solution, L = Cholesky factor, w, V = eigenpairs, Φ = lower triangle with
// half the diagonal):
//   matmul      Ċ = ȦB + AḂ                 Ā = C̄Bᵀ, B̄ = AᵀC̄
//   solve       Ẋ = A⁻¹(Ḃ − ȦX)             B̄ = A⁻ᵀX̄, Ā = −B̄Xᵀ
//   triangular  as solve, restricted to the triangle A is read from
//   cholesky    L̇ = LΦ(L⁻¹ȦL⁻ᵀ)             S = L⁻ᵀΦ(LᵀL̄)L⁻¹, Ā = (S + Sᵀ)/2
//   slogdet     d log|det A| = tr(A⁻¹Ȧ)      Ā = c̄·A⁻ᵀ (the sign has zero derivative)
//   eigh        M = VᵀȦV: ẇ = diag M, V̇ = V(F∘M) with F_ij = 1/(w_j − w_i), F_ii = 0
//               Ā = V(diag w̄ + F∘(VᵀV̄))Vᵀ, symmetrized
// Cholesky and eigh treat their input as symmetric: their derivatives are those of
// A ↦ f((A + Aᵀ)/2), as in PyTorch. Repeated eigenvalues make F infinite, as in JAX and PyTorch.
//
// Taylor coefficients (`jet`, derivative-scaled): matmul takes the Leibniz rule; the solves
// differentiate A·X = B k times, Σᵢ C(k, i)·Aᵢ·Xₖ₋ᵢ = Bₖ, and solve for Xₖ with the factor
// they already have; cholesky differentiates L·Lᵀ = A, L₀Lₖᵀ + LₖL₀ᵀ = Aₖ − Σᵢ C(k, i)·LᵢLₖ₋ᵢᵀ
// (i = 1…k−1), which its jvp rule solves for a lower-triangular Lₖ. Eigh and slogdet take
// theirs from their jvp rules.

import FluxionKernels

/// Ones where the triangle of an n×n matrix is read (lower or upper, with or without the
/// diagonal), zeros elsewhere.
func triangleMask(_ n: Int, lower: Bool, diagonal: Bool, dtype: DType) -> NDArray {
    let rows = NDArray.arange(n).unsqueeze(1), cols = NDArray.arange(n).unsqueeze(0)
    let mask = lower ? (diagonal ? rows .>= cols : rows .> cols) : (diagonal ? rows .<= cols : rows .< cols)
    return mask.to(dtype)
}

/// Both operands of a two-input linear-algebra primitive with the batch axis first.
func batchBoth(_ inputs: [NDArray], _ axes: [Int?], _ size: Int) -> [NDArray] {
    zip(inputs, axes).map { $0.batchFirst($1, size: size) }
}

// MARK: - Matrix product

/// [batch..., m, k] · [batch..., k, n] → [batch..., m, n].
public struct MatMul: BinaryPrimitive, Bilinear {
    public var name: String { "matmul" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray { GEMM.matmul(a, b) }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        let ta = tangents[0].map { bind(self, $0, primals[1]) }
        let tb = tangents[1].map { bind(self, primals[0], $0) }
        return [addTangents(ta, tb)]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        return [needs[0] ? bind(self, ct, primals[1].mT) : nil, needs[1] ? bind(self, primals[0].mT, ct) : nil]
    }

    /// A batch against a shared matrix is one GEMM, written in the graph so that every
    /// derivative of it is one GEMM too: a batched left operand [B, …, m, k] times a shared
    /// [k, n] is [B·…·m, k]·[k, n]; a shared [m, k] times a batched right operand [B, k, n] is
    /// [m, k]·[k, B·n]. Otherwise the shared operand is broadcast along the batch as a
    /// stride-0 view and the kernel runs a batched GEMM.
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let (a, b) = (inputs[0], inputs[1])
        if let axis = axes[0], axes[1] == nil, b.rank == 2 {
            let x = a.moveAxis(from: axis, to: 0)
            let k = x.shape[x.rank - 1]
            let y = bind(self, x.reshape([-1, k]), b)
            return ([y.reshape(Array(x.shape.dropLast()) + [b.shape[1]])], [0])
        }
        if axes[0] == nil, let axis = axes[1], a.rank == 2, b.rank == 3 {
            // b: [k, n] per element, batched along `axis` of its three dimensions. When its
            // transpose is laid out row by row ([B, n, k] contiguous, as the transpose of a
            // batch of weights [B, n, k] is), the transposed product Bᵀ·aᵀ is one GEMM with no
            // copy: [B·n, k]·[k, m], read back as [B, m, n] through a transposing view.
            let bt = b.moveAxis(from: axis, to: 0).mT                   // [B, n, k]
            if let layout = bt.readableElements, layout.isContiguous {
                let (n, k) = (bt.shape[1], bt.shape[2])
                let y = bind(self, bt.reshape([size * n, k]), a.mT)      // [B·n, m]
                return ([y.reshape([size, n, a.shape[0]]).mT], [0])
            }
            let x = b.moveAxis(from: axis, to: 1)                       // [k, B, n]
            let (k, n) = (x.shape[0], x.shape[2])
            let y = bind(self, a, x.reshape([k, size * n]))             // [m, B·n]
            return ([y.reshape([a.shape[0], size, n]).moveAxis(from: 1, to: 0)], [0])
        }
        let ab = batchBoth(inputs, axes, size)
        return ([bind(self, ab[0], ab[1])], [0])
    }
}

// MARK: - Cholesky

/// The lower factor L of a symmetric positive-definite A = L·Lᵀ.
public struct Cholesky: UnaryPrimitive {
    public var name: String { "cholesky" }
    public func evaluate(_ a: StridedArray) -> StridedArray { LinearAlgebra.cholesky(a.contiguous()) }

    /// The lower triangle with half the diagonal.
    func phi(_ x: NDArray) -> NDArray {
        let n = x.shape[x.rank - 1]
        return x * (triangleMask(n, lower: true, diagonal: false, dtype: x.dtype) + NDArray.eye(n, dtype: x.dtype) * 0.5)
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard let t = tangents[0] else { return [nil] }
        let l = outputs[0]
        let left = triangularSolve(l, (t + t.mT) * 0.5)
        let inner = triangularSolve(l, left.mT).mT
        return [bind(MatMul(), l, phi(inner))]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil] }
        let l = outputs[0]
        let p = phi(bind(MatMul(), l.mT, ct))
        let left = triangularSolve(l, p, transpose: true)
        let s = triangularSolve(l, left.mT, transpose: true).mT
        return [(s + s.mT) * 0.5]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }

    /// Lₖ from L₀Lₖᵀ + LₖL₀ᵀ = Aₖ − Σᵢ C(k, i)·LᵢLₖ₋ᵢᵀ (i = 1…k−1; the sum is symmetric), which is
    /// the jvp rule's equation with that right-hand side.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil] }
        let a = [primals[0]] + s
        var l: [NDArray?] = [outputs[0]]
        for k in coefficientOrders(s) {
            let known = leibnizSum(k, l, l, from: 1, through: k - 1) { bind(MatMul(), $0, $1.mT) }
            l.append(subtractTangents(a[k], known).flatMap { jvp(primals, outputs: outputs, tangents: [$0])[0] })
        }
        return [Array(l.dropFirst())]
    }
}

// MARK: - Triangular solve

/// X with op(A)·X = B for triangular A; inputs (A, B).
public struct TriangularSolve: BinaryPrimitive {
    /// Whether A is lower triangular (else upper).
    public let lower: Bool
    /// Whether to solve Aᵀ·X = B rather than A·X = B.
    public let transposeA: Bool
    /// Whether A's diagonal is taken as ones (and not read).
    public let unitDiagonal: Bool
    public var name: String { "triangularSolve" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        LinearAlgebra.triangularSolve(a, b, lower: lower, transpose: transposeA, unitDiagonal: unitDiagonal)
    }

    /// `x` restricted to the entries of A that are read.
    func masked(_ x: NDArray) -> NDArray {
        x * triangleMask(x.shape[x.rank - 1], lower: lower, diagonal: !unitDiagonal, dtype: x.dtype)
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard tangents[0] != nil || tangents[1] != nil else { return [nil] }
        let x = outputs[0]
        var rhs = tangents[1]
        if let ta = tangents[0] {
            let op = transposeA ? masked(ta).mT : masked(ta)
            rhs = addTangents(rhs, -bind(MatMul(), op, x))
        }
        return [bind(self, primals[0], rhs!)]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        let adjoint = TriangularSolve(lower: lower, transposeA: !transposeA, unitDiagonal: unitDiagonal)
        let b = bind(adjoint, primals[0], ct)
        guard needs[0] else { return [nil, b] }
        let x = outputs[0]
        let a = transposeA ? -bind(MatMul(), x, b.mT) : -bind(MatMul(), b, x.mT)
        return [masked(a), b]
    }

    /// Xₖ = op(A₀)⁻¹·(Bₖ − Σᵢ C(k, i)·op(Aᵢ)·Xₖ₋ᵢ), op(Aᵢ) restricted to the triangle that is read.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let order = seriesOrder(series) else { return [nil] }
        let a = withPrimal(primals[0], series[0], order: order).map { $0.map { transposeA ? masked($0).mT : masked($0) } }
        let b = withPrimal(primals[1], series[1], order: order)
        var x: [NDArray?] = [outputs[0]]
        for k in 1..<(order + 1) {
            let known = leibnizSum(k, a, x, from: 1, through: k) { bind(MatMul(), $0, $1) }
            x.append(subtractTangents(b[k], known).map { bind(self, primals[0], $0) })
        }
        return [Array(x.dropFirst())]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let ab = batchBoth(inputs, axes, size)
        return ([bind(self, ab[0], ab[1])], [0])
    }
}

// MARK: - LU solve

/// X with A·X = B by LU with partial pivoting; inputs (A, B).
public struct Solve: BinaryPrimitive {
    public var name: String { "solve" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray { LinearAlgebra.solve(a, b) }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard tangents[0] != nil || tangents[1] != nil else { return [nil] }
        let rhs = addTangents(tangents[1], tangents[0].map { -bind(MatMul(), $0, outputs[0]) })!
        return [bind(self, primals[0], rhs)]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        let b = bind(self, primals[0].mT, ct)
        return [needs[0] ? -bind(MatMul(), b, outputs[0].mT) : nil, b]
    }

    /// Xₖ = A₀⁻¹·(Bₖ − Σᵢ C(k, i)·Aᵢ·Xₖ₋ᵢ), i = 1…k.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let order = seriesOrder(series) else { return [nil] }
        let a = withPrimal(primals[0], series[0], order: order), b = withPrimal(primals[1], series[1], order: order)
        var x: [NDArray?] = [outputs[0]]
        for k in 1..<(order + 1) {
            let known = leibnizSum(k, a, x, from: 1, through: k) { bind(MatMul(), $0, $1) }
            x.append(subtractTangents(b[k], known).map { bind(self, primals[0], $0) })
        }
        return [Array(x.dropFirst())]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let ab = batchBoth(inputs, axes, size)
        return ([bind(self, ab[0], ab[1])], [0])
    }
}

// MARK: - Sign and log-determinant

/// Outputs (sign, log |det A|) for each matrix.
public struct Slogdet: Primitive {
    public var name: String { "slogdet" }
    public func evaluate(_ inputs: [NDArray]) -> [NDArray] {
        let (sign, logAbs) = LinearAlgebra.slogdet(inputs[0].elements)
        return [NDArray(sign), NDArray(logAbs)]
    }

    func inverse(_ a: NDArray) -> NDArray {
        bind(Solve(), a, NDArray.eye(a.shape[a.rank - 1], dtype: a.dtype).broadcast(to: a.shape))
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard let t = tangents[0] else { return [nil, nil] }
        let a = primals[0]
        let product = bind(Solve(), a, t) * NDArray.eye(a.shape[a.rank - 1], dtype: a.dtype)
        return [nil, product.sum(dims: [a.rank - 2, a.rank - 1])]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[1] else { return [nil] }
        return [ct.unsqueeze(-1).unsqueeze(-1) * inverse(primals[0]).mT]
    }

    /// log|det A|′ = tr(A⁻¹·A′). The inverse's series C comes from A·C = I order by order,
    /// A₀·Cₖ = −Σᵢ C(k, i)·Aᵢ·Cₖ₋ᵢ (i = 1…k), and the log-determinant's coefficients are
    /// Lₖ = qₖ₋₁ with qⱼ = Σᵢ C(j, i)·tr(Cᵢ·Aⱼ₋ᵢ₊₁), each trace tr(XY) = Σ X ⊙ Yᵀ. The sign
    /// is piecewise constant.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let s = series[0] else { return [nil, nil] }
        let a = [primals[0]] + s
        let rank = primals[0].rank
        var c: [NDArray?] = [inverse(primals[0])]
        for k in stride(from: 1, to: s.count, by: 1) {
            c.append(leibnizSum(k, a, c, from: 1, through: k) { matmul($0, $1) }.map { -bind(Solve(), primals[0], $0) })
        }
        let logAbs = (0..<s.count).map { j -> NDArray? in
            var total: NDArray?
            for i in 0...j {
                guard let ci = c[i], let aj = a[j - i + 1] else { continue }
                total = addTangents(total, scaled(binomial(j, i), (ci * aj.mT).sum(dims: [rank - 2, rank - 1])))
            }
            return total
        }
        return [nil, logAbs]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        (bind(self, [inputs[0].moveAxis(from: axes[0]!, to: 0)]), [0, 0])
    }
}

// MARK: - Symmetric eigendecomposition

/// Outputs (eigenvalues ascending, eigenvectors as columns) of each symmetric matrix.
public struct Eigh: Primitive {
    public var name: String { "eigh" }
    public func evaluate(_ inputs: [NDArray]) -> [NDArray] {
        let (values, vectors) = LinearAlgebra.eigh(inputs[0].elements)
        return [NDArray(values), NDArray(vectors)]
    }

    /// F_ij = 1/(w_j − w_i) off the diagonal, 0 on it.
    func gaps(_ w: NDArray) -> NDArray {
        let n = w.shape[w.rank - 1]
        let eye = NDArray.eye(n, dtype: w.dtype)
        let difference = w.unsqueeze(-2) - w.unsqueeze(-1)
        return (1 - eye) / (difference + eye)
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard let t = tangents[0] else { return [nil, nil] }
        let (w, v) = (outputs[0], outputs[1])
        let symmetric = (t + t.mT) * 0.5
        let m = bind(MatMul(), bind(MatMul(), v.mT, symmetric), v)
        let n = w.shape[w.rank - 1]
        let dw = (m * NDArray.eye(n, dtype: m.dtype)).sum(dim: -1)
        let dv = bind(MatMul(), v, gaps(w) * m)
        return [dw, dv]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard cotangents[0] != nil || cotangents[1] != nil else { return [nil] }
        let (w, v) = (outputs[0], outputs[1])
        let n = w.shape[w.rank - 1]
        var inner = cotangents[0].map { $0.unsqueeze(-1) * NDArray.eye(n, dtype: w.dtype) }
        if let cv = cotangents[1] { inner = addTangents(inner, gaps(w) * bind(MatMul(), v.mT, cv)) }
        let a = bind(MatMul(), bind(MatMul(), v, inner!), v.mT)
        return [(a + a.mT) * 0.5]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        (bind(self, [inputs[0].moveAxis(from: axes[0]!, to: 0)]), [0, 0])
    }
}

// MARK: - Output types (for staging)

/// The broadcast batch shape (all but the last two dimensions) of matrix operands.
private func batchShape(_ a: ArrayType, _ b: ArrayType) -> [Int] {
    Shape.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) ?? Array(a.shape.dropLast(2))
}

extension MatMul {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        let (a, b) = (inputs[0], inputs[1])
        return [a.with(shape: batchShape(a, b) + [a.shape[a.shape.count - 2], b.shape[b.shape.count - 1]])]
    }
}

extension Cholesky {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0]] }
}

extension TriangularSolve {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        let (a, b) = (inputs[0], inputs[1])
        return [b.with(shape: batchShape(a, b) + b.shape.suffix(2))]
    }
}

extension Solve {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        let (a, b) = (inputs[0], inputs[1])
        return [b.with(shape: batchShape(a, b) + b.shape.suffix(2))]
    }
}

extension Slogdet {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        let batch = inputs[0].with(shape: Array(inputs[0].shape.dropLast(2)))
        return [batch, batch]
    }
}

extension Eigh {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        [inputs[0].with(shape: Array(inputs[0].shape.dropLast())), inputs[0]]
    }
}
