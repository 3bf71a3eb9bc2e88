// Products and linear algebra. matmul, outer, dot and einsum are checked against triple loops
// (vectors, matrices, broadcast batches, transposed and strided operands, int64, empty inner
// dimensions); factorizations and solves by reconstruction: L·Lᵀ = A, A·x = b, A·A⁻¹ = I,
// A·V = V·diag(w) — and determinants against hand-computed values.

import Foundation
import Testing
import Fluxion

/// Tolerances for results of a few dozen float operations on values of order 1.
private func linalgTolerance(_ dtype: DType) -> (rtol: Double, atol: Double) {
    dtype == .float32 ? (1e-4, 1e-4) : (1e-10, 1e-10)
}

@Suite struct MatmulTests {
    /// Checks matmul of two arrays made from `a` and `b` data against the reference product.
    func check(_ a: NDArray, _ aData: [Double], _ aShape: [Int], _ b: NDArray, _ bData: [Double], _ bShape: [Int],
               sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = referenceMatmul(aData, aShape, bData, bShape)
        let product = matmul(a, b)
        #expect(product.shape == expected.shape, "\(aShape) · \(bShape)", sourceLocation: sourceLocation)
        let tol = linalgTolerance(product.dtype)
        expectClose(product, expected.values, rtol: tol.rtol, atol: tol.atol, label: "\(aShape) · \(bShape)", sourceLocation: sourceLocation)
    }

    @Test(arguments: floatDTypes)
    func shapesAndBroadcastBatches(_ dtype: DType) {
        let pairs: [([Int], [Int])] = [
            ([4], [4]), ([3, 4], [4]), ([4], [4, 5]), ([3, 4], [4, 5]), ([1, 4], [4, 1]), ([3, 1], [1, 5]),
            ([2, 3, 4], [2, 4, 5]), ([2, 3, 4], [4, 5]), ([3, 4], [2, 4, 5]), ([2, 1, 3, 4], [3, 4, 5]),
            ([2, 3, 4], [4]), ([4], [2, 4, 5]), ([1, 3, 4], [2, 4, 2]), ([2, 2, 3, 4], [2, 1, 4, 5]),
            ([0, 4], [4, 5]), ([3, 4], [4, 0]), ([0, 3, 4], [4, 5]),
        ]
        for (i, (sa, sb)) in pairs.enumerated() {
            let av = stored(testValues(elementCount(sa), seed: UInt64(2 * i)), dtype)
            let bv = stored(testValues(elementCount(sb), seed: UInt64(2 * i + 1)), dtype)
            check(array(av, sa, dtype), av, sa, array(bv, sb, dtype), bv, sb)
        }
        // A vector · vector product is 0-d.
        #expect(matmul(array([1, 2], [2], dtype), array([3, 4], [2], dtype)).shape == [])
    }

    @Test(arguments: floatDTypes)
    func transposedOperands(_ dtype: DType) {
        let (m, k, n) = (3, 5, 4)
        let av = stored(testValues(m * k, seed: 21), dtype), bv = stored(testValues(k * n, seed: 22), dtype)
        let a = array(av, [m, k], dtype), b = array(bv, [k, n], dtype)
        // Arrays stored transposed, so `.T` gives a view with the same logical values.
        let aT = array(transposed(av, rows: m, cols: k), [k, m], dtype).T
        let bT = array(transposed(bv, rows: k, cols: n), [n, k], dtype).T
        #expect(!aT.isContiguous && !bT.isContiguous)
        check(aT, av, [m, k], b, bv, [k, n])
        check(a, av, [m, k], bT, bv, [k, n])
        check(aT, av, [m, k], bT, bv, [k, n])
        check(aT, av, [m, k], bT[.all, 1], stridedValues(bv, shape: [k], strides: [n], offset: 1), [k])
        check(a[1], Array(av[k..<(2 * k)]), [k], bT, bv, [k, n])

        // Batched: .mT of a batch stored transposed.
        let batch = 2
        let cv = stored(testValues(batch * m * k, seed: 23), dtype)
        let storage = (0..<batch).flatMap { t in transposed(Array(cv[(t * m * k)..<((t + 1) * m * k)]), rows: m, cols: k) }
        let c = array(storage, [batch, k, m], dtype).mT
        check(c, cv, [batch, m, k], b, bv, [k, n])
        check(c, cv, [batch, m, k], bT, bv, [k, n])
    }

