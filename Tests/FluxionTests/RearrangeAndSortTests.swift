// The rearranging, sorting and selection operations PyTorch users reach for, against index
// arithmetic and sorting written out in plain Swift: flip, roll, tril/triu, diagonal, diag,
// diagEmbed, trace, repeat, tile, repeatInterleave, movedim, expandAs; argsort, sort, topk,
// kthvalue; clamp with number and array bounds (PyTorch's derivative at the bounds), clampMin,
// clampMax, maskedFill, the NaN masks; cumprod, logcumsumexp, logaddexp, diff, hypot, lerp.
// Then every one through FluxionCheck (gradcheck and checkDerivatives to second order, float64,
// which include vmap of the function and of its derivatives), vmap against the loop that
// defines it for several axis positions, the Tensor facade's node names, and the stops for
// misuse.

import Foundation
import Testing
import Fluxion
import FluxionCheck

// MARK: - References in plain Swift

/// The elements of `values` (row-major, of `shape`) read at every position of `outShape`
/// through `source`, which maps an output multi-index to the input's.
private func gathered(_ values: [Double], _ shape: [Int], to outShape: [Int], _ source: ([Int]) -> [Int]) -> [Double] {
    (0..<elementCount(outShape)).map { values[flatIndex(source(multiIndex($0, outShape)), shape)] }
}

/// The order that sorts `row`: numbers by value, equal ones by position, NaN after them
/// (before them when descending), as PyTorch's stable sort.
private func referenceOrder(_ row: [Double], descending: Bool) -> [Int] {
    let numbers = row.indices.filter { !row[$0].isNaN }, nans = row.indices.filter { row[$0].isNaN }
    let key = { (i: Int) in descending ? -row[i] : row[i] }
    let sorted = numbers.sorted { (key($0), $0) < (key($1), $1) }
    return descending ? nans + sorted : sorted + nans
}

/// Every slice along `dim` sorted: the values and the positions they came from.
private func referenceSort(_ values: [Double], _ shape: [Int], dim: Int, descending: Bool) -> (values: [Double], indices: [Double]) {
    var sorted = values, indices = [Double](repeating: 0, count: values.count)
    for f in values.indices where multiIndex(f, shape)[dim] == 0 {
        let start = multiIndex(f, shape)
        let positions = (0..<shape[dim]).map { k -> Int in
            var i = start
            i[dim] = k
            return flatIndex(i, shape)
        }
        for (k, o) in referenceOrder(positions.map { values[$0] }, descending: descending).enumerated() {
            sorted[positions[k]] = values[positions[o]]
            indices[positions[k]] = Double(o)
        }
    }
    return (sorted, indices)
}

/// The diagonal at `offset` of the matrices spanned by `d1` and `d2`, appended last.
private func referenceDiagonal(_ values: [Double], _ shape: [Int], offset: Int, _ d1: Int, _ d2: Int) -> (shape: [Int], values: [Double]) {
    let rest = shape.indices.filter { $0 != d1 && $0 != d2 }
    let (r0, c0) = offset >= 0 ? (0, offset) : (-offset, 0)
    let length = max(0, min(shape[d1] - r0, shape[d2] - c0))
    let outShape = rest.map { shape[$0] } + [length]
    return (outShape, gathered(values, shape, to: outShape) { o in
        var index = [Int](repeating: 0, count: shape.count)
        for (k, d) in rest.enumerated() { index[d] = o[k] }
        index[d1] = r0 + o[o.count - 1]
        index[d2] = c0 + o[o.count - 1]
        return index
    })
}

/// A float64 array of `shape` with values from `testValues`.
private func sample(_ shape: [Int], seed: UInt64 = 1, in range: ClosedRange<Double> = -2...2) -> NDArray {
    float64(testValues(elementCount(shape), in: range, seed: seed), shape)
}

/// A float64 array of `shape` whose elements differ pairwise by at least 0.1 (sorting and
/// clamping are smooth there), in a shuffled order.
private func distinct(_ shape: [Int], seed: UInt64 = 1) -> NDArray {
    let n = elementCount(shape)
    let keys = testValues(n, seed: seed)
    let order = keys.indices.sorted { keys[$0] < keys[$1] }
    var values = [Double](repeating: 0, count: n)
    for (rank, i) in order.enumerated() { values[i] = 0.3 * Double(rank) - 0.15 * Double(n) + 0.01 * keys[i] }
    return float64(values, shape)
}

// MARK: - Values

@Suite struct RearrangeTests {
    let shape = [2, 3, 4]
    let values = testValues(24)
    var x: NDArray { float64(values, shape) }

