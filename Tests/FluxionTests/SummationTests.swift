// Floating sums are accurate and their order of additions is fixed by the shapes alone: float32
// sums accumulate in float64, float64 sums carry a compensation term across rows, and every
// reduction built on them (mean, var, norm, logSumExp, softmax, cumsum, the cotangents summed
// over broadcast axes, vmap's batch rules) inherits the accuracy. The references are plain
// Swift loops in float64 over the same float32 values.

import Foundation
import Testing
import PropertyBased
import Fluxion
@testable import FluxionCheck

/// Σ xᵢ in float64, one element after the other (exact enough to judge a float32 sum), with Σ|xᵢ|.
private func reference(_ values: [Float]) -> (sum: Double, magnitude: Double) {
    var sum = 0.0, magnitude = 0.0
    for v in values {
        sum += Double(v)
        magnitude += Swift.abs(Double(v))
    }
    return (sum, magnitude)
}

@Suite("Accurate sums")
struct SummationTests {
    @Test("a float32 sum of 2^25 ones is 2^25, where one float32 accumulator stops at 2^24")
    func onesPastTheFloat32Mantissa() {
        let n = 1 << 25
        #expect(NDArray.ones([1]).broadcast(to: [n]).sum().item() == Double(n))
        #expect(NDArray.ones([n]).sum().item() == Double(n))
        #expect(NDArray.ones([n]).mean().item() == 1)
        #expect(NDArray.ones([n]).cumsum(dim: 0)[n - 1].item() == Double(n))
    }

    @Test("a float32 sum of 2^25 copies of 0.1 is the correctly rounded sum")
    func tenthsAreAccurate() {
        let n = 1 << 25
        let exact = Float(Double(Float(0.1)) * Double(n))
        #expect(NDArray.full([n], 0.1).sum().item() == Double(exact))
        #expect(NDArray.full([n], 0.1).mean().item() == Double(Float(0.1)))
    }

    @Test("sums over a leading axis are exact for float32 and compensated for float64")
    func leadingAxis() {
        // 2^24 + 2 is a float32; a float32 accumulator adding ones stops at 2^24.
        let n = (1 << 24) + 2
        #expect(NDArray.ones([n, 2]).sum(dim: 0).doubles == [Double(n), Double(n)])
        // TwoSum keeps what plain float64 addition loses: 1 + 1e100 + 1 − 1e100 = 2.
        let x = NDArray([[1.0, 1], [1e100, 1e100], [1, 1], [-1e100, -1e100]], dtype: .float64)
        #expect(x.sum(dim: 0).doubles == [2, 2])
        // The same in rows wide enough to be added several lanes at a time (and a tail).
        let wide = NDArray([1.0, 1e100, 1, -1e100].flatMap { Array(repeating: $0, count: 9) }, dtype: .float64).reshape([4, 9])
        #expect(wide.sum(dim: 0).doubles == Array(repeating: 2, count: 9))
        let wideSpecial = NDArray([1.0, .infinity, 1].flatMap { v in (0..<9).map { $0 == 5 ? .nan : v } }, dtype: .float64).reshape([3, 9])
        let w = wideSpecial.sum(dim: 0).doubles
        #expect(w.enumerated().allSatisfy { k, v in k == 5 ? v.isNaN : v == .infinity })
        #expect(x.T.cumsum(dim: 1)[.all, 3].doubles == [2, 2])
        // Infinities and NaN propagate through the compensation.
        let special = NDArray([[1.0, .nan], [.infinity, 1], [1, 1]], dtype: .float64)
        let s = special.sum(dim: 0).doubles
        #expect(s[0] == .infinity && s[1].isNaN)
        // Two terms per sum are added once, rounded once: the correctly rounded a + b, including
        // ties, over a leading and a middle axis.
        let a: [Double] = [0.1, 1e16, 3, 1, .infinity], b: [Double] = [0.2, 1, 1e-300, 1e-17, -.infinity]
        let pair = NDArray(a + b, dtype: .float64).reshape([2, 5])
        #expect(pair.sum(dim: 0).doubles.map(\.bitPattern) == zip(a, b).map { ($0 + $1).bitPattern })
        let middle = NDArray(a + b, dtype: .float64).reshape([1, 2, 5])
        #expect(middle.sum(dim: 1).doubles.map(\.bitPattern) == zip(a, b).map { ($0 + $1).bitPattern })
    }