    @Test(arguments: floatDTypes)
    func stridedAndBroadcastOperands(_ dtype: DType) {
        let (m, k, n) = (3, 4, 2)
        // Every other column of a wider matrix: neither stride is 1.
        let wide = stored(testValues(m * 2 * k, seed: 31), dtype)
        let a = array(wide, [m, 2 * k], dtype)[.all, stride(from: 0, to: 2 * k, by: 2)]
        let av = stridedValues(wide, shape: [m, k], strides: [2 * k, 2])
        let tall = stored(testValues(2 * k * n, seed: 32), dtype)
        let b = array(tall, [2 * k, n], dtype)[stride(from: 1, to: 2 * k, by: 2)]
        let bv = stridedValues(tall, shape: [k, n], strides: [2 * n, 1], offset: n)
        check(a, av, [m, k], b, bv, [k, n])
        check(a.T.T, av, [m, k], b, bv, [k, n])
        // Operands expanded along a batch dimension (stride 0) and along rows.
        let e = a.unsqueeze(0).expand([3, m, k])
        check(e, av + av + av, [3, m, k], b, bv, [k, n])
        let rowValues = stored(testValues(k, seed: 33), dtype)
        let rows = array(rowValues, [1, k], dtype).expand([m, k])
        check(rows, rowValues + rowValues + rowValues, [m, k], b, bv, [k, n])
    }

    @Test func integerOperands() {
        let a = NDArray([[1, 2, 3], [4, 5, 6]]), b = NDArray([[7, 8], [9, 10], [11, 12]])
        let p = matmul(a, b)
        #expect(p.dtype == .int64)
        #expect(p.ints == [58, 64, 139, 154])
        #expect(matmul(a, NDArray([1, 0, -1])).ints == [-2, -2])
        #expect(matmul(a.T, a).ints == [17, 22, 27, 22, 29, 36, 27, 36, 45])
        let mixed = matmul(a, NDArray([[0.5], [0.25], [1]]))
        #expect(mixed.dtype == .float32)
        #expect(mixed.doubles == [4, 9.25])
        #expect(a.matmul(b).ints == p.ints)
    }

    @Test(arguments: floatDTypes)
    func emptyInnerDimensionGivesZeros(_ dtype: DType) {
        let p = matmul(NDArray.zeros([3, 0], dtype: dtype), NDArray.zeros([0, 4], dtype: dtype))
        #expect(p.shape == [3, 4])
        #expect(p.dtype == dtype)
        #expect(p.doubles == [Double](repeating: 0, count: 12))
        #expect(matmul(NDArray.zeros([2, 3, 0], dtype: dtype), NDArray.zeros([0, 2], dtype: dtype)).doubles == [Double](repeating: 0, count: 12))
        #expect(matmul(NDArray.zeros([0], dtype: dtype), NDArray.zeros([0], dtype: dtype)).doubles == [0])
    }

    @Test(arguments: floatDTypes)
    func outerAndDot(_ dtype: DType) {
        let u = stored(testValues(3, seed: 41), dtype), v = stored(testValues(4, seed: 42), dtype)
        let o = outer(array(u, [3], dtype), array(v, [4], dtype))
        #expect(o.shape == [3, 4])
        expectClose(o, u.flatMap { x in v.map { x * $0 } })
        let w = stored(testValues(3, seed: 43), dtype)
        let d = dot(array(u, [3], dtype), array(w, [3], dtype))
        #expect(d.shape == [])
        let tol = linalgTolerance(dtype)
        expectClose(d, [dotProduct(u, w)], rtol: tol.rtol, atol: tol.atol)
    }