    @Test func flipMatchesIndexArithmetic() {
        for dims in [[0], [1], [2], [0, 2], [-1, 0], [0, 1, 2], [], [-2]] {
            let axes = Set(dims.map { ($0 + 3) % 3 })
            let expected = gathered(values, shape, to: shape) { i in i.indices.map { axes.contains($0) ? shape[$0] - 1 - i[$0] : i[$0] } }
            let y = x.flip(dims: dims)
            #expect(y.shape == shape)
            expectClose(y, expected, label: "flip \(dims)")
        }
        // Transposed, strided and broadcast inputs.
        for (name, a, data) in layouts(testValues(24, seed: 2), .float64) {
            expectClose(a.flip(dims: [0, 1]), gathered(data, [3, 4], to: [3, 4]) { [2 - $0[0], 3 - $0[1]] }, label: name)
            expectClose(a.flip(dims: [1]), gathered(data, [3, 4], to: [3, 4]) { [$0[0], 3 - $0[1]] }, label: name)
        }
        for dtype in floatDTypes {
            let a = array(stored(Array(values[0..<6]), dtype), [2, 3], dtype)
            #expect(a.flip(dims: [0]).dtype == dtype)
            expectClose(a.flipud(), gathered(stored(Array(values[0..<6]), dtype), [2, 3], to: [2, 3]) { [1 - $0[0], $0[1]] })
            expectClose(a.fliplr(), gathered(stored(Array(values[0..<6]), dtype), [2, 3], to: [2, 3]) { [$0[0], 2 - $0[1]] })
        }
        #expect(NDArray([[1, 2, 3], [4, 5, 6]]).flip(dims: [1]).ints == [3, 2, 1, 6, 5, 4])
        #expect(NDArray([[1, 2, 3], [4, 5, 6]]).flip(dims: [1]).dtype == .int64)
        #expect(NDArray([true, false, false]).flip(dims: [0]).bools == [false, false, true])
        #expect(NDArray.zeros([0, 3]).flip(dims: [0, 1]).shape == [0, 3])
        #expect(NDArray(2.5).flip(dims: [0]).item() == 2.5)
        // A flip copies: the result does not share the input's storage.
        #expect(!x.flip(dims: [2]).sharesStorage(with: x))
    }

    @Test func rollMatchesIndexArithmetic() {
        for (shifts, dims) in [([1], [0]), ([-1], [1]), ([5], [2]), ([2, -7], [1, 2]), ([0], [1]), ([1, 1], [0, 0]), ([3], [-1])] {
            var expected = values
            for (s, dim) in zip(shifts, dims) {
                let d = (dim + 3) % 3, n = shape[d]
                expected = gathered(expected, shape, to: shape) { i in
                    var j = i
                    j[d] = ((i[d] - s) % n + n) % n
                    return j
                }
            }
            let y = x.roll(shifts: shifts, dims: dims)
            #expect(y.shape == shape)
            expectClose(y, expected, label: "roll \(shifts) along \(dims)")
        }
        for s in [0, 1, -3, 25] {
            let y = x.roll(s)
            #expect(y.shape == shape)
            expectClose(y, (0..<24).map { values[(($0 - s) % 24 + 24) % 24] }, label: "flattened roll \(s)")
        }
        expectClose(x.roll(1, dim: -1), x.roll(shifts: [1], dims: [2]).doubles)
        #expect(NDArray([1, 2, 3, 4]).roll(1).ints == [4, 1, 2, 3])
        #expect(NDArray.zeros([0, 2]).roll(1, dim: 0).shape == [0, 2])
    }

    @Test func trianglesMatchIndexArithmetic() {
        for k in -3...4 {
            expectClose(x.tril(diagonal: k), values.indices.map { f in
                let i = multiIndex(f, shape)
                return i[2] - i[1] <= k ? values[f] : 0
            }, label: "tril \(k)")
            expectClose(x.triu(diagonal: k), values.indices.map { f in
                let i = multiIndex(f, shape)
                return i[2] - i[1] >= k ? values[f] : 0
            }, label: "triu \(k)")
        }
        #expect(NDArray([[1, 2], [3, 4]]).tril().ints == [1, 0, 3, 4])
        #expect(NDArray([[1, 2], [3, 4]]).tril().dtype == .int64)
        #expect(NDArray([[true, true], [true, true]]).triu().bools == [true, true, false, true])
        // Selection, not multiplication: an infinity or NaN stays in its place.
        let special = float64([.infinity, 1, 2, .nan], [2, 2])
        let lower = special.tril().doubles
        #expect(lower[0] == .infinity && lower[1] == 0 && lower[2] == 2 && lower[3].isNaN)
        #expect(special.triu(diagonal: 1).doubles == [0, 1, 0, 0])
    }

    @Test func diagonalsMatchIndexArithmetic() {
        let m = float64(Array(values[0..<12]), [3, 4])
        for offset in -4...5 {
            let expected = referenceDiagonal(Array(values[0..<12]), [3, 4], offset: offset, 0, 1)
            #expect(m.diagonal(offset: offset).shape == expected.shape)
            expectClose(m.diagonal(offset: offset), expected.values, label: "diagonal \(offset)")
            expectClose(m.diag(offset: offset), expected.values, label: "diag \(offset)")
        }
        for (d1, d2) in [(0, 1), (1, 2), (2, 0), (-1, -2), (0, 2)] {
            for offset in [-1, 0, 2] {
                let expected = referenceDiagonal(values, shape, offset: offset, (d1 + 3) % 3, (d2 + 3) % 3)
                let y = x.diagonal(offset: offset, dim1: d1, dim2: d2)
                #expect(y.shape == expected.shape, "dims \(d1), \(d2), offset \(offset)")
                expectClose(y, expected.values, label: "diagonal dims \(d1), \(d2), offset \(offset)")
            }
        }
        #expect(NDArray([[1, 2], [3, 4]]).trace().ints == [5])
        #expect(NDArray([[1, 2, 3], [4, 5, 6]]).trace().ints == [6])
        expectClose(m.trace(), [values[0] + values[5] + values[10]])
    }

