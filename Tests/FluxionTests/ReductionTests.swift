// Reductions against plain loops: sum, mean, prod, max, min over every set of dimensions
// (negative spellings and keepDim included), arg-reductions with ties, logSumExp at the
// extremes, var/std, norms, cumulative sums, non-contiguous inputs, and 0-d and size-0 arrays.

import Foundation
import Testing
import Fluxion

/// `data` of `shape` folded over `dims` (kept as size-1 dimensions) starting from `initial`.
private func referenceReduce(_ data: [Double], _ shape: [Int], _ dims: Set<Int>, _ initial: Double,
                             _ combine: (Double, Double) -> Double) -> [Double] {
    let kept = shape.indices.map { dims.contains($0) ? 1 : shape[$0] }
    var out = [Double](repeating: initial, count: elementCount(kept))
    for f in 0..<elementCount(shape) {
        var index = multiIndex(f, shape)
        for d in dims { index[d] = 0 }
        let o = flatIndex(index, kept)
        out[o] = combine(out[o], data[f])
    }
    return out
}

/// The index along `dim` of the first largest (or smallest) element of each slice.
private func referenceArgExtreme(_ data: [Double], _ shape: [Int], dim: Int, largest: Bool) -> [Int] {
    let kept = shape.indices.map { $0 == dim ? 1 : shape[$0] }
    return (0..<elementCount(kept)).map { o in
        var index = multiIndex(o, kept)
        var best = 0
        for i in 0..<shape[dim] {
            index[dim] = i
            let v = data[flatIndex(index, shape)]
            index[dim] = best
            let b = data[flatIndex(index, shape)]
            if largest ? v > b : v < b { best = i }
        }
        return best
    }
}

/// Every non-empty subset of the dimensions of a rank-3 array.
private let dimSets: [[Int]] = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]

@Suite struct ReductionTests {
    let shape = [2, 3, 4]

    /// Summation tolerances: float32 accumulates in float32.
    func sumTolerance(_ dtype: DType) -> (rtol: Double, atol: Double) {
        dtype == .float32 ? (1e-5, 1e-5) : (1e-12, 1e-13)
    }

    @Test(arguments: floatDTypes)
    func sumMeanMaxMinOverEverySetOfDims(_ dtype: DType) {
        let data = stored(testValues(24, seed: 11), dtype)
        let x = array(data, shape, dtype)
        let tol = sumTolerance(dtype)
        for dims in dimSets {
            let set = Set(dims)
            let kept = shape.indices.map { set.contains($0) ? 1 : shape[$0] }
            let removed = shape.indices.filter { !set.contains($0) }.map { shape[$0] }
            let n = Double(dims.reduce(1) { $0 * shape[$1] })
            let sums = referenceReduce(data, shape, set, 0, +)
            // Both spellings of each dimension: d and d − rank.
            for spelled in [dims, dims.map { $0 - 3 }] {
                for keepDim in [false, true] {
                    let s = x.sum(dims: spelled, keepDim: keepDim)
                    #expect(s.shape == (keepDim ? kept : removed), "sum \(spelled) keepDim \(keepDim)")
                    #expect(s.dtype == dtype)
                    expectClose(s, sums, rtol: tol.rtol, atol: tol.atol, label: "sum over \(spelled)")
                    expectClose(x.mean(dims: spelled, keepDim: keepDim), sums.map { $0 / n }, rtol: tol.rtol, atol: tol.atol,
                                label: "mean over \(spelled)")
                    let mx = x.max(dims: spelled, keepDim: keepDim), mn = x.min(dims: spelled, keepDim: keepDim)
                    #expect(mx.shape == (keepDim ? kept : removed))
                    #expect(mx.doubles == referenceReduce(data, shape, set, -.infinity, Swift.max), "max over \(spelled)")
                    #expect(mn.doubles == referenceReduce(data, shape, set, .infinity, Swift.min), "min over \(spelled)")
                }
            }
        }
        // Single-dimension spellings and the whole array.
        expectClose(x.sum(dim: 1), referenceReduce(data, shape, [1], 0, +), rtol: tol.rtol, atol: tol.atol)
        expectClose(x.mean(dim: -1, keepDim: true), referenceReduce(data, shape, [2], 0, +).map { $0 / 4 }, rtol: tol.rtol, atol: tol.atol)
        #expect(x.max(dim: 0).doubles == referenceReduce(data, shape, [0], -.infinity, Swift.max))
        #expect(x.min(dim: -2).doubles == referenceReduce(data, shape, [1], .infinity, Swift.min))
        #expect(x.sum().shape == [])
        expectClose(x.sum(), [data.reduce(0, +)], rtol: tol.rtol, atol: tol.atol)
        expectClose(x.mean(), [data.reduce(0, +) / 24], rtol: tol.rtol, atol: tol.atol)
        #expect(x.max().item() == data.max())
        #expect(x.min().item() == data.min())
        #expect(x.sum(keepDim: true).shape == [1, 1, 1])
        // Repeated dimensions count once.
        expectClose(x.sum(dims: [0, -3]), referenceReduce(data, shape, [0], 0, +), rtol: tol.rtol, atol: tol.atol)
    }

