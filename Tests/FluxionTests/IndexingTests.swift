// Subscripts and integer-array indexing against index arithmetic: integers, negative integers,
// every kind of Swift range, strides, `.all`, `.newAxis`, `.ellipsis`; functional updates
// through subscripts; gather, indexSelect, scatterAdd and oneHot.

import Testing
import Fluxion

@Suite struct SubscriptTests {
    /// [2, 3, 4] int64 with element (i, j, k) equal to its row-major position 12i + 4j + k.
    let x = NDArray.arange(0, 24).reshape([2, 3, 4])

    /// The positions 12i + 4j + k for every (i, j, k) in the given index lists.
    func positions(_ i: [Int], _ j: [Int], _ k: [Int]) -> [Int] {
        i.flatMap { a in j.flatMap { b in k.map { c in 12 * a + 4 * b + c } } }
    }

    @Test func integers() {
        #expect(x[1].shape == [3, 4])
        #expect(x[1].ints == positions([1], [0, 1, 2], [0, 1, 2, 3]))
        #expect(x[-1].ints == x[1].ints)
        #expect(x[-2].ints == x[0].ints)
        #expect(x[0, -1].ints == [8, 9, 10, 11])
        #expect(x[1, 2, 3].shape == [])
        #expect(x[1, 2, 3].item() == 23)
        #expect(x[-1, -3, -4].item() == 12)
        #expect(x[0][2][1].item() == 9)
    }

    @Test func ranges() {
        #expect(x[0, 1..<3].shape == [2, 4])
        #expect(x[0, 1..<3].ints == positions([0], [1, 2], [0, 1, 2, 3]))
        #expect(x[0, 0...1].ints == positions([0], [0, 1], [0, 1, 2, 3]))
        #expect(x[1, 1...].ints == positions([1], [1, 2], [0, 1, 2, 3]))
        #expect(x[1, ..<2].ints == positions([1], [0, 1], [0, 1, 2, 3]))
        #expect(x[1, ...1].ints == positions([1], [0, 1], [0, 1, 2, 3]))
        #expect(x[.all, .all, (-2)...].ints == positions([0, 1], [0, 1, 2], [2, 3]))
        #expect(x[.all, .all, (-3)..<(-1)].ints == positions([0, 1], [0, 1, 2], [1, 2]))
        #expect(x[.all, .all, (-2)...(-1)].ints == positions([0, 1], [0, 1, 2], [2, 3]))
        #expect(x[.all, .all, ...(-2)].ints == positions([0, 1], [0, 1, 2], [0, 1, 2]))
        // Bounds beyond the dimension clamp, as in NumPy; an empty range gives size 0.
        #expect(x[0, 0, 2..<10].ints == [2, 3])
        #expect(x[0, 2..<2].shape == [0, 4])
        #expect(x[0, 5...].shape == [0, 4])
    }

    @Test func strides() {
        #expect(x[0, 0, stride(from: 0, to: 4, by: 2)].ints == [0, 2])
        #expect(x[0, 0, stride(from: 1, to: 4, by: 2)].ints == [1, 3])
        #expect(x[.all, stride(from: 0, to: 3, by: 2), stride(from: 3, to: 4, by: 5)].ints == positions([0, 1], [0, 2], [3]))
        #expect(x[1, stride(from: 0, to: 3, by: 1)].ints == x[1].ints)
        #expect(x[.all, 0, IndexItem.range(start: 1, step: 2)].ints == positions([0, 1], [0], [1, 3]))
        #expect(x[.all, 0, IndexItem.range(end: -1, step: 2)].ints == positions([0, 1], [0], [0, 2]))
    }

    @Test func allNewAxisAndEllipsis() {
        #expect(x[.all, 1].shape == [2, 4])
        #expect(x[.all, 1].ints == positions([0, 1], [1], [0, 1, 2, 3]))
        #expect(x[.all, .all, 2].ints == positions([0, 1], [0, 1, 2], [2]))
        #expect(x[.newAxis].shape == [1, 2, 3, 4])
        #expect(x[.all, .newAxis, 0].shape == [2, 1, 4])
        #expect(x[.all, .newAxis, 0].ints == positions([0, 1], [0], [0, 1, 2, 3]))
        #expect(x[1, .all, .newAxis].shape == [3, 1, 4])
        #expect(x[.ellipsis, 0].shape == [2, 3])
        #expect(x[.ellipsis, 0].ints == positions([0, 1], [0, 1, 2], [0]))
        #expect(x[0, .ellipsis, 1].ints == [1, 5, 9])
        #expect(x[.ellipsis].ints == x.ints)
        #expect(x[.ellipsis, .newAxis].shape == [2, 3, 4, 1])
        #expect(x[1, .ellipsis, 2, 3].item() == 23)
        #expect(x[items: [.at(1), .range(start: 1), .at(-1)]].ints == [19, 23])
    }