    @Test("a reduction large enough to run on several threads gives the bits of the same sums taken one slice at a time",
          arguments: [[1], [0], [0, 2], [1, 2], [2]])
    func largeReductionsSplitWithoutChangingBits(_ axes: [Int]) {
        // [256, 20, 64] float64 (327,680 elements: above the threshold for threads), values
        // spread over many magnitudes so that the order of additions shows in the last bits.
        let shape = [256, 20, 64]
        var random = SplitMix(seed: 42)
        let values = (0..<shape.reduce(1, *)).map { _ in
            random.uniform(-1, 1) * Foundation.pow(10, random.uniform(-8, 8))
        }
        for dtype in [DType.float64, .float32] {
            let x = NDArray(shape: shape, scalars: values, dtype: dtype)
            let whole = x.sum(dims: axes, keepDim: true)
            // The outermost kept dimension, one index at a time (each piece far below the threshold).
            guard let split = (0..<3).first(where: { !axes.contains($0) }) else { continue }
            let pieces = concat((0..<shape[split]).map { x.narrow(dim: split, start: $0, length: 1).sum(dims: axes, keepDim: true) },
                                dim: split)
            #expect(whole.doubles.map(\.bitPattern) == pieces.doubles.map(\.bitPattern), "\(dtype) sum over \(axes)")
        }
    }

    @Test("a sum over a middle block of a contiguous array gives the bits of the same sum read through a strided view",
          arguments: [([1024, 64], [0]), ([300, 2, 64], [1]), ([7, 5, 3, 9], [1, 2]), ([3, 40, 2], [1]), ([2, 3, 1, 4], [1, 2])])
    func middleBlockMatchesStridedLayout(_ shape: [Int], _ axes: [Int]) {
        var random = SplitMix(seed: 7)
        let values = (0..<shape.reduce(1, *)).map { _ in
            random.uniform(-1, 1) * Foundation.pow(10, random.uniform(-8, 8))
        }
        let reversed = Array(shape.indices.reversed())
        for dtype in [DType.float64, .float32] {
            let x = NDArray(shape: shape, scalars: values, dtype: dtype)
            // The same values stored in the reversed layout and read back through a permuted view.
            let strided = (x.permute(reversed) * 1).permute(reversed)
            #expect(x.isContiguous && !strided.isContiguous)
            #expect(x.sum(dims: axes, keepDim: true).doubles.map(\.bitPattern)
                    == strided.sum(dims: axes, keepDim: true).doubles.map(\.bitPattern), "\(dtype) \(shape) over \(axes)")
        }
    }

    @Test("the gradient of a sum over a broadcast axis is summed accurately (unbroadcast)")
    func unbroadcastCotangent() throws {
        let n = (1 << 24) + 2
        let g = try grad { (w: NDArray) in (w * NDArray.ones([n, 1])).sum() }(NDArray.ones([1]))
        #expect(g.item() == Double(n))
    }

    @Test("vmap's batch rule for sum uses the same accurate kernel")
    func batchRule() throws {
        let n = (1 << 24) + 2
        let rows = try vmap { (x: NDArray) in x.sum() }(NDArray.ones([2, n]))
        #expect(rows.doubles == [Double(n), Double(n)])
    }

    @Test("mean, var, std, norm, logSumExp and softmax of long float32 vectors match float64")
    func composites() {
        let n = 1 << 22
        let x = NDArray.uniform([n], low: 999, high: 1001, key: RandomKey(seed: 11))
        let values = x.floats.map(Double.init)
        let mean = values.reduce(0, +) / Double(n)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        expectClose(x.mean(), [mean], rtol: 2e-7, atol: 0)
        expectClose(x.var(), [variance], rtol: 1e-5, atol: 0)
        expectClose(x.std(), [variance.squareRoot()], rtol: 1e-5, atol: 0)
        expectClose(x.norm(), [values.reduce(0) { $0 + $1 * $1 }.squareRoot()], rtol: 2e-7, atol: 0)
        let centred = x - 1000
        let lse = Foundation.log(centred.doubles.reduce(0) { $0 + Foundation.exp($1) })
        expectClose(centred.logSumExp(), [lse], rtol: 1e-6, atol: 1e-6)
        expectClose(softmax(centred, dim: 0).sum(), [1], rtol: 1e-6, atol: 0)
    }

    @Test("random float32 sums stay within the pairwise bound of the float64 sum")
    func pairwiseBound() async {
        // Lengths spread over every power of two up to 2^24.
        await propertyCheck(count: checkCases(default: 6), input: Gen<Int>.int(in: 0...24), Gen<UInt64>.uint64()) { bits, seed in
            let n = Swift.min((1 << bits) + Int(seed % UInt64(1 << bits)), 1 << 24)
            let x = NDArray.uniform([n], low: -1, high: 1.5, key: RandomKey(seed: seed))
            let (exact, magnitude) = reference(x.floats)
            let bound = (Foundation.log2(Double(n)) + 1) * 0x1p-24 * magnitude
            let got = x.sum().item()
            #expect(Swift.abs(got - exact) <= bound, "n = \(n): \(got) vs \(exact), bound \(bound)")
            // Summing the same values as columns of a matrix, along the leading axis.
            let columns = x.reshape([n, 1]).broadcast(to: [n, 2]).sum(dim: 0).doubles
            #expect(columns.allSatisfy { Swift.abs($0 - exact) <= bound }, "n = \(n): \(columns) vs \(exact)")
        }
    }
}