    @Test(arguments: floatDTypes)
    func prod(_ dtype: DType) {
        let data = stored(testValues(24, in: 0.5...1.5, seed: 12), dtype)
        let x = array(data, shape, dtype)
        for dim in 0..<3 {
            let p = x.prod(dim: dim)
            #expect(p.shape == shape.indices.filter { $0 != dim }.map { shape[$0] })
            expectClose(p, referenceReduce(data, shape, [dim], 1, *))
            expectClose(x.prod(dim: dim - 3, keepDim: true), referenceReduce(data, shape, [dim], 1, *))
        }
        expectClose(x.prod(), [data.reduce(1, *)])
        #expect(NDArray([2, 3, -4]).prod().dtype == .int64)
        #expect(NDArray([2, 3, -4]).prod().ints == [-24])
    }

    @Test(arguments: floatDTypes)
    func argmaxAndArgmin(_ dtype: DType) {
        let data = stored(testValues(24, seed: 13), dtype)
        let x = array(data, shape, dtype)
        for dim in 0..<3 {
            let kept = shape.indices.map { $0 == dim ? 1 : shape[$0] }
            let removed = shape.indices.filter { $0 != dim }.map { shape[$0] }
            let amax = x.argmax(dim: dim), amin = x.argmin(dim: dim - 3, keepDim: true)
            #expect(amax.dtype == .int64)
            #expect(amax.shape == removed)
            #expect(amin.shape == kept)
            #expect(amax.ints == referenceArgExtreme(data, shape, dim: dim, largest: true))
            #expect(amin.ints == referenceArgExtreme(data, shape, dim: dim, largest: false))
        }
        #expect(x.argmax().shape == [])
        #expect(x.argmax().ints == [data.firstIndex(of: data.max()!)!])
        #expect(x.argmin().ints == [data.firstIndex(of: data.min()!)!])
    }

