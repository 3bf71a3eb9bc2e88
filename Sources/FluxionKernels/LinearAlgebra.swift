// Dense linear algebra through LAPACKE (row-major) and cblas_?trsm, batched over leading
// dimensions by a loop. Inputs are contiguous [batch, n, n] (and [batch, n, k] right-hand sides).
//
// Numerical failure follows JAX rather than throwing, because these kernels run under
// transforms: a Cholesky factor of a matrix that is not positive definite, and the solution
// or inverse of an exactly singular matrix, come back filled with NaN. A determinant of a
// singular matrix is 0 (its log-magnitude −∞ with sign 0).

import CBLAS

/// The float types LAPACK speaks, with their s/d routines behind one name.
public protocol LAPACKScalar: FloatingElement {
    /// Cholesky factorization in place (`?potrf`, lower); returns LAPACK's info (> 0: not positive
    /// definite).
    static func potrf(_ n: Int32, _ a: UnsafeMutablePointer<Self>) -> Int32
    /// LU factorization in place with partial pivoting (`?getrf`); returns LAPACK's info.
    static func getrf(_ n: Int32, _ a: UnsafeMutablePointer<Self>, _ pivots: UnsafeMutablePointer<Int32>) -> Int32
    /// Solves with an LU factorization (`?getrs`) for `k` right-hand sides in `b`, in place.
    static func getrs(_ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Self>, _ pivots: UnsafeMutablePointer<Int32>, _ b: UnsafeMutablePointer<Self>) -> Int32
    /// The inverse from an LU factorization, in place (`?getri`).
    static func getri(_ n: Int32, _ a: UnsafeMutablePointer<Self>, _ pivots: UnsafeMutablePointer<Int32>) -> Int32
    /// Eigenvalues into `w` (ascending) and eigenvectors into `a` of a symmetric matrix (`?syevd`).
    static func syevd(_ n: Int32, _ a: UnsafeMutablePointer<Self>, _ w: UnsafeMutablePointer<Self>) -> Int32
    /// Solves a triangular system for `k` right-hand sides in place (`cblas_?trsm`).
    static func trsm(_ n: Int32, _ k: Int32, lower: Bool, transpose: Bool, unit: Bool, _ a: UnsafeMutablePointer<Self>, _ b: UnsafeMutablePointer<Self>)
}

@usableFromInline let rowMajor = Int32(LAPACK_ROW_MAJOR)
@usableFromInline let lowerChar = CChar(UInt8(ascii: "L"))
@usableFromInline let vectorsChar = CChar(UInt8(ascii: "V"))

extension Float: LAPACKScalar {
    public static func potrf(_ n: Int32, _ a: UnsafeMutablePointer<Float>) -> Int32 { LAPACKE_spotrf(rowMajor, lowerChar, n, a, n) }
    public static func getrf(_ n: Int32, _ a: UnsafeMutablePointer<Float>, _ p: UnsafeMutablePointer<Int32>) -> Int32 { LAPACKE_sgetrf(rowMajor, n, n, a, n, p) }
    public static func getrs(_ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Float>, _ p: UnsafeMutablePointer<Int32>, _ b: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_sgetrs(rowMajor, CChar(UInt8(ascii: "N")), n, k, a, n, p, b, k)
    }
    public static func getri(_ n: Int32, _ a: UnsafeMutablePointer<Float>, _ p: UnsafeMutablePointer<Int32>) -> Int32 { LAPACKE_sgetri(rowMajor, n, a, n, p) }
    public static func syevd(_ n: Int32, _ a: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>) -> Int32 { LAPACKE_ssyevd(rowMajor, vectorsChar, lowerChar, n, a, n, w) }
    public static func trsm(_ n: Int32, _ k: Int32, lower: Bool, transpose: Bool, unit: Bool, _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>) {
        cblas_strsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, transpose ? CblasTrans : CblasNoTrans,
                    unit ? CblasUnit : CblasNonUnit, n, k, 1, a, n, b, k)
    }
}

