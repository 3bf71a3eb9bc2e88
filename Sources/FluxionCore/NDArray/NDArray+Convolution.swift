// 2-D convolution by im2col and a matrix product, and the window operations behind it:
// `unfold` (PyTorch's `torch.nn.functional.unfold`, im2col) and `fold` (its adjoint, col2im).
//
// conv2d(x, w) for x [N, C, H, W] and w [Cout, C, kh, kw] is
//
// ```
// y[n] = w.reshape([Cout, C·kh·kw]) · unfold(x)[n]        (+ bias per output channel)
// ```
//
// so its derivatives are those of one matrix product and of `Im2Col`, whose adjoint `Col2Im`
// adds the columns' cotangents back onto the image. Like PyTorch, the operation is a
// cross-correlation (the kernel is not flipped). Grouped convolutions are left out.

import FluxionKernels

extension NDArray {
    /// The geometry check shared by the window operations.
    fileprivate func windowSizes(_ op: String, _ g: WindowGeometry, file: StaticString, line: UInt) -> (Int, Int) {
        guard rank >= 2 else {
            fail(op, "input must have at least 2 dimensions (…, height, width), got shape \(describe(shape))",
                 fix: "pass an image of shape [N, C, H, W] or [C, H, W]", file: file, line: line)
        }
        let values = [g.kernel.0, g.kernel.1, g.stride.0, g.stride.1, g.dilation.0, g.dilation.1]
        guard values.allSatisfy({ $0 > 0 }), g.padding.0 >= 0, g.padding.1 >= 0 else {
            fail(op, "kernel \(g.kernel), stride \(g.stride) and dilation \(g.dilation) must be positive and padding \(g.padding) non-negative",
                 fix: "pass sizes of at least 1 and padding of at least 0", file: file, line: line)
        }
        // Sizes that would overflow the window arithmetic are refused before it runs.
        let reach = [Double(shape[rank - 2]) + 2 * Double(g.padding.0), Double(shape[rank - 1]) + 2 * Double(g.padding.1),
                     Double(g.dilation.0) * Double(g.kernel.0), Double(g.dilation.1) * Double(g.kernel.1)]
        guard reach.allSatisfy({ $0 < Double(Shape.maxCount) }) else {
            fail(op, "padding \(g.padding), kernel \(g.kernel) and dilation \(g.dilation) give windows larger than an array can hold",
                 fix: "use smaller sizes", file: file, line: line)
        }
        let (ho, wo) = g.outputSize(height: shape[rank - 2], width: shape[rank - 1])
        guard ho > 0 && wo > 0 else {
            fail(op, "a \(g.kernel.0)×\(g.kernel.1) kernel (dilation \(g.dilation)) does not fit an image of \(shape[rank - 2])×\(shape[rank - 1]) with padding \(g.padding)",
                 fix: "use a smaller kernel or more padding", file: file, line: line)
        }
        return (ho, wo)
    }
}