    @Test func diagEmbedMatchesIndexArithmetic() {
        let v = [1.5, -2.0, 3.25]
        for offset in -2...2 {
            let n = 3 + abs(offset)
            let expected = (0..<(n * n)).map { f -> Double in
                let (i, j) = (f / n, f % n)
                return j - i == offset ? v[min(i, j)] : 0
            }
            let d = float64(v, [3]).diag(offset: offset)
            #expect(d.shape == [n, n])
            expectClose(d, expected, label: "diag of a vector, offset \(offset)")
        }
        // A batch of vectors [2, 3] with the matrices placed at several pairs of dimensions:
        // y[…row at d1…, …column at d2…] with the batch dimension in the remaining place.
        let batch = float64(Array(values[0..<6]), [2, 3])
        for (d1, d2, offset) in [(-2, -1, 0), (0, 2, 1), (-1, 0, -1), (1, 2, 0)] {
            let n = 3 + abs(offset)
            let (p1, p2) = ((d1 + 3) % 3, (d2 + 3) % 3)
            let b = 3 - p1 - p2
            var outShape = [0, 0, 0]
            outShape[p1] = n
            outShape[p2] = n
            outShape[b] = 2
            let expected = (0..<elementCount(outShape)).map { f -> Double in
                let o = multiIndex(f, outShape)
                let (i, j) = (o[p1], o[p2])
                return j - i == offset ? values[o[b] * 3 + min(i, j)] : 0
            }
            let y = batch.diagEmbed(offset: offset, dim1: d1, dim2: d2)
            #expect(y.shape == outShape)
            expectClose(y, expected, label: "diagEmbed dims \(d1), \(d2), offset \(offset)")
        }
        // Off-diagonal zeros stay zeros next to an infinity.
        #expect(float64([.infinity, 1], [2]).diag().doubles == [.infinity, 0, 0, 1])
        #expect(NDArray([1, 2]).diag().ints == [1, 0, 0, 2])
    }

    @Test func tilingMatchesIndexArithmetic() {
        let data = Array(values[0..<6])
        let a = float64(data, [2, 3])
        for reps in [[1, 1], [2, 1], [1, 3], [2, 2], [3, 1, 2], [2, 0], [2, 1, 1, 1]] {
            let sizes = [Int](repeating: 1, count: reps.count - 2) + [2, 3]
            let outShape = zip(reps, sizes).map { $0 * $1 }
            let y = a.repeat(reps)
            #expect(y.shape == outShape)
            expectClose(y, gathered(data, [2, 3], to: outShape) { o in [o[o.count - 2] % 2, o[o.count - 1] % 3] }, label: "repeat \(reps)")
        }
        expectClose(a.tile([2]), a.repeat([1, 2]).doubles)
        #expect(a.tile([2, 1, 1]).shape == [2, 2, 3])
        #expect(NDArray([1, 2]).repeat([2]).ints == [1, 2, 1, 2])

        expectClose(a.repeatInterleave(2, dim: 0), gathered(data, [2, 3], to: [4, 3]) { [$0[0] / 2, $0[1]] })
        expectClose(a.repeatInterleave(3, dim: -1), gathered(data, [2, 3], to: [2, 9]) { [$0[0], $0[1] / 3] })
        expectClose(a.repeatInterleave(2), (0..<12).map { data[$0 / 2] })
        #expect(a.repeatInterleave(0, dim: 1).shape == [2, 0])
        #expect(NDArray([1, 2]).repeatInterleave(2).ints == [1, 1, 2, 2])
    }

    @Test func movedimAndExpandAs() {
        let moved = x.movedim(source: 0, destination: 2)
        #expect(moved.shape == [3, 4, 2])
        expectClose(moved, gathered(values, shape, to: [3, 4, 2]) { [$0[2], $0[0], $0[1]] })
        #expect(x.movedim(source: -1, destination: 0).shape == [4, 2, 3])
        let row = float64([1, 2, 3], [3])
        let e = row.expandAs(NDArray.zeros([2, 3]))
        #expect(e.shape == [2, 3] && e.doubles == [1, 2, 3, 1, 2, 3])
    }
}

@Suite struct SortingTests {
    /// Ties, NaN, infinities and both zeros in one row.
    let special: [Double] = [3, .nan, -1, 3, .infinity, 0, -0.0, -.infinity, 3, .nan, 2]

    @Test func sortOrdersLikePyTorch() {
        for dtype in floatDTypes {
            let x = array(special, [special.count], dtype)
            for descending in [false, true] {
                let order = referenceOrder(special, descending: descending)
                let (values, indices) = x.sort(descending: descending)
                #expect(indices.dtype == .int64)
                #expect(indices.ints == order, "\(dtype), descending: \(descending)")
                expectClose(values, order.map { special[$0] }, label: "\(dtype), descending: \(descending)")
                #expect(x.argsort(descending: descending).ints == order)
            }
        }
    }

    @Test func sortAlongEveryDimensionWithTies() {
        let shape = [2, 3, 4]
        // Values on a coarse grid: many ties, which must keep their order.
        let values = testValues(24, seed: 3).map { ($0 * 2).rounded() }
        for dtype: DType in [.float32, .float64, .int64] {
            let x = array(values, shape, dtype)
            for dim in [0, 1, 2, -1] {
                for descending in [false, true] {
                    let expected = referenceSort(values, shape, dim: (dim + 3) % 3, descending: descending)
                    let (v, i) = x.sort(dim: dim, descending: descending)
                    #expect(v.dtype == dtype && v.shape == shape && i.shape == shape)
                    expectClose(v, expected.values, label: "\(dtype) sort along \(dim), descending: \(descending)")
                    #expect(i.doubles == expected.indices, "\(dtype) indices along \(dim), descending: \(descending)")
                }
            }
        }
        // A transposed (non-contiguous) input.
        let t = float64(values, [4, 6]).T
        let expected = referenceSort(stridedValues(values, shape: [6, 4], strides: [1, 6]), [6, 4], dim: 0, descending: false)
        expectClose(t.sort(dim: 0).values, expected.values)
        #expect(t.sort(dim: 0).indices.doubles == expected.indices)
    }

