// Model ensembling: several models of one architecture, with different weights, run on the
// same inputs (to combine their predictions) or each on its own minibatch (to train them
// side by side). The obvious way is a loop over the models. The functional way stacks their
// parameters along a new first axis (`stackModuleState`) and maps one model, as a function of
// its parameters (`functionalCall`), over that axis with `vmap` — one batched computation in
// which each layer's matrix products for all models are one batched matrix product.
//
// Both ways are computed, checked against each other and timed. On a CPU the gain is modest:
// a 784-128-128-10 MLP spends nearly all its time in matrix products, which BLAS already runs
// near peak one model at a time, so batching saves the per-call overhead and little else (on a
// GPU, where small kernels leave the device idle, the gain is larger). The same stacked
// parameters then give every model's gradient in one call, and the ensemble trains together.
//
// Run: swift run -c release ModelEnsembling [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Foundation
import Fluxion
import FluxionNN
import NotebookSupport

typealias Parameters = [String: NDArray]

/// The largest absolute difference between two arrays, relative to the larger's largest entry.
func relativeDifference(_ a: NDArray, _ b: NDArray) -> Double {
    check(a.shape == b.shape, "compared arrays have one shape (\(a.shape) and \(b.shape))")
    return (a - b).abs().max().item() / max(a.abs().max().item(), b.abs().max().item(), 1e-30)
}

// An MNIST-sized MLP; the models differ only in their random initialization.
func simpleMLP(key: RandomKey) -> Sequential {
    let keys = key.split(into: 3)
    return Sequential(Flatten(), Linear(784, 128, key: keys[0]), ReLU(),
                      Linear(128, 128, key: keys[1]), ReLU(), Linear(128, 10, key: keys[2]))
}
let modelCount = 10, batch = 64
let models = RandomKey(seed: 0).split(into: modelCount).map(simpleMLP)

// Random "images": one minibatch per model, and labels for them.
let dataKeys = RandomKey(seed: 1).split(into: 2)
let minibatches = NDArray.normal([modelCount, batch, 1, 28, 28], key: dataKeys[0])
let labels = floor(NDArray.uniform([modelCount, batch], low: 0, high: 10, key: dataKeys[1])).to(.int64)
let minibatch = minibatches[0]

// — The loop: each model called on its inputs —

// Inference only, so nothing needs recording for a backward pass.
func loopDifferentMinibatches() -> NDArray {
    noGrad { stack(models.indices.map { models[$0](Tensor(minibatches[$0])).value }) }
}
func loopSameMinibatch() -> NDArray {
    noGrad { stack(models.map { $0(Tensor(minibatch)).value }) }
}
let loopDifferent = loopDifferentMinibatches(), loopSame = loopSameMinibatch()
print("loop: predictions for different minibatches \(loopDifferent.shape), for the same minibatch \(loopSame.shape)")

// — The ensemble as one function of stacked parameters —

// Every parameter of the ten models, stacked by name: "1.weight" [10, 128, 784], … The
// stacked values carry no history, so they are parameters of a function, not of a module.
let stacked: Parameters = try stackModuleState(models).mapValues(\.value)
print("stacked parameters:", stacked.keys.sorted().map { "\($0) \(stacked[$0]!.shape)" }.joined(separator: ", "))
check(stacked.count == models[0].parameters().count && stacked.values.allSatisfy { $0.shape[0] == modelCount },
      "one stacked array per parameter, models along the first axis")

// One model's computation as a function of (parameters, input). The module only provides the
// architecture: `strict` makes sure every one of its parameters is replaced, so none of
// models[0]'s own weights can leak into the other models' predictions.
let skeleton = models[0]
func model(_ p: Parameters, _ x: NDArray) throws -> NDArray {
    try functionalCall(skeleton, parameters: p, x, strict: true)
}

// Each model on its own minibatch: parameters and inputs both mapped along axis 0.
let differentMinibatches = vmap(model)
// Every model on the same minibatch: the input is shared (inAxes nil).
let sameMinibatch = vmap(model, inAxes: (0, nil))

let vmapDifferent = try differentMinibatches(stacked, minibatches)
let vmapSame = try sameMinibatch(stacked, minibatch)
let errorDifferent = relativeDifference(vmapDifferent, loopDifferent)
let errorSame = relativeDifference(vmapSame, loopSame)
print(String(format: "vmap: predictions %@ and %@; largest relative difference from the loop %.1e and %.1e",
             "\(vmapDifferent.shape)", "\(vmapSame.shape)", errorDifferent, errorSame))
