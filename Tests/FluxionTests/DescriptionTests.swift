// Printing, checked character for character against what PyTorch prints for the same tensor
// with default print options (`torch/_tensor_str.py`): integer-valued floats as `1.`, four
// decimals, scientific notation for wide ranges, right alignment, wrapping at 80 columns,
// summarization above 1000 elements, and the size and dtype suffixes. Fluxion writes dtypes
// without PyTorch's `torch.` prefix.

import Testing
import Fluxion

@Suite struct DescriptionTests {
    @Test func floats() {
        #expect(NDArray([[1.0, 2.0], [3.0, 4.0]]).description == "tensor([[1., 2.],\n        [3., 4.]])")
        #expect(NDArray(7.0).description == "tensor(7.)")
        #expect(NDArray(-0.5).description == "tensor(-0.5000)")
        #expect(NDArray([0.5, 1.25]).description == "tensor([0.5000, 1.2500])")
        #expect(NDArray([0.1, 0.2]).description == "tensor([0.1000, 0.2000])")
        #expect(NDArray([-1.5, 2.25]).description == "tensor([-1.5000,  2.2500])")
        #expect(NDArray([0.0, 100.0]).description == "tensor([  0., 100.])")
        #expect(NDArray.zeros([2]).description == "tensor([0., 0.])")
        #expect(NDArray([[1.5, -2.0], [3.0, 4.0]]).description == "tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.0000]])")
    }

    @Test func scientificNotation() {
        #expect(NDArray([1e-5, 1000.0]).description == "tensor([1.0000e-05, 1.0000e+03])")
        #expect(NDArray([123456789.0, 1.0]).description == "tensor([1.2346e+08, 1.0000e+00])")
        #expect(NDArray([-1e-5, 1.0]).description == "tensor([-1.0000e-05,  1.0000e+00])")
        #expect(NDArray([1.0, 1001.0]).description == "tensor([1.0000e+00, 1.0010e+03])")
        #expect(NDArray([1.0, 1000.0]).description == "tensor([   1., 1000.])")
        #expect(NDArray(1e-5).description == "tensor(1.0000e-05)")
        #expect(NDArray([0.5, 400.0]).description == "tensor([  0.5000, 400.0000])")
    }

    @Test func nonFiniteValues() {
        #expect(NDArray([1.0, .nan, .infinity]).description == "tensor([1., nan, inf])")
        #expect(NDArray([1.5, .nan]).description == "tensor([1.5000,    nan])")
        #expect(NDArray([100.0, -.infinity]).description == "tensor([100., -inf])")
        #expect(NDArray([Double.nan, .nan]).description == "tensor([nan, nan])")
        #expect(NDArray([1e-5, .infinity]).description == "tensor([1.0000e-05,        inf])")
    }

    @Test func integersAndBooleans() {
        #expect(NDArray([1, 2, 3]).description == "tensor([1, 2, 3])")
        #expect(NDArray([1, -100]).description == "tensor([   1, -100])")
        #expect(NDArray(7).description == "tensor(7)")
        #expect(NDArray([true, false]).description == "tensor([ True, False])")
        #expect(NDArray(true).description == "tensor(True)")
        #expect(NDArray([[1, 2], [3, 4]]).description == "tensor([[1, 2],\n        [3, 4]])")
        // Integers print exactly, even beyond 2⁵³.
        #expect(NDArray([9_007_199_254_740_993]).description == "tensor([9007199254740993])")
        #expect(NDArray([Int.max, Int.min]).description == "tensor([ 9223372036854775807, -9223372036854775808])")
    }

    @Test func higherDimensions() {
        let cube = NDArray.arange(0, 8).reshape([2, 2, 2])
        #expect(cube.description == "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])")
        #expect(NDArray.ones([1, 1, 1, 1]).description == "tensor([[[[1.]]]])")
        // Views print their logical contents.
        #expect(NDArray([[1, 2], [3, 4]]).T.description == "tensor([[1, 3],\n        [2, 4]])")
    }

    @Test func emptyArrays() {
        #expect(NDArray.zeros([0, 3]).description == "tensor([], size=(0, 3))")
        #expect(NDArray.zeros([0]).description == "tensor([])")
        #expect(NDArray.zeros([0], dtype: .int64).description == "tensor([], dtype=int64)")
        #expect(NDArray.zeros([2, 0], dtype: .float64).description == "tensor([], size=(2, 0), dtype=float64)")
        #expect(NDArray.zeros([0], dtype: .bool).description == "tensor([], dtype=bool)")
    }

    @Test func dtypeSuffix() {
        #expect(NDArray([1.5, 2.0], dtype: .float64).description == "tensor([1.5000, 2.0000], dtype=float64)")
        #expect(NDArray(2.0, dtype: .float64).description == "tensor(2., dtype=float64)")
        #expect(NDArray([[1.0, 2.0], [3.0, 4.0]], dtype: .float64).description
                == "tensor([[1., 2.],\n        [3., 4.]], dtype=float64)")
        // The suffix moves to its own line when it would pass column 80 (PyTorch counts the
        // `tensor(` prefix, and two more, in the length of a single-line body).
        let twelve = NDArray([Double](repeating: 10, count: 12), dtype: .float64)
        #expect(twelve.description == "tensor([10., 10., 10., 10., 10., 10., 10., 10., 10., 10., 10., 10.],\n       dtype=float64)")
        let eight = NDArray([Double](repeating: 10, count: 8), dtype: .float64)
        #expect(eight.description == "tensor([10., 10., 10., 10., 10., 10., 10., 10.], dtype=float64)")
    }

    @Test func lineWrapping() {
        #expect(NDArray.arange(0, 30).description == """
            tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,
                    18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])
            """)
        #expect(NDArray((0..<10).map { Double($0) + 0.5 }).description == """
            tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000, 6.5000, 7.5000, 8.5000,
                    9.5000])
            """)
    }

    @Test func summarization() {
        #expect(NDArray.arange(0, 2000).description == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])")
        #expect(NDArray.ones([1001]).description == "tensor([1., 1., 1.,  ..., 1., 1., 1.])")
        #expect(NDArray.ones([1000]).description.contains("...") == false)
        #expect(NDArray.arange(0, 2000).reshape([2, 1000]).description == """
            tensor([[   0,    1,    2,  ...,  997,  998,  999],
                    [1000, 1001, 1002,  ..., 1997, 1998, 1999]])
            """)
        #expect(NDArray.arange(0, 2000).reshape([1000, 2]).description == """
            tensor([[   0,    1],
                    [   2,    3],
                    [   4,    5],
                    ...,
                    [1994, 1995],
                    [1996, 1997],
                    [1998, 1999]])
            """)
        // The format is chosen from the elements shown only.
        var values = [Double](repeating: 0.5, count: 2000)
        values[1000] = 1e9
        #expect(NDArray(values).description == "tensor([0.5000, 0.5000, 0.5000,  ..., 0.5000, 0.5000, 0.5000])")
    }

    @Test func interpolationAndDebugDescription() {
        let x = NDArray([1, 2])
        #expect("\(x)" == "tensor([1, 2])")
        #expect(x.debugDescription == x.description)
        #expect(String(describing: NDArray(2.5)) == "tensor(2.5000)")
    }
}