    @Test func sortEdgeCases() {
        let (bv, bi) = NDArray([true, false, true, false]).sort()
        #expect(bv.bools == [false, false, true, true] && bi.ints == [1, 3, 0, 2])
        #expect(NDArray.zeros([0, 3]).sort(dim: 0).values.shape == [0, 3])
        #expect(NDArray.zeros([3, 0]).sort().indices.shape == [3, 0])
        let (sv, si) = NDArray(2.0).sort()
        #expect(sv.item() == 2 && si.shape == [] && si.ints == [0])
    }

    @Test func topkAndKthvalue() {
        let shape = [3, 5]
        let values = testValues(15, seed: 4).map { ($0 * 2).rounded() }
        let x = float64(values, shape)
        for largest in [true, false] {
            let full = referenceSort(values, shape, dim: 1, descending: largest)
            for k in 0...5 {
                let (v, i) = x.topk(k, largest: largest)
                #expect(v.shape == [3, k] && i.shape == [3, k])
                let keep = { (row: [Double]) in (0..<3).flatMap { r in row[(r * 5)..<(r * 5 + k)] } }
                expectClose(v, keep(full.values), label: "top \(k), largest: \(largest)")
                #expect(i.doubles == keep(full.indices), "top \(k), largest: \(largest)")
            }
        }
        let ascending = referenceSort(values, shape, dim: 1, descending: false)
        for k in 1...5 {
            let (v, i) = x.kthvalue(k)
            #expect(v.shape == [3] && i.shape == [3])
            expectClose(v, (0..<3).map { ascending.values[$0 * 5 + k - 1] }, label: "kthvalue \(k)")
            #expect(i.doubles == (0..<3).map { ascending.indices[$0 * 5 + k - 1] })
            #expect(x.kthvalue(min(k, 3), dim: 0, keepDim: true).values.shape == [1, 5])
        }
        // Along the first dimension.
        let columns = referenceSort(values, shape, dim: 0, descending: true)
        expectClose(x.topk(2, dim: 0).values, Array(columns.values[0..<10]))
    }
}

@Suite struct SelectionTests {
    @Test func clampDerivativeAtTheBoundsIsPyTorchs() throws {
        let x = float64([-2, -1, -0.5, 0, 0.5, 1, 2], [7])
        #expect(x.clamp(min: -1, max: 1).doubles == [-1, -1, -0.5, 0, 0.5, 1, 1])
        // Number bounds: gradient 1 strictly inside, 0 at a bound (PyTorch 2.15's values).
        #expect(try grad { (x: NDArray) in x.clamp(min: -1, max: 1).sum() }(x).doubles == [0, 0, 1, 1, 1, 0, 0])
        #expect(try grad { (x: NDArray) in x.clamp(min: 0).sum() }(x).doubles == [0, 0, 0, 0, 1, 1, 1])
        #expect(try grad { (x: NDArray) in x.clampMin(0).sum() }(x).doubles == [0, 0, 0, 0, 1, 1, 1])
        #expect(try grad { (x: NDArray) in x.clampMax(0).sum() }(x).doubles == [1, 1, 1, 0, 0, 0, 0])
        #expect(try grad { (x: NDArray) in x.clip(min: -0.5, max: 0.5).sum() }(x).doubles == [0, 0, 0, 1, 0, 0, 0])
        #expect(try jvp({ (x: NDArray) in x.clamp(min: 0) }, at: x, tangents: NDArray.onesLike(x)).tangent.doubles == [0, 0, 0, 0, 1, 1, 1])
        // min > max: every element is max, and nothing flows to x.
        #expect(x.clamp(min: 1, max: -1).doubles == [Double](repeating: -1, count: 7))
        #expect(try grad { (x: NDArray) in x.clamp(min: 1, max: -1).sum() }(x).doubles == [Double](repeating: 0, count: 7))
        #expect(float64([.nan], [1]).clamp(min: 0, max: 1).doubles[0].isNaN)
        #expect(NDArray([-3, 0, 5]).clamp(min: -1, max: 2).ints == [-1, 0, 2])
        #expect(NDArray([-3, 0, 5]).clamp(min: -1, max: 2).dtype == .int64)
    }

    @Test func clampWithArrayBounds() throws {
        let x = float64([-2, 0, 3, 1, 0.5, -1], [2, 3])
        let lo = float64([-1, 0.5, 0], [3]), hi = float64([2, 0.5], [2, 1])
        #expect(x.clamp(min: lo, max: hi).doubles == [-1, 0.5, 2, 0.5, 0.5, 0])
        // Array bounds (PyTorch 2.15's values): x takes the gradient strictly inside and shares
        // it at a tie with a bound; x[1, 1] = 0.5 equals both bounds, which are equal, and keeps
        // it whole. Each bound's gradient is summed over what it was broadcast to.
        let (_, pullback) = try vjp({ (a: [NDArray]) in a[0].clamp(min: a[1], max: a[2]) }, at: [x, lo, hi])
        let g = try pullback(NDArray.onesLike(x))
        #expect(g[0].doubles == [0, 0, 0, 0, 1, 0])
        #expect(g[1].doubles == [1, 1, 1])
        #expect(g[2].doubles == [1, 1])
        #expect(x.clampMin(lo).doubles == [-1, 0.5, 3, 1, 0.5, 0])
        #expect(x.clampMax(hi).doubles == [-2, 0, 2, 0.5, 0.5, -1])
        let (_, minPullback) = try vjp({ (a: [NDArray]) in a[0].clampMin(a[1]) }, at: [x, lo])
        let gm = try minPullback(NDArray.onesLike(x))
        #expect(gm[0].doubles == [0, 0, 1, 1, 0.5, 0] && gm[1].doubles == [1, 1.5, 1])
        #expect(x.clamp(max: hi).doubles == x.clampMax(hi).doubles)
    }