    @Test(arguments: floatDTypes)
    func einsumEquations(_ dtype: DType) {
        let tol = linalgTolerance(dtype)
        let av = stored(testValues(12, seed: 51), dtype), bv = stored(testValues(20, seed: 52), dtype)
        let a = array(av, [3, 4], dtype), b = array(bv, [4, 5], dtype)
        expectClose(einsum("ij,jk->ik", a, b), naiveMatmul(av, bv, m: 3, k: 4, n: 5), rtol: tol.rtol, atol: tol.atol)
        // The output order may differ from the natural one.
        expectClose(einsum("ij,jk->ki", a, b), transposed(naiveMatmul(av, bv, m: 3, k: 4, n: 5), rows: 3, cols: 5),
                    rtol: tol.rtol, atol: tol.atol)

        let cv = stored(testValues(24, seed: 53), dtype), dv = stored(testValues(40, seed: 54), dtype)
        let batched = einsum("bij,bjk->bik", array(cv, [2, 3, 4], dtype), array(dv, [2, 4, 5], dtype))
        #expect(batched.shape == [2, 3, 5])
        expectClose(batched, naiveMatmul(Array(cv[0..<12]), Array(dv[0..<20]), m: 3, k: 4, n: 5)
                        + naiveMatmul(Array(cv[12...]), Array(dv[20...]), m: 3, k: 4, n: 5), rtol: tol.rtol, atol: tol.atol)

        let u = Array(av[0..<3]), v = Array(bv[0..<4])
        let o = einsum("i,j->ij", array(u, [3], dtype), array(v, [4], dtype))
        #expect(o.shape == [3, 4])
        expectClose(o, u.flatMap { x in v.map { x * $0 } })

        let ev = stored(testValues(12, seed: 55), dtype)
        let rowDots = einsum("ij,ij->i", a, array(ev, [3, 4], dtype))
        #expect(rowDots.shape == [3])
        let expectedDots: [Double] = (0..<3).map { i in dotProduct(Array(av[(4 * i)..<(4 * i + 4)]), Array(ev[(4 * i)..<(4 * i + 4)])) }
        expectClose(rowDots, expectedDots, rtol: tol.rtol, atol: tol.atol)

        let fv = stored(testValues(20, seed: 56), dtype)
        let abT = einsum("ij,kj->ik", a, array(fv, [5, 4], dtype))
        #expect(abT.shape == [3, 5])
        expectClose(abT, naiveMatmul(av, transposed(fv, rows: 5, cols: 4), m: 3, k: 4, n: 5), rtol: tol.rtol, atol: tol.atol)

        // Spaces are ignored.
        expectClose(einsum(" ij , jk -> ik ", a, b), naiveMatmul(av, bv, m: 3, k: 4, n: 5), rtol: tol.rtol, atol: tol.atol)
        // A letter in one operand only and absent from the output is summed away.
        let summed = einsum("ij,k->i", a, array(u, [3], dtype))
        let uSum: Double = u.reduce(0, +)
        let expectedSums: [Double] = (0..<3).map { i in av[(4 * i)..<(4 * i + 4)].reduce(0, +) * uSum }
        expectClose(summed, expectedSums, rtol: tol.rtol, atol: tol.atol)
        // Operands given as non-contiguous views.
        expectClose(einsum("ij,jk->ik", a.T.T, b[.all, stride(from: 0, to: 5, by: 2)]),
                    naiveMatmul(av, stridedValues(bv, shape: [4, 3], strides: [5, 2]), m: 3, k: 4, n: 3), rtol: tol.rtol, atol: tol.atol)
    }
}

// MARK: - Factorizations and solves

/// A well-conditioned symmetric positive-definite n×n matrix M·Mᵀ + n·I.
private func spdMatrix(_ n: Int, seed: UInt64) -> [Double] {
    let m = testValues(n * n, seed: seed)
    var a = naiveMatmul(m, transposed(m, rows: n, cols: n), m: n, k: n, n: n)
    for i in 0..<n { a[i * n + i] += Double(n) }
    return a
}

