// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, as
// `torch.optim.SGD` (its formulation: the learning rate multiplies the velocity):
//
// ```
// g ← ∇ + λ·θ
// v ← g                           (first step)
// v ← μ·v + (1 − τ)·g             (later steps; τ: dampening)
// d ← g + μ·v (Nesterov) or v     (d ← g without momentum)
// θ ← θ − η·d
// ```

import Fluxion
import FluxionCore

/// Gradient descent with optional momentum (`torch.optim.SGD`).
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var lr: Double
    /// μ: the momentum (0: plain gradient descent).
    public let momentum: Double
    /// τ: the dampening of the gradient added to the velocity.
    public let dampening: Double
    /// λ: L2 weight decay added to the gradient.
    public let weightDecay: Double
    /// Whether to step along g + μ·v (Nesterov) rather than v.
    public let nesterov: Bool
    /// The velocity of each parameter (nil before its first step with momentum).
    public private(set) var momentumBuffers: [NDArray?]

    /// SGD over `parameters` at rate `lr`; Nesterov momentum needs a positive momentum and zero
    /// dampening, and stops otherwise.
    public init(_ parameters: [Tensor], lr: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
                nesterov: Bool = false, file: StaticString = #fileID, line: UInt = #line) {
        if nesterov && !(momentum > 0 && dampening == 0) {
            fail("SGD", "Nesterov momentum needs a positive momentum and zero dampening (got momentum \(momentum), dampening \(dampening))",
                 fix: "pass momentum > 0 and dampening: 0, or nesterov: false", file: file, line: line)
        }
        self.parameters = parameters
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        momentumBuffers = parameters.map { _ in nil }
    }

    public func step() {
        for (i, p) in parameters.enumerated() {
            guard let grad = gradient(of: p, at: i, in: "SGD") else { continue }
            let theta = p.value
            var d = grad.value
            if weightDecay != 0 { d = d + weightDecay * theta }
            if momentum != 0 {
                let fresh = dampening == 0 ? d : (1 - dampening) * d
                let v = momentumBuffers[i].map { momentum * $0 + fresh } ?? d
                momentumBuffers[i] = v
                d = nesterov ? d + momentum * v : v
            }
            update(p, to: theta - lr * d)
        }
    }
}