    @Test func maskedFillAndMasks() throws {
        let a = float64([1, 2, 3, 4, 5, 6], [2, 3])
        let mask = NDArray([true, false, true])
        #expect(a.maskedFill(mask, value: -1).doubles == [-1, 2, -1, -1, 5, -1])
        #expect(a.maskedFill(mask, value: NDArray(7.0)).doubles == [7, 2, 7, 7, 5, 7])
        #expect(a.maskedFill(mask, value: NDArray(7.0)).dtype == .float64)
        #expect(NDArray([1, 2, 3]).maskedFill(NDArray([false, true, false]), value: 9).ints == [1, 9, 3])
        let w = float64([1, 2, 3, 4, 5, 6], [2, 3])
        let (_, pullback) = try vjp({ (p: [NDArray]) in p[0].maskedFill(mask, value: p[1]) }, at: [a, NDArray(0.0, dtype: .float64)])
        let g = try pullback(w)
        #expect(g[0].doubles == [0, 2, 0, 0, 5, 0])
        #expect(g[1].doubles == [1 + 3 + 4 + 6])

        let special = float64([1, .nan, .infinity, -.infinity, 0], [5])
        #expect(special.isNaN().bools == [false, true, false, false, false])
        #expect(special.isInf().bools == [false, false, true, true, false])
        #expect(special.isFinite().bools == [true, false, false, false, true])
        #expect(NDArray([1, 2]).isNaN().bools == [false, false] && NDArray([1, 2]).isFinite().bools == [true, true])
        #expect(special.maskedFill(special.isNaN(), value: 0).doubles[1] == 0)
    }

    @Test func cumprodAndDiff() {
        let row = [1.5, -2, 0, 3, 0.5, 0, -1]
        var running = 1.0
        expectClose(float64(row, [7]).cumprod(dim: 0), row.map { running *= $0; return running })
        let values = testValues(24, seed: 5)
        let x = float64(values, [2, 3, 4])
        for dim in 0..<3 {
            let expected = values.indices.map { f -> Double in
                var i = multiIndex(f, [2, 3, 4])
                let last = i[dim]
                var p = 1.0
                for k in 0...last {
                    i[dim] = k
                    p *= values[flatIndex(i, [2, 3, 4])]
                }
                return p
            }
            expectClose(x.cumprod(dim: dim), expected, rtol: 1e-13, atol: 1e-15, label: "cumprod along \(dim)")
        }
        #expect(NDArray([1, 2, 3, 4]).cumprod(dim: 0).ints == [1, 2, 6, 24])
        #expect(NDArray([true, true, false]).cumprod(dim: 0).ints == [1, 1, 0])

        let d = float64([1, 4, 9, 16, 25], [5])
        #expect(d.diff().doubles == [3, 5, 7, 9])
        #expect(d.diff(n: 2).doubles == [2, 2, 2])
        #expect(d.diff(n: 7).shape == [0])
        expectClose(x.diff(dim: 1), values.indices.compactMap { f -> Double? in
            let i = multiIndex(f, [2, 3, 4])
            guard i[1] < 2 else { return nil }
            return values[f + 4] - values[f]
        })
        #expect(NDArray([true, true, false, true]).diff().bools == [false, true, true])
    }

    @Test func logcumsumexpAndLogaddexp() {
        // A reference that shifts by the running maximum, in plain Swift.
        func reference(_ row: [Double]) -> [Double] {
            var out: [Double] = []
            for i in row.indices {
                let m = row[0...i].max()!
                out.append(m == -.infinity ? -.infinity : m + Foundation.log(row[0...i].reduce(0) { $0 + Foundation.exp($1 - m) }))
            }
            return out
        }
        let rows: [[Double]] = [[0.5, -1, 2, 2, -3, 0.25, 1], [1000, 1000, -1000, 999], [-.infinity, 0, -.infinity, 1], [-.infinity, -.infinity], [3]]
        for row in rows {
            expectClose(float64(row, [row.count]).logcumsumexp(dim: 0), reference(row), rtol: 1e-14, atol: 1e-14, label: "\(row)")
        }
        let values = testValues(24, in: -3...3, seed: 12)
        let x = float64(values, [2, 3, 4])
        let alongMiddle = values.indices.map { f -> Double in
            let i = multiIndex(f, [2, 3, 4])
            return reference((0...i[1]).map { values[flatIndex([i[0], $0, i[2]], [2, 3, 4])] })[i[1]]
        }
        expectClose(x.logcumsumexp(dim: 1), alongMiddle, rtol: 1e-14, atol: 1e-14)
        #expect(NDArray([1, 2]).logcumsumexp(dim: 0).dtype == .float32)

        let pairs = logaddexp(float64([0, 1000, -.infinity, .infinity, -.infinity, 2], [6]),
                              float64([0, 1000, -.infinity, .infinity, 1, -.infinity], [6])).doubles
        expectClose(pairs, [Foundation.log(2), 1000 + Foundation.log(2), -.infinity, .infinity, 1, 2], rtol: 1e-15, atol: 0)
    }