/// A well-conditioned general n×n matrix (diagonally dominant).
private func generalMatrix(_ n: Int, seed: UInt64) -> [Double] {
    var a = testValues(n * n, seed: seed)
    for i in 0..<n { a[i * n + i] += Double(2 * n) * (i % 2 == 0 ? 1 : -1) }
    return a
}

@Suite struct LinearAlgebraTests {
    @Test(arguments: floatDTypes)
    func choleskyReconstructs(_ dtype: DType) {
        let n = 4
        let a = stored(spdMatrix(n, seed: 61), dtype)
        let l = cholesky(array(a, [n, n], dtype))
        #expect(l.shape == [n, n])
        #expect(l.dtype == dtype)
        let lv = l.doubles
        for i in 0..<n {
            for j in (i + 1)..<n { #expect(lv[i * n + j] == 0, "upper entry (\(i), \(j))") }
            #expect(lv[i * n + i] > 0)
        }
        let tol = linalgTolerance(dtype)
        expectClose(naiveMatmul(lv, transposed(lv, rows: n, cols: n), m: n, k: n, n: n), a, shape: [n, n],
                    rtol: tol.rtol, atol: tol.atol, label: "L·Lᵀ")
        // A hand-computed factor.
        expectClose(cholesky(array([4, 2, 2, 3], [2, 2], dtype)), [2, 0, 1, Foundation.sqrt(2)])
    }

    @Test(arguments: floatDTypes)
    func choleskyOfBatchesAndViews(_ dtype: DType) {
        let n = 3
        let a0 = stored(spdMatrix(n, seed: 62), dtype), a1 = stored(spdMatrix(n, seed: 63), dtype)
        let l = cholesky(array(a0 + a1, [2, n, n], dtype))
        #expect(l.shape == [2, n, n])
        let tol = linalgTolerance(dtype)
        for (t, a) in [a0, a1].enumerated() {
            let lv = Array(l.doubles[(t * n * n)..<((t + 1) * n * n)])
            expectClose(naiveMatmul(lv, transposed(lv, rows: n, cols: n), m: n, k: n, n: n), a, shape: [n, n],
                        rtol: tol.rtol, atol: tol.atol, label: "L·Lᵀ of batch \(t)")
        }
        // A symmetric matrix given as a transposed view factors the same.
        expectClose(cholesky(array(a0, [n, n], dtype).T), Array(l.doubles[0..<(n * n)]), rtol: tol.rtol, atol: tol.atol)
    }

    @Test(arguments: floatDTypes)
    func choleskyOfANonPositiveDefiniteMatrixIsNaN(_ dtype: DType) {
        #expect(cholesky(array([1, 2, 2, 1], [2, 2], dtype)).doubles.allSatisfy { $0.isNaN })
        let batch = cholesky(array([4, 0, 0, 9, 1, 2, 2, 1], [2, 2, 2], dtype)).doubles
        #expect(Array(batch[0..<4]) == [2, 0, 0, 3])
        #expect(batch[4...].allSatisfy { $0.isNaN })
    }

    @Test(arguments: floatDTypes)
    func solveReconstructs(_ dtype: DType) {
        let n = 4, k = 3
        let tol = linalgTolerance(dtype)
        let a = stored(generalMatrix(n, seed: 71), dtype)
        let am = array(a, [n, n], dtype)

        let b = stored(testValues(n, seed: 72), dtype)
        let x = solve(am, array(b, [n], dtype))
        #expect(x.shape == [n])
        expectClose(naiveMatmul(a, x.doubles, m: n, k: n, n: 1), b, rtol: tol.rtol, atol: tol.atol, label: "A·x")

        let bm = stored(testValues(n * k, seed: 73), dtype)
        let xm = solve(am, array(bm, [n, k], dtype))
        #expect(xm.shape == [n, k])
        expectClose(naiveMatmul(a, xm.doubles, m: n, k: n, n: k), bm, rtol: tol.rtol, atol: tol.atol, label: "A·X")

        // Batched matrices with a batch of vectors, a shared matrix right-hand side, and a
        // transposed matrix.
        let a2 = stored(generalMatrix(n, seed: 74), dtype)
        let batch = array(a + a2, [2, n, n], dtype)
        let vectors = stored(testValues(2 * n, seed: 75), dtype)
        let xs = solve(batch, array(vectors, [2, n], dtype))
        #expect(xs.shape == [2, n])
        for (t, at) in [a, a2].enumerated() {
            expectClose(naiveMatmul(at, Array(xs.doubles[(t * n)..<((t + 1) * n)]), m: n, k: n, n: 1),
                        Array(vectors[(t * n)..<((t + 1) * n)]), rtol: tol.rtol, atol: tol.atol, label: "A·x of batch \(t)")
        }
        let shared = solve(batch, array(bm, [n, k], dtype))
        #expect(shared.shape == [2, n, k])
        for (t, at) in [a, a2].enumerated() {
            expectClose(naiveMatmul(at, Array(shared.doubles[(t * n * k)..<((t + 1) * n * k)]), m: n, k: n, n: k), bm,
                        rtol: tol.rtol, atol: tol.atol, label: "A·X of batch \(t)")
        }
        let xt = solve(am.T, array(b, [n], dtype))
        expectClose(naiveMatmul(transposed(a, rows: n, cols: n), xt.doubles, m: n, k: n, n: 1), b,
                    rtol: tol.rtol, atol: tol.atol, label: "Aᵀ·x")
        // An exactly singular matrix gives NaN.
        #expect(solve(array([1, 2, 2, 4], [2, 2], dtype), array([1, 1], [2], dtype)).doubles.allSatisfy { $0.isNaN })
    }

    @Test(arguments: floatDTypes)
    func triangularSolveReconstructs(_ dtype: DType) {
        let n = 4, k = 2
        let tol = linalgTolerance(dtype)
        // Random off-diagonal entries, a dominant diagonal; the unused triangle holds garbage.
        var full = stored(testValues(n * n, seed: 81), dtype)
        for i in 0..<n { full[i * n + i] = Double(3 + i) }
        let lower = (0..<(n * n)).map { f in f / n >= f % n ? full[f] : 0 }
        let upper = (0..<(n * n)).map { f in f / n <= f % n ? full[f] : 0 }
        let unitLower = (0..<(n * n)).map { f in f / n == f % n ? 1 : lower[f] }
        let a = array(full, [n, n], dtype)
        let b = stored(testValues(n * k, seed: 82), dtype)
        let bm = array(b, [n, k], dtype)

        let cases: [(String, NDArray, [Double])] = [
            ("lower", triangularSolve(a, bm), lower),
            ("upper", triangularSolve(a, bm, upper: true), upper),
            ("lower transposed", triangularSolve(a, bm, transpose: true), transposed(lower, rows: n, cols: n)),
            ("upper transposed", triangularSolve(a, bm, upper: true, transpose: true), transposed(upper, rows: n, cols: n)),
            ("unit lower", triangularSolve(a, bm, unitDiagonal: true), unitLower),
        ]
        for (name, x, op) in cases {
            #expect(x.shape == [n, k], "\(name)")
            expectClose(naiveMatmul(op, x.doubles, m: n, k: n, n: k), b, shape: [n, k], rtol: tol.rtol, atol: tol.atol, label: name)
        }
        let v = triangularSolve(a, array(Array(b[0..<n]), [n], dtype))
        #expect(v.shape == [n])
        expectClose(naiveMatmul(lower, v.doubles, m: n, k: n, n: 1), Array(b[0..<n]), rtol: tol.rtol, atol: tol.atol, label: "L·x")
        // Batched, with a broadcast right-hand side.
        let batch = triangularSolve(stack([a, a.T]), bm)
        #expect(batch.shape == [2, n, k])
        expectClose(naiveMatmul(transposed(upper, rows: n, cols: n), Array(batch.doubles[(n * k)...]), m: n, k: n, n: k), b,
                    rtol: tol.rtol, atol: tol.atol, label: "lower triangle of Aᵀ")
    }

    @Test(arguments: floatDTypes)
    func inverseReconstructs(_ dtype: DType) {
        let n = 4
        let tol = linalgTolerance(dtype)
        let a = stored(generalMatrix(n, seed: 91), dtype)
        let inv = inverse(array(a, [n, n], dtype))
        #expect(inv.shape == [n, n])
        #expect(inv.dtype == dtype)
        let identity = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 }
        expectClose(naiveMatmul(a, inv.doubles, m: n, k: n, n: n), identity, shape: [n, n], rtol: tol.rtol, atol: tol.atol, label: "A·A⁻¹")
        expectClose(naiveMatmul(inv.doubles, a, m: n, k: n, n: n), identity, shape: [n, n], rtol: tol.rtol, atol: tol.atol, label: "A⁻¹·A")
        expectClose(inverse(array([4, 7, 2, 6], [2, 2], dtype)), [0.6, -0.7, -0.2, 0.4], rtol: tol.rtol, atol: tol.atol)

        let a2 = stored(generalMatrix(n, seed: 92), dtype)
        let batch = inverse(array(a + a2, [2, n, n], dtype))
        #expect(batch.shape == [2, n, n])
        expectClose(naiveMatmul(a2, Array(batch.doubles[(n * n)...]), m: n, k: n, n: n), identity, shape: [n, n],
                    rtol: tol.rtol, atol: tol.atol, label: "A·A⁻¹ of batch 1")
        #expect(inverse(array([1, 2, 2, 4], [2, 2], dtype)).doubles.allSatisfy { $0.isNaN })
    }