    @Test func argExtremesPickTheFirstTie() {
        let x = NDArray([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0], [5.0, 5.0, 5.0]])
        #expect(x.argmax(dim: 1).ints == [1, 0, 0])
        #expect(x.argmin(dim: 1).ints == [0, 2, 0])
        #expect(x.argmax(dim: 0).ints == [2, 2, 2])
        #expect(x.argmin(dim: 0).ints == [0, 1, 1])
        #expect(x.argmax().ints == [6])
        #expect(x.argmin().ints == [0])
        #expect(NDArray([4, 9, 9, 1]).argmax().ints == [1])
        #expect(NDArray([true, false, true]).argmax().ints == [0])
    }

    @Test func extremesPropagateNaN() {
        let x = NDArray([[1.0, .nan, 3.0], [4.0, 5.0, 6.0]], dtype: .float64)
        #expect(x.max().item().isNaN)
        #expect(x.min().item().isNaN)
        let rows = x.max(dim: 1).doubles
        #expect(rows[0].isNaN && rows[1] == 6)
        #expect(x.argmax(dim: 1).ints == [1, 2])
        #expect(x.argmin(dim: 1).ints == [1, 0])
    }

    @Test(arguments: floatDTypes)
    func nonContiguousInputs(_ dtype: DType) {
        let pool = stored(testValues(24, seed: 14), dtype)
        let tol = sumTolerance(dtype)
        for (name, x, values) in layouts(pool, dtype) {
            let s = [3, 4]
            expectClose(x.sum(dim: 0), referenceReduce(values, s, [0], 0, +), rtol: tol.rtol, atol: tol.atol, label: name)
            expectClose(x.sum(dim: 1), referenceReduce(values, s, [1], 0, +), rtol: tol.rtol, atol: tol.atol, label: name)
            expectClose(x.sum(), [values.reduce(0, +)], rtol: tol.rtol, atol: tol.atol, label: name)
            expectClose(x.mean(dim: 1, keepDim: true), referenceReduce(values, s, [1], 0, +).map { $0 / 4 }, rtol: tol.rtol, atol: tol.atol)
            #expect(x.max(dim: 1).doubles == referenceReduce(values, s, [1], -.infinity, Swift.max), "\(name)")
            #expect(x.min(dim: 0).doubles == referenceReduce(values, s, [0], .infinity, Swift.min), "\(name)")
            #expect(x.argmax(dim: 0).ints == referenceArgExtreme(values, s, dim: 0, largest: true), "\(name)")
            #expect(x.argmin(dim: 1).ints == referenceArgExtreme(values, s, dim: 1, largest: false), "\(name)")
            #expect(x.argmax().ints == [values.firstIndex(of: values.max()!)!], "\(name)")
            expectClose(x.prod(dim: 1), referenceReduce(values, s, [1], 1, *))
            var running = values
            for i in 1..<3 { for j in 0..<4 { running[i * 4 + j] += running[(i - 1) * 4 + j] } }
            expectClose(x.cumsum(dim: 0), running, rtol: tol.rtol, atol: tol.atol)
        }
    }

    @Test(arguments: floatDTypes)
    func logSumExp(_ dtype: DType) {
        let data = stored(testValues(12, in: -3...3, seed: 15), dtype)
        let x = array(data, [3, 4], dtype)
        let rows = (0..<3).map { i in Foundation.log((0..<4).map { Foundation.exp(data[i * 4 + $0]) }.reduce(0, +)) }
        let cols = (0..<4).map { j in Foundation.log((0..<3).map { Foundation.exp(data[$0 * 4 + j]) }.reduce(0, +)) }
        expectClose(x.logSumExp(dim: 1), rows)
        expectClose(x.logSumExp(dim: 0), cols)
        expectClose(x.T.logSumExp(dim: 0), rows)
        #expect(x.logSumExp(dim: -1, keepDim: true).shape == [3, 1])
        expectClose(x.logSumExp(), [Foundation.log(data.map { Foundation.exp($0) }.reduce(0, +))])
        expectClose(x.logSumExp(dims: [0, 1]), [Foundation.log(data.map { Foundation.exp($0) }.reduce(0, +))])

        // Large entries do not overflow; a row of −∞ gives −∞ rather than NaN; +∞ gives +∞.
        let extreme = array([1000, 1000, -.infinity, -.infinity, .infinity, 1, -1000, -.infinity], [4, 2], dtype)
        let lse = extreme.logSumExp(dim: 1).doubles
        #expect(Swift.abs(lse[0] - (1000 + Foundation.log(2))) < 1e-3)
        #expect(lse[1] == -.infinity)
        #expect(lse[2] == .infinity)
        #expect(lse[3] == -1000)
    }

    @Test(arguments: floatDTypes)
    func varianceAndStandardDeviation(_ dtype: DType) {
        let data = stored(testValues(12, seed: 16), dtype)
        let x = array(data, [3, 4], dtype)
        func variance(_ v: [Double], correction: Int) -> Double {
            let mean = v.reduce(0, +) / Double(v.count)
            return v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - correction)
        }
        let rows = (0..<3).map { i in Array(data[(i * 4)..<(i * 4 + 4)]) }
        let cols = (0..<4).map { j in (0..<3).map { data[$0 * 4 + j] } }
        let tol = sumTolerance(dtype)
        expectClose(x.var(), [variance(data, correction: 1)], rtol: tol.rtol, atol: tol.atol)
        expectClose(x.var(correction: 0), [variance(data, correction: 0)], rtol: tol.rtol, atol: tol.atol)
        expectClose(x.var(dim: 1), rows.map { variance($0, correction: 1) }, rtol: tol.rtol, atol: tol.atol)
        expectClose(x.var(dim: 0, correction: 0), cols.map { variance($0, correction: 0) }, rtol: tol.rtol, atol: tol.atol)
        expectClose(x.std(), [Foundation.sqrt(variance(data, correction: 1))], rtol: tol.rtol, atol: tol.atol)
        expectClose(x.std(dim: -1, correction: 0), rows.map { Foundation.sqrt(variance($0, correction: 0)) }, rtol: tol.rtol, atol: tol.atol)
        #expect(x.std(dim: 0, keepDim: true).shape == [1, 4])
        expectClose(x.T.var(dim: 0), rows.map { variance($0, correction: 1) }, rtol: tol.rtol, atol: tol.atol)
        expectClose(x.variance(dims: [0, 1]), [variance(data, correction: 1)], rtol: tol.rtol, atol: tol.atol)
        #expect(NDArray([1, 2, 3, 4]).var().dtype == .float32)
        expectClose(NDArray([1, 2, 3, 4]).var(), [5.0 / 3])
    }

    @Test(arguments: floatDTypes)
    func norms(_ dtype: DType) {
        let data = stored(testValues(12, seed: 17), dtype)
        let x = array(data, [3, 4], dtype)
        let tol = sumTolerance(dtype)
        expectClose(x.norm(), [Foundation.sqrt(data.map { $0 * $0 }.reduce(0, +))], rtol: tol.rtol, atol: tol.atol)
        expectClose(x.norm(p: 1), [data.map(Swift.abs).reduce(0, +)], rtol: tol.rtol, atol: tol.atol)
        expectClose(x.norm(p: .infinity), [data.map(Swift.abs).max()!])
        expectClose(x.norm(p: 3), [Foundation.pow(data.map { Foundation.pow(Swift.abs($0), 3) }.reduce(0, +), 1.0 / 3)], rtol: 1e-5)
        let rows = (0..<3).map { i in Array(data[(i * 4)..<(i * 4 + 4)]) }
        expectClose(x.norm(dim: 1), rows.map { r in Foundation.sqrt(r.map { $0 * $0 }.reduce(0, +)) }, rtol: tol.rtol, atol: tol.atol)
        expectClose(x.norm(p: 1, dim: -1), rows.map { $0.map(Swift.abs).reduce(0, +) }, rtol: tol.rtol, atol: tol.atol)
        expectClose(x.norm(p: .infinity, dims: [1], keepDim: true), rows.map { $0.map(Swift.abs).max()! })
        #expect(x.norm(p: .infinity, dims: [1], keepDim: true).shape == [3, 1])
        expectClose(NDArray([3, 4]).norm(), [5])
    }

    @Test(arguments: floatDTypes)
    func cumulativeSums(_ dtype: DType) {
        let data = stored(testValues(24, seed: 18), dtype)
        let x = array(data, shape, dtype)
        let tol = sumTolerance(dtype)
        for dim in 0..<3 {
            var expected = data
            for f in 0..<24 {
                var index = multiIndex(f, shape)
                guard index[dim] > 0 else { continue }
                index[dim] -= 1
                expected[f] += expected[flatIndex(index, shape)]
            }
            let c = x.cumsum(dim: dim)
            #expect(c.shape == shape)
            #expect(c.dtype == dtype)
            expectClose(c, expected, rtol: tol.rtol, atol: tol.atol)
            expectClose(x.cumsum(dim: dim - 3), expected, rtol: tol.rtol, atol: tol.atol)
        }
        #expect(NDArray([1, 2, 3]).cumsum(dim: 0).dtype == .int64)
        #expect(NDArray([1, 2, 3]).cumsum(dim: 0).ints == [1, 3, 6])
        #expect(NDArray([true, false, true]).cumsum(dim: 0).ints == [1, 1, 2])
        #expect(NDArray(5.0).cumsum(dim: 0).doubles == [5])
        #expect(NDArray.zeros([0, 3]).cumsum(dim: 0).shape == [0, 3])
    }

    @Test(arguments: floatDTypes)
    func sizeZeroReductions(_ dtype: DType) {
        let e = NDArray.zeros([0, 3], dtype: dtype)
        #expect(e.sum().doubles == [0])
        #expect(e.sum(dim: 0).shape == [3])
        #expect(e.sum(dim: 0).doubles == [0, 0, 0])
        #expect(e.sum(dim: 1).shape == [0])
        #expect(e.prod().doubles == [1])
        #expect(e.prod(dim: 0).doubles == [1, 1, 1])
        #expect(e.mean().item().isNaN)
        #expect(e.max(dim: 1).shape == [0])
        #expect(e.argmax(dim: 1).shape == [0])
        #expect(e.logSumExp(dim: 0).doubles == [-.infinity, -.infinity, -.infinity])
        #expect(e.cumsum(dim: 1).shape == [0, 3])
    }

    @Test func zeroDimensionalReductions() {
        let s = NDArray(5.0, dtype: .float64)
        #expect(s.sum().shape == [])
        #expect(s.sum().item() == 5)
        #expect(s.sum(dim: 0).item() == 5)
        #expect(s.sum(dim: -1, keepDim: true).shape == [])
        #expect(s.mean().item() == 5)
        #expect(s.prod().item() == 5)
        #expect(s.max().item() == 5)
        #expect(s.min(dim: 0).item() == 5)
        #expect(s.argmax().ints == [0])
        #expect(s.argmax(dim: 0).ints == [0])
        #expect(s.logSumExp().item() == 5)
    }

    @Test func integerAndBoolReductions() {
        let i = NDArray([[1, 2, 3], [4, 5, 6]])
        #expect(i.sum().dtype == .int64)
        #expect(i.sum(dim: 0).ints == [5, 7, 9])
        #expect(i.max(dim: 1).dtype == .int64)
        #expect(i.max(dim: 1).ints == [3, 6])
        #expect(i.min().ints == [1])
        #expect(i.mean().dtype == .float32)
        #expect(i.mean().doubles == [3.5])
        let b = NDArray([true, false, true, true])
        #expect(b.sum().dtype == .int64)
        #expect(b.sum().ints == [3])
        #expect(b.max().dtype == .bool)
        #expect(b.max().bools == [true])
        #expect(b.min().bools == [false])
        #expect(b.mean().doubles == [0.75])
    }

    /// Above 2¹⁸ contiguous elements a sum is split in two halves on two cores.
    @Test(arguments: floatDTypes)
    func largeSumsSplitCorrectly(_ dtype: DType) {
        let n = (1 << 18) + 3
        let values = (0..<n).map { Double($0 % 7) }
        let expected = values.reduce(0, +)
        let x = array(values, [n], dtype)
        #expect(x.sum().item() == expected)
        #expect(x.reshape([1, n]).sum(dim: 1).item() == expected)
    }
}