    @Test func hypotAndLerp() throws {
        expectClose(hypot(float64([3, -5, 0, 1e200, 1e-200], [5]), float64([4, 12, 0, 1e200, 1e-200], [5])),
                    [5, 13, 0, 1e200 * 2.0.squareRoot(), 1e-200 * 2.0.squareRoot()])
        let h = hypot(float64([.infinity, .nan, -.infinity], [3]), float64([.nan, 1, 2], [3])).doubles
        #expect(h[0] == .infinity && h[1].isNaN && h[2] == .infinity)
        // The derivative a/hypot, and 0 at the origin (where PyTorch's is NaN).
        let g = try grad { (a: NDArray) in hypot(a, float64([4, 0], [2])).sum() }(float64([3, 0], [2]))
        expectClose(g, [0.6, 0])
        #expect(hypot(NDArray([3]), NDArray([4])).dtype == .float32)

        let start = sample([8], seed: 6), end = sample([8], seed: 7)
        #expect(lerp(start, end, weight: 1).doubles == end.doubles)
        #expect(lerp(start, end, weight: 0).doubles == start.doubles)
        expectClose(lerp(start, end, weight: 0.25), zip(start.doubles, end.doubles).map { $0 + 0.25 * ($1 - $0) })
        let weight = float64([0, 0.2, 0.5, 0.7, 1, 1.5, -0.5, 0.49], [8])
        expectClose(start.lerp(end, weight: weight),
                    (0..<8).map { start.doubles[$0] + weight.doubles[$0] * (end.doubles[$0] - start.doubles[$0]) },
                    rtol: 1e-15, atol: 1e-15)
        #expect(start.lerp(end, weight: NDArray.onesLike(start)).doubles == end.doubles)
    }
}

// MARK: - Derivatives through FluxionCheck

@Suite struct RearrangeAndSortDerivativeTests {
    /// A composite of one float64 array, the point to check it at, and its name.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let x: NDArray
        let f: @Sendable (NDArray) -> NDArray
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "flip", x: sample([2, 3, 2]), f: { $0.flip(dims: [0, -1]) }),
        Case(name: "roll", x: sample([3, 4]), f: { $0.roll(shifts: [1, -5], dims: [0, 1]) }),
        Case(name: "roll flattened", x: sample([3, 4]), f: { $0.roll(5) }),
        Case(name: "tril", x: sample([2, 3, 3]), f: { $0.tril(diagonal: -1) }),
        Case(name: "triu", x: sample([3, 4]), f: { $0.triu(diagonal: 1) }),
        Case(name: "diagonal", x: sample([2, 3, 4]), f: { $0.diagonal(offset: 1, dim1: 2, dim2: 0) }),
        Case(name: "diag of a matrix", x: sample([3, 4]), f: { $0.diag(offset: -1) }),
        Case(name: "diag of a vector", x: sample([3]), f: { $0.diag(offset: 1) }),
        Case(name: "diagEmbed", x: sample([2, 3]), f: { $0.diagEmbed(offset: -1, dim1: 0, dim2: 2) }),
        Case(name: "trace", x: sample([3, 3]), f: { $0.trace() }),
        Case(name: "repeat", x: sample([2, 3]), f: { $0.repeat([2, 1, 2]) }),
        Case(name: "tile", x: sample([2, 3]), f: { $0.tile([3]) }),
        Case(name: "repeatInterleave", x: sample([2, 3]), f: { $0.repeatInterleave(2, dim: 1) }),
        Case(name: "movedim", x: sample([2, 3, 2]), f: { $0.movedim(source: 2, destination: 0) }),
        Case(name: "sort values", x: distinct([3, 4]), f: { $0.sort(dim: 0, descending: true).values }),
        Case(name: "topk values", x: distinct([3, 5]), f: { $0.topk(2).values }),
        Case(name: "topk smallest along 0", x: distinct([4, 3]), f: { $0.topk(3, dim: 0, largest: false).values }),
        Case(name: "kthvalue", x: distinct([3, 5]), f: { $0.kthvalue(3).values }),
        Case(name: "clamp", x: distinct([3, 4]), f: { $0.clamp(min: -0.4, max: 0.5) }),
        Case(name: "clampMin", x: distinct([3, 4]), f: { $0.clampMin(0.05) }),
        Case(name: "maskedFill", x: sample([2, 3]), f: { $0.maskedFill(NDArray([true, false, false]), value: 2) }),
        // Products with exact zeros: the scan never divides, so every order is exact there.
        Case(name: "cumprod with zeros", x: float64([0.5, 0, -1.5, 2, 0, 0.7, 1.2, -0.8], [2, 4]), f: { $0.cumprod(dim: -1) }),
        Case(name: "cumprod along 0", x: sample([5, 2]), f: { $0.cumprod(dim: 0) }),
        Case(name: "diff", x: sample([2, 5]), f: { $0.diff(n: 2) }),
        // Ties included: logaddexp's derivatives are exact there.
        Case(name: "logcumsumexp", x: float64([0.5, 0.5, -1, 2, 2, 0.3, -0.7, 1.1], [2, 4]), f: { $0.logcumsumexp(dim: -1) }),
        Case(name: "logaddexp", x: float64([0.5, 0.5, -1, 2, -30, 40], [6]), f: { logaddexp($0, $0.flip(dims: [0])) }),
        Case(name: "hypot", x: sample([2, 3], in: 0.3...2), f: { hypot($0, $0.flip(dims: [1]) - 0.1) }),
        Case(name: "lerp", x: sample([4]), f: { lerp($0, $0 * $0, weight: 0.7) }),
    ]

    @Test("checkDerivatives(order: 2), vmap included, on float64", arguments: cases)
    func composite(_ c: Case) {
        do {
            try checkDerivatives(c.f, at: c.x, order: 2)
        } catch {
            Issue.record("\(c.name): \(error)")
        }
    }

    @Test func compositesOfSeveralArrays() throws {
        let x = distinct([2, 3]), lo = float64([-0.5, 0.1, -3], [3]), hi = float64([0.4, 10], [2, 1])
        try gradcheck({ (a: [NDArray]) in a[0].clamp(min: a[1], max: a[2]) }, inputs: [x, lo, hi])
        try checkDerivatives({ (a: [NDArray]) in a[0].clamp(min: a[1], max: a[2]) }, at: [x, lo, hi], order: 2)
        let mask = NDArray([[true, false, true], [false, false, true]])
        try checkDerivatives({ (a: [NDArray]) in a[0].maskedFill(mask, value: a[1]) },
                             at: [sample([2, 3]), NDArray(0.5, dtype: .float64)], order: 2)
        let weight = float64([0.1, 0.3, 0.6, 0.9, 1.3, -0.2], [2, 3])
        try checkDerivatives({ (a: [NDArray]) in lerp(a[0], a[1], weight: a[2]) },
                             at: [sample([2, 3], seed: 8), sample([3], seed: 9), weight], order: 2)
        try checkDerivatives({ (a: [NDArray]) in hypot(a[0], a[1]) }, at: [sample([2, 1], seed: 10, in: 0.5...2), sample([3], seed: 11)], order: 2)
        try gradcheck({ (x: NDArray) in x.sort(dim: -1).values * x }, inputs: distinct([2, 4]))
    }
}

