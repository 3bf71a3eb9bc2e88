// Accurate floating-point sums, identical in every build configuration.
//
// Every floating sum (reductions, running sums, and through them means, variances, norms,
// softmax normalisers and the cotangents summed over broadcast axes) accumulates in float64:
//
// - along a row, elements are added in eight interleaved lanes within blocks of 1,024, and the
//   blocks are combined pairwise, so the error grows like log₂(n)·2⁻⁵³·Σ|xᵢ| (NumPy's scheme,
//   with wide partials);
// - where many rows add into the same accumulators (a sum over a leading axis), float64 inputs
//   carry a compensation term (Knuth's TwoSum) per accumulator, so the rounding error of each
//   addition is kept rather than lost; float32 inputs need none at float64 width.
//
// A float32 sum is therefore exact to float32 precision for any length that fits in memory
// (one final rounding), and a float64 sum is within a few ulps of the exact one. The order of
// additions depends only on the shapes — never on the optimiser (no reassociation is allowed,
// so debug and release builds agree bit for bit), on the number of cores, or on how the work is
// split between threads: a long row splits along the pairwise tree, and a large reduction
// splits its outputs (each accumulator still receives its terms in the same order).


/// Accurate floating-point sums in float64, pairwise over blocks with compensated accumulators,
/// in an order that depends on the shapes only: identical in every build and on any number of
/// cores.
public enum Summation {
    /// Elements per block summed in eight lanes before blocks combine pairwise.
    @usableFromInline static let block = 1024

    /// The sum of `n` elements read from `p` with stride `s`, in float64.
    @inlinable
    public static func row<T: FloatingElement>(_ p: UnsafePointer<T>, _ n: Int, _ s: Int) -> Double {
        if n <= block { return blockSum(p, n, s) }
        let blocks = (n + block - 1) / block
        let left = (blocks + 1) / 2 * block
        if n >= Loops.parallelWork && Loops.cores > 1 {
            // The two halves of the tree on two threads: the same additions as one thread makes.
            var halves = (0.0, 0.0)
            withUnsafeMutablePointer(to: &halves) { out in
                ThreadPool.shared.run(tasks: 2) { t in
                    if t == 0 { out.pointee.0 = row(p, left, s) } else { out.pointee.1 = row(p + left &* s, n - left, s) }
                }
            }
            return halves.0 + halves.1
        }
        return row(p, left, s) + row(p + left &* s, n - left, s)
    }

    /// At most one block, in eight lanes combined pairwise.
    @inlinable
    static func blockSum<T: FloatingElement>(_ p: UnsafePointer<T>, _ n: Int, _ s: Int) -> Double {
        var lanes = SIMD8<Double>()
        var k = 0
        if s == 1 {
            while k &+ 8 <= n {
                lanes += T.widen(UnsafeRawPointer(p + k))
                k &+= 8
            }
        } else {
            while k &+ 8 <= n {
                let q = p + k &* s
                lanes += SIMD8(q[0].doubleValue, q[s].doubleValue, q[2 &* s].doubleValue, q[3 &* s].doubleValue,
                               q[4 &* s].doubleValue, q[5 &* s].doubleValue, q[6 &* s].doubleValue, q[7 &* s].doubleValue)
                k &+= 8
            }
        }
        var tail = 0.0
        while k < n {
            tail += p[k &* s].doubleValue
            k &+= 1
        }
        let pairs = lanes.lowHalf + lanes.highHalf
        return ((pairs[0] + pairs[2]) + (pairs[1] + pairs[3])) + tail
    }

    /// Adds `x` to the compensated sum (`sum`, `error`): TwoSum keeps the rounding error of the
    /// addition in `error`.
    @inlinable @inline(__always)
    public static func add(_ x: Double, to sum: inout Double, error: inout Double) {
        let t = sum + x
        let z = t - sum
        error += (sum - (t - z)) + (x - z)
        sum = t
    }

    /// The value of a compensated sum. (Once the sum is infinite or NaN the compensation is
    /// meaningless and is dropped.)
    @inlinable @inline(__always)
    public static func total(_ sum: Double, _ error: Double) -> Double {
        sum.isFinite ? sum + error : sum
    }

