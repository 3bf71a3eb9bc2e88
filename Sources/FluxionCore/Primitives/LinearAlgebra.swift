// Matrix products and the factorizations behind solve, inverse, determinants and symmetric
// eigendecomposition. Inputs carry explicit, already broadcast batch dimensions.

import FluxionKernels

// MARK: - Matrix product

/// [batch..., m, k] · [batch..., k, n] → [batch..., m, n].
public struct MatMul: BinaryPrimitive {
    public var name: String { "matmul" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray { GEMM.matmul(a, b) }
}

// MARK: - Cholesky

/// The lower factor L of a symmetric positive-definite A = L·Lᵀ.
public struct Cholesky: UnaryPrimitive {
    public var name: String { "cholesky" }
    public func evaluate(_ a: StridedArray) -> StridedArray { LinearAlgebra.cholesky(a.contiguous()) }
}

// MARK: - Triangular solve

/// X with op(A)·X = B for triangular A; inputs (A, B).
public struct TriangularSolve: BinaryPrimitive {
    public let lower: Bool
    public let transposeA: Bool
    public let unitDiagonal: Bool
    public var name: String { "triangularSolve" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        LinearAlgebra.triangularSolve(a, b, lower: lower, transpose: transposeA, unitDiagonal: unitDiagonal)
    }
}

// MARK: - LU solve

/// X with A·X = B by LU with partial pivoting; inputs (A, B).
public struct Solve: BinaryPrimitive {
    public var name: String { "solve" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray { LinearAlgebra.solve(a, b) }
}

// MARK: - Sign and log-determinant

/// Outputs (sign, log |det A|) for each matrix.
public struct Slogdet: Primitive {
    public var name: String { "slogdet" }
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        let (sign, logAbs) = LinearAlgebra.slogdet(inputs[0])
        return [sign, logAbs]
    }
}

// MARK: - Symmetric eigendecomposition

/// Outputs (eigenvalues ascending, eigenvectors as columns) of each symmetric matrix.
public struct Eigh: Primitive {
    public var name: String { "eigh" }
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        let (values, vectors) = LinearAlgebra.eigh(inputs[0])
        return [values, vectors]
    }
}
