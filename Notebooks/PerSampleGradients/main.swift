// Per-sample gradients: the gradient of each example's loss with respect to every parameter
// of a model, as differentially private training (DP-SGD) and data-attribution methods need.
// A loop runs one backward pass per example; `vmap(grad(loss))` over `functionalCall` computes
// all of them as one batched computation. Both are timed and checked against each other, then
// used for DP-SGD's per-example clipping. Last, the torch.func tutorial's own setting: a
// convolutional network with max-pooling and a log-softmax, whose per-sample gradients are
// checked against a loop of `Autograd.grad` (PyTorch's `torch.autograd.grad`).
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

// — The tutorial's convolutional network —

// Two 3×3 convolutions, a 2×2 max-pool, two linear layers and a log-softmax, trained with the
// negative log-likelihood. The tutorial's sizes (32 and 64 channels on 28×28 images, batch 64,
// 1.2 million parameters) in a full run; fewer channels and smaller images with --quick.
final class SimpleCNN: Module, @unchecked Sendable {  // restated, as Swift 6 asks of Module's subclasses
    let conv1: Conv2d, conv2: Conv2d, fc1: Linear, fc2: Linear

    init(channels: (Int, Int), imageSize: Int, key: RandomKey) {
        let keys = key.split(into: 4)
        let pooled = (imageSize - 4) / 2
        conv1 = Conv2d(1, channels.0, kernelSize: 3, key: keys[0])
        conv2 = Conv2d(channels.0, channels.1, kernelSize: 3, key: keys[1])
        fc1 = Linear(channels.1 * pooled * pooled, 128, key: keys[2])
        fc2 = Linear(128, 10, key: keys[3])
    }

    override func forward(_ x: Tensor) -> Tensor {
        let features = maxPool2d(relu(conv2(relu(conv1(x)))), kernelSize: (2, 2))
        return logSoftmax(fc2(relu(fc1(features.flatten(startDim: 1)))), dim: 1)
    }
}

let (cnnChannels, imageSize, cnnBatch) = quickRun ? ((8, 16), 14, 16) : ((32, 64), 28, 64)
let cnn = SimpleCNN(channels: cnnChannels, imageSize: imageSize, key: RandomKey(seed: 6))
let images = NDArray.normal([cnnBatch, 1, imageSize, imageSize], key: RandomKey(seed: 7))
let digits = floor(NDArray.uniform([cnnBatch], low: 0, high: 10, key: RandomKey(seed: 8))).to(.int64)
// The parameters as plain arrays, detached from the module (the tutorial also passes the
// module's buffers; these layers keep none).
let cnnParameters: Parameters = cnn.stateDict().mapValues(\.value)
print("\nconvolutional network: \(cnn.parameterCount) parameters, batch \(cnnBatch) of \(imageSize)×\(imageSize) images")

// The loss of one example: a batch of one through the module with the given parameters.
func cnnLoss(_ p: Parameters, _ image: NDArray, _ digit: NDArray) throws -> NDArray {
    nllLoss(try functionalCall(cnn, parameters: p, image.unsqueeze(0)), digit.unsqueeze(0))
}
let cnnPerSample = vmap(grad(cnnLoss), inAxes: (nil, 0, 0))
let cnnBatched = try cnnPerSample(cnnParameters, images, digits)

// The tutorial's loop: torch.autograd.grad of each example's loss with respect to the
// parameters, which returns the gradients without accumulating them into .grad.
let cnnNames = cnn.namedParameters().map(\.name)
func loopOfAutogradGrad() throws -> [[NDArray]] {
    try (0..<cnnBatch).map { i in
        let loss = nllLoss(cnn(Tensor(images[i].unsqueeze(0))), Tensor(digits[i].unsqueeze(0)))
        return try Autograd.grad(outputs: loss, inputs: cnn.parameters()).map { $0!.value }
    }
}
let cnnLooped = try loopOfAutogradGrad()
var cnnLargest = 0.0
for (k, name) in cnnNames.enumerated() {
    let looped = stack(cnnLooped.map { $0[k] })
    let relative = (cnnBatched[name]! - looped).abs().max().item() / max(looped.abs().max().item(), 1e-30)
    cnnLargest = max(cnnLargest, relative)
}
print(String(format: "per-sample gradient of conv1's weight: %@; largest difference from the loop, relative to each parameter's largest gradient: %.1e",
             "\(cnnBatched["conv1.weight"]!.shape)", cnnLargest))
check(cnnLargest < 1e-4, "vmap(grad) through the convolutional network equals a loop of Autograd.grad")
// The per-sample gradients average to the minibatch's gradient.
let meanGradient = try grad({ (p: Parameters) in
    nllLoss(try functionalCall(cnn, parameters: p, images), digits)
})(cnnParameters)
let averageError = cnnNames.map { name in
    (cnnBatched[name]!.mean(dim: 0) - meanGradient[name]!).abs().max().item() / max(meanGradient[name]!.abs().max().item(), 1e-30)
}.max()!
check(averageError < 1e-4, "the per-sample gradients average to the minibatch gradient")

let cnnVmapTime = try medianTime(repetitions: repetitions) { _ = try cnnPerSample(cnnParameters, images, digits) }
let cnnLoopTime = try medianTime(repetitions: repetitions) { _ = try loopOfAutogradGrad() }
print(String(format: "batch %d: vmap(grad) %.2f ms, loop of Autograd.grad %.2f ms (%.1f× faster)",
             cnnBatch, cnnVmapTime * 1000, cnnLoopTime * 1000, cnnLoopTime / cnnVmapTime))

print("PerSampleGradients complete.")
