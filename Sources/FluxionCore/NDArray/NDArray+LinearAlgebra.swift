// Products and linear algebra: matmul with PyTorch's rules for vectors and batches, outer, dot,
// and solve, cholesky, triangularSolve, inverse, det, slogdet, eigh (einsum: NDArray+Einsum.swift).
//
// matmul: 1-d·1-d is a dot product; a 1-d left operand is a row (the added dimension removed
// again), a 1-d right operand a column; leading batch dimensions broadcast. Batched operands
// become broadcast views, never copies, before the GEMM kernel sees them.
//
// Factorization failures give NaN (see the kernels' notes) rather than stopping.

import FluxionKernels

/// The matrix product with PyTorch's `matmul` rules for vectors and batch dimensions.
public func matmul(_ a: NDArray, _ b: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard a.rank >= 1 && b.rank >= 1 else {
        fail("matmul", "operands must have at least one dimension, got shapes \(describe(a.shape)) and \(describe(b.shape))",
             fix: "use * for scalars", file: file, line: line)
    }
    var (x, y) = promoted2(a, b)
    let vectorLeft = x.rank == 1, vectorRight = y.rank == 1
    if vectorLeft { x = x.unsqueeze(0) }
    if vectorRight { y = y.unsqueeze(-1) }
    let m = x.shape[x.rank - 2], k = x.shape[x.rank - 1], k2 = y.shape[y.rank - 2], n = y.shape[y.rank - 1]
    guard k == k2 else {
        fail("matmul", "shapes \(describe(a.shape)) and \(describe(b.shape)) cannot be multiplied (\(k) ≠ \(k2))",
             fix: "the last dimension of the left operand must equal the second-to-last of the right; transpose one with .mT", file: file, line: line)
    }
    guard let batch = Shape.broadcast(Array(x.shape.dropLast(2)), Array(y.shape.dropLast(2))) else {
        fail("matmul", "batch dimensions of \(describe(a.shape)) and \(describe(b.shape)) do not broadcast",
             fix: "make the leading dimensions equal or 1", file: file, line: line)
    }
    for shape in [batch + [m, n], batch + [m, k], batch + [k, n]] {
        checkShape(shape, "matmul", from: [a.shape, b.shape], file: file, line: line)
    }
    let out = bind(MatMul(), x.broadcast(to: batch + [m, k]), y.broadcast(to: batch + [k, n]))
    var shape = batch
    if !vectorLeft { shape.append(m) }
    if !vectorRight { shape.append(n) }
    return out.reshape(shape)
}

/// Operands converted to a common dtype (no shape check: matmul checks its own).
func promoted2(_ a: NDArray, _ b: NDArray) -> (NDArray, NDArray) {
    let t = DType.promoted(a.dtype, b.dtype)
    return (a.to(t), b.to(t))
}

extension NDArray {
    /// `matmul(self, other)`.
    public func matmul(_ other: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        FluxionCore.matmul(self, other, file: file, line: line)
    }
}

/// The outer product of two vectors: `out[i, j] = a[i] * b[j]`.
public func outer(_ a: NDArray, _ b: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard a.rank == 1 && b.rank == 1 else {
        fail("outer", "needs two vectors, got shapes \(describe(a.shape)) and \(describe(b.shape))", fix: "flatten the operands", file: file, line: line)
    }
    return a.unsqueeze(1) * b.unsqueeze(0)
}

/// The dot product of two vectors of equal length (0-d).
public func dot(_ a: NDArray, _ b: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard a.rank == 1 && b.rank == 1 && a.count == b.count else {
        fail("dot", "needs two vectors of equal length, got shapes \(describe(a.shape)) and \(describe(b.shape))",
             fix: "use matmul for matrices", file: file, line: line)
    }
    return matmul(a, b, file: file, line: line)
}

// MARK: - Factorizations and solves

