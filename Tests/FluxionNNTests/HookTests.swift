// Module hooks: forward pre-hooks and forward hooks see and may replace values; full backward
// hooks see the module's own input and output gradients once per backward pass and may
// replace the input's; handles remove them.

import Testing
import Fluxion
import FluxionNN

/// A counter shared with hook closures.
final class Recorder: @unchecked Sendable {
    var events: [String] = []
    var tensors: [Tensor?] = []
}

@Suite("Module hooks")
struct HookTests {
    func layer() -> Linear {
        let l = Linear(2, 2, dtype: .float64)
        l.weight = rows([[1, 2], [3, 4]])
        l.bias = vector([0, 1])
        return l
    }

    @Test("forward pre-hooks and forward hooks run in order, may replace values, and are removable")
    func forwardHooks() throws {
        let l = layer()
        let log = Recorder()
        let pre = l.registerForwardPreHook { module, input in
            log.events.append("pre \(type(of: module))")
            return input * 2
        }
        let post = l.registerForwardHook { _, input, output in
            log.events.append("post")
            log.tensors = [input, output]
            return output + 1
        }
        let y = l(rows([[1, 1]]))
        #expect(log.events == ["pre Linear", "post"])
        expectClose(log.tensors[0], [2, 2])          // the forward hook sees the replaced input
        expectClose(log.tensors[1], [6, 15])
        expectClose(y, [7, 16])
        pre.remove()
        post.remove()
        post.remove()  // a second removal does nothing
        expectClose(l(rows([[1, 1]])), [3, 8])
        #expect(log.events.count == 2)
    }

    @Test("a full backward hook sees ∂L/∂input and ∂L/∂output, once per backward, and may replace the input's")
    func backwardHook() throws {
        let l = layer()
        let log = Recorder()
        let handle = l.registerFullBackwardHook { _, gradInput, gradOutput in
            log.events.append("backward")
            log.tensors = [gradInput, gradOutput]
            return nil
        }
        let x = try Tensor(NDArray([[1.0, -1.0]], dtype: .float64), requiresGrad: true)
        let y = l(x)
        try (y * vector([1, 10])).sum().backward()
        #expect(log.events == ["backward"])
        expectClose(log.tensors[1], [1, 10])                 // ∂L/∂y
        expectClose(log.tensors[0], [1 + 30, 2 + 40])        // ∂L/∂x = ∂L/∂y · W
        expectClose(x.grad, [31, 42])
        expectClose(l.weight.grad, [1, -1, 10, -10])

        // A replacement of the input gradient flows on to the input.
        let replace = l.registerFullBackwardHook { _, gradInput, _ in gradInput.map { $0 * 0 } }
        x.grad = nil
        try l(x).sum().backward()
        expectClose(x.grad, [0, 0])
        #expect(log.events.count == 2)
        replace.remove()
        handle.remove()
        try l(x).sum().backward()
        #expect(log.events.count == 2)
    }

    @Test("when the input does not require grad, the hook fires with gradInput nil")
    func firstLayer() throws {
        let l = layer()
        let log = Recorder()
        l.registerFullBackwardHook { _, gradInput, gradOutput in
            log.events.append(gradInput == nil ? "nil input" : "input")
            log.tensors = [gradOutput]
            return nil
        }
        try l(rows([[1, 1]])).sum().backward()
        #expect(log.events == ["nil input"])
        expectClose(log.tensors[0], [1, 1])
        // Under noGrad nothing is recorded and no hook can fire.
        let y = noGrad { l(rows([[1, 1]])) }
        #expect(y.gradFn == nil)
    }

    @Test("hooks on the layers of a Sequential fire in backward order")
    func order() throws {
        let log = Recorder()
        let model = Sequential(Linear(3, 4), Tanh(), Linear(4, 2))
        for (i, child) in model.children.enumerated() {
            child.registerFullBackwardHook { _, _, _ in
                log.events.append("\(i)")
                return nil
            }
        }
        try model(try Tensor(NDArray.ones([2, 3]), requiresGrad: true)).sum().backward()
        #expect(log.events == ["2", "1", "0"])
    }
}
