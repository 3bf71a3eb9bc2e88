// Autograd internals: the examples and exercises of the PyTorch tutorial on how the engine
// works — the gradFn chain of a sigmoid neuron, inference without a graph, detach and
// inference mode, a custom Function, per-sample gradients with the functional transforms,
// forward hooks collecting activations, anomaly detection naming the line that made a NaN —
// and both exercises: closed-form gradients checked (with `gradcheck`), and a 3-layer MLP
// with a `noGrad` validation pass, a backward hook printing gradient norms, and `detach`
// starving the first layer.
//
// Run: swift run -c release AutogradInternals
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Fluxion
import FluxionCheck
import FluxionNN
import NotebookSupport

// MARK: - The computational graph

do {
    let w = try Tensor([1.5], requiresGrad: true)      // leaf parameter
    let b = try Tensor([0.3], requiresGrad: true)      // leaf parameter
    let x = try Tensor([2.0])                          // leaf data, no grad
    let z = x * w + b
    let a = sigmoid(z)
    let loss = (a - 1.0) ** 2
    print("w.gradFn:", describe(w.gradFn))
    print("z.gradFn:", describe(z.gradFn))
    print("a.gradFn:", describe(a.gradFn))
    print("loss.gradFn:", describe(loss.gradFn))
    check(w.gradFn == nil && z.gradFn?.name == "AddBackward0" && a.gradFn?.name == "SigmoidBackward0"
          && loss.gradFn?.name == "PowBackward0", "the gradFn chain")
}

// MARK: - Controlling gradient tracking

do {
    let model = Linear(50, 3, key: RandomKey(seed: 0))
    let X = Tensor.rand([8, 50], key: RandomKey(seed: 1))
    model.eval()
    let (logits, probabilities) = noGrad {
        let logits = model(X)
        return (logits, softmax(logits, dim: 1))
    }
    print(logits.requiresGrad, describe(logits.gradFn))
    check(!logits.requiresGrad && logits.gradFn == nil, "no graph under noGrad")
    check((probabilities.sum(dim: 1).value - 1).abs().max().item() < 1e-6, "softmax rows sum to 1")

    // setGradEnabled serves a loop body shared by training and evaluation.
    for isTraining in [true, false] {
        let output = setGradEnabled(isTraining) { model(X) }
        check(output.requiresGrad == isTraining, "tracking follows setGradEnabled")
    }

    // inferenceMode: stricter than noGrad; its tensors never join a graph.
    let frozen = inferenceMode { model(X) }
    check(frozen.isInference && !frozen.requiresGrad, "an inference tensor")
    do {
        try frozen.requiresGrad_()
        check(false, "an inference tensor cannot require grad")
    } catch {
        print("inference tensor:", error)
    }
}

// MARK: - A custom Function

/// ReLU multiplied by a scalar `alpha`, with a hand-written backward.
enum ScaledReLU: Function {
    static func forward(_ ctx: FunctionContext, _ inputs: (Tensor, Double)) -> Tensor {
        let (x, alpha) = inputs
        ctx.saveForBackward(x)
        ctx.alpha = alpha
        return alpha * relu(x)
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let x = ctx.savedTensors[0]
        let gradInput = gradOutput * (ctx.alpha as! Double) * (x .> 0).to(gradOutput.dtype)
        // Inputs: x, alpha. alpha is not a tensor, so its gradient is nil.
        return [gradInput, nil]
    }
}

do {
    let x = try Tensor.randn([4], key: RandomKey(seed: 2)).requiresGrad_()
    let y = try ScaledReLU.apply(x, 2.0).sum()
    try y.backward()
    print(x.grad!)
    let expected = 2 * (x.detach() .> 0).to(.float32)
    check(x.grad!.value.floats == expected.value.floats, "2 where x > 0, else 0")
}

// MARK: - Per-sample gradients with the functional transforms

do {
    func lossFunction(_ params: NDArray, _ x: NDArray, _ y: NDArray) -> NDArray { ((matmul(params, x) - y) ** 2).sum() }
    let params = NDArray.normal([3, 5], key: RandomKey(seed: 3))
    let X = NDArray.normal([16, 5], key: RandomKey(seed: 4)), Y = NDArray.normal([16, 3], key: RandomKey(seed: 5))
    let perSampleGrad = try vmap(grad(lossFunction), inAxes: (nil, 0, 0))(params, X, Y)
    print("per-sample gradients:", perSampleGrad.shape)
    let first = try grad(lossFunction)(params, X[0], Y[0])
    check(perSampleGrad.shape == [16, 3, 5] && (perSampleGrad[0] - first).abs().max().item() < 1e-5, "vmap(grad) = grad per example")
}

// MARK: - Hooks

