// Changing shape against index arithmetic: reshape (views of contiguous data), flatten,
// squeeze/unsqueeze, transpose/permute/.T/.mT, expand/broadcast, and concat, stack, split,
// chunk, narrow and pad.

import Testing
import Fluxion

/// 100i + 10j + k for the element at row-major position `f` = (i, j, k) of a [2, 3, 4] array.
private func label(_ f: Int) -> Double {
    let i = f / 12, j = f / 4 % 3, k = f % 4
    let value: Int = 100 * i + 10 * j + k
    return Double(value)
}

@Suite struct ShapeTests {
    /// The labels of a [2, 3, 4] array in row-major order.
    let values: [Double] = (0..<24).map(label)
    /// A [2, 3, 4] float64 array whose element at (i, j, k) is 100i + 10j + k.
    let x = NDArray(shape: [2, 3, 4], scalars: (0..<24).map(label), dtype: .float64)

    @Test func reshapeKeepsRowMajorOrder() {
        let r = x.reshape([4, 6])
        #expect(r.shape == [4, 6])
        #expect(r.doubles == values)
        #expect(x.reshape([-1]).shape == [24])
        #expect(x.reshape([3, -1]).shape == [3, 8])
        #expect(x.reshape([-1, 2, 2]).shape == [6, 2, 2])
        #expect(x.reshape([2, 3, 4]).doubles == values)
        #expect(NDArray(5.0).reshape([1, 1]).shape == [1, 1])
        #expect(NDArray([5.0]).reshape([]).shape == [])
        #expect(NDArray.zeros([0, 3]).reshape([3, 0]).shape == [3, 0])
        #expect(NDArray.zeros([0, 3]).reshape([-1, 3]).shape == [0, 3])
    }

    @Test func reshapeOfContiguousDataIsAView() {
        #expect(x.reshape([6, 4]).sharesStorage(with: x))
        #expect(x.reshape([-1]).sharesStorage(with: x))
        #expect(x.flatten().sharesStorage(with: x))
        #expect(x.unsqueeze(0).sharesStorage(with: x))
        #expect(x[1].reshape([2, 2, 3]).sharesStorage(with: x))
        #expect(x[1].reshape([2, 2, 3]).doubles == Array(values[12...]))
        // A slice along the first dimension is contiguous; one along the last is not, but
        // merging the untouched dimensions still needs no copy.
        let columns = x[.all, .all, 1..<3]
        #expect(!columns.isContiguous)
        #expect(columns.reshape([6, 2]).sharesStorage(with: x))
        #expect(columns.reshape([6, 2]).doubles == stridedValues(values, shape: [6, 2], strides: [4, 1], offset: 1))
    }

    @Test func reshapeOfNonContiguousData() {
        let t = x.permute([2, 0, 1])
        let expected = stridedValues(values, shape: [4, 2, 3], strides: [1, 12, 4])
        #expect(t.reshape([-1]).doubles == expected)
        #expect(t.reshape([4, 6]).doubles == expected)
        #expect(t.reshape([8, 3]).doubles == expected)
        let b = NDArray([1.0, 2.0, 3.0]).expand([2, 3])
        #expect(b.reshape([6]).doubles == [1, 2, 3, 1, 2, 3])
        #expect(b.reshape([2, 1, 3]).doubles == [1, 2, 3, 1, 2, 3])
        let s = x[.all, .all, stride(from: 0, to: 4, by: 3)]
        #expect(s.reshape([3, 4]).doubles == stridedValues(values, shape: [2, 3, 2], strides: [12, 4, 3]))
    }

    @Test func flatten() {
        #expect(x.flatten().shape == [24])
        #expect(x.flatten().doubles == values)
        #expect(x.flatten(startDim: 1).shape == [2, 12])
        #expect(x.flatten(startDim: 0, endDim: 1).shape == [6, 4])
        #expect(x.flatten(startDim: -2, endDim: -1).shape == [2, 12])
        #expect(NDArray(3.0).flatten().shape == [1])
        #expect(x.T.flatten().doubles == stridedValues(values, shape: [4, 3, 2], strides: [1, 4, 12]))
    }

