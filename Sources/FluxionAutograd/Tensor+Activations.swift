// Activations, normalised exponentials and convolutions on tensors: each the `NDArray`
// function of the same name (NDArray+Activations.swift, NDArray+Convolution.swift), recorded
// as one graph node with PyTorch's name for it (`SoftmaxBackward0`, `LogSoftmaxBackward0`,
// `GeluBackward0`, `ConvolutionBackward0`, …).
//
// `Tensor.composite` opens the same recording to code outside this module: a layer or loss
// written with array operations appears in the graph as the one node it is in PyTorch
// (`MseLossBackward0`), its derivative still that of the operations it runs.

import FluxionCore

extension Tensor {
    /// `operation` applied to the values of `inputs` (nil: an operand without history), recorded
    /// as one graph node named `name` when grad mode is on and an input requires grad.
    ///
    /// The operation runs on `NDArray`s and is differentiated through them: no rule is
    /// written, the node only names what the operations recorded (as `addmm` does for a
    /// product and a sum). Operands that are not in `inputs` (integer labels, constants) may
    /// be captured by the closure. `file` and `line`, when given, are the user's call, which
    /// anomaly detection reports (otherwise it reads the call stack).
    public static func composite(_ name: String, _ inputs: [Tensor?], file: StaticString = "", line: UInt = 0,
                                 _ operation: ([NDArray]) throws -> NDArray) rethrows -> Tensor {
        try record(name, inputs, file: file, line: line, operation)
    }
}

extension RemovableHandle {
    /// A handle whose `remove()` runs `removal` once (for hooks kept outside tensors, such as
    /// a module's).
    public convenience init(onRemove removal: @escaping () -> Void) {
        self.init(removal)
    }
}

// MARK: - Activations

/// Exponentials normalised to sum to 1 along `dim` (`torch.softmax`).
public func softmax(_ x: Tensor, dim: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    x.unary("SoftmaxBackward0", file: file, line: line) { softmax($0, dim: dim, file: file, line: line) }
}

/// log(softmax(x)) along `dim`, computed stably (`torch.log_softmax`).
public func logSoftmax(_ x: Tensor, dim: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    x.unary("LogSoftmaxBackward0", file: file, line: line) { logSoftmax($0, dim: dim, file: file, line: line) }
}

/// x·Φ(x), or its tanh approximation (`torch.nn.functional.gelu`).
public func gelu(_ x: Tensor, approximate: Bool = false) -> Tensor {
    x.unary("GeluBackward0") { gelu($0, approximate: approximate) }
}

/// x·σ(x) (`torch.nn.functional.silu`).
public func silu(_ x: Tensor) -> Tensor { x.unary("SiluBackward0", silu) }

/// log σ(x), finite for every x (`torch.nn.functional.logsigmoid`).
public func logSigmoid(_ x: Tensor) -> Tensor { x.unary("LogSigmoidBackward0", logSigmoid) }

/// max(x, 0) + slope·min(x, 0) (`torch.nn.functional.leaky_relu`).
public func leakyRelu(_ x: Tensor, negativeSlope: Double = 0.01) -> Tensor {
    x.unary("LeakyReluBackward0") { leakyRelu($0, negativeSlope: negativeSlope) }
}

/// The exponential linear unit: x for x > 0, α·(eˣ − 1) otherwise (`torch.nn.functional.elu`).
public func elu(_ x: Tensor, alpha: Double = 1) -> Tensor { x.unary("EluBackward0") { FluxionCore.elu($0, alpha: alpha) } }

/// The scaled exponential linear unit λ·elu(x, α) (`torch.nn.functional.selu`).
public func selu(_ x: Tensor) -> Tensor { x.unary("EluBackward0", FluxionCore.selu) }

/// max(0, x) + min(0, α·(e^{x/α} − 1)) (`torch.nn.functional.celu`).
public func celu(_ x: Tensor, alpha: Double = 1) -> Tensor { x.unary("CeluBackward0") { FluxionCore.celu($0, alpha: alpha) } }