extension Double: LAPACKScalar {
    public static func potrf(_ n: Int32, _ a: UnsafeMutablePointer<Double>) -> Int32 { LAPACKE_dpotrf(rowMajor, lowerChar, n, a, n) }
    public static func getrf(_ n: Int32, _ a: UnsafeMutablePointer<Double>, _ p: UnsafeMutablePointer<Int32>) -> Int32 { LAPACKE_dgetrf(rowMajor, n, n, a, n, p) }
    public static func getrs(_ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Double>, _ p: UnsafeMutablePointer<Int32>, _ b: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dgetrs(rowMajor, CChar(UInt8(ascii: "N")), n, k, a, n, p, b, k)
    }
    public static func getri(_ n: Int32, _ a: UnsafeMutablePointer<Double>, _ p: UnsafeMutablePointer<Int32>) -> Int32 { LAPACKE_dgetri(rowMajor, n, a, n, p) }
    public static func syevd(_ n: Int32, _ a: UnsafeMutablePointer<Double>, _ w: UnsafeMutablePointer<Double>) -> Int32 { LAPACKE_dsyevd(rowMajor, vectorsChar, lowerChar, n, a, n, w) }
    public static func trsm(_ n: Int32, _ k: Int32, lower: Bool, transpose: Bool, unit: Bool, _ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>) {
        cblas_dtrsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, transpose ? CblasTrans : CblasNoTrans,
                    unit ? CblasUnit : CblasNonUnit, n, k, 1, a, n, b, k)
    }
}

/// Dense linear algebra through LAPACKE, batched over leading dimensions; failures give NaN
/// (as in JAX) rather than stopping, because these kernels run under transforms.
public enum LinearAlgebra {
    /// Calls `body` with the float type of `a`'s dtype — with Fluxion's worker threads standing
    /// aside for matrices large enough that OpenBLAS uses its own threads.
    @inlinable
    static func withScalar<R>(_ a: StridedArray, _ op: String, _ body: (any LAPACKScalar.Type) -> R) -> R {
        BLASSetup.done
        let n = a.rank >= 2 ? a.shape[a.rank - 1] : 0
        return ThreadPool.shared.standingAside(if: n * n * n >= GEMM.blasThreadingWork) {
            switch a.dtype {
            case .float32: body(Float.self)
            case .float64: body(Double.self)
            default: kernelFailure("\(op) needs a float32 or float64 matrix, got \(a.dtype)")
            }
        }
    }

    /// Batches of `n×n` matrices in a contiguous array of shape [..., n, n].
    @inlinable
    static func batches(_ a: StridedArray) -> (count: Int, n: Int) {
        let n = a.shape[a.rank - 1]
        return (Shape.count(Array(a.shape.dropLast(2))), n)
    }

    /// The lower Cholesky factor L with L·Lᵀ = a (zeros above the diagonal).
    public static func cholesky(_ a: StridedArray) -> StridedArray {
        withScalar(a, "cholesky") { cholesky(a, $0) }
    }

    static func cholesky<T: LAPACKScalar>(_ a: StridedArray, _: T.Type) -> StridedArray {
        let out = Copy.contiguous(a)
        let (count, n) = batches(a)
        let p = out.pointer(T.self)
        for b in 0..<count {
            let m = p + b * n * n
            let info = n == 0 ? 0 : T.potrf(Int32(n), m)
            for i in 0..<n { for j in (i + 1)..<Swift.max(n, i + 1) { m[i * n + j] = 0 } }
            if info != 0 { m.update(repeating: .nan, count: n * n) }
        }
        return out
    }

    /// X with op(A)·X = B for triangular A: `a` [..., n, n], `b` [..., n, k].
    public static func triangularSolve(_ a: StridedArray, _ b: StridedArray, lower: Bool, transpose: Bool, unitDiagonal: Bool) -> StridedArray {
        withScalar(a, "triangularSolve") { triangularSolve(a, b, lower, transpose, unitDiagonal, $0) }
    }

    static func triangularSolve<T: LAPACKScalar>(_ a: StridedArray, _ b: StridedArray, _ lower: Bool, _ transpose: Bool, _ unit: Bool, _: T.Type) -> StridedArray {
        let ac = a.contiguous(), out = Copy.contiguous(b)
        let (count, n) = batches(a)
        let k = b.shape[b.rank - 1]
        if n == 0 || k == 0 { return out }
        defer { withExtendedLifetime(ac) {} }
        let pa = ac.pointer(T.self), pb = out.pointer(T.self)
        for t in 0..<count {
            T.trsm(Int32(n), Int32(k), lower: lower, transpose: transpose, unit: unit, pa + t * n * n, pb + t * n * k)
        }
        return out
    }

    /// X with A·X = B by LU with partial pivoting: `a` [..., n, n], `b` [..., n, k].
    public static func solve(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        withScalar(a, "solve") { solve(a, b, $0) }
    }