// MARK: - vmap against a loop

@Suite struct RearrangeAndSortVmapTests {
    /// Three examples of `shape` with distinct values (so sorts do not depend on ties).
    static func examples(_ shape: [Int], count: Int = 1) -> [[NDArray]] {
        (0..<3).map { e in (0..<count).map { a in distinct(shape, seed: UInt64(10 * e + a + 20)) } }
    }

    static let cases: [(String, [Int], @Sendable ([NDArray]) -> NDArray)] = [
        ("flip", [3, 4], { $0[0].flip(dims: [-1]) }),
        ("flip both", [3, 4], { $0[0].flip(dims: [0, 1]) }),
        ("roll", [3, 4], { $0[0].roll(shifts: [1, 2], dims: [0, 1]) }),
        ("roll flattened", [3, 4], { $0[0].roll(-5) }),
        ("tril", [3, 4], { $0[0].tril(diagonal: 1) }),
        ("triu", [3, 3], { $0[0].triu() }),
        ("diag of a vector", [3], { $0[0].diag(offset: -1) }),
        ("diag of a matrix", [3, 4], { $0[0].diag(offset: 1) }),
        ("diagonal", [2, 3, 4], { $0[0].diagonal(dim1: -1, dim2: 0) }),
        ("diagEmbed", [2, 3], { $0[0].diagEmbed(dim1: 0, dim2: -1) }),
        ("repeat", [2, 3], { $0[0].repeat([2, 2]) }),
        ("repeatInterleave", [2, 3], { $0[0].repeatInterleave(2, dim: 0) }),
        ("sort values", [3, 4], { $0[0].sort(dim: 0).values }),
        ("sort indices", [3, 4], { $0[0].sort(dim: -1, descending: true).indices }),
        ("argsort", [4], { $0[0].argsort() }),
        ("topk values", [3, 5], { $0[0].topk(2).values }),
        ("topk indices along 0", [5, 3], { $0[0].topk(3, dim: 0, largest: false).indices }),
        ("kthvalue", [3, 5], { $0[0].kthvalue(2).values }),
        ("cumprod", [3, 4], { $0[0].cumprod(dim: 1) }),
        ("logcumsumexp", [3, 4], { $0[0].logcumsumexp(dim: 0) }),
        ("clamp", [3, 4], { $0[0].clamp(min: -0.5, max: 0.5) }),
        ("maskedFill", [2, 3], { $0[0].maskedFill(NDArray([false, true, true]), value: -3) }),
    ]

    @Test func vmapEqualsTheLoop() throws {
        for (name, shape, f) in Self.cases {
            let examples = Self.examples(shape)
            for (inAxis, outAxis) in [(0, 0), (1 % max(shape.count, 1), -1), (-1, 1)] {
                try checkVmapMatchesLoop(f, examples: examples, inAxes: [inAxis], outAxes: outAxis,
                                         "\(name), inAxes \(inAxis), outAxes \(outAxis)")
            }
            try checkVmapEmptyBatch(f, example: examples[0], name)
        }
        // Array bounds and values, mapped and unmapped in turn.
        let two: ([NDArray]) -> NDArray = { $0[0].clamp(min: $0[1]) }
        let pairs = (0..<3).map { e in [distinct([2, 3], seed: UInt64(40 + e)), distinct([3], seed: UInt64(50 + e))] }
        for axes in [[0, 0], [1, nil], [nil, 0], [-1, 0]] as [[Int?]] {
            try checkVmapMatchesLoop(two, examples: pairs, inAxes: axes, outAxes: 0, "clamp(min:) with array bounds, inAxes \(axes)")
        }
    }
}

