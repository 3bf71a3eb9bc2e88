// 2-D pooling (`torch.nn.functional.max_pool2d`, `avg_pool2d`) over the windows `unfold` lays
// out as columns, so every derivative and batch rule is that of `unfold`, `gather` and `mean`:
//
// ```
// maxPool2d(x)[n, c, r, s] = max over the window at (r, s) of x[n, c]   (padding counts as −∞)
// avgPool2d(x)[n, c, r, s] = mean over the window at (r, s) of x[n, c]  (padding counts as 0)
// ```
//
// The maximum's derivative goes to the first largest element of each window (the one
// `argmax` picks), as PyTorch's does, not split between ties; windows of equal values (a ReLU's
// zeros) are common. Padding is included in the average's count, as PyTorch's default
// (`count_include_pad=True`). `ceil_mode` is left out.

import FluxionKernels

extension NDArray {
    /// The windows of an image batch `[N, C, H, W]` (or `[C, H, W]`) as `[N, C, kh·kw, Ho·Wo]`
    /// columns, after padding with `value`, and the output's spatial size.
    fileprivate func poolingWindows(_ op: String, kernel: (Int, Int), stride: (Int, Int)?, padding: (Int, Int),
                                    dilation: (Int, Int), value: Double, file: StaticString, line: UInt)
        -> (columns: NDArray, batch: [Int], outputSize: (Int, Int)) {
        guard rank == 3 || rank == 4, dtype.isFloatingPoint else {
            fail(op, "input must be a float array [N, C, H, W] or [C, H, W], got \(dtype) \(describe(shape))",
                 fix: "pass images of four (or three) dimensions, converted to floating point", file: file, line: line)
        }
        guard padding.0 >= 0, padding.1 >= 0, 2 * padding.0 <= kernel.0, 2 * padding.1 <= kernel.1 else {
            fail(op, "padding \(padding) must be at most half the kernel \(kernel)", fix: "use less padding", file: file, line: line)
        }
        let x = rank == 3 ? unsqueeze(0) : self
        let padded = padding == (0, 0) ? x : x.pad([(padding.0, padding.0), (padding.1, padding.1)], value: value, file: file, line: line)
        let s = stride ?? kernel
        let columns = unfold(padded, kernelSize: kernel, dilation: dilation, stride: s, file: file, line: line)
        let (n, c) = (x.shape[0], x.shape[1])
        let (h, w) = (padded.shape[2], padded.shape[3])
        let outputSize = ((h - dilation.0 * (kernel.0 - 1) - 1) / s.0 + 1, (w - dilation.1 * (kernel.1 - 1) - 1) / s.1 + 1)
        return (columns.reshape([n, c, kernel.0 * kernel.1, outputSize.0 * outputSize.1]), Array(shape.dropLast(3)) + [c], outputSize)
    }

    /// The largest element of each `kernelSize` window (`torch.nn.functional.max_pool2d`):
    /// `[N, C, Ho, Wo]` with Ho = ⌊(H + 2·ph − dh·(kh − 1) − 1)/sh⌋ + 1 (likewise Wo); the stride
    /// defaults to the kernel size.
    public func maxPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          dilation: (Int, Int) = (1, 1), file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let (columns, batch, size) = poolingWindows("maxPool2d", kernel: kernelSize, stride: stride, padding: padding,
                                                    dilation: dilation, value: -.infinity, file: file, line: line)
        let picked = columns.gather(dim: 2, index: columns.argmax(dim: 2, keepDim: true)).squeeze(dim: 2)
        return picked.reshape((rank == 3 ? [] : [shape[0]]) + batch.suffix(1) + [size.0, size.1])
    }

    /// The mean of each `kernelSize` window (`torch.nn.functional.avg_pool2d`), padding
    /// counted as zeros; shapes as `maxPool2d`.
    public func avgPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let (columns, batch, size) = poolingWindows("avgPool2d", kernel: kernelSize, stride: stride, padding: padding,
                                                    dilation: (1, 1), value: 0, file: file, line: line)
        return columns.mean(dim: 2).reshape((rank == 3 ? [] : [shape[0]]) + batch.suffix(1) + [size.0, size.1])
    }
}
