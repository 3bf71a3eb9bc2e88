// Optimizers (`torch.optim`): objects that hold a list of parameters and update them in place
// from their `.grad`. Updates are computed on the arrays without recording (inside `noGrad`),
// and written back with `copy_`, so each parameter stays the same tensor — the same leaf of
// the next graph, the same object a module and the optimizer share — with its version
// bumped. Parameters whose `grad` is nil are skipped, as in PyTorch.
//
// One parameter group per optimizer; the learning rate `lr` can be changed between steps (a
// schedule does this).

import Fluxion
import FluxionCore

/// Updates parameters from their gradients.
public protocol Optimizer: AnyObject {
    /// The tensors updated, in the order given.
    var parameters: [Tensor] { get }
    /// The learning rate used by the next `step()`.
    var lr: Double { get set }
    /// Updates every parameter that has a gradient.
    func step()
}

extension Optimizer {
    /// Clears the gradients: nil with `setToNone` (the default, as in PyTorch), else zeros.
    public func zeroGrad(setToNone: Bool = true) {
        FluxionNN.zeroGrad(parameters, setToNone: setToNone)
    }
}

/// The gradient of parameter `index` for `optimizer`'s step, or nil when it has none; stops
/// when its shape is not the parameter's (a parameter replaced after its gradient was taken).
func gradient(of parameter: Tensor, at index: Int, in optimizer: String) -> Tensor? {
    guard let g = parameter.grad else { return nil }
    guard g.shape == parameter.shape else {
        fail("\(optimizer).step", "parameter \(index) has shape \(describe(parameter.shape)) but its gradient has shape \(describe(g.shape))",
             fix: "give each parameter a gradient of its own shape (zeroGrad() after replacing a parameter's value)", file: #fileID, line: #line)
    }
    return g
}

/// Writes `value` into `parameter` without recording.
func update(_ parameter: Tensor, to value: NDArray) {
    noGrad {
        do {
            try parameter.copy_(Tensor(value))
        } catch {
            fail("optimizer step", "updating a parameter of shape \(describe(parameter.shape)) failed: \(error)",
                 fix: "update parameters that are leaves of their own", file: #fileID, line: #line)
        }
    }
}

/// Rescales gradients in place so that their joint L2 norm is at most `maxNorm`
/// (`clip_grad_norm_`); returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Double) -> Double {
    let grads = parameters.compactMap(\.grad)
    let total = grads.reduce(0) { $0 + ($1.value * $1.value).sum().item() }.squareRoot()
    let scale = maxNorm / (total + 1e-6)
    if scale < 1 {
        for p in parameters {
            guard let g = p.grad else { continue }
            p.grad = Tensor(g.value * scale)
        }
    }
    return total
}