// MARK: - The Tensor facade

@Suite struct RearrangeAndSortTensorTests {
    @Test func nodeNamesFollowPyTorch() throws {
        let m = try Tensor(sample([3, 3]), requiresGrad: true)
        let v = try Tensor(sample([3]), requiresGrad: true)
        let names: [(Tensor, String)] = [
            (m.flip(dims: [0]), "FlipBackward0"), (m.fliplr(), "FlipBackward0"),
            (m.roll(1), "RollBackward0"), (m.tril(), "TrilBackward0"), (m.triu(), "TriuBackward0"),
            (m.diagonal(), "DiagonalBackward0"), (v.diag(), "DiagEmbedBackward0"), (m.diag(), "DiagonalBackward0_copy"),
            (v.diagEmbed(), "DiagEmbedBackward0"), (m.trace(), "TraceBackward0"),
            (m.repeat([2, 1]), "RepeatBackward0"), (m.tile([2]), "RepeatBackward0"),
            (m.repeatInterleave(2, dim: 0), "ViewBackward0"), (v.expandAs(m), "ExpandBackward0"),
            (m.sort().values, "SortBackward0"), (m.sort(stable: true).values, "SortBackward1"),
            (m.topk(2).values, "TopkBackward0"), (m.kthvalue(1).values, "KthvalueBackward0"),
            (m.maskedFill(m .> 0, value: 0), "MaskedFillBackward0"), (m.maskedFill(m .> 0, value: v[0]), "MaskedFillBackward1"),
            (m.clamp(min: 0), "ClampBackward1"), (m.clamp(min: -1, max: 1), "ClampBackward1"), (m.clamp(min: v), "ClampBackward0"),
            (m.clampMin(0), "ClampMinBackward0"), (m.clampMin(v), "ClampMinBackward1"),
            (m.clampMax(0), "ClampMaxBackward0"), (m.clampMax(v), "ClampMaxBackward1"),
            (m.cumprod(dim: 0), "CumprodBackward0"), (m.diff(), "SubBackward0"),
            (m.logcumsumexp(dim: 1), "LogcumsumexpBackward0"), (logaddexp(m, v), "LogaddexpBackward0"),
            (hypot(m, m), "HypotBackward0"), (lerp(m, m, weight: 0.5), "LerpBackward0"), (lerp(m, m, weight: m), "LerpBackward1"),
        ]
        for (t, name) in names { #expect(t.gradFn?.name == name, "expected \(name), got \(String(describing: t.gradFn))") }
        let (_, indices) = m.sort()
        #expect(!indices.requiresGrad && indices.dtype == .int64)
        #expect(!m.argsort().requiresGrad && !m.isNaN().requiresGrad)
    }

    @Test func backwardThroughSortTopkAndClamp() throws {
        let x = try Tensor(float64([0.3, -1.2, 2.5, 0.7], [4]), requiresGrad: true)
        let (values, _) = x.topk(2)
        try (values * Tensor(float64([10, 1], [2]))).sum().backward()
        #expect(x.grad!.value.doubles == [0, 0, 10, 1])

        let y = try Tensor(float64([-1, 0, 0.5, 1, 2], [5]), requiresGrad: true)
        try y.clamp(min: 0, max: 1).sum().backward()
        #expect(y.grad!.value.doubles == [0, 0, 1, 0, 0])  // strictly inside, as PyTorch 2.15

        let z = try Tensor(float64([3, 1, 2], [3]), requiresGrad: true)
        try (z.sort().values * Tensor(float64([1, 2, 3], [3]))).sum().backward()
        #expect(z.grad!.value.doubles == [3, 1, 2])
    }
}

// MARK: - Misuse

@Suite struct RearrangeAndSortErrorTests {
    /// The text a child process wrote to standard error.
    private func standardError(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func topkBeyondTheDimensionNamesShapeCallerAndFix() async {
        let line = #line + 1  // an exit test reports the line of its #expect
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([3, 4]).topk(5)
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: topk: k = 5 is outside 0...4, the size of dimension 1 of shape [3, 4]"), "\(text)")
        #expect(text.contains("called at FluxionTests/RearrangeAndSortTests.swift:\(line)"), "\(text)")
        #expect(text.contains("Fix: choose k between 0 and 4"), "\(text)")
    }

    @Test func maskedFillWithAMismatchedMask() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([2, 3]).maskedFill(NDArray([true, false]), value: 0)
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: maskedFill: a mask of shape [2] does not broadcast to the array's shape [2, 3]"), "\(text)")
        #expect(text.contains("Fix: "), "\(text)")
    }

    @Test func everyMisuseStops() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).flip(dims: [1, -1]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).flip(dims: [2]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).roll(shifts: [1, 2], dims: [0]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).roll(shifts: [1, 2]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([3]).tril() }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([3, 3]).diagonal(dim1: 1, dim2: -1) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 2, 2]).diag() }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).diagEmbed(dim1: 3) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 2, 2]).trace() }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).repeat([2]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).repeatInterleave(-1) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).kthvalue(0) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).sort(dim: 2) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).maskedFill(NDArray([1, 0, 1]), value: 0) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).maskedFill(NDArray([true, false, true]), value: NDArray.zeros([2])) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).clamp(min: NDArray.zeros([2])) }
        await #expect(processExitsWith: .failure) { _ = lerp(NDArray.zeros([2, 3]), NDArray.zeros([2]), weight: 0.5) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([3]).diff(n: -1) }
    }
}