/// Every `kernelSize` window of the images in `x` (`[..., C, H, W]`) as columns:
/// `[..., C·kh·kw, L]` with L = Ho·Wo window positions, as `torch.nn.functional.unfold`.
/// Row `c·kh·kw + i·kw + j` holds channel c at window offset (i, j).
public func unfold(_ x: NDArray, kernelSize: (Int, Int), dilation: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                   stride: (Int, Int) = (1, 1), file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let g = WindowGeometry(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
    let (ho, wo) = x.windowSizes("unfold", g, file: file, line: line)
    guard x.rank >= 3 else {
        fail("unfold", "input must be [..., C, H, W], got shape \(describe(x.shape))", fix: "add a channel dimension with unsqueeze(0)",
             file: file, line: line)
    }
    let lead = Array(x.shape.dropLast(3))
    checkShape(lead + [x.shape[x.rank - 3], kernelSize.0, kernelSize.1, ho, wo], "unfold", from: [x.shape], file: file, line: line)
    let columns = bind(Im2Col(geometry: g), x.dtype.isFloatingPoint ? x : x.to(.float32))
    return columns.reshape(lead + [x.shape[x.rank - 3] * kernelSize.0 * kernelSize.1, ho * wo])
}

/// The adjoint of `unfold` (col2im, `torch.nn.functional.fold`): columns `[..., C·kh·kw, L]`
/// added back onto images of `outputSize` (H, W), giving `[..., C, H, W]`; where windows
/// overlap their values sum.
public func fold(_ columns: NDArray, outputSize: (Int, Int), kernelSize: (Int, Int), dilation: (Int, Int) = (1, 1),
                 padding: (Int, Int) = (0, 0), stride: (Int, Int) = (1, 1),
                 file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let g = WindowGeometry(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
    checkShape([outputSize.0, outputSize.1], "fold", file: file, line: line)
    let probe = NDArray.zeros([1, outputSize.0, outputSize.1])
    let (ho, wo) = probe.windowSizes("fold", g, file: file, line: line)
    let k = Shape.count([kernelSize.0, kernelSize.1])
    guard columns.rank >= 2, columns.shape[columns.rank - 2] % k == 0, columns.shape[columns.rank - 1] == ho * wo else {
        fail("fold", "columns of shape \(describe(columns.shape)) do not fit \(ho * wo) windows of \(kernelSize.0)×\(kernelSize.1)",
             fix: "pass [..., C·\(k), \(ho * wo)] columns, as unfold makes them", file: file, line: line)
    }
    let lead = Array(columns.shape.dropLast(2))
    let c = columns.shape[columns.rank - 2] / k
    checkShape(lead + [c, outputSize.0, outputSize.1], "fold", from: [columns.shape], file: file, line: line)
    let windows = columns.reshape(lead + [c, kernelSize.0, kernelSize.1, ho, wo])
    return bind(Col2Im(geometry: g, shape: lead + [c, outputSize.0, outputSize.1]), windows)
}

/// The 2-D convolution (cross-correlation) of `input` `[N, C, H, W]` (or `[C, H, W]`) with
/// `weight` `[Cout, C, kh, kw]`, plus `bias` `[Cout]`, as `torch.nn.functional.conv2d`:
///
/// ```
/// y[n, o, r, c] = bias[o] + Σ_{k,i,j} weight[o, k, i, j] · x[n, k, r·sh + i·dh − ph, c·sw + j·dw − pw]
/// ```
///
/// The output is `[N, Cout, Ho, Wo]` with Ho = ⌊(H + 2ph − dh·(kh − 1) − 1) / sh⌋ + 1 (likewise Wo).
public func conv2d(_ input: NDArray, _ weight: NDArray, bias: NDArray? = nil, stride: (Int, Int) = (1, 1),
                   padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
                   file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard input.rank == 3 || input.rank == 4 else {
        fail("conv2d", "input must be [N, C, H, W] or [C, H, W], got shape \(describe(input.shape))",
             fix: "reshape the input to four dimensions", file: file, line: line)
    }
    let x = input.rank == 3 ? input.unsqueeze(0) : input
    guard weight.rank == 4, weight.shape[1] == x.shape[1] else {
        fail("conv2d", "weight of shape \(describe(weight.shape)) does not fit input of shape \(describe(input.shape)) (expected [Cout, \(x.shape[1]), kh, kw])",
             fix: "give the weight as many input channels as the input has", file: file, line: line)
    }
    let (cout, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
    if let bias, bias.shape != [cout] {
        fail("conv2d", "bias of shape \(describe(bias.shape)) does not match \(cout) output channels",
             fix: "pass a bias of shape [\(cout)]", file: file, line: line)
    }
    let g = WindowGeometry(kernel: (kh, kw), stride: stride, padding: padding, dilation: dilation)
    let (ho, wo) = x.windowSizes("conv2d", g, file: file, line: line)
    let n = x.shape[0]
    checkShape([n, x.shape[1], kh, kw, ho, wo], "conv2d", from: [input.shape, weight.shape], file: file, line: line)
    let columns = bind(Im2Col(geometry: g), x).reshape([n, x.shape[1] * kh * kw, ho * wo])
    var y = matmul(weight.reshape([cout, -1]), columns, file: file, line: line)
    if let bias { y = y + bias.reshape([cout, 1]) }
    y = y.reshape([n, cout, ho, wo])
    return input.rank == 3 ? y.squeeze(dim: 0) : y
}
