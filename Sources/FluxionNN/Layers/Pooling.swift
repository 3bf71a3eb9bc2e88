// 2-D pooling layers (`nn.MaxPool2d`, `nn.AvgPool2d`): no parameters; the functions are
// `maxPool2d` and `avgPool2d` (NDArray+Pooling.swift).

import Fluxion

/// The largest element of each `kernelSize` window of `[N, C, H, W]` images; the stride defaults
/// to the kernel size, as in PyTorch.
public final class MaxPool2d: Module, @unchecked Sendable {
    /// The windows' height and width.
    public let kernelSize: (Int, Int)
    /// The step between windows (default: the kernel size).
    public let stride: (Int, Int)
    /// Padding on each side, which never wins the maximum (−∞, as in PyTorch).
    public let padding: (Int, Int)
    /// The spacing between window elements.
    public let dilation: (Int, Int)

    /// Max pooling over `kernelSize` windows; `stride` defaults to `kernelSize`.
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.dilation = dilation
    }

    /// Square windows.
    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding),
                  dilation: (dilation, dilation))
    }

    public override func forward(_ input: Tensor) -> Tensor {
        maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation)
    }

    public override var extraDescription: String {
        "kernel_size=\(kernelSize), stride=\(stride), padding=\(padding), dilation=\(dilation), ceil_mode=False"
    }
}

/// The mean of each `kernelSize` window of `[N, C, H, W]` images (padding counted as zeros);
/// the stride defaults to the kernel size, as in PyTorch.
public final class AvgPool2d: Module, @unchecked Sendable {
    /// The windows' height and width.
    public let kernelSize: (Int, Int)
    /// The step between windows (default: the kernel size).
    public let stride: (Int, Int)
    /// Zeros added on each side, counted in each window's mean.
    public let padding: (Int, Int)

    /// Average pooling over `kernelSize` windows; `stride` defaults to `kernelSize`.
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// Square windows.
    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    public override func forward(_ input: Tensor) -> Tensor {
        avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    public override var extraDescription: String { "kernel_size=\(kernelSize), stride=\(stride), padding=\(padding)" }
}