    /// `x` summed over the dimensions where `reduced[d]` is true, those dimensions kept with
    /// size 1.
    @inlinable
    public static func reduce<T: FloatingElement>(_ x: StridedArray, reduced: [Bool], _: T.Type) -> StridedArray {
        if let result = reduceMiddle(x, reduced: reduced) { return result }
        var outShape = x.shape
        for d in 0..<outShape.count where reduced[d] { outShape[d] = 1 }
        let count = Shape.count(outShape)
        let out = Storage.allocate(T.dtype, count: count)
        let o = out.pointer(T.self)
        let result = StridedArray(contiguous: out, shape: outShape)
        if count == 0 { return result }
        var accStrides = Shape.contiguousStrides(outShape)
        for d in 0..<accStrides.count where reduced[d] { accStrides[d] = 0 }
        let src = UnsafePointer(x.pointer(T.self))
        // float32 rows already add at twice their precision; float64 ones need the error kept —
        // unless each sum has at most two terms: 0 + a is exact and a + b is rounded once, so the
        // compensation would add back nothing.
        let compensated = T.self == Double.self && x.count > 2 &* count
        withUnsafeTemporaryAllocation(of: Double.self, capacity: compensated ? 2 &* count : count) { buffer in
            let sum = buffer.baseAddress!, error = sum + (compensated ? count : 0)
            sum.initialize(repeating: 0, count: compensated ? 2 &* count : count)
            /// Adds the elements of `x` whose coordinate along `split` lies in `range` (all of
            /// them without a split) into their accumulators.
            func accumulate(split: Int?, _ range: Range<Int>) {
                var shape = x.shape
                var (outBase, inBase) = (0, 0)
                if let split {
                    shape[split] = range.count
                    (outBase, inBase) = (range.lowerBound &* accStrides[split], range.lowerBound &* x.strides[split])
                }
                Loops.forEachRow(shape: shape, accStrides, x.strides) { _, oa, ox, n, sa, sx in
                    let p = src + inBase + ox, oa = outBase + oa
                    if sa == 0 {
                        let r = row(p, n, sx)
                        if compensated { add(r, to: &sum[oa], error: &error[oa]) } else { sum[oa] += r }
                    } else if sa == 1 && sx == 1 && T.self == Double.self {
                        addRow(UnsafeRawPointer(p), n, into: sum + oa, error: compensated ? error + oa : nil)
                    } else if compensated {
                        for k in 0..<n { add(p[k &* sx].doubleValue, to: &sum[oa &+ k &* sa], error: &error[oa &+ k &* sa]) }
                    } else {
                        for k in 0..<n { sum[oa &+ k &* sa] += p[k &* sx].doubleValue }
                    }
                }
            }
            // A large reduction splits the outermost kept dimension between threads: each
            // accumulator belongs to one thread and receives its terms in the same order. (At
            // least two indices per piece, so that no piece drops the dimension and lets the
            // reduced dimensions around it merge into a different summation tree.)
            if let split = x.shape.indices.first(where: { !reduced[$0] && x.shape[$0] > 1 }),
               x.shape[split] >= 2 &* Loops.cores, x.count >= Loops.parallelWork {
                Loops.parallelRanges(count: x.shape[split], costPerElement: x.count / x.shape[split]) { lo, hi in
                    accumulate(split: split, lo..<hi)
                }
            } else {
                accumulate(split: nil, 0..<0)
            }
            for i in 0..<count { o[i] = T(converting: compensated ? total(sum[i], error[i]) : sum[i]) }
        }
        return result
    }