    @Test func basicIndexingGivesViews() {
        #expect(x[1].sharesStorage(with: x))
        #expect(x[.all, 1].sharesStorage(with: x))
        #expect(x[0, .all, stride(from: 0, to: 4, by: 2)].sharesStorage(with: x))
        #expect(x[.ellipsis, 2].sharesStorage(with: x))
        #expect(x[.newAxis, 1].sharesStorage(with: x))
    }

    @Test func indexingNonContiguousArrays() {
        let t = x.permute([2, 1, 0])  // (k, j, i) → 12i + 4j + k
        #expect(t[1].ints == [1, 13, 5, 17, 9, 21])
        #expect(t[.all, 2, 1].ints == [20, 21, 22, 23])
        #expect(t[1..<3, 0].ints == [1, 13, 2, 14])
        let e = NDArray([1, 2, 3]).expand([4, 3])
        #expect(e[2].ints == [1, 2, 3])
        #expect(e[.all, 1].ints == [2, 2, 2, 2])
    }

    @Test func assignmentLeavesTheOriginalUnchanged() {
        let original = NDArray.arange(0, 12, dtype: .float64).reshape([3, 4])
        var y = original
        y[0..<2] = NDArray.zeros([2, 4], dtype: .float64)
        #expect(original.doubles == (0..<12).map(Double.init))
        #expect(y.doubles == [0, 0, 0, 0, 0, 0, 0, 0, 8, 9, 10, 11])
        #expect(!y.sharesStorage(with: original))

        var z = original
        z[1, 1..<3] = NDArray(-1.0)  // a scalar broadcast over the region
        #expect(z.doubles == [0, 1, 2, 3, 4, -1, -1, 7, 8, 9, 10, 11])
        z[.all, 3] = NDArray([100.0, 200.0, 300.0])
        #expect(z.doubles == [0, 1, 2, 100, 4, -1, -1, 200, 8, 9, 10, 300])
        z[-1, stride(from: 0, to: 4, by: 2)] = NDArray([7.0])
        #expect(z.doubles == [0, 1, 2, 100, 4, -1, -1, 200, 7, 9, 7, 300])
        z[2, 1] = NDArray(0.5)
        #expect(z[2].doubles == [7, 0.5, 7, 300])
        z[.ellipsis, 0] = NDArray([[9.0], [8.0], [7.0]]).squeeze(dim: 1)
        #expect(z[.all, 0].doubles == [9, 8, 7])
        #expect(original.doubles == (0..<12).map(Double.init))
    }

    @Test func assignmentBroadcastsAndConverts() {
        var y = NDArray.zeros([2, 3], dtype: .int64)
        y[.all, 1...] = NDArray([[1.9, -2.9]])  // float assigned into int64 truncates
        #expect(y.dtype == .int64)
        #expect(y.ints == [0, 1, -2, 0, 1, -2])
        var t = NDArray.arange(0, 6).reshape([2, 3]).T  // non-contiguous target
        t[0] = NDArray([10, 20])
        #expect(t.shape == [3, 2])
        #expect(t.ints == [10, 20, 1, 4, 2, 5])
        var s = NDArray(3.0)
        s[] = NDArray(4.0)
        #expect(s.item() == 4)
        var n = NDArray.zeros([2, 2])
        n[.newAxis, 1] = NDArray([[5.0, 6.0]])
        #expect(n.doubles == [0, 0, 5, 6])
    }
}

@Suite struct IndexArrayTests {
    /// [3, 4] float64 with element (i, j) equal to 10i + j.
    let x = NDArray(shape: [3, 4], scalars: (0..<12).map { Double(10 * ($0 / 4) + $0 % 4) }, dtype: .float64)
    func value(_ i: Int, _ j: Int) -> Double { Double(10 * i + j) }