// float32 products summed in another order: differences at rounding level, not more.
check(errorDifferent < 1e-5, "vmap over models and minibatches equals the loop")
check(errorSame < 1e-5, "vmap over models with a shared minibatch equals the loop")

// The models do differ — a mistake that ran one model ten times would fail here.
let spread = (vmapSame[0] - vmapSame[1]).abs().max().item()
print(String(format: "largest difference between models 0 and 1 on the same inputs: %.3f", spread))
check(spread > 1e-2, "the models' predictions differ")

// An ensemble prediction: the mean of the models' probabilities.
let ensembleProbabilities = softmax(vmapSame, dim: -1).mean(dim: 0)
let ensembleClasses = ensembleProbabilities.argmax(dim: -1)
check(ensembleProbabilities.shape == [batch, 10] && (ensembleProbabilities.sum(dim: -1) - 1).abs().max().item() < 1e-5,
      "the ensemble's probabilities sum to 1")
print("ensemble's classes for the first 10 images:", ensembleClasses[0..<10].doubles.map { Int($0) })

// — Timing —

let repetitions = quickRun ? 5 : 30
let times = (loopDifferent: medianTime(repetitions: repetitions) { _ = loopDifferentMinibatches() },
             vmapDifferent: try medianTime(repetitions: repetitions) { _ = try differentMinibatches(stacked, minibatches) },
             loopSame: medianTime(repetitions: repetitions) { _ = loopSameMinibatch() },
             vmapSame: try medianTime(repetitions: repetitions) { _ = try sameMinibatch(stacked, minibatch) })
print(String(format: "different minibatches: loop %.2f ms, vmap %.2f ms (%.2f× the loop's speed)",
             times.loopDifferent * 1000, times.vmapDifferent * 1000, times.loopDifferent / times.vmapDifferent))
print(String(format: "same minibatch:        loop %.2f ms, vmap %.2f ms (%.2f× the loop's speed)",
             times.loopSame * 1000, times.vmapSame * 1000, times.loopSame / times.vmapSame))
// The floating-point work is the same both ways (10 × 64 × (784·128 + 128·128 + 128·10)
// multiply-adds); the printed ratio is what batching saves in calls, copies and overhead.
let flops = 2.0 * Double(modelCount * batch * (784 * 128 + 128 * 128 + 128 * 10))
print(String(format: "throughput: loop %.1f GFLOP/s, vmap %.1f GFLOP/s",
             flops / times.loopDifferent / 1e9, flops / times.vmapDifferent / 1e9))

// — Training the ensemble together —

// The same stacked parameters give each model's gradient on its own minibatch in one call:
// vmap of grad, parameters and data mapped together.
func loss(_ p: Parameters, _ x: NDArray, _ y: NDArray) throws -> NDArray {
    crossEntropy(try model(p, x), y)
}
let ensembleGradient = vmap(grad(loss))
let gradients = try ensembleGradient(stacked, minibatches, labels)

// Against one backward pass per model through the modules themselves.
var largestGradientError = 0.0
for (i, m) in models.enumerated() {
    m.zeroGrad()
    try crossEntropy(m(Tensor(minibatches[i])), Tensor(labels[i])).backward()
    for (name, parameter) in m.namedParameters() {
        largestGradientError = max(largestGradientError, relativeDifference(gradients[name]![i], parameter.grad!.value))
    }
}
print(String(format: "vmap(grad): every model's gradient %@; largest relative difference from backward() %.1e",
             "\(gradients["1.weight"]!.shape)", largestGradientError))
check(largestGradientError < 1e-5, "vmap(grad) over the ensemble equals a backward pass per model")

// Plain gradient descent on all ten models at once; each fits its own (random) labels.
let steps = quickRun ? 5 : 100, learningRate = 0.05
let lossesBefore = try vmap(loss)(stacked, minibatches, labels)
var parameters = stacked
for _ in 0..<steps {
    let g = try ensembleGradient(parameters, minibatches, labels)
    parameters = parameters.merging(g) { p, dp in p - learningRate * dp }
}
let lossesAfter = try vmap(loss)(parameters, minibatches, labels)
print("losses before:", lossesBefore.doubles.map { String(format: "%.3f", $0) }.joined(separator: " "))
print("after \(steps) steps:", lossesAfter.doubles.map { String(format: "%.3f", $0) }.joined(separator: " "))
check((lossesAfter - lossesBefore).max().item() < 0, "every model's loss went down")

print("ModelEnsembling complete.")
