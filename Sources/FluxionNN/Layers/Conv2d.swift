// 2-D convolution (`nn.Conv2d`) by im2col and a matrix product (`conv2d` in
// NDArray+Convolution.swift): the windows of each image are laid out as columns by the
// `Im2Col` primitive, one GEMM per image multiplies them by the flattened kernels, and the
// derivative with respect to the image adds the columns' cotangents back with `Col2Im`.

import Fluxion

/// Cross-correlates `[N, inChannels, H, W]` images with `outChannels` learned kernels of
/// `kernelSize`, plus a bias per output channel. Weight `[outChannels, inChannels, kh, kw]`
/// and bias start U(−1/√fanIn, 1/√fanIn), fanIn = inChannels·kh·kw, as in PyTorch.
public final class Conv2d: Module, @unchecked Sendable {
    /// Channels of the input images.
    public let inChannels: Int
    /// Channels of the output: the number of kernels.
    public let outChannels: Int
    /// The kernels' height and width.
    public let kernelSize: (Int, Int)
    /// The step between windows, vertically and horizontally.
    public let stride: (Int, Int)
    /// Zeros added on each side of the images, vertically and horizontally.
    public let padding: (Int, Int)
    /// The spacing between kernel elements (1: contiguous windows).
    public let dilation: (Int, Int)
    /// The kernels, `[outChannels, inChannels, kh, kw]`.
    @Parameter public var weight: Tensor
    /// The bias per output channel, `[outChannels]` (nil when created with `bias: false`).
    @Parameter public var bias: Tensor?

    /// A convolution layer with PyTorch's initialisation; output height
    /// (H + 2·padding − dilation·(kh − 1) − 1) / stride + 1, rounded down (width likewise).
    ///
    /// - Parameters:
    ///   - inChannels: channels of the input images.
    ///   - outChannels: the number of kernels.
    ///   - kernelSize: the kernels' height and width.
    ///   - stride: the step between windows.
    ///   - padding: zeros added on each side.
    ///   - dilation: the spacing between kernel elements.
    ///   - bias: whether to learn a bias per output channel.
    ///   - dtype: the parameters' dtype.
    ///   - key: the random key for the initial values (default: the default stream).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), bias: Bool = true,
                dtype: DType = .float32, key: RandomKey? = nil) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        let (w, b) = Initialization.fanInUniform(
            weight: [outChannels, inChannels, kernelSize.0, kernelSize.1], bias: bias ? [outChannels] : nil,
            fanIn: inChannels * kernelSize.0 * kernelSize.1, key: key, dtype: dtype)
        weight = w
        self.bias = b
    }

    /// Square kernels, strides, padding and dilation.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            dilation: Int = 1, bias: Bool = true, dtype: DType = .float32, key: RandomKey? = nil) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: (padding, padding), dilation: (dilation, dilation), bias: bias, dtype: dtype, key: key)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        conv2d(input, weight, bias: bias, stride: stride, padding: padding, dilation: dilation)
    }

    public override var extraDescription: String {
        "\(inChannels), \(outChannels), kernel_size=\(kernelSize), stride=\(stride)"
            + (padding == (0, 0) ? "" : ", padding=\(padding)") + (dilation == (1, 1) ? "" : ", dilation=\(dilation)")
            + (bias == nil ? ", bias=False" : "")
    }
}