    @Test func squeezeAndUnsqueeze() {
        let y = NDArray.zeros([1, 3, 1, 2])
        #expect(y.squeeze().shape == [3, 2])
        #expect(y.squeeze(dim: 0).shape == [3, 1, 2])
        #expect(y.squeeze(dim: -2).shape == [1, 3, 2])
        #expect(y.squeeze(dim: 1).shape == [1, 3, 1, 2])
        #expect(y.squeeze(2).shape == [1, 3, 2])  // PyTorch's positional squeeze(dim)
        #expect(Tensor(y).squeeze(0).shape == [3, 1, 2])
        #expect(NDArray([[7.0]]).squeeze().shape == [])
        #expect(NDArray(7.0).squeeze().shape == [])

        #expect(x.unsqueeze(0).shape == [1, 2, 3, 4])
        #expect(x.unsqueeze(3).shape == [2, 3, 4, 1])
        #expect(x.unsqueeze(-1).shape == [2, 3, 4, 1])
        #expect(x.unsqueeze(-2).shape == [2, 3, 1, 4])
        #expect(x.unsqueeze(1).doubles == values)
        #expect(NDArray(7.0).unsqueeze(0).shape == [1])
    }

    @Test func transposeAndPermute() {
        let p = x.permute([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(!p.isContiguous)
        #expect(p.sharesStorage(with: x))
        #expect(p.doubles == stridedValues(values, shape: [4, 2, 3], strides: [1, 12, 4]))
        #expect(x.permute([-1, 0, -2]).doubles == p.doubles)

        let t = x.transpose(0, 2)
        #expect(t.shape == [4, 3, 2])
        #expect(t.doubles == stridedValues(values, shape: [4, 3, 2], strides: [1, 4, 12]))
        #expect(x.transpose(-1, -3).doubles == t.doubles)
        #expect(x.T.doubles == t.doubles)

        let mt = x.mT
        #expect(mt.shape == [2, 4, 3])
        #expect(mt.doubles == stridedValues(values, shape: [2, 4, 3], strides: [12, 1, 4]))

        let m = NDArray([[1, 2, 3], [4, 5, 6]])
        #expect(m.T.shape == [3, 2])
        #expect(m.T.ints == [1, 4, 2, 5, 3, 6])
        #expect(m.T.T.ints == [1, 2, 3, 4, 5, 6])
        #expect(NDArray([1, 2]).T.ints == [1, 2])
        #expect(NDArray(1).T.shape == [])
    }

    @Test func expandAndBroadcast() {
        let v = NDArray([1.0, 2.0, 3.0], dtype: .float64)
        let e = v.expand([2, 3])
        #expect(e.shape == [2, 3])
        #expect(e.strides[0] == 0)
        #expect(e.sharesStorage(with: v))
        #expect(e.doubles == [1, 2, 3, 1, 2, 3])
        #expect(v.expand([2, -1]).shape == [2, 3])

        let c = NDArray([[1.0], [2.0]])
        #expect(c.broadcast(to: [2, 3]).doubles == [1, 1, 1, 2, 2, 2])
        #expect(c.broadcast(to: [2, 2, 3]).doubles == [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2])
        #expect(c.expand([-1, 4]).shape == [2, 4])
        #expect(NDArray(5).broadcast(to: [2, 2]).ints == [5, 5, 5, 5])
        #expect(NDArray.zeros([1, 3]).broadcast(to: [0, 3]).shape == [0, 3])
        // A broadcast of a transposed array.
        let t = NDArray([[1, 2], [3, 4]]).T.unsqueeze(0).expand([2, 2, 2])
        #expect(t.ints == [1, 3, 2, 4, 1, 3, 2, 4])
    }

    @Test func concatenate() {
        let a = NDArray([[1, 2], [3, 4]]), b = NDArray([[5, 6]])
        let c = concat([a, b])
        #expect(c.shape == [3, 2])
        #expect(c.ints == [1, 2, 3, 4, 5, 6])
        let d = concat([a, b.T], dim: 1)
        #expect(d.shape == [2, 3])
        #expect(d.ints == [1, 2, 5, 3, 4, 6])
        #expect(concat([a, a.T], dim: -1).ints == [1, 2, 1, 3, 3, 4, 2, 4])
        #expect(concat([a]).ints == a.ints)
        #expect(concat([a, NDArray.zeros([0, 2], dtype: .int64)]).shape == [2, 2])
        // Dtypes promote.
        let mixed = concat([NDArray([1, 2]), NDArray([0.5])])
        #expect(mixed.dtype == .float32)
        #expect(mixed.doubles == [1, 2, 0.5])
        // Three pieces along the middle dimension of a 3-d array.
        let parts = [x[.all, 0..<1], x[.all, 1..<2], x[.all, 2...]]
        #expect(concat(parts, dim: 1).doubles == values)
    }

    @Test func stackArrays() {
        let a = NDArray([1, 2, 3]), b = NDArray([4, 5, 6])
        #expect(stack([a, b]).shape == [2, 3])
        #expect(stack([a, b]).ints == [1, 2, 3, 4, 5, 6])
        #expect(stack([a, b], dim: 1).shape == [3, 2])
        #expect(stack([a, b], dim: 1).ints == [1, 4, 2, 5, 3, 6])
        #expect(stack([a, b], dim: -1).ints == [1, 4, 2, 5, 3, 6])
        #expect(stack([NDArray(1.0), NDArray(2.0)]).shape == [2])
        let m = NDArray([[1, 2], [3, 4]])
        #expect(stack([m, m.T], dim: 0).ints == [1, 2, 3, 4, 1, 3, 2, 4])
    }

    @Test func splitAndChunk() {
        let v = NDArray.arange(0, 10)
        let pieces = v.split(size: 4)
        #expect(pieces.map(\.shape) == [[4], [4], [2]])
        #expect(pieces.map(\.ints) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        let sized = v.split(sizes: [1, 6, 0, 3])
        #expect(sized.map(\.ints) == [[0], [1, 2, 3, 4, 5, 6], [], [7, 8, 9]])
        #expect(v.chunk(3).map(\.ints) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        #expect(v.chunk(5).map(\.shape) == [[2], [2], [2], [2], [2]])
        #expect(NDArray.arange(0, 6).chunk(4).map(\.ints) == [[0, 1], [2, 3], [4, 5]])

        let columns = x.split(size: 3, dim: -1)
        #expect(columns.map(\.shape) == [[2, 3, 3], [2, 3, 1]])
        #expect(columns[1].doubles == stridedValues(values, shape: [2, 3, 1], strides: [12, 4, 1], offset: 3))
        #expect(columns[0].sharesStorage(with: x))
        let rows = x.chunk(3, dim: 1)
        #expect(rows.count == 3)
        #expect(rows[2].doubles == stridedValues(values, shape: [2, 1, 4], strides: [12, 4, 1], offset: 8))
        #expect(concat(rows, dim: 1).doubles == values)
    }

    @Test func narrow() {
        let n = x.narrow(dim: 1, start: 1, length: 2)
        #expect(n.shape == [2, 2, 4])
        #expect(n.doubles == stridedValues(values, shape: [2, 2, 4], strides: [12, 4, 1], offset: 4))
        let last = x.narrow(dim: -1, start: 2, length: 2)
        #expect(last.shape == [2, 3, 2])
        #expect(last.doubles == stridedValues(values, shape: [2, 3, 2], strides: [12, 4, 1], offset: 2))
    }

    @Test func pad() {
        let m = NDArray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype: .float64)
        let p = m.pad([(1, 1)])
        #expect(p.shape == [2, 5])
        #expect(p.dtype == .float64)
        #expect(p.doubles == [0, 1, 2, 3, 0, 0, 4, 5, 6, 0])
        let q = m.pad([(1, 0), (0, 2)], value: 9)
        #expect(q.shape == [3, 5])
        #expect(q.doubles == [9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9])
        #expect(m.T.pad([(0, 1), (0, 0)]).doubles == [1, 4, 2, 5, 3, 6, 0, 0])
        #expect(m.pad([]).doubles == m.doubles)
        #expect(NDArray([1, 2]).pad([(2, 0)], value: 7).ints == [7, 7, 1, 2])
        #expect(NDArray.zeros([0, 2]).pad([(1, 1), (0, 0)]).shape == [2, 2])
    }
}