do {
    let model = Sequential([Linear(8, 16, key: RandomKey(seed: 6)), ReLU(), Linear(16, 4, key: RandomKey(seed: 7))])
    var activations: [String: Tensor] = [:]
    func saveActivation(_ name: String) -> ForwardHook {
        { _, _, output in
            activations[name] = output.detach()
            return nil
        }
    }
    let handles = [model[0].registerForwardHook(saveActivation("linear_0")),
                   model[2].registerForwardHook(saveActivation("linear_1"))]
    _ = model(Tensor.randn([2, 8], key: RandomKey(seed: 8)))
    for key in activations.keys.sorted() { print(key, activations[key]!.shape) }
    check(activations["linear_0"]?.shape == [2, 16] && activations["linear_1"]?.shape == [2, 4], "activations collected")
    for handle in handles { handle.remove() }
    activations.removeAll()
    _ = model(Tensor.randn([2, 8], key: RandomKey(seed: 9)))
    check(activations.isEmpty, "removed hooks stay silent")
}

// MARK: - Anomaly detection

do {
    let x = try Tensor([1.0, 0.0, 4.0], requiresGrad: true)
    try detectAnomaly {
        let y = sqrt(x).sum()
        do {
            try y.backward()
            check(false, "the infinite gradient of sqrt at 0 must be caught")
        } catch let AutogradError.anomaly(node, _, value, forward) {
            print("anomaly: \(node) produced \(value); forward call at \(forward)")
            check(node == "SqrtBackward0" && forward.contains("AutogradInternals/main.swift"), "the node and the forward line")
        }
    }
}

// MARK: - Exercise 1: autograd against closed forms

do {
    let x = try Tensor.randn([8], key: RandomKey(seed: 10)).requiresGrad_()
    try (x ** 3 - 2 * x).sum().backward()
    let analytic = 3 * x.detach() ** 2 - 2
    let difference = (x.grad!.value - analytic.value).abs().max().item()
    print("cubic: max |autograd − 3x² + 2| =", difference)
    check(difference < 1e-5, "allclose")

    try x.grad!.zero_()
    try sigmoid(x).sum().backward()
    let s = sigmoid(x.detach())
    let sigmoidDifference = (x.grad!.value - (s * (1 - s)).value).abs().max().item()
    print("sigmoid: max |autograd − s(1 − s)| =", sigmoidDifference)
    check(sigmoidDifference < 1e-6, "allclose")

    // Stretch: gradcheck in double precision, on a custom function too.
    let x64 = NDArray.normal([8], key: RandomKey(seed: 11), dtype: .float64)
    let cubicReport = try gradcheck({ (x: NDArray) in (x ** 3 - 2 * x).sum() }, inputs: x64)
    let customReport = try gradcheck({ (x: Tensor) in try ScaledReLU.apply(x, 2.0) }, inputs: Tensor(x64))
    print("gradcheck:", cubicReport.passed, customReport.passed)
}

// MARK: - Exercise 2: controlling the graph in a training loop

final class MLP: Module, @unchecked Sendable {
    let layer1 = Linear(10, 32, key: RandomKey(seed: 12))
    let layer2 = Linear(32, 32, key: RandomKey(seed: 13))
    let layer3 = Linear(32, 1, key: RandomKey(seed: 14))
    var detachAfterLayer2 = false

    override func forward(_ x: Tensor) -> Tensor {
        var h = relu(layer2(relu(layer1(x))))
        if detachAfterLayer2 { h = h.detach() }
        return layer3(h)
    }
}

do {
    let model = MLP()
    let optimizer = SGD(model.parameters(), lr: 0.05)
    let X = Tensor.randn([64, 10], key: RandomKey(seed: 15))
    let Y = X.sum(dim: 1, keepDim: true).sin()
    var norms: [Double] = []
    let hook = model.layer1.registerFullBackwardHook { _, _, gradOutput in
        let norm = gradOutput.norm().item()
        print(String(format: "  layer 1 gradient L2 norm: %.4f", norm))
        norms.append(norm)
        return nil
    }

    func trainStep() throws -> Double {
        optimizer.zeroGrad()
        let loss = mseLoss(model(X), Y)
        try loss.backward()
        optimizer.step()
        return loss.item()
    }

    // (a) validation under noGrad records nothing.
    for epoch in 1...3 {
        let loss = try trainStep()
        let before = Autograd.liveTapeEntries
        let validation = noGrad { mseLoss(model(X), Y) }
        check(Autograd.liveTapeEntries == before && !validation.requiresGrad, "validation records nothing")
        print(String(format: "epoch %d: training loss %.4f, validation loss %.4f", epoch, loss, validation.item()))
    }
    // (b) the hook fired once per backward, with positive norms.
    check(norms.count == 3 && norms.allSatisfy { $0 > 0 }, "one positive norm per backward")

    // (c) detach after layer two: layer one gets no gradient at all.
    model.detachAfterLayer2 = true
    _ = try trainStep()
    let starved = model.layer1.weight.grad?.norm().item() ?? 0
    print(String(format: "with detach: layer 1 weight gradient norm %.4f, layer 3 %.4f", starved, model.layer3.weight.grad!.norm().item()))
    check(starved == 0 && norms.count == 3 && model.layer3.weight.grad!.norm().item() > 0, "layer one starved, layer three trained")
    hook.remove()
}

print("AutogradInternals complete.")