    @Test(arguments: floatDTypes)
    func determinants(_ dtype: DType) {
        let tol = linalgTolerance(dtype)
        expectClose(det(array([1, 2, 3, 4], [2, 2], dtype)), [-2], rtol: tol.rtol, atol: tol.atol)
        expectClose(det(array([2, -1, 0, 1, 3, 2, 0, 1, 4], [3, 3], dtype)), [24], rtol: tol.rtol, atol: tol.atol)
        expectClose(det(array([0, 1, 1, 0], [2, 2], dtype)), [-1], rtol: tol.rtol, atol: tol.atol)
        expectClose(det(array([-2, 0, 0, 3], [2, 2], dtype)), [-6], rtol: tol.rtol, atol: tol.atol)
        expectClose(det(array([0, 0, 1, 0, 1, 0, 1, 0, 0], [3, 3], dtype)), [-1], rtol: tol.rtol, atol: tol.atol)
        #expect(det(array([1, 2, 2, 4], [2, 2], dtype)).item() == 0)
        #expect(det(array([1, 2, 3, 4], [2, 2], dtype)).shape == [])
        // The transpose has the same determinant; a batch gives one per matrix.
        expectClose(det(array([2, -1, 0, 1, 3, 2, 0, 1, 4], [3, 3], dtype).T), [24], rtol: tol.rtol, atol: tol.atol)
        let batch = det(array([1, 2, 3, 4, 2, 0, 0, 5], [2, 2, 2], dtype))
        #expect(batch.shape == [2])
        expectClose(batch, [-2, 10], rtol: tol.rtol, atol: tol.atol)
        // A random 3×3 against the rule of Sarrus.
        let m = stored(testValues(9, seed: 93), dtype)
        let sarrus = m[0] * m[4] * m[8] + m[1] * m[5] * m[6] + m[2] * m[3] * m[7]
            - m[2] * m[4] * m[6] - m[0] * m[5] * m[7] - m[1] * m[3] * m[8]
        expectClose(det(array(m, [3, 3], dtype)), [sarrus], rtol: tol.rtol, atol: tol.atol)
    }