    static func solve<T: LAPACKScalar>(_ a: StridedArray, _ b: StridedArray, _: T.Type) -> StridedArray {
        let lu = Copy.contiguous(a), out = Copy.contiguous(b)
        let (count, n) = batches(a)
        let k = b.shape[b.rank - 1]
        if n == 0 || k == 0 { return out }
        defer { withExtendedLifetime(lu) {} }
        let pa = lu.pointer(T.self), pb = out.pointer(T.self)
        var pivots = [Int32](repeating: 0, count: n)
        for t in 0..<count {
            let info = T.getrf(Int32(n), pa + t * n * n, &pivots)
            if info != 0 {
                (pb + t * n * k).update(repeating: .nan, count: n * k)
            } else {
                _ = T.getrs(Int32(n), Int32(k), pa + t * n * n, &pivots, pb + t * n * k)
            }
        }
        return out
    }

    /// The inverse of each matrix of `a` [..., n, n].
    public static func inverse(_ a: StridedArray) -> StridedArray {
        withScalar(a, "inverse") { inverse(a, $0) }
    }

    static func inverse<T: LAPACKScalar>(_ a: StridedArray, _: T.Type) -> StridedArray {
        let out = Copy.contiguous(a)
        let (count, n) = batches(a)
        if n == 0 { return out }
        let p = out.pointer(T.self)
        var pivots = [Int32](repeating: 0, count: n)
        for t in 0..<count {
            let m = p + t * n * n
            if T.getrf(Int32(n), m, &pivots) != 0 || T.getri(Int32(n), m, &pivots) != 0 {
                m.update(repeating: .nan, count: n * n)
            }
        }
        return out
    }

    /// The sign (−1, 0 or 1) and log |det| of each matrix of `a` [..., n, n], each of shape [...].
    public static func slogdet(_ a: StridedArray) -> (sign: StridedArray, logAbsDet: StridedArray) {
        withScalar(a, "slogdet") { slogdet(a, $0) }
    }

    static func slogdet<T: LAPACKScalar>(_ a: StridedArray, _: T.Type) -> (sign: StridedArray, logAbsDet: StridedArray) {
        let lu = Copy.contiguous(a)
        let (count, n) = batches(a)
        let batchShape = Array(a.shape.dropLast(2))
        let sign = Storage.allocate(a.dtype, count: count), logAbs = Storage.allocate(a.dtype, count: count)
        defer { withExtendedLifetime(lu) {} }
        let ps = sign.pointer(T.self), pl = logAbs.pointer(T.self), p = lu.pointer(T.self)
        var pivots = [Int32](repeating: 0, count: Swift.max(n, 1))
        for t in 0..<count {
            let m = p + t * n * n
            _ = n == 0 ? 0 : T.getrf(Int32(n), m, &pivots)
            var s: T = 1, l: T = 0
            for i in 0..<n {
                let d = m[i * n + i]
                if pivots[i] != Int32(i + 1) { s = -s }
                if d < 0 { s = -s }
                if d == 0 { s = 0 }
                l += T.log(Swift.abs(d))
            }
            ps[t] = s
            pl[t] = l
        }
        return (StridedArray(contiguous: sign, shape: batchShape), StridedArray(contiguous: logAbs, shape: batchShape))
    }

    /// Eigenvalues in ascending order ([..., n]) and orthonormal eigenvectors as columns
    /// ([..., n, n]) of each symmetric matrix of `a`, reading its lower triangle.
    public static func eigh(_ a: StridedArray) -> (values: StridedArray, vectors: StridedArray) {
        withScalar(a, "eigh") { eigh(a, $0) }
    }

    static func eigh<T: LAPACKScalar>(_ a: StridedArray, _: T.Type) -> (values: StridedArray, vectors: StridedArray) {
        let vectors = Copy.contiguous(a)
        let (count, n) = batches(a)
        let values = Storage.allocate(a.dtype, count: count * n)
        let pv = vectors.pointer(T.self), pw = values.pointer(T.self)
        for t in 0..<count where n > 0 {
            if T.syevd(Int32(n), pv + t * n * n, pw + t * n) != 0 {
                (pv + t * n * n).update(repeating: .nan, count: n * n)
                (pw + t * n).update(repeating: .nan, count: n)
            }
        }
        return (StridedArray(contiguous: values, shape: Array(a.shape.dropLast())), vectors)
    }
}
