// Adam and AdamW, as `torch.optim.Adam` / `torch.optim.AdamW`:
//
// ```
// g ← ∇ (+ λ·θ for Adam's L2 weight decay)
// θ ← θ·(1 − η·λ)                              (AdamW's decoupled weight decay)
// m ← β₁·m + (1 − β₁)·g
// v ← β₂·v + (1 − β₂)·g²
// m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)          (bias correction; t counts each parameter's steps)
// θ ← θ − η·m̂ / (√v̂ + ε)                       (AMSGrad: v̂ from the running maximum of v)
// ```

import Fluxion
import Foundation

/// Adam (`torch.optim.Adam`); with `decoupledWeightDecay`, AdamW.
public class Adam: Optimizer {
    public let parameters: [Tensor]
    public var lr: Double
    /// (β₁, β₂): the decay rates of the first and second moment estimates.
    public let betas: (Double, Double)
    /// ε, added to √v̂ in the denominator.
    public let eps: Double
    /// λ: L2 weight decay added to the gradient (Adam), or decoupled θ·(1 − η·λ) (AdamW).
    public let weightDecay: Double
    /// Whether to divide by the running maximum of v̂ (AMSGrad).
    public let amsgrad: Bool
    let decoupled: Bool
    /// Per parameter: its step count and first and second moment estimates.
    public private(set) var steps: [Int]
    /// Per parameter, m: the running mean of its gradients (nil before its first step).
    public private(set) var firstMoments: [NDArray?]
    /// Per parameter, v: the running mean of its squared gradients (nil before its first step).
    public private(set) var secondMoments: [NDArray?]
    private var maxSecondMoments: [NDArray?]

    /// Adam over `parameters`, with PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
    /// no weight decay.
    public convenience init(_ parameters: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                            weightDecay: Double = 0, amsgrad: Bool = false) {
        self.init(parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: false)
    }

    init(_ parameters: [Tensor], lr: Double, betas: (Double, Double), eps: Double, weightDecay: Double, amsgrad: Bool,
         decoupled: Bool) {
        self.parameters = parameters
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.decoupled = decoupled
        steps = parameters.map { _ in 0 }
        firstMoments = parameters.map { _ in nil }
        secondMoments = parameters.map { _ in nil }
        maxSecondMoments = parameters.map { _ in nil }
    }

    public func step() {
        let (beta1, beta2) = betas
        for (i, p) in parameters.enumerated() {
            guard let grad = gradient(of: p, at: i, in: decoupled ? "AdamW" : "Adam") else { continue }
            var theta = p.value
            var g = grad.value
            if weightDecay != 0 {
                if decoupled { theta = theta * (1 - lr * weightDecay) } else { g = g + weightDecay * theta }
            }
            steps[i] += 1
            let t = Double(steps[i])
            let m = firstMoments[i].map { beta1 * $0 + (1 - beta1) * g } ?? (1 - beta1) * g
            let v = secondMoments[i].map { beta2 * $0 + (1 - beta2) * (g * g) } ?? (1 - beta2) * (g * g)
            firstMoments[i] = m
            secondMoments[i] = v
            var vUsed = v
            if amsgrad {
                vUsed = maxSecondMoments[i].map { maximum($0, v) } ?? v
                maxSecondMoments[i] = vUsed
            }
            let correction1 = 1 - Foundation.pow(beta1, t), correction2 = 1 - Foundation.pow(beta2, t)
            let denominator = sqrt(vUsed) * (1 / correction2.squareRoot()) + eps
            update(p, to: theta - (lr / correction1) * (m / denominator))
        }
    }
}

/// Adam with decoupled weight decay (`torch.optim.AdamW`): the parameters shrink by η·λ
/// each step, apart from the gradient's moments.
public final class AdamW: Adam {
    public init(_ parameters: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                weightDecay: Double = 1e-2, amsgrad: Bool = false) {
        super.init(parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: true)
    }
}