extension NDArray {
    func checkSquare(_ op: String, _ file: StaticString, _ line: UInt) {
        guard rank >= 2, shape[rank - 1] == shape[rank - 2] else {
            fail(op, "needs square matrices in the last two dimensions, got shape \(describe(shape))",
                 fix: "pass an array of shape [..., n, n]", file: file, line: line)
        }
        guard dtype.isFloatingPoint else {
            fail(op, "needs float32 or float64, got \(dtype)", fix: "convert with .to(.float64)", file: file, line: line)
        }
    }
}

/// Right-hand sides as a batch of matrices: a vector b (or batch of vectors) becomes a column.
func asColumns(_ a: NDArray, _ b: NDArray, _ op: String, _ file: StaticString, _ line: UInt) -> (NDArray, NDArray, Bool) {
    let n = a.shape[a.rank - 1]
    let isVector = b.rank == 1 || (b.rank == a.rank - 1 && b.shape.last == n && b.rank >= 1 && Array(b.shape.dropLast()) == Array(a.shape.dropLast(2)))
    let bm = isVector ? b.unsqueeze(-1) : b
    guard bm.rank >= 2, bm.shape[bm.rank - 2] == n,
          let batch = Shape.broadcast(Array(a.shape.dropLast(2)), Array(bm.shape.dropLast(2))) else {
        fail(op, "right-hand side of shape \(describe(b.shape)) does not fit matrices of shape \(describe(a.shape))",
             fix: "pass b of shape [..., \(n)] or [..., \(n), k]", file: file, line: line)
    }
    let t = DType.promoted(a.dtype, b.dtype)
    let k = bm.shape[bm.rank - 1]
    return (a.to(t).broadcast(to: batch + [n, n]), bm.to(t).broadcast(to: batch + [n, k]), isVector)
}

/// X with A·X = B, by LU with partial pivoting (`torch.linalg.solve`); b may be a vector.
public func solve(_ a: NDArray, _ b: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    a.checkSquare("solve", file, line)
    let (am, bm, isVector) = asColumns(a, b, "solve", file, line)
    let x = bind(Solve(), am, bm)
    return isVector ? x.squeeze(dim: -1) : x
}

/// The lower-triangular L with L·Lᵀ = A for symmetric positive-definite A (NaN if it is not).
public func cholesky(_ a: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    a.checkSquare("cholesky", file, line)
    return bind(Cholesky(), a)
}

/// X with op(A)·X = B for triangular A (`upper` selects which triangle is read; `transpose`
/// solves with Aᵀ; `unitDiagonal` assumes ones on the diagonal).
public func triangularSolve(_ a: NDArray, _ b: NDArray, upper: Bool = false, transpose: Bool = false,
                            unitDiagonal: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    a.checkSquare("triangularSolve", file, line)
    let (am, bm, isVector) = asColumns(a, b, "triangularSolve", file, line)
    let x = bind(TriangularSolve(lower: !upper, transposeA: transpose, unitDiagonal: unitDiagonal), am, bm)
    return isVector ? x.squeeze(dim: -1) : x
}

/// The inverse of each square matrix (A⁻¹ = solve(A, I)).
public func inverse(_ a: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    a.checkSquare("inverse", file, line)
    let n = a.shape[a.rank - 1]
    return bind(Solve(), a, NDArray.eye(n, dtype: a.dtype).broadcast(to: a.shape))
}

/// The sign and natural log of |det A| for each square matrix.
public func slogdet(_ a: NDArray, file: StaticString = #fileID, line: UInt = #line) -> (sign: NDArray, logAbsDet: NDArray) {
    a.checkSquare("slogdet", file, line)
    let r = bind(Slogdet(), [a])
    return (r[0], r[1])
}

/// The determinant of each square matrix (sign · exp(log |det|)).
public func det(_ a: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let (sign, logAbs) = slogdet(a, file: file, line: line)
    return sign * exp(logAbs)
}

/// Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices, reading the lower
/// triangle, as `torch.linalg.eigh`.
public func eigh(_ a: NDArray, file: StaticString = #fileID, line: UInt = #line) -> (values: NDArray, vectors: NDArray) {
    a.checkSquare("eigh", file, line)
    let r = bind(Eigh(), [a])
    return (r[0], r[1])
}
