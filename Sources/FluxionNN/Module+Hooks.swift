// Module hooks, as PyTorch's: code run around a module's forward, and on the gradients that
// flow through the module during a backward pass, without changing the module.
//
// - forward pre-hooks see the input before `forward` and may replace it;
// - forward hooks see the input and the output and may replace the output;
// - full backward hooks see the gradient of the loss with respect to the module's input
//   (nil when the input does not require grad, as for a first layer fed data) and output,
//   and may replace the input's gradient.
//
// Backward hooks work as PyTorch's `BackwardHookFunction`: the call passes its input and
// output through identity nodes (`BackwardHookFunctionBackward`) and hooks those tensors, so
// the gradients seen are exactly the module's own — a hook fires once per backward pass that
// reaches the module, and not at all when no gradient reaches it (a `detach()` downstream).
// They apply to the facade's `backward()` and `Autograd.grad`; under the function transforms
// tensors carry no graph and only the forward hooks run.

import Fluxion
import Synchronization

/// Called before `forward` with the module and its input; a non-nil result replaces the input.
public typealias ForwardPreHook = (_ module: Module, _ input: Tensor) -> Tensor?
/// Called after `forward` with the module, its input and its output; a non-nil result
/// replaces the output.
public typealias ForwardHook = (_ module: Module, _ input: Tensor, _ output: Tensor) -> Tensor?
/// Called during a backward pass with the module and the gradients with respect to its input
/// (nil when the input does not require grad) and output; a non-nil result replaces the
/// input's gradient.
public typealias BackwardHook = (_ module: Module, _ gradInput: Tensor?, _ gradOutput: Tensor) -> Tensor?

private let hookCounter = Atomic<Int>(0)

extension Module {
    /// Registers `hook` to run before each forward (`register_forward_pre_hook`).
    @discardableResult
    public func registerForwardPreHook(_ hook: @escaping ForwardPreHook) -> RemovableHandle {
        let id = hookCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        forwardPreHooks.append((id, hook))
        return RemovableHandle(onRemove: { [weak self] in self?.forwardPreHooks.removeAll { $0.id == id } })
    }

    /// Registers `hook` to run after each forward (`register_forward_hook`).
    @discardableResult
    public func registerForwardHook(_ hook: @escaping ForwardHook) -> RemovableHandle {
        let id = hookCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        forwardHooks.append((id, hook))
        return RemovableHandle(onRemove: { [weak self] in self?.forwardHooks.removeAll { $0.id == id } })
    }

    /// Registers `hook` to run when gradients with respect to the module's output and input
    /// are computed (`register_full_backward_hook`), for calls made after registering.
    @discardableResult
    public func registerFullBackwardHook(_ hook: @escaping BackwardHook) -> RemovableHandle {
        let id = hookCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        backwardHooks.append((id, hook))
        return RemovableHandle(onRemove: { [weak self] in self?.backwardHooks.removeAll { $0.id == id } })
    }

    /// The call with hooks: pre-hooks, forward, forward hooks, and the identity nodes the
    /// backward hooks watch.
    func callWithHooks(_ input: Tensor) -> Tensor {
        var x = input
        for (_, hook) in forwardPreHooks {
            if let replaced = hook(self, x) { x = replaced }
        }
        let watching = !backwardHooks.isEmpty && isGradEnabled
        let pass = BackwardHookPass(module: self)
        if watching && x.requiresGrad {
            x = passThrough(x)
            pass.watchesInput = true
            _ = try? x.registerHook { [pass] g in pass.inputGradient(g) }
        }
        var y = forward(x)
        for (_, hook) in forwardHooks {
            if let replaced = hook(self, x, y) { y = replaced }
        }
        if watching && y.requiresGrad {
            y = passThrough(y)
            _ = try? y.registerHook { [pass] g in pass.outputGradient(g) }
        }
        return y
    }
}

/// The identity, recorded as its own graph node so a hook can watch exactly this use of `x`.
private func passThrough(_ x: Tensor) -> Tensor {
    Tensor.composite("BackwardHookFunctionBackward", [x]) { $0[0].unsqueeze(0).squeeze(dim: 0) }
}

/// One call's backward hooks: the output's gradient arrives first, then the input's.
private final class BackwardHookPass: @unchecked Sendable {
    weak var module: Module?
    var watchesInput = false
    var gradOutput: Tensor?

    init(module: Module) { self.module = module }

    func outputGradient(_ g: Tensor) -> Tensor? {
        gradOutput = g
        if !watchesInput { _ = fire(gradInput: nil) }
        return nil
    }

    func inputGradient(_ g: Tensor) -> Tensor? {
        fire(gradInput: g)
    }

    /// Runs the module's backward hooks; returns the input gradient if a hook replaced it.
    private func fire(gradInput: Tensor?) -> Tensor? {
        guard let module, let gradOutput else { return nil }
        var current = gradInput
        var replaced = false
        for (_, hook) in module.backwardHooks {
            if let r = hook(module, current, gradOutput) {
                current = r
                replaced = true
            }
        }
        return replaced ? current : nil
    }
}