/// x clamped to [`minValue`, `maxValue`], derivative 0 at the bounds (`torch.nn.functional.hardtanh`).
public func hardtanh(_ x: Tensor, minValue: Double = -1, maxValue: Double = 1) -> Tensor {
    x.unary("HardtanhBackward0") { FluxionCore.hardtanh($0, minValue: minValue, maxValue: maxValue) }
}

/// min(max(x, 0), 6), derivative 0 at 0 and 6 (`torch.nn.functional.relu6`).
public func relu6(_ x: Tensor) -> Tensor { x.unary("HardtanhBackward0", FluxionCore.relu6) }

/// relu6(x + 3) / 6 (`torch.nn.functional.hardsigmoid`).
public func hardsigmoid(_ x: Tensor) -> Tensor { x.unary("HardsigmoidBackward0", FluxionCore.hardsigmoid) }

/// x / (1 + |x|) (`torch.nn.functional.softsign`).
public func softsign(_ x: Tensor) -> Tensor { x.unary("DivBackward0", FluxionCore.softsign) }

/// x·tanh(softplus(x)) (`torch.nn.functional.mish`).
public func mish(_ x: Tensor) -> Tensor { x.unary("MishBackward0", FluxionCore.mish) }

extension Tensor {
    /// Softmax along `dim`: e^(xᵢ) / Σⱼ e^(xⱼ), computed stably (see the free function).
    public func softmax(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        FluxionAutograd.softmax(self, dim: dim, file: file, line: line)
    }
    /// Log-softmax along `dim`: xᵢ − log Σⱼ e^(xⱼ), computed stably (see the free function).
    public func logSoftmax(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        FluxionAutograd.logSoftmax(self, dim: dim, file: file, line: line)
    }
}

// MARK: - Convolution

/// The 2-D convolution of `input` `[N, C, H, W]` with `weight` `[Cout, C, kh, kw]` plus `bias`
/// (`torch.nn.functional.conv2d`); see the `NDArray` function for the shapes.
public func conv2d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                   padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
                   file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.record("ConvolutionBackward0", [input, weight, bias], file: file, line: line) { xs in
        conv2d(xs[0], xs[1], bias: bias == nil ? nil : xs[2], stride: stride, padding: padding, dilation: dilation,
               file: file, line: line)
    }
}

/// Every window of the images as columns (`torch.nn.functional.unfold`, im2col).
public func unfold(_ x: Tensor, kernelSize: (Int, Int), dilation: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                   stride: (Int, Int) = (1, 1), file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    x.unary("Im2ColBackward0", file: file, line: line) {
        unfold($0, kernelSize: kernelSize, dilation: dilation, padding: padding, stride: stride, file: file, line: line)
    }
}

/// Columns added back onto images (`torch.nn.functional.fold`, col2im).
public func fold(_ columns: Tensor, outputSize: (Int, Int), kernelSize: (Int, Int), dilation: (Int, Int) = (1, 1),
                 padding: (Int, Int) = (0, 0), stride: (Int, Int) = (1, 1),
                 file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    columns.unary("Col2ImBackward0", file: file, line: line) {
        fold($0, outputSize: outputSize, kernelSize: kernelSize, dilation: dilation, padding: padding, stride: stride,
             file: file, line: line)
    }
}

// MARK: - Pooling

/// The largest element of each window (`torch.nn.functional.max_pool2d`); see the `NDArray`
/// method for the shapes.
public func maxPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                      dilation: (Int, Int) = (1, 1), file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    x.unary("MaxPool2DWithIndicesBackward0") {
        $0.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, file: file, line: line)
    }
}

/// The mean of each window (`torch.nn.functional.avg_pool2d`).
public func avgPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                      file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    x.unary("AvgPool2DBackward0") { $0.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding, file: file, line: line) }
}
