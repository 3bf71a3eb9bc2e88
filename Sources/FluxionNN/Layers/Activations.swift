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
    public let negativeSlope: Double
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
    public let beta: Double
    public let threshold: Double
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
    public let approximate: Bool
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
    public let dim: Int
    public init(dim: Int) { self.dim = dim }
    public override func forward(_ input: Tensor) -> Tensor { softmax(input, dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

/// log-softmax along `dim`.
public final class LogSoftmax: Module, @unchecked Sendable {
    public let dim: Int
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
    public let startDim: Int
    public let endDim: Int
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
    }
    public override func forward(_ input: Tensor) -> Tensor { input.flatten(startDim: startDim, endDim: endDim) }
    public override var extraDescription: String { "start_dim=\(startDim), end_dim=\(endDim)" }
}
