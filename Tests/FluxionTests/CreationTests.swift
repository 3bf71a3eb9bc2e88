// Making arrays: scalars, Swift arrays, nested arrays and literals with their default dtypes,
// the constant / range / identity constructors, and reading elements back out.

import Testing
import Fluxion

@Suite struct CreationTests {
    @Test func scalarsAreZeroDimensional() {
        let x = NDArray(7.0)
        #expect(x.shape == [])
        #expect(x.rank == 0)
        #expect(x.count == 1)
        #expect(x.dtype == .float32)
        #expect(x.item() == 7)

        let i = NDArray(3)
        #expect(i.dtype == .int64)
        #expect(i.item(as: Int64.self) == 3)

        let b = NDArray(true)
        #expect(b.dtype == .bool)
        #expect(b.item(as: Bool.self))

        #expect(NDArray(Float(1.5)).dtype == .float32)
        let d = NDArray(0.1, dtype: .float64)
        #expect(d.dtype == .float64)
        #expect(d.item() == 0.1)
    }

    @Test func swiftDoublesDefaultToFloat32() {
        let x = NDArray([0.1, 2.5, -3.0])
        #expect(x.dtype == .float32)
        #expect(x.shape == [3])
        #expect(x.doubles == [Double(Float(0.1)), 2.5, -3])
        #expect(x.floats == [0.1, 2.5, -3])

        let y = NDArray([0.1, 2.5], dtype: .float64)
        #expect(y.dtype == .float64)
        #expect(y.doubles == [0.1, 2.5])
    }

    @Test func swiftFloatsIntsAndBools() {
        let f = NDArray([Float(1.5), 2])
        #expect(f.dtype == .float32)
        #expect(f.floats == [1.5, 2])

        let i = NDArray([1, -2, 3])
        #expect(i.dtype == .int64)
        #expect(i.ints == [1, -2, 3])

        let b = NDArray([true, false, true])
        #expect(b.dtype == .bool)
        #expect(b.bools == [true, false, true])

        #expect(NDArray([1, 2], dtype: .float64).dtype == .float64)
        #expect(NDArray([1, 2], dtype: .float64).doubles == [1, 2])
    }

