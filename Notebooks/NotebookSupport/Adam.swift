// Adam for parameters held as a tree of arrays (the functional style of the transforms):
// `step` takes the parameters and their gradient, same structure, and returns new parameters.
// The Tensor-based optimizers live in FluxionNN; this is the few lines a functional training
// loop needs.

import Foundation
import Fluxion

/// Adam (Kingma & Ba) with bias correction, over any tree of arrays.
public struct FunctionalAdam<Parameters: ArrayTree> {
    /// The step size; may be changed between steps (a schedule).
    public var learningRate: Double
    /// The decay rates of the first and second moment estimates, and the term added to the
    /// second moment's square root before dividing.
    public let beta1: Double, beta2: Double, epsilon: Double
    private var m: [NDArray]?
    private var v: [NDArray]?
    private var t = 0

    /// Adam with PyTorch's defaults.
    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// The parameters after one step along `gradient`.
    public mutating func step(_ parameters: Parameters, _ gradient: Parameters) -> Parameters {
        let g = gradient.leaves
        t += 1
        m = zip(m ?? g.map { NDArray.zerosLike($0) }, g).map { beta1 * $0 + (1 - beta1) * $1 }
        v = zip(v ?? g.map { NDArray.zerosLike($0) }, g).map { beta2 * $0 + (1 - beta2) * $1 * $1 }
        let correction1 = 1 - pow(beta1, Double(t)), correction2 = 1 - pow(beta2, Double(t))
        let updated = zip(parameters.leaves, zip(m!, v!)).map { p, mv in
            p - learningRate * (mv.0 / correction1) / (sqrt(mv.1 / correction2) + epsilon)
        }
        return parameters.rebuilt(with: updated)
    }
}