    @Test(arguments: floatDTypes)
    func slogdetValues(_ dtype: DType) {
        let tol = linalgTolerance(dtype)
        let (sign, logAbs) = slogdet(array([1, 2, 3, 4], [2, 2], dtype))
        #expect(sign.doubles == [-1])
        expectClose(logAbs, [Foundation.log(2)], rtol: tol.rtol, atol: tol.atol)
        let (s2, l2) = slogdet(array([1e3, 0, 0, 1e3, 1, 0, 0, 1], [2, 2, 2], dtype))
        #expect(s2.doubles == [1, 1])
        expectClose(l2, [2 * Foundation.log(1000), 0], rtol: tol.rtol, atol: tol.atol)
        let (s3, l3) = slogdet(array([1, 2, 2, 4], [2, 2], dtype))
        #expect(s3.item() == 0)
        #expect(l3.item() == -.infinity)
    }

    @Test(arguments: floatDTypes)
    func emptyMatrices(_ dtype: DType) {
        let e = NDArray.zeros([0, 0], dtype: dtype)
        #expect(cholesky(e).shape == [0, 0])
        #expect(inverse(e).shape == [0, 0])
        #expect(det(e).doubles == [1])
        #expect(slogdet(e).sign.doubles == [1])
        #expect(slogdet(e).logAbsDet.doubles == [0])
        #expect(solve(e, NDArray.zeros([0], dtype: dtype)).shape == [0])
        #expect(solve(e, NDArray.zeros([0, 3], dtype: dtype)).shape == [0, 3])
        #expect(eigh(e).values.shape == [0])
        let batch = NDArray.zeros([0, 2, 2], dtype: dtype)
        #expect(cholesky(batch).shape == [0, 2, 2])
        #expect(det(batch).shape == [0])
        #expect(inverse(batch).shape == [0, 2, 2])
        #expect(eigh(batch).vectors.shape == [0, 2, 2])
        let noColumns = solve(array([2, 0, 0, 4], [2, 2], dtype), NDArray.zeros([2, 0], dtype: dtype))
        #expect(noColumns.shape == [2, 0])
    }

