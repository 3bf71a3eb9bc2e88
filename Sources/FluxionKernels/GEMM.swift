// Matrix products through cblas_sgemm / cblas_dgemm. A strided 2-D view is handed to BLAS
// as it is whenever one of its strides is 1 (a transposed view becomes the transpose flag);
// only other layouts are copied. A batch whose right operand is shared by every batch
// element and whose left operand is contiguous runs as one GEMM with batch·m rows; products
// with inner dimension 1 (outer products) are one elementwise multiply. A skinny product — a
// batch of rows times a small weight, or a weight gradient summed over a long batch — is cut into
// blocks for OpenBLAS's small-matrix kernels, run on Fluxion's threads (`GEMM.Pieces`). A
// product of at most 2¹⁵ multiply-adds whose right operand has contiguous rows — a layer of a
// network batched over tasks by vmap — runs in Fluxion's own register-tiled loop
// (`VectorMaps.product`), where a BLAS call's fixed cost (about half a microsecond) would be
// most of the time.

import CBLAS
import Foundation

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
        if isSmall(b, m: m, n: n, k: k) {
            smallProducts(a, b, batchShape: batchShape, into: out.raw, m: m, n: n, k: k)
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

    /// C[m×n] = A[m×k] · B[k×n] into contiguous memory at `c`: in Fluxion's own loop when the
    /// product is small (`isSmall`), in pieces on Fluxion's threads when `Pieces` applies, else
    /// one BLAS call (with Fluxion's workers standing aside when OpenBLAS will use its own
    /// threads).
    @usableFromInline
    static func gemm(_ a: StridedArray, _ b: StridedArray, into c: UnsafeMutableRawPointer, m: Int, n: Int, k: Int) {
        if isSmall(b, m: m, n: n, k: k) {
            smallProducts(a, b, batchShape: [], into: c, m: m, n: n, k: k)
            return
        }
        let work = m * n * k
        var oa = operand(a), ob = operand(b)
        // (Under the small-matrix limit OpenBLAS takes the direct path by itself, and a split
        // in two costs more than it saves.)
        if Pieces.enabled && work > Pieces.work {
            // A small transposed right operand (a weight read as Wᵀ) is copied into a plain one,
            // which the small kernels take.
            if ob.transpose == CblasTrans && oa.transpose == CblasNoTrans && k * n <= Pieces.work / Pieces.minimumExtent {
                ob = Operand(array: Copy.contiguous(b), transpose: CblasNoTrans, leadingDimension: Int32(n))
            }
            if let pieces = Pieces(m: m, n: n, k: k, b: ob.transpose) {
                pieces.run(oa, ob, into: c, m: m, n: n, k: k, dtype: a.dtype)
                return
            }
        }
        let direct = Pieces.enabled && work <= Pieces.work && ob.transpose == CblasNoTrans
        ThreadPool.shared.standingAside(if: work >= blasThreadingWork && !direct) {
            call(oa, ob, into: c, ldc: n, m: m, n: n, k: k, rowsFrom: 0, columnsFrom: 0, depthFrom: 0, accumulate: false, dtype: a.dtype)
        }
    }

    /// Products of at most this many multiply-adds run in Fluxion's own loop
    /// (`VectorMaps.product`), where a BLAS call's fixed cost would be most of the time: the
    /// per-task layers of a network under `vmap`, as in MAML.
    @usableFromInline static let smallWork = 1 << 15

    /// `a @ b` for [batch..., m, k] and [batch..., k, n] operands, `b`'s rows contiguous, one
    /// small product per batch element (`VectorMaps.product`), into contiguous memory at `c`.
    @usableFromInline
    static func smallProducts(_ a: StridedArray, _ b: StridedArray, batchShape: [Int], into c: UnsafeMutableRawPointer, m: Int, n: Int, k: Int) {
        let r = a.rank, size = a.dtype.byteSize
        let pa = UnsafeRawPointer(a.storage.raw + a.offset * size), pb = UnsafeRawPointer(b.storage.raw + b.offset * size)
        Loops.forEachRow(shape: batchShape, Array(a.strides[..<(r - 2)]), Array(b.strides[..<(r - 2)])) { oo, oa, ob, count, sa, sb in
            for t in 0..<count {
                VectorMaps.product(a.dtype, m: m, n: n, k: k, pa + (oa + t * sa) * size, rowStrideA: a.strides[r - 2],
                                   columnStrideA: a.strides[r - 1], pb + (ob + t * sb) * size, ldb: b.strides[r - 2],
                                   into: c + (oo + t) * m * n * size)
            }
        }
        withExtendedLifetime((a, b)) {}
    }

    /// Whether `a @ b` goes to `smallProducts`: at most `smallWork` multiply-adds, and `b`'s rows
    /// contiguous (a transposed right operand stays with BLAS, which reads it in place).
    @usableFromInline
    static func isSmall(_ b: StridedArray, m: Int, n: Int, k: Int) -> Bool {
        m * n * k <= smallWork && (n == 1 || b.strides[b.rank - 1] == 1)
    }

    /// The product size (m·n·k multiply-adds) from which OpenBLAS splits a call across its own
    /// threads (its SMP_THRESHOLD_MIN · GEMM_MULTITHREAD_THRESHOLD).
    @usableFromInline static let blasThreadingWork = 65_536 * 4

    /// C[i₀ ..< i₀+m, j₀ ..< j₀+n] (+)= A[i₀…, p₀ ..< p₀+k] · B[p₀ ..< p₀+k, j₀…] as one BLAS
    /// call, C's rows `ldc` elements apart; `accumulate` adds to C instead of overwriting it.
    private static func call(_ oa: Operand, _ ob: Operand, into c: UnsafeMutableRawPointer, ldc: Int, m: Int, n: Int, k: Int,
                             rowsFrom i0: Int, columnsFrom j0: Int, depthFrom p0: Int, accumulate: Bool, dtype: DType) {
        defer { withExtendedLifetime((oa, ob)) {} }
        let lda = Int(oa.leadingDimension), ldb = Int(ob.leadingDimension)
        // Element (i, p) of A is at i·lda + p, or p·lda + i when BLAS reads it transposed.
        let aOffset = oa.transpose == CblasNoTrans ? i0 * lda + p0 : p0 * lda + i0
        let bOffset = ob.transpose == CblasNoTrans ? p0 * ldb + j0 : j0 * ldb + p0
        let cOffset = i0 * ldc + j0
        let (m32, n32, k32, ldc32) = (Int32(m), Int32(n), Int32(k), Int32(ldc))
        switch dtype {
        case .float32:
            cblas_sgemm(CblasRowMajor, oa.transpose, ob.transpose, m32, n32, k32, 1,
                        oa.array.pointer(Float.self) + aOffset, oa.leadingDimension,
                        ob.array.pointer(Float.self) + bOffset, ob.leadingDimension,
                        accumulate ? 1 : 0, c.assumingMemoryBound(to: Float.self) + cOffset, ldc32)
        case .float64:
            cblas_dgemm(CblasRowMajor, oa.transpose, ob.transpose, m32, n32, k32, 1,
                        oa.array.pointer(Double.self) + aOffset, oa.leadingDimension,
                        ob.array.pointer(Double.self) + bOffset, ob.leadingDimension,
                        accumulate ? 1 : 0, c.assumingMemoryBound(to: Double.self) + cOffset, ldc32)
        default:
            kernelFailure("BLAS takes float32 and float64 only")
        }
    }

    /// A product cut into pieces that OpenBLAS runs with its small-matrix kernels, spread over
    /// Fluxion's threads.
    ///
    /// On AVX-512 processors OpenBLAS multiplies matrices with m·n·k ≤ 10⁶ by direct kernels:
    /// no packing of the operands, no pass zeroing C first, no thread hand-off. A skinny product
    /// of a network layer — [1024, 64] · [64, 64], a batch of points or examples times a weight —
    /// is just above that size, so it took the general path: about a quarter slower, and its
    /// second thread, OpenBLAS's own, spins for a while after every call, taking the core from
    /// the elementwise loops that come next. Cut into row blocks under the limit (or, for a
    /// weight gradient Aᵀ·B with a long inner dimension, into inner-dimension blocks that
    /// accumulate), each block takes the direct kernels, and the blocks run on Fluxion's threads —
    /// one thread pool for kernels and BLAS. The cut is fixed by the shapes alone, so results
    /// do not depend on timing; they may differ from one BLAS call's in the last bits, as any
    /// change of blocking does.
    ///
    /// Left to OpenBLAS: products whose blocks would be thin (a wide weight leaves fewer than
    /// `minimumExtent` rows per block), and every product on processors whose OpenBLAS kernels
    /// have no small-matrix path (there a block would take the general path, threads and all).
    struct Pieces {
        /// OpenBLAS's limit for its small-matrix kernels, in multiply-adds.
        static let work = 1_000_000
        /// The fewest rows (or inner-dimension entries) worth a block.
        static let minimumExtent = 32
        /// Whether OpenBLAS's current kernels have the small-matrix path (its AVX-512 cores);
        /// `FLUXION_GEMM_PIECES=0` turns the cutting off. (On one thread the blocks still save
        /// the packing and the zeroing pass.)
        static let enabled: Bool = {
            BLASSetup.done
            if let setting = getenv("FLUXION_GEMM_PIECES"), String(cString: setting) == "0" { return false }
            let core = BLASSetup.currentCore?.lowercased() ?? ""
            return ["skylakex", "cooperlake", "sapphirerapids"].contains(core)
        }()

        /// Along which dimension the product is cut.
        enum Axis { case rows, depth }
        let axis: Axis
        /// How many blocks, and the extent of each (the last may be shorter).
        let count: Int, extent: Int

        /// The cut for an m×k by k×n product with these BLAS flags, or nil to leave it whole.
        init?(m: Int, n: Int, k: Int, b: CBLAS_TRANSPOSE) {
            let threads = Loops.cores
            // OpenBLAS's small kernels decline a transposed B beside a plain A; `gemm` copies a
            // small transposed B first, and leaves the rest whole.
            guard b == CblasNoTrans else { return nil }
            // At least the blocks the limit needs, and a multiple of the threads.
            func blocks(along length: Int, per unit: Int) -> (count: Int, extent: Int)? {
                let fewest = (length * unit + Self.work - 1) / Self.work
                let count = (fewest + threads - 1) / threads * threads
                let extent = (length + count - 1) / count
                guard extent >= Self.minimumExtent, extent * unit <= Self.work else { return nil }
                return ((length + extent - 1) / extent, extent)
            }
            if let cut = blocks(along: m, per: n * k) {
                (axis, count, extent) = (.rows, cut.count, cut.extent)
            } else if let cut = blocks(along: k, per: m * n) {
                (axis, count, extent) = (.depth, cut.count, cut.extent)
            } else {
                return nil
            }
        }

        /// C = A · B, block by block.
        func run(_ oa: Operand, _ ob: Operand, into c: UnsafeMutableRawPointer, m: Int, n: Int, k: Int, dtype: DType) {
            switch axis {
            case .rows:
                // Each thread a run of row blocks.
                Loops.parallelRanges(count: count, costPerElement: Self.work) { first, last in
                    for block in first..<last {
                        let i0 = block * extent
                        GEMM.call(oa, ob, into: c, ldc: n, m: Swift.min(extent, m - i0), n: n, k: k,
                                  rowsFrom: i0, columnsFrom: 0, depthFrom: 0, accumulate: false, dtype: dtype)
                    }
                }
            case .depth:
                // Each thread its own columns of C (when there are enough), accumulating over
                // every depth block in order.
                let threads = n >= 2 * 8 ? Swift.min(Loops.cores, n / 8) : 1
                let width = (n + threads - 1) / threads
                Loops.parallelRanges(count: threads, costPerElement: Self.work) { first, last in
                    for t in first..<last {
                        let j0 = t * width, columns = Swift.min(width, n - j0)
                        guard columns > 0 else { continue }
                        for block in 0..<count {
                            let p0 = block * extent
                            GEMM.call(oa, ob, into: c, ldc: n, m: m, n: columns, k: Swift.min(extent, k - p0),
                                      rowsFrom: 0, columnsFrom: j0, depthFrom: p0, accumulate: block > 0, dtype: dtype)
                        }
                    }
                }
            }
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
