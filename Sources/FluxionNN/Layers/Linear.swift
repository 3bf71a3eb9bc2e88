// The affine layer y = x·Wᵀ + b (`nn.Linear`). A batch of rows is one `addmm` — one GEMM and
// one broadcast add, recorded as a single `AddmmBackward0` node; inputs of other ranks are
// viewed as rows of `inFeatures` and back, so a single example (a vector, as inside `vmap`)
// and a sequence batch `[B, T, in]` take the same path.

import Fluxion
import FluxionCore

/// y = x·Wᵀ + b for inputs `[..., inFeatures]`; W is `[outFeatures, inFeatures]`, b `[outFeatures]`.
///
/// Both start U(−1/√inFeatures, 1/√inFeatures), as in PyTorch.
public final class Linear: Module, @unchecked Sendable {
    /// The size of each input's last dimension.
    public let inFeatures: Int
    /// The size of each output's last dimension.
    public let outFeatures: Int
    /// The weight, `[outFeatures, inFeatures]`.
    @Parameter public var weight: Tensor
    /// The bias, `[outFeatures]` (nil when created with `bias: false`).
    @Parameter public var bias: Tensor?

    /// - Parameters:
    ///   - inFeatures: the size of each input's last dimension.
    ///   - outFeatures: the size of each output's last dimension.
    ///   - bias: whether to learn an additive bias.
    ///   - dtype: the parameters' dtype.
    ///   - key: the random key for the initial values (default: the default stream).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32, key: RandomKey? = nil) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let (w, b) = Initialization.fanInUniform(weight: [outFeatures, inFeatures], bias: bias ? [outFeatures] : nil,
                                                 fanIn: inFeatures, key: key, dtype: dtype)
        weight = w
        self.bias = b
    }

    public override func forward(_ input: Tensor) -> Tensor {
        linear(input, weight: weight, bias: bias)
    }

    public override var extraDescription: String {
        "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias == nil ? "False" : "True")"
    }
}

/// x·Wᵀ + b for x `[..., in]`, W `[out, in]`, b `[out]` (`torch.nn.functional.linear`), as
/// one graph node (`AddmmBackward0`, or `MmBackward0` without bias).
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.composite(bias == nil ? "MmBackward0" : "AddmmBackward0", [input, weight, bias]) { xs in
        linear(xs[0], weight: xs[1], bias: bias == nil ? nil : xs[2], file: file, line: line)
    }
}

/// x·Wᵀ + b on arrays (see the tensor function).
public func linear(_ input: NDArray, weight: NDArray, bias: NDArray? = nil, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let features = weight.shape[weight.rank - 1]
    guard input.rank >= 1, input.shape[input.rank - 1] == features else {
        fail("linear", "input of shape \(describe(input.shape)) does not end in \(features) features (weight \(describe(weight.shape)))",
             fix: "pass inputs of shape [..., \(features)]", file: file, line: line)
    }
    let rows = input.rank == 2 ? input : input.reshape([-1, features])
    var y = matmul(rows, weight.mT)
    if let bias { y = bias + y }
    return input.rank == 2 ? y : y.reshape(Array(input.shape.dropLast()) + [weight.shape[0]])
}