    @Test func nestedArrays() {
        let m = NDArray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        #expect(m.shape == [2, 3])
        #expect(m.dtype == .float32)
        #expect(m.doubles == [1, 2, 3, 4, 5, 6])

        let cube = NDArray([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
        #expect(cube.shape == [2, 2, 2])
        #expect(cube.dtype == .int64)
        #expect(cube.ints == [1, 2, 3, 4, 5, 6, 7, 8])

        let planes = NDArray([[[1.5], [2.5]]], dtype: .float64)
        #expect(planes.shape == [1, 2, 1])
        #expect(planes.dtype == .float64)
        #expect(planes.doubles == [1.5, 2.5])

        let empty = NDArray([[Double]]())
        #expect(empty.shape == [0, 0])
        #expect(empty.count == 0)
    }

    @Test func shapeAndScalars() {
        let x = NDArray(shape: [2, 2], scalars: [1.0, 2.0, 3.0, 4.0], dtype: .float64)
        #expect(x.shape == [2, 2])
        #expect(x.dtype == .float64)
        #expect(x.doubles == [1, 2, 3, 4])

        let s = NDArray(shape: [], scalars: [5])
        #expect(s.shape == [])
        #expect(s.dtype == .int64)

        let z = NDArray(shape: [0, 3], scalars: [Double]())
        #expect(z.shape == [0, 3])
        #expect(z.count == 0)
    }

    @Test func literals() {
        let a: NDArray = [[1, 2], [3, 4]]
        #expect(a.shape == [2, 2])
        #expect(a.dtype == .int64)
        #expect(a.ints == [1, 2, 3, 4])

        let f: NDArray = [1, 2.5]
        #expect(f.dtype == .float32)
        #expect(f.doubles == [1, 2.5])

        let b: NDArray = [true, false]
        #expect(b.dtype == .bool)
        #expect(b.bools == [true, false])

        let nested: NDArray = [[[1.5]], [[-2]]]
        #expect(nested.shape == [2, 1, 1])
        #expect(nested.doubles == [1.5, -2])

        let empty: NDArray = []
        #expect(empty.shape == [0])
        #expect(empty.dtype == .float32)
    }

    @Test(arguments: [DType.float32, .float64, .int64, .bool])
    func constants(_ dtype: DType) {
        let z = NDArray.zeros([2, 3], dtype: dtype)
        #expect(z.shape == [2, 3])
        #expect(z.dtype == dtype)
        #expect(z.doubles == [Double](repeating: 0, count: 6))

        let o = NDArray.ones([3], dtype: dtype)
        #expect(o.dtype == dtype)
        #expect(o.doubles == [1, 1, 1])

        let f = NDArray.full([2, 2], 3, dtype: dtype)
        #expect(f.doubles == [Double](repeating: dtype == .bool ? 1 : 3, count: 4))

        let e = NDArray.zeros([0, 4], dtype: dtype)
        #expect(e.shape == [0, 4])
        #expect(e.count == 0)

        let source = NDArray.full([4, 1], 5, dtype: dtype)
        #expect(NDArray.zerosLike(source).shape == [4, 1])
        #expect(NDArray.zerosLike(source).dtype == dtype)
        #expect(NDArray.zerosLike(source).doubles == [0, 0, 0, 0])
        #expect(NDArray.onesLike(source).dtype == dtype)
        #expect(NDArray.onesLike(source).doubles == [1, 1, 1, 1])
        #expect(NDArray.fullLike(source, 2).shape == [4, 1])
    }

    @Test func defaultsAreFloat32() {
        #expect(NDArray.zeros([2]).dtype == .float32)
        #expect(NDArray.ones([2]).dtype == .float32)
        #expect(NDArray.full([2], 0.5).doubles == [0.5, 0.5])
        #expect(NDArray.full([], 2).shape == [])
    }

    @Test func arange() {
        let a = NDArray.arange(0, 5)
        #expect(a.dtype == .int64)
        #expect(a.ints == [0, 1, 2, 3, 4])

        let b = NDArray.arange(0.0, 1.0, step: 0.25)
        #expect(b.dtype == .float32)
        #expect(b.doubles == [0, 0.25, 0.5, 0.75])

        #expect(NDArray.arange(5, 0, step: -2).ints == [5, 3, 1])
        #expect(NDArray.arange(2, 2).shape == [0])
        #expect(NDArray.arange(3, 0).shape == [0])
        #expect(NDArray.arange(0, 1, step: 0.1).count == 10)
        #expect(NDArray.arange(1, 4, dtype: .float64).dtype == .float64)
        #expect(NDArray.arange(1, 4, dtype: .float64).doubles == [1, 2, 3])
        #expect(NDArray.arange(-1.5, 1).doubles == [-1.5, -0.5, 0.5])
    }

    @Test func linspace() {
        let x = NDArray.linspace(0, 1, count: 5)
        #expect(x.dtype == .float32)
        #expect(x.doubles == [0, 0.25, 0.5, 0.75, 1])

        let y = NDArray.linspace(-1, 2, count: 7, dtype: .float64)
        expectClose(y, (0..<7).map { -1 + 0.5 * Double($0) })
        #expect(y.doubles.last == 2)

        #expect(NDArray.linspace(3, 9, count: 1).doubles == [3])
        #expect(NDArray.linspace(3, 9, count: 0).shape == [0])
    }

    @Test func eye() {
        let i = NDArray.eye(3)
        #expect(i.shape == [3, 3])
        #expect(i.dtype == .float32)
        #expect(i.doubles == [1, 0, 0, 0, 1, 0, 0, 0, 1])

        let r = NDArray.eye(2, 3, dtype: .float64)
        #expect(r.shape == [2, 3])
        #expect(r.dtype == .float64)
        #expect(r.doubles == [1, 0, 0, 0, 1, 0])

        #expect(NDArray.eye(3, 2).doubles == [1, 0, 0, 1, 0, 0])
        #expect(NDArray.eye(0).shape == [0, 0])
    }

    @Test func readingElementsConverts() {
        let x = NDArray([-1.5, 2.75, 0, 0.25])
        #expect(x.ints == [-1, 2, 0, 0])
        #expect(x.bools == [true, true, false, true])
        #expect(x.scalars(as: Int64.self) == [-1, 2, 0, 0])

        let b = NDArray([true, false])
        #expect(b.doubles == [1, 0])
        #expect(b.ints == [1, 0])
    }

    @Test func conversions() {
        let x = NDArray([-1.7, 0, 2.9, 0.5], dtype: .float64)
        #expect(x.to(.int64).dtype == .int64)
        #expect(x.to(.int64).ints == [-1, 0, 2, 0])
        #expect(x.to(.bool).bools == [true, false, true, true])
        #expect(x.to(.float32).dtype == .float32)
        #expect(x.to(.float32).doubles == [-1.7, 0, 2.9, 0.5].map { Double(Float($0)) })
        #expect(NDArray([true, false]).to(.float64).doubles == [1, 0])
        #expect(NDArray([1, 2]).to(.float32).doubles == [1, 2])
        #expect(NDArray([Double.nan]).to(.bool).bools == [true])
    }

    @Test func item() {
        #expect(NDArray([[4.5]]).item() == 4.5)
        #expect(NDArray([3]).item(as: Int64.self) == 3)
        #expect(NDArray(2.5, dtype: .float64).item(as: Float.self) == 2.5)
        let x = NDArray([[1.0, 2.0], [3.0, 4.0]], dtype: .float64)
        #expect(x[1, 0].item() == 3)
        #expect(x.sum().item() == 10)
    }

    @Test func uninitializedElementsAreWrittenOnceAndKept() throws {
        let x = NDArray(shape: [2, 3], unsafeUninitializedElementsOf: Double.self) { buffer in
            #expect(buffer.count == 6)
            for i in buffer.indices { buffer[i] = Double(i) * 0.5 }
        }
        #expect(x.shape == [2, 3])
        #expect(x.dtype == .float64)
        #expect(x.isContiguous)
        #expect(x.doubles == [0, 0.5, 1, 1.5, 2, 2.5])
        #expect((x * 2).doubles == [0, 1, 2, 3, 4, 5])

        let f = NDArray(shape: [], unsafeUninitializedElementsOf: Float.self) { $0[0] = 3 }
        #expect(f.dtype == .float32 && f.item() == 3)

        struct Refused: Error {}
        #expect(throws: Refused.self) {
            _ = try NDArray(shape: [4], unsafeUninitializedElementsOf: Float.self) { _ in throw Refused() }
        }
    }

}
