// Activation layers: each applies the tensor function of the same name and holds no
// parameters (`nn.ReLU`, `nn.Tanh`, …).

import Fluxion

/// max(x, 0).
public final class ReLU: Module, @unchecked Sendable {
    public override init() {}
    public override func forward(_ input: Tensor) -> Tensor { relu(input) }
}

/// max(x, 0) + slope·min(x, 0).
public final class LeakyReLU: Module, @unchecked Sendable {
    /// The slope for negative inputs (PyTorch's default 0.01).
    public let negativeSlope: Double
    /// max(x, 0) + `negativeSlope`·min(x, 0).
    public init(negativeSlope: Double = 0.01) { self.negativeSlope = negativeSlope }
    public override func forward(_ input: Tensor) -> Tensor { leakyRelu(input, negativeSlope: negativeSlope) }
    public override var extraDescription: String { "negative_slope=\(negativeSlope)" }
}

/// tanh(x).
public final class Tanh: Module, @unchecked Sendable {
    public override init() {}
    public override func forward(_ input: Tensor) -> Tensor { tanh(input) }
}

/// 1 / (1 + e⁻ˣ).
public final class Sigmoid: Module, @unchecked Sendable {
    public override init() {}
    public override func forward(_ input: Tensor) -> Tensor { sigmoid(input) }
}

/// log(1 + e^(βx)) / β, and x itself where βx > `threshold` (as `nn.Softplus`).
public final class Softplus: Module, @unchecked Sendable {
    /// β, the sharpness: the layer computes log(1 + e^(βx)) / β.
    public let beta: Double
    /// Above this value of βx the layer returns x itself, where softplus equals x to float precision.
    public let threshold: Double
    /// log(1 + e^(βx)) / β, and x where βx > `threshold` (PyTorch's defaults: β = 1, threshold 20).
    public init(beta: Double = 1, threshold: Double = 20) {
        self.beta = beta
        self.threshold = threshold
    }
    public override func forward(_ input: Tensor) -> Tensor {
        let (beta, threshold) = (beta, threshold)
        return Tensor.composite("SoftplusBackward0", [input]) { xs in
            let x = xs[0], bx = beta == 1 ? x : x * beta
            let smooth = beta == 1 ? softplus(bx) : softplus(bx) / beta
            return NDArray.where(bx .> threshold, x, smooth)
        }
    }
    public override var extraDescription: String { "beta=\(beta), threshold=\(threshold)" }
}

/// x·Φ(x) (exact, or the tanh approximation).
public final class GELU: Module, @unchecked Sendable {
    /// Whether to use the tanh approximation 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) rather than
    /// the exact x·Φ(x).
    public let approximate: Bool
    /// x·Φ(x), Φ the standard normal distribution function, exact or (`approximate`) by tanh.
    public init(approximate: Bool = false) { self.approximate = approximate }
    public override func forward(_ input: Tensor) -> Tensor { gelu(input, approximate: approximate) }
    public override var extraDescription: String { "approximate='\(approximate ? "tanh" : "none")'" }
}

/// x·σ(x).
public final class SiLU: Module, @unchecked Sendable {
    public override init() {}
    public override func forward(_ input: Tensor) -> Tensor { silu(input) }
}

/// Exponentials normalised along `dim`.
public final class Softmax: Module, @unchecked Sendable {
    /// The dimension normalised over.
    public let dim: Int
    /// Softmax along `dim`: e^(xᵢ) / Σⱼ e^(xⱼ), computed stably.
    public init(dim: Int) { self.dim = dim }
    public override func forward(_ input: Tensor) -> Tensor { softmax(input, dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

/// log-softmax along `dim`.
public final class LogSoftmax: Module, @unchecked Sendable {
    /// The dimension normalised over.
    public let dim: Int
    /// Log-softmax along `dim`: xᵢ − log Σⱼ e^(xⱼ), computed stably.
    public init(dim: Int) { self.dim = dim }
    public override func forward(_ input: Tensor) -> Tensor { logSoftmax(input, dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

/// The input, unchanged.
public final class Identity: Module, @unchecked Sendable {
    public override init() {}
    public override func forward(_ input: Tensor) -> Tensor { input }
}

/// Dimensions `startDim...endDim` merged into one (by default all but the batch dimension).
public final class Flatten: Module, @unchecked Sendable {
    /// The first dimension merged (default 1: the one after the batch dimension).
    public let startDim: Int
    /// The last dimension merged (default −1: the last).
    public let endDim: Int
    /// Merges dimensions `startDim...endDim` into one.
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
    }
    public override func forward(_ input: Tensor) -> Tensor { input.flatten(startDim: startDim, endDim: endDim) }
    public override var extraDescription: String { "start_dim=\(startDim), end_dim=\(endDim)" }
}