    /// `x` summed over the dimensions where `reduced[d]` is true, when `x` is contiguous and
    /// those dimensions are one block in the middle (`MiddleSum`), else nil.
    @usableFromInline
    static func reduceMiddle(_ x: StridedArray, reduced: [Bool]) -> StridedArray? {
        guard x.isContiguous, let sums = MiddleSum(shape: x.shape, reduced: reduced, dtype: x.dtype) else { return nil }
        let raw = UnsafeRawPointer(x.storage.raw + x.offset * x.dtype.byteSize)
        let (outer, middle, inner) = (sums.outer, sums.middle, sums.inner)
        let out = sums.compute { accumulators in
            // Split over the outer dimension, or (a single outer block) over columns.
            let byColumns = outer < 2 &* Loops.cores
            Loops.parallelRanges(count: byColumns ? inner : outer, costPerElement: byColumns ? outer * middle : middle * inner) { lo, hi in
                for o in (byColumns ? 0..<outer : lo..<hi) {
                    accumulators.add(raw + o &* middle &* inner &* x.dtype.byteSize, outer: o, columns: byColumns ? lo..<hi : 0..<inner)
                }
            }
        }
        return StridedArray(contiguous: out, shape: sums.keptShape)
    }

    /// Adds a contiguous row of `n` float64 values at `x` to the accumulators at `sum` (with
    /// TwoSum compensation into `error` when given), four lanes at a time: the same operations on
    /// each accumulator as one at a time, so the same bits.
    @inlinable
    static func addRow(_ x: UnsafeRawPointer, _ n: Int, into sum: UnsafeMutablePointer<Double>, error: UnsafeMutablePointer<Double>?) {
        var k = 0
        let s = UnsafeMutableRawPointer(sum)
        if let error {
            let e = UnsafeMutableRawPointer(error)
            while k &+ 4 <= n {
                let v = x.loadUnaligned(fromByteOffset: k &* 8, as: SIMD4<Double>.self)
                let old = s.loadUnaligned(fromByteOffset: k &* 8, as: SIMD4<Double>.self)
                let t = old + v
                let z = t - old
                let kept = e.loadUnaligned(fromByteOffset: k &* 8, as: SIMD4<Double>.self) + ((old - (t - z)) + (v - z))
                s.storeBytes(of: t, toByteOffset: k &* 8, as: SIMD4<Double>.self)
                e.storeBytes(of: kept, toByteOffset: k &* 8, as: SIMD4<Double>.self)
                k &+= 4
            }
            while k < n {
                add(x.load(fromByteOffset: k &* 8, as: Double.self), to: &sum[k], error: &error[k])
                k &+= 1
            }
        } else {
            while k &+ 4 <= n {
                let v = x.loadUnaligned(fromByteOffset: k &* 8, as: SIMD4<Double>.self)
                let t = s.loadUnaligned(fromByteOffset: k &* 8, as: SIMD4<Double>.self) + v
                s.storeBytes(of: t, toByteOffset: k &* 8, as: SIMD4<Double>.self)
                k &+= 4
            }
            while k < n {
                sum[k] += x.load(fromByteOffset: k &* 8, as: Double.self)
                k &+= 1
            }
        }
    }

    /// Running sums of `x` along `dim`, each as accurate as a compensated float64 sum.
    @inlinable
    public static func cumulative<T: FloatingElement>(_ x: StridedArray, dim: Int, _: T.Type) -> StridedArray {
        let c = Copy.contiguous(x)
        let p = c.pointer(T.self)
        let n = x.shape[dim]
        let inner = Shape.count(Array(x.shape[(dim + 1)...]))
        let outer = Shape.count(Array(x.shape[..<dim]))
        if n == 0 || inner == 0 { return c }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 &* inner) { buffer in
            let sum = buffer.baseAddress!, error = sum + inner
            for o in 0..<outer {
                sum.initialize(repeating: 0, count: 2 &* inner)
                let base = p + o &* n &* inner
                for i in 0..<n {
                    let row = base + i &* inner
                    for k in 0..<inner {
                        add(row[k].doubleValue, to: &sum[k], error: &error[k])
                        row[k] = T(converting: total(sum[k], error[k]))
                    }
                }
            }
        }
        return c
    }
}