@Suite struct MaskReductionTests {
    @Test func anyAndAllFollowNumPy() {
        let m = NDArray([[true, false, false], [true, true, true]])
        #expect(m.any().bools == [true])
        #expect(m.all().bools == [false])
        #expect(m.any(dim: 1).bools == [true, true])
        #expect(m.all(dim: 1).bools == [false, true])
        #expect(m.all(dim: 0, keepDim: true).shape == [1, 3])
        #expect(NDArray([0.0, 2.0]).any().bools == [true])
        let empty = NDArray.zeros([0])
        #expect(empty.any().bools == [false])
        #expect(empty.all().bools == [true])
    }
}

/// Softmax and its relatives on empty dimensions, as PyTorch: an empty result, not a stop.
@Suite struct EmptySoftmaxTests {
    @Test func softmaxOverAnEmptyDimensionIsEmpty() throws {
        let x = NDArray.zeros([2, 0], dtype: .float64)
        #expect(softmax(x, dim: 1).shape == [2, 0])
        #expect(logSoftmax(x, dim: -1).shape == [2, 0])
        #expect(softmax(x, dim: 0).shape == [2, 0])
        let g = try grad { (x: NDArray) in logSoftmax(x, dim: 1).sum() }(x)
        #expect(g.shape == [2, 0])
        // Non-empty rows are unaffected by the change.
        let y = NDArray([[1.0, 2.0, 3.0]], dtype: .float64)
        let e = [1.0, 2.0, 3.0].map(Foundation.exp)
        expectClose(softmax(y, dim: 1), e.map { $0 / e.reduce(0, +) }, rtol: 1e-15, atol: 0)
    }
}
