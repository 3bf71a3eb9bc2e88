// Per-sample gradients: the gradient of each example's loss with respect to every parameter
// of a model, as differentially private training (DP-SGD) and data-attribution methods need.
// A loop runs one backward pass per example; `vmap(grad(loss))` over `functionalCall` computes
// all of them as one batched computation. Both are timed and checked against each other, then
// used for DP-SGD's per-example clipping.
//
// Run: swift run -c release PerSampleGradients [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Fluxion
import FluxionNN
import NotebookSupport

typealias Parameters = [String: NDArray]

// An MLP classifier on synthetic data: 64 features, 10 classes.
let model = Sequential([Linear(64, 128, key: RandomKey(seed: 1)), ReLU(), Linear(128, 10, key: RandomKey(seed: 2))])
let batch = quickRun ? 32 : 128
let inputs = NDArray.normal([batch, 64], key: RandomKey(seed: 3))
let labels = floor(NDArray.uniform([batch], low: 0, high: 10, key: RandomKey(seed: 4))).to(.int64)
let parameters: Parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor.value) })
print("parameters:", parameters.keys.sorted().map { "\($0) \(parameters[$0]!.shape)" }.joined(separator: ", "))

// The loss of one example, as a function of the parameters.
func loss(_ p: Parameters, _ x: NDArray, _ y: NDArray) throws -> NDArray {
    let logits = try functionalCall(model, parameters: p, x.unsqueeze(0))
    return crossEntropy(logits, y.unsqueeze(0))
}

// All per-sample gradients at once: parameters shared (nil), examples mapped along axis 0.
let perSampleGradients = vmap(grad(loss), inAxes: (nil, 0, 0))
let batched = try perSampleGradients(parameters, inputs, labels)
print("per-sample gradient of layer 0's weight:", batched["0.weight"]!.shape)

// The same with a loop of backward passes through the module.
func loopOfBackward() throws -> [Parameters] {
    try (0..<batch).map { i in
        model.zeroGrad()
        let output = model(Tensor(inputs[i].unsqueeze(0)))
        try crossEntropy(output, Tensor(labels[i].unsqueeze(0))).backward()
        return Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor.grad!.value) })
    }
}
let looped = try loopOfBackward()
var largest = 0.0
for name in parameters.keys {
    largest = max(largest, (batched[name]! - stack(looped.map { $0[name]! })).abs().max().item())
}
print("largest difference between vmap(grad) and the loop:", largest)
check(largest < 1e-5, "vmap(grad) equals a loop of backward()")

let repetitions = quickRun ? 3 : 10
let vmapTime = try medianTime(repetitions: repetitions) { _ = try perSampleGradients(parameters, inputs, labels) }
let loopTime = try medianTime(repetitions: repetitions) { _ = try loopOfBackward() }
print(String(format: "batch %d: vmap(grad) %.2f ms, loop of backward %.2f ms (%.1f× faster)",
             batch, vmapTime * 1000, loopTime * 1000, loopTime / vmapTime))

// DP-SGD: clip each example's gradient to norm C, add Gaussian noise, average.
let clip = 1.0, noiseMultiplier = 1.1
let names = parameters.keys.sorted()
let squaredNorms = names.map { (batched[$0]! ** 2).flatten(startDim: 1).sum(dim: 1) }.reduce(NDArray.zeros([batch]), +)
let norms = sqrt(squaredNorms)
let scale = minimum(NDArray.ones([batch]), clip / (norms + 1e-6))
print(String(format: "per-sample gradient norms: min %.3f, median %.3f, max %.3f", norms.min().item(),
             norms.floats.sorted()[batch / 2], norms.max().item()))
var noiseKey = RandomKey(seed: 5)
var privateGradient: Parameters = [:]
for name in names {
    let g = batched[name]!
    let clipped = g * scale.reshape([batch] + Array(repeating: 1, count: g.rank - 1))
    let (next, key) = noiseKey.split()
    noiseKey = next
    let noise = noiseMultiplier * clip * NDArray.normal(Array(g.shape.dropFirst()), key: key)
    privateGradient[name] = (clipped.sum(dim: 0) + noise) / Double(batch)
}
let clippedNorms = sqrt(names.map { name -> NDArray in
    let clipped = batched[name]! * scale.reshape([batch] + Array(repeating: 1, count: batched[name]!.rank - 1))
    return (clipped ** 2).flatten(startDim: 1).sum(dim: 1)
}.reduce(NDArray.zeros([batch]), +))
print(String(format: "after clipping: max norm %.4f (C = %.1f)", clippedNorms.max().item(), clip))
check(clippedNorms.max().item() <= clip + 1e-4, "every clipped gradient has norm ≤ C")
check(privateGradient.count == parameters.count, "a private gradient for every parameter")

print("PerSampleGradients complete.")
