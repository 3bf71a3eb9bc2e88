// Matrix products through cblas_sgemm / cblas_dgemm. A strided 2-D view is handed to BLAS
// as it is whenever one of its strides is 1 (a transposed view becomes the transpose flag);
// only other layouts are copied. A batch whose right operand is shared by every batch
// element and whose left operand is contiguous runs as one GEMM with batch·m rows; products
// with inner dimension 1 (outer products) are one elementwise multiply.

import CBLAS

/// Matrix products through `cblas_sgemm`/`cblas_dgemm`, transposed views passed as flags and
/// batches folded into one call where the layout allows.
public enum GEMM {
    /// How BLAS reads one operand.
    @usableFromInline
    struct Operand {
        var array: StridedArray
        var transpose: CBLAS_TRANSPOSE
        var leadingDimension: Int32
    }

    /// `a` as a BLAS operand for its last two dimensions at `offset`, copying only when neither
    /// stride is 1.
    @usableFromInline
    static func operand(_ a: StridedArray) -> Operand {
        let r = a.rank
        let rows = a.shape[r - 2], cols = a.shape[r - 1]
        var s0 = a.strides[r - 2], s1 = a.strides[r - 1]
        if rows <= 1 { s0 = Swift.max(cols, 1) * Swift.max(s1, 1) }
        if cols <= 1 { s1 = 1; if rows <= 1 { s0 = 1 } }
        if s1 == 1 && s0 >= Swift.max(cols, 1) {
            return Operand(array: a, transpose: CblasNoTrans, leadingDimension: Int32(s0))
        }
        if s0 == 1 && s1 >= Swift.max(rows, 1) {
            return Operand(array: a, transpose: CblasTrans, leadingDimension: Int32(s1))
        }
        let c = Copy.contiguous(a)
        return Operand(array: c, transpose: CblasNoTrans, leadingDimension: Int32(Swift.max(cols, 1)))
    }

    /// `a @ b` for `a` of shape [batch..., m, k] and `b` of shape [batch..., k, n] (the batch
    /// dimensions already broadcast to the same shape; their strides may be 0). Returns a
    /// contiguous [batch..., m, n] array.
    public static func matmul(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        BLASSetup.done
        let r = a.rank
        guard r >= 2 && b.rank == r && a.dtype == b.dtype else { kernelFailure("matmul: batched operands of shapes \(a.shape) and \(b.shape) (\(a.dtype), \(b.dtype)) reached the GEMM kernel unaligned") }
        let m = a.shape[r - 2], k = a.shape[r - 1], n = b.shape[r - 1]
        let batchShape = Array(a.shape[..<(r - 2)])
        let outShape = batchShape + [m, n]
        if k == 0 || a.dtype == .int64 || a.dtype == .bool {
            return naive(a, b, outShape)
        }
        // Inner dimension 1: a batch of outer products is one broadcast multiply, not one
        // BLAS call per batch element (per-sample weight gradients look like this).
        if k == 1 {
            let column = a.view(shape: batchShape + [m, 1], strides: a.strides)
            let row = b.view(shape: batchShape + [1, n], strides: b.strides)
            return Elementwise.binary(.mul, column, row, shape: outShape)
        }
        let out = Storage.allocate(a.dtype, count: Shape.count(outShape))
        let result = StridedArray(contiguous: out, shape: outShape)
        let batches = Shape.count(batchShape)
        if batches == 0 || m == 0 || n == 0 { return result }

        // One GEMM with batch·m rows when b is shared and a's batch rows are contiguous.
        let bShared = b.strides[..<(r - 2)].allSatisfy { $0 == 0 }
        if batches > 1 && bShared && a.isContiguous {
            let a2 = StridedArray(storage: a.storage, shape: [batches * m, k], strides: [k, 1], offset: a.offset)
            let b2 = b.view(shape: [k, n], strides: Array(b.strides[(r - 2)...]))
            gemm(a2, b2, into: out.raw, m: batches * m, n: n, k: k)
            return result
        }
        let aBatch = a.view(shape: batchShape, strides: Array(a.strides[..<(r - 2)]))
        let bBatch = b.view(shape: batchShape, strides: Array(b.strides[..<(r - 2)]))
        let size = a.dtype.byteSize
        Loops.forEachRow(shape: batchShape, aBatch.strides, bBatch.strides) { oo, oa, ob, count, sa, sb in
            for t in 0..<count {
                let ai = a.view(shape: [m, k], strides: Array(a.strides[(r - 2)...]), offset: a.offset + oa + t * sa)
                let bi = b.view(shape: [k, n], strides: Array(b.strides[(r - 2)...]), offset: b.offset + ob + t * sb)
                gemm(ai, bi, into: out.raw + (oo + t) * m * n * size, m: m, n: n, k: k)
            }
        }
        return result
    }

    /// C[m×n] = A[m×k] · B[k×n] into contiguous memory at `c`.
    @usableFromInline
    static func gemm(_ a: StridedArray, _ b: StridedArray, into c: UnsafeMutableRawPointer, m: Int, n: Int, k: Int) {
        let oa = operand(a), ob = operand(b)
        defer { withExtendedLifetime((oa, ob)) {} }
        let (m32, n32, k32) = (Int32(m), Int32(n), Int32(k))
        switch a.dtype {
        case .float32:
            cblas_sgemm(CblasRowMajor, oa.transpose, ob.transpose, m32, n32, k32, 1,
                        oa.array.pointer(Float.self), oa.leadingDimension,
                        ob.array.pointer(Float.self), ob.leadingDimension,
                        0, c.assumingMemoryBound(to: Float.self), n32)
        case .float64:
            cblas_dgemm(CblasRowMajor, oa.transpose, ob.transpose, m32, n32, k32, 1,
                        oa.array.pointer(Double.self), oa.leadingDimension,
                        ob.array.pointer(Double.self), ob.leadingDimension,
                        0, c.assumingMemoryBound(to: Double.self), n32)
        default:
            kernelFailure("BLAS takes float32 and float64 only")
        }
    }

    /// Plain loops for integer products and empty inner dimensions.
    static func naive(_ a: StridedArray, _ b: StridedArray, _ outShape: [Int]) -> StridedArray {
        switch a.dtype {
        case .float32: naive(a, b, outShape, Float.self)
        case .float64: naive(a, b, outShape, Double.self)
        case .int64: naive(a, b, outShape, Int64.self)
        case .bool: naive(Conversion.convert(a, to: .int64), Conversion.convert(b, to: .int64), outShape, Int64.self)
        }
    }

    static func naive<T: Element & Numeric>(_ a: StridedArray, _ b: StridedArray, _ outShape: [Int], _: T.Type) -> StridedArray {
        let r = a.rank
        let m = a.shape[r - 2], k = a.shape[r - 1], n = b.shape[r - 1]
        let ac = Elementwise.broadcast(a, to: Array(outShape[..<(r - 2)]) + [m, k]).contiguous()
        let bc = Elementwise.broadcast(b, to: Array(outShape[..<(r - 2)]) + [k, n]).contiguous()
        let out = Copy.full(T.zero, outShape)
        defer { withExtendedLifetime((ac, bc)) {} }
        let pa = ac.pointer(T.self), pb = bc.pointer(T.self), po = out.pointer(T.self)
        for t in 0..<Shape.count(Array(outShape[..<(r - 2)])) {
            for i in 0..<m {
                for p in 0..<k {
                    let v = pa[t * m * k + i * k + p]
                    for j in 0..<n { po[t * m * n + i * n + j] += v * pb[t * k * n + p * n + j] }
                }
            }
        }
        return out
    }
}