    @Test func gather() {
        let rows = [[0, 2], [1, 0], [3, 3]]
        let g = x.gather(dim: 1, index: NDArray(rows))
        #expect(g.shape == [3, 2])
        #expect(g.dtype == .float64)
        #expect(g.doubles == (0..<3).flatMap { i in rows[i].map { value(i, $0) } })

        let cols = [[2, 0, 1, 1], [0, 0, 2, 1]]
        let h = x.gather(dim: 0, index: NDArray(cols))
        #expect(h.shape == [2, 4])
        #expect(h.doubles == (0..<2).flatMap { i in (0..<4).map { j in value(cols[i][j], j) } })
        #expect(x.gather(dim: -2, index: NDArray(cols)).doubles == h.doubles)

        // An index smaller than the input outside `dim`, and a transposed input.
        let small = x.gather(dim: 1, index: NDArray([[3], [2]]))
        #expect(small.doubles == [value(0, 3), value(1, 2)])
        let t = x.T.gather(dim: 1, index: NDArray([[2, 0], [1, 1]]))  // x.T[i][j] = x[j][i]
        #expect(t.doubles == [value(2, 0), value(0, 0), value(1, 1), value(1, 1)])
        #expect(x.gather(dim: 1, index: NDArray.zeros([3, 0], dtype: .int64)).shape == [3, 0])
        // A non-contiguous index array.
        let wide = NDArray([[0, 9, 3, 9], [2, 9, 1, 9], [1, 9, 0, 9]])[.all, stride(from: 0, to: 4, by: 2)]
        #expect(!wide.isContiguous)
        #expect(x.gather(dim: 1, index: wide).doubles == [value(0, 0), value(0, 3), value(1, 2), value(1, 1), value(2, 1), value(2, 0)])
    }

    @Test func indexSelect() {
        let r = x.indexSelect(dim: 0, index: NDArray([2, 0, 2]))
        #expect(r.shape == [3, 4])
        #expect(r.doubles == [2, 0, 2].flatMap { i in (0..<4).map { value(i, $0) } })
        let c = x.indexSelect(dim: 1, index: NDArray([3, 1]))
        #expect(c.shape == [3, 2])
        #expect(c.doubles == (0..<3).flatMap { i in [3, 1].map { value(i, $0) } })
        #expect(x.indexSelect(dim: -1, index: NDArray([3, 1])).doubles == c.doubles)
        #expect(x.T.indexSelect(dim: 0, index: NDArray([1])).doubles == [value(0, 1), value(1, 1), value(2, 1)])
        #expect(x.indexSelect(dim: 0, index: NDArray([Int]())).shape == [0, 4])
        #expect(x.indexSelect(dim: 1, index: NDArray([3, 9, 0, 9])[stride(from: 0, to: 4, by: 2)]).doubles
                == (0..<3).flatMap { i in [3, 0].map { value(i, $0) } })
    }

    @Test(arguments: floatDTypes)
    func scatterAdd(_ dtype: DType) {
        let index = [[0, 0, 3], [1, 2, 1]]
        let source = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
        let base = array((0..<8).map(Double.init), [2, 4], dtype)
        var expected = (0..<8).map(Double.init)
        for i in 0..<2 { for j in 0..<3 { expected[i * 4 + index[i][j]] += source[i][j] } }
        let r = base.scatterAdd(dim: 1, index: NDArray(index), source: NDArray(source, dtype: dtype))
        #expect(r.shape == [2, 4])
        #expect(r.dtype == dtype)
        #expect(r.doubles == expected)

        // Along dim 0, with duplicate targets accumulating.
        let index0 = [[1, 0, 1, 1], [1, 1, 0, 1]]
        var expected0 = [Double](repeating: 0, count: 8)
        for i in 0..<2 { for j in 0..<4 { expected0[index0[i][j] * 4 + j] += source[i][j % 3] + Double(j) } }
        let src0 = NDArray((0..<2).map { i in (0..<4).map { j in source[i][j % 3] + Double(j) } }, dtype: dtype)
        #expect(NDArray.zeros([2, 4], dtype: dtype).scatterAdd(dim: 0, index: NDArray(index0), source: src0).doubles == expected0)
        // A scalar source broadcasts over the index.
        let counts = NDArray.zeros([3], dtype: dtype).scatterAdd(dim: 0, index: NDArray([2, 0, 2, 2]), source: NDArray(1.0, dtype: dtype))
        #expect(counts.doubles == [1, 0, 3])
    }

    @Test func oneHotRows() {
        let h = oneHot(NDArray([0, 2, 1, 2]), numClasses: 3)
        #expect(h.shape == [4, 3])
        #expect(h.dtype == .int64)
        #expect(h.ints == [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1])
        let m = oneHot(NDArray([[1], [0]]), numClasses: 2, dtype: .float32)
        #expect(m.shape == [2, 1, 2])
        #expect(m.dtype == .float32)
        #expect(m.doubles == [0, 1, 1, 0])
        #expect(oneHot(NDArray(4), numClasses: 5).ints == [0, 0, 0, 0, 1])
    }
}

@Suite struct IndexItemTests {
    @Test func rangeItemsResolveInsideSubscripts() {
        let x = NDArray.arange(0, 10)
        #expect(x[.range(step: 3)].ints == [0, 3, 6, 9])
        #expect(x[.range(start: 2, end: 8, step: 2)].ints == [2, 4, 6])
        #expect(x[.range(start: -3)].ints == [7, 8, 9])
    }
}
