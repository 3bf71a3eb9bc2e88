// Training with FluxionNN: a linear regression by plain gradient descent, a small MLP that
// learns XOR, the train step of an MNIST-sized MLP (784-256-256-10, batch 128) timed, and
// per-sample gradients of that MLP by vmap(grad) over functionalCall. Every result is
// printed and checked.
//
// Run: swift run -c release Training          (--quick: fewer timing repetitions)
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Fluxion
import FluxionNN
import NotebookSupport

// — Linear regression: y = 2x + 1 by plain gradient descent —

let line = Linear(1, 1, key: RandomKey(seed: 1))
let xs = Tensor(NDArray.linspace(-1, 1, count: 20).reshape([20, 1]))
let ys = 2 * xs + 1
var regressionCurve: [Double] = []
for _ in 0..<200 {
    let loss = mseLoss(line(xs), ys)
    regressionCurve.append(loss.item())
    try loss.backward()
    try noGrad {
        for p in line.parameters() { try p.sub_(0.1 * p.grad!) }
    }
    line.zeroGrad()
}
print("linear regression, mse at steps 0, 25, …, 175:", stride(from: 0, to: 200, by: 25).map { regressionCurve[$0] })
print("w =", line.weight.item(), " b =", line.bias!.item())
check(abs(line.weight.item() - 2) < 1e-3 && abs(line.bias!.item() - 1) < 1e-3, "gradient descent recovers w = 2, b = 1")

// — XOR with a 2-8-1 MLP and Adam —

let xorModel = Sequential(Linear(2, 8, key: RandomKey(seed: 2)), Tanh(), Linear(8, 1, key: RandomKey(seed: 3)))
let xorInputs = Tensor(NDArray([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]))
let xorTargets = Tensor(NDArray([[0.0], [1.0], [1.0], [0.0]]))
let adam = Adam(xorModel.parameters(), lr: 0.05)
var xorCurve: [Double] = []
for _ in 0..<300 {
    adam.zeroGrad()
    let loss = binaryCrossEntropyWithLogits(xorModel(xorInputs), xorTargets)
    xorCurve.append(loss.item())
    try loss.backward()
    adam.step()
}
print("XOR, binary cross-entropy at steps 0, 50, …, 250:", stride(from: 0, to: 300, by: 50).map { xorCurve[$0] }, "final:", xorCurve.last!)
let xorPredictions = try noGrad { sigmoid(xorModel(xorInputs)) }.floats()
print("XOR predictions:", xorPredictions)
check(zip(xorPredictions, [0, 1, 1, 0] as [Float]).allSatisfy { abs($0 - $1) < 0.1 }, "the MLP learns XOR")

// — An MNIST-sized MLP: one train step (forward, cross-entropy, backward, SGD) at batch 128 —

let mlp = Sequential(Linear(784, 256, key: RandomKey(seed: 4)), ReLU(),
                     Linear(256, 256, key: RandomKey(seed: 5)), ReLU(),
                     Linear(256, 10, key: RandomKey(seed: 6)))
let images = Tensor.randn([128, 784], key: RandomKey(seed: 7))
let labels = Tensor(NDArray.uniform([128], low: 0, high: 10, key: RandomKey(seed: 8)).to(.int64))
let sgd = SGD(mlp.parameters(), lr: 0.01, momentum: 0.9)
var mlpCurve: [Double] = []
@MainActor func trainStep() throws {
    sgd.zeroGrad()
    let loss = crossEntropy(mlp(images), labels)
    try loss.backward()
    sgd.step()
    mlpCurve.append(loss.item())
}
let stepTime = try 1e3 * medianTime(repetitions: quickRun ? 5 : 50, trainStep)
print(String(format: "MLP 784-256-256-10, batch 128: one train step (SGD with momentum) %.3f ms", stepTime))
print("  its loss over the timed steps (the same batch):", stride(from: 0, to: mlpCurve.count, by: max(1, mlpCurve.count / 6)).map { mlpCurve[$0] })
check(mlpCurve.last! < mlpCurve.first!, "the train steps lower the loss")

let adamMLP = Adam(mlp.parameters(), lr: 1e-3)
let adamStepTime = try 1e3 * medianTime(repetitions: quickRun ? 5 : 50) {
    adamMLP.zeroGrad()
    try crossEntropy(mlp(images), labels).backward()
    adamMLP.step()
}
print(String(format: "  with Adam: %.3f ms", adamStepTime))

// — Per-sample gradients of the same MLP: vmap(grad) over functionalCall —

@MainActor func exampleLoss(_ p: [String: Tensor], _ x: Tensor, _ y: Tensor) throws -> Tensor {
    crossEntropy(try functionalCall(mlp, parameters: p, x), y)
}
let perSample = vmap(grad(exampleLoss), inAxes: (nil, 0, 0))
let state = mlp.stateDict()
var gradients: [String: Tensor] = [:]
let perSampleTime = try 1e3 * medianTime(repetitions: quickRun ? 3 : 20) { gradients = try perSample(state, images, labels) }
print(String(format: "  per-sample gradients of all 128 examples by vmap(grad): %.3f ms", perSampleTime))
check(gradients["0.weight"]!.shape == [128, 256, 784], "one gradient per example")
// The mean of the per-sample gradients is the batch gradient.
mlp.zeroGrad()
try crossEntropy(mlp(images), labels).backward()
let batchGradient = mlp.parameters()[4].grad!.value
let meanOfPerSample = gradients["4.weight"]!.value.mean(dim: 0)
let difference = (batchGradient - meanOfPerSample).abs().max().item()
print("  max |batch gradient − mean of per-sample gradients| of the last layer:", difference)
check(difference < 1e-5, "the mean of the per-sample gradients is the batch gradient")
print("Training complete.")
