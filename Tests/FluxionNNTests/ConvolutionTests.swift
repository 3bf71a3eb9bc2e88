// Conv2d and the window operations behind it: hand-computed outputs, a plain-loop reference
// over channels, strides, padding and dilation, the adjoint identity between unfold and fold,
// gradient checks, and vmap against a loop.

import Testing
import Fluxion
import FluxionNN

/// The convolution written as loops over plain Swift arrays.
func referenceConv2d(_ x: NDArray, _ w: NDArray, bias: NDArray?, stride: (Int, Int), padding: (Int, Int),
                     dilation: (Int, Int)) -> (shape: [Int], values: [Double]) {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let ho = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
    let wo = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
    let xv = x.doubles, wv = w.doubles, bv = bias?.doubles
    var out: [Double] = []
    for b in 0..<n {
        for oc in 0..<o {
            for r in 0..<ho {
                for q in 0..<wo {
                    var s = bv?[oc] ?? 0
                    for ic in 0..<c {
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let row = r * stride.0 + i * dilation.0 - padding.0, col = q * stride.1 + j * dilation.1 - padding.1
                                guard row >= 0, row < h, col >= 0, col < wd else { continue }
                                s += wv[((oc * c + ic) * kh + i) * kw + j] * xv[((b * c + ic) * h + row) * wd + col]
                            }
                        }
                    }
                    out.append(s)
                }
            }
        }
    }
    return ([n, o, ho, wo], out)
}

@Suite("Conv2d: im2col and GEMM")
struct ConvolutionTests {
    @Test("a 2×2 kernel over a 3×3 image, without and with padding and stride")
    func handValues() {
        let conv = Conv2d(1, 1, kernelSize: 2, dtype: .float64)
        conv.weight = Tensor(NDArray(shape: [1, 1, 2, 2], scalars: [1.0, 2, 3, 4], dtype: .float64))
        conv.bias = Tensor(NDArray([0.5], dtype: .float64))
        let image = Tensor(NDArray(shape: [1, 1, 3, 3], scalars: (1...9).map(Double.init), dtype: .float64))
        let y = conv(image)
        #expect(y.shape == [1, 1, 2, 2])
        expectClose(y, [37.5, 47.5, 67.5, 77.5])
        let strided = conv2d(image, conv.weight, bias: conv.bias, stride: (2, 2), padding: (1, 1))
        expectClose(strided, [4.5, 18.5, 36.5, 77.5])
        // An image without a batch dimension.
        #expect(conv(Tensor(image.value.reshape([1, 3, 3]))).shape == [1, 2, 2])
    }

    @Test("against loops: channels, strides, padding, dilation", arguments: [
        ((1, 1), (0, 0), (1, 1)), ((2, 1), (1, 2), (1, 1)), ((1, 2), (2, 1), (2, 1)), ((3, 2), (0, 1), (1, 2)),
    ])
    func againstLoops(_ settings: ((Int, Int), (Int, Int), (Int, Int))) {
        let (stride, padding, dilation) = settings
        let x = randomArray([2, 3, 7, 6], seed: 1), w = randomArray([4, 3, 3, 2], seed: 2), b = randomArray([4], seed: 3)
        let y = conv2d(x, w, bias: b, stride: stride, padding: padding, dilation: dilation)
        let reference = referenceConv2d(x, w, bias: b, stride: stride, padding: padding, dilation: dilation)
        #expect(y.shape == reference.shape)
        expectClose(y, reference.values, rtol: 1e-12, atol: 1e-12)
    }

    @Test("unfold and fold are adjoint: ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩; unfold lays out PyTorch's rows")
    func adjoint() {
        let x = randomArray([2, 3, 5, 4], seed: 4)
        let settings = (kernel: (2, 3), dilation: (2, 1), padding: (1, 1), stride: (1, 2))
        let columns = unfold(x, kernelSize: settings.kernel, dilation: settings.dilation, padding: settings.padding, stride: settings.stride)
        #expect(columns.shape == [2, 3 * 6, 5 * 2])
        let c = randomArray(columns.shape, seed: 5)
        let back = fold(c, outputSize: (5, 4), kernelSize: settings.kernel, dilation: settings.dilation, padding: settings.padding,
                        stride: settings.stride)
        #expect(back.shape == x.shape)
        let lhs = inner(columns, c), rhs = inner(x, back)
        #expect(Swift.abs(lhs - rhs) < 1e-12 * Swift.max(1, Swift.abs(lhs)))
        // Row c·kh·kw + i·kw + j, column r·Wo + q holds x[c, r·sh + i·dh − ph, q·sw + j·dw − pw].
        let image = NDArray.arange(0, 12, dtype: .float64).reshape([1, 1, 3, 4])
        let u = unfold(image, kernelSize: (2, 2))
        #expect(u.shape == [1, 4, 6])
        #expect(u.doubles == [0, 1, 2, 4, 5, 6, 1, 2, 3, 5, 6, 7, 4, 5, 6, 8, 9, 10, 5, 6, 7, 9, 10, 11])
        // fold of unfold counts how many windows cover each pixel.
        let ones = NDArray.ones([1, 1, 3, 4], dtype: .float64)
        #expect(fold(unfold(ones, kernelSize: (2, 2)), outputSize: (3, 4), kernelSize: (2, 2)).doubles == [1, 2, 2, 1, 2, 4, 4, 2, 1, 2, 2, 1])
    }

    @Test("gradients of Conv2d with respect to the image, kernels and bias")
    func gradients() throws {
        try gradcheck(Conv2d(2, 3, kernelSize: (3, 2), stride: (2, 1), padding: (1, 0), dtype: .float64, key: RandomKey(seed: 6)),
                      randomArray([2, 2, 5, 4], seed: 7))
        try gradcheck(Conv2d(1, 2, kernelSize: 2, dilation: 2, bias: false, dtype: .float64, key: RandomKey(seed: 8)),
                      randomArray([1, 1, 5, 5], seed: 9))
        let weight = try Tensor(randomArray([2, 1, 2, 2], seed: 10), requiresGrad: true)
        #expect(conv2d(Tensor.ones([1, 1, 3, 3], dtype: .float64), weight).gradFn?.name == "ConvolutionBackward0")
        try gradcheck({ unfold($0[0], kernelSize: (2, 2), padding: (1, 0), stride: (1, 2)) }, [randomArray([1, 2, 3, 4], seed: 11)], "unfold")
        try gradcheck({ fold($0[0], outputSize: (3, 3), kernelSize: (2, 2)) }, [randomArray([1, 8, 4], seed: 12)], "fold")
    }

    @Test("vmap over images equals a loop; per-example kernel gradients by vmap(grad)")
    func vmapped() throws {
        let w = randomArray([3, 2, 2, 2], seed: 13), x = randomArray([4, 2, 5, 5], seed: 14)
        let batched = try vmap({ (image: NDArray) in conv2d(image, w, padding: (1, 1)) })(x)
        let looped = stack((0..<4).map { conv2d(x[$0], w, padding: (1, 1)) })
        #expect(batched.shape == looped.shape)
        expectClose(batched, looped.doubles, rtol: 1e-12, atol: 1e-12)
        let loss = { (kernel: NDArray, image: NDArray) in (conv2d(image, kernel, stride: (2, 2)) ** 2).sum() }
        let perExample = try vmap(grad(loss), inAxes: (nil, 0))(w, x)
        #expect(perExample.shape == [4, 3, 2, 2, 2])
        for i in 0..<4 {
            expectClose(perExample[i], try grad(loss)(w, x[i]).doubles, rtol: 1e-10, atol: 1e-12)
        }
    }
}