    @Test(arguments: floatDTypes)
    func eighReconstructs(_ dtype: DType) {
        let n = 4
        let tol = linalgTolerance(dtype)
        let m = testValues(n * n, seed: 101)
        let symmetric = stored((0..<(n * n)).map { f in m[f] + m[(f % n) * n + f / n] }, dtype)
        // Garbage above the diagonal: only the lower triangle is read.
        let input = (0..<(n * n)).map { f in f / n >= f % n ? symmetric[f] : 99 }
        let (w, v) = eigh(array(input, [n, n], dtype))
        #expect(w.shape == [n])
        #expect(v.shape == [n, n])
        let wv = w.doubles, vv = v.doubles
        #expect(zip(wv, wv.dropFirst()).allSatisfy { $0 <= $1 }, "eigenvalues ascend")
        let av = naiveMatmul(symmetric, vv, m: n, k: n, n: n)
        let vw = (0..<(n * n)).map { f in vv[f] * wv[f % n] }
        expectClose(av, vw, shape: [n, n], rtol: tol.rtol, atol: tol.atol, label: "A·V vs V·diag(w)")
        let identity = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 }
        expectClose(naiveMatmul(transposed(vv, rows: n, cols: n), vv, m: n, k: n, n: n), identity, shape: [n, n],
                    rtol: tol.rtol, atol: tol.atol, label: "Vᵀ·V")
        let trace = (0..<n).map { symmetric[$0 * n + $0] }.reduce(0, +)
        expectClose([wv.reduce(0, +)], [trace], rtol: tol.rtol, atol: tol.atol, label: "Σw vs trace")

        expectClose(eigh(array([2, 1, 1, 2], [2, 2], dtype)).values, [1, 3], rtol: tol.rtol, atol: tol.atol)
        let batch = eigh(array([2, 1, 1, 2, 5, 0, 0, -1], [2, 2, 2], dtype))
        #expect(batch.values.shape == [2, 2])
        #expect(batch.vectors.shape == [2, 2, 2])
        expectClose(batch.values, [1, 3, -1, 5], rtol: tol.rtol, atol: tol.atol)
    }
}