/// A float sum over a block of dimensions in the middle of a contiguous array — [outer,
/// reduced, inner] once dimensions of one element are dropped, with at least two reduced and
/// two inner elements: a bias gradient's sum over a batch, a sum over the directions of a
/// forward Laplacian.
///
/// Whole rows go to the vectorised `VectorMaps.sumRows`, which adds exactly what
/// `Summation.reduce`'s general loop adds, in the same order — each accumulator its terms in
/// order of the reduced index, compensated under the same rule — so the bits are the same
/// however the work is split, and whether the summed elements come from an array or are made a
/// segment at a time by a fused loop (`FusedElementwise`).
public struct MiddleSum: Sendable {
    /// The kept elements before the reduced block, the reduced elements, the kept ones after it.
    public let outer: Int, middle: Int, inner: Int
    /// The dtype summed (float32 or float64).
    public let dtype: DType
    /// The summed array's shape with the reduced dimensions at size 1.
    public let keptShape: [Int]
    /// Whether float64 sums keep their rounding errors: unless each has at most two terms (0 + a
    /// is exact and a + b is rounded once, so the compensation would add back nothing).
    let compensated: Bool

    /// The sum of an array of `shape` over the dimensions where `reduced[d]` is true, when they
    /// are one block in the middle; nil otherwise.
    public init?(shape: [Int], reduced: [Bool], dtype: DType) {
        guard dtype == .float64 || dtype == .float32 else { return nil }
        // The dimensions of more than one element: kept ones, then reduced ones, then kept ones.
        var (outer, middle, inner) = (1, 1, 1)
        var phase = 0  // 0: before the reduced block, 1: in it, 2: after it
        for d in shape.indices where shape[d] != 1 {
            switch (phase, reduced[d]) {
            case (0, false): outer *= shape[d]
            case (0, true), (1, true): phase = 1; middle *= shape[d]
            case (1, false), (2, false): phase = 2; inner *= shape[d]
            default: return nil
            }
        }
        guard phase == 2, inner >= 2, middle >= 2 else { return nil }
        (self.outer, self.middle, self.inner, self.dtype) = (outer, middle, inner, dtype)
        keptShape = shape.indices.map { reduced[$0] ? 1 : shape[$0] }
        compensated = dtype == .float64 && middle > 2
    }

    /// The accumulators of the sums, shared by the threads that fill them: each accumulator
    /// receives all its terms in one `add`.
    public struct Accumulators {
        let sums: MiddleSum
        let sum: UnsafeMutablePointer<Double>, error: UnsafeMutablePointer<Double>?

        /// Sums the segment of outer index `o` — its `middle` rows of `inner` contiguous
        /// elements from `segment` — in the columns `columns` (each column of each segment
        /// once). The accumulators start from zero here, on the thread that fills them, while
        /// they are about to be in its cache anyway.
        @inline(__always)
        public func add(_ segment: UnsafeRawPointer, outer o: Int, columns: Range<Int>) {
            let accumulator = o &* sums.inner &+ columns.lowerBound
            (sum + accumulator).initialize(repeating: 0, count: columns.count)
            error.map { ($0 + accumulator).initialize(repeating: 0, count: columns.count) }
            VectorMaps.sumRows(UnsafeMutableRawPointer(mutating: segment), dtype: sums.dtype, from: columns.lowerBound,
                               rows: sums.middle, rowStride: sums.inner, count: columns.count,
                               into: sum + accumulator, error: error.map { $0 + accumulator })
        }
    }

    /// The sums, contiguous [outer, inner], of the segments `fill` adds (every column of every
    /// segment once).
    public func compute(_ fill: (Accumulators) -> Void) -> Storage {
        let count = outer * inner
        let out = Storage.allocate(dtype, count: count)
        // float64 sums accumulate in the result itself (with the errors beside it); float32
        // ones in float64 beside it.
        let extra = dtype == .float32 || compensated ? count : 0
        withUnsafeTemporaryAllocation(of: Double.self, capacity: Swift.max(extra, 1)) { buffer in
            let sum = dtype == .float64 ? out.pointer(Double.self) : buffer.baseAddress!
            let error = compensated ? buffer.baseAddress! : nil
            fill(Accumulators(sums: self, sum: sum, error: error))
            if let error {
                for i in 0..<count { sum[i] = Summation.total(sum[i], error[i]) }
            } else if dtype == .float32 {
                let o = out.pointer(Float.self)
                for i in 0..<count { o[i] = Float(sum[i]) }
            }
        }
        return out
    }
}
