// Differentially private training with DP-SGD: a classifier trained by `DPOptimizer` (clipped
// per-example gradients from ghost clipping, Gaussian noise, Poisson-sampled batches, the RDP
// accountant), its test accuracy against ε beside the same model trained without privacy, and
// the time of a private step, eager and with the clipping jitted, against a non-private one.
//
// The data: a synthetic ten-class Gaussian mixture in 20 dimensions. Class k has mean μ_k, the
// rows of a 10 × 20 matrix of N(0, 0.7²) draws (key 1); an example of class y (uniform over the
// ten classes, key 2) is μ_y + N(0, I) (key 3). Classes overlap, so the best accuracy is below
// 100%; train and test sets are drawn independently from the same distribution.
//
// Run: swift run -c release DPTraining          (--quick: a smaller dataset, fewer steps)
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails.

import Fluxion
import FluxionNN
import NotebookSupport

let (trainSize, testSize, dimensions, classes) = (quickRun ? 2000 : 10_000, 2000, 20, 10)
let means = NDArray.normal([classes, dimensions], key: RandomKey(seed: 1)) * 0.7

/// `count` examples of the mixture: inputs `[count, 20]` and int64 labels `[count]`.
func mixture(_ count: Int, key: RandomKey) -> (x: NDArray, y: NDArray) {
    let (labelKey, noiseKey) = key.split()
    let y = NDArray.uniform([count], low: 0, high: Double(classes), key: labelKey).to(.int64)
    return (means.indexSelect(dim: 0, index: y) + NDArray.normal([count, dimensions], key: noiseKey), y)
}
let train = mixture(trainSize, key: RandomKey(seed: 2))
let test = mixture(testSize, key: RandomKey(seed: 3))

func makeModel() -> Sequential {
    let keys = RandomKey(seed: 4).split(into: 2)
    return Sequential(Linear(dimensions, 64, key: keys[0]), ReLU(), Linear(64, classes, key: keys[1]))
}

func accuracy(_ model: Module) -> Double {
    let predicted = noGrad { model(Tensor(test.x)) }.value.argmax(dim: 1).to(.float64).doubles
    let truth = test.y.to(.float64).doubles
    return Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(testSize)
}

let perExampleLoss: PerExampleLoss = { crossEntropy($0, $1, reduction: .none) }
let (batchSize, epochs, delta) = (100, quickRun ? 3 : 5, 1e-5)
let sampleRate = Double(batchSize) / Double(trainSize)
let steps = epochs * trainSize / batchSize

// — Without privacy: Adam on Poisson-sampled batches of the same expected size —

let plain = makeModel()
let adam = Adam(plain.parameters(), lr: 1e-2)
var sampleKey = RandomKey(seed: 5)
for _ in 0..<steps {
    let (next, key) = sampleKey.split()
    sampleKey = next
    let batch = PrivateSampling.poisson(rate: sampleRate).batch(datasetSize: trainSize, key: key)
    adam.zeroGrad()
    try crossEntropy(plain(Tensor(train.x.indexSelect(dim: 0, index: batch))), Tensor(train.y.indexSelect(dim: 0, index: batch))).backward()
    adam.step()
}
let plainAccuracy = accuracy(plain)
print(String(format: "non-private: %d steps of batch ≈ %d, test accuracy %.3f", steps, batchSize, plainAccuracy))
check(plainAccuracy > 0.8, "the non-private model classifies the mixture well (accuracy \(plainAccuracy))")

// — DP-Adam at several noise levels: accuracy against ε at δ = 1e-5 —

print("\n| noise σ | ε at δ = 1e-5 | test accuracy |\n|---|---|---|")
var results: [(sigma: Double, epsilon: Double, accuracy: Double)] = []
for sigma in [0.6, 1.0, 2.0, 4.0] {
    let model = makeModel()
    let optimizer = DPOptimizer.adam(model.parameters(), lr: 1e-2, noiseMultiplier: sigma, maxGradNorm: 1,
                                     sampleRate: sampleRate, datasetSize: trainSize, key: RandomKey(seed: 6))
    var key = RandomKey(seed: 5)    // the same batches as the non-private run
    for _ in 0..<steps {
        let (next, batchKey) = key.split()
        key = next
        let batch = PrivateSampling.poisson(rate: sampleRate).batch(datasetSize: trainSize, key: batchKey)
        try optimizer.step(model, Tensor(train.x.indexSelect(dim: 0, index: batch)), Tensor(train.y.indexSelect(dim: 0, index: batch)),
                           loss: perExampleLoss)
    }
    let result = (sigma, optimizer.epsilon(delta: delta), accuracy(model))
    results.append(result)
    print(String(format: "| %.1f | %.2f | %.3f |", result.0, result.1, result.2))
}
check(zip(results, results.dropFirst()).allSatisfy { $0.epsilon > $1.epsilon }, "more noise spends less privacy")
check(results[0].accuracy > 0.6, "the least private model still learns (accuracy \(results[0].accuracy))")
check(results.allSatisfy { $0.accuracy <= plainAccuracy + 0.02 }, "privacy does not improve accuracy")

// — Step time: a private step (clipped sum, noise, Adam) against a non-private one, batch 256 —

let timed = makeModel()
let x256 = Tensor(train.x.narrow(dim: 0, start: 0, length: 256))
let y256 = Tensor(train.y.narrow(dim: 0, start: 0, length: 256))
let timedAdam = Adam(timed.parameters(), lr: 1e-3)
let plainStep = try medianTime(repetitions: quickRun ? 5 : 50) {
    timedAdam.zeroGrad()
    try crossEntropy(timed(x256), y256).backward()
    timedAdam.step()
}
let privateOptimizer = DPOptimizer.adam(timed.parameters(), lr: 1e-3, noiseMultiplier: 1, maxGradNorm: 1, sampleRate: 256.0 / Double(trainSize),
                                        datasetSize: trainSize, key: RandomKey(seed: 7))
let privateStep = try medianTime(repetitions: quickRun ? 5 : 50) {
    try privateOptimizer.step(timed, x256, y256, loss: perExampleLoss)
}
// The clipped sum under jit: staged once for this batch shape, then replayed.
let clip = jit { (p: [String: Tensor], x: Tensor, y: Tensor) in
    try clippedGradientSum(timed, parameters: p, x, y, loss: perExampleLoss, maxNorm: 1).gradients
}
let stagedSum = try clip(timed.stateDict(), x256, y256)
let eagerSum = try clippedGradientSum(timed, x256, y256, loss: perExampleLoss, maxNorm: 1).gradients
var stagedGap = 0.0
for (name, g) in eagerSum {
    for (a, b) in zip(try g.doubles(), try stagedSum[name]!.doubles()) { stagedGap = max(stagedGap, abs(a - b) / (abs(a) + 1e-6)) }
}
check(stagedGap < 1e-4, "the jitted clipped sum is the eager one (largest relative difference \(stagedGap))")
let jittedStep = try medianTime(repetitions: quickRun ? 5 : 50) {
    privateOptimizer.step(clippedSum: try clip(timed.stateDict(), x256, y256), of: timed)
}
print(String(format: "\nstep time at batch 256: non-private %.3f ms, private %.3f ms (%.2f×), private with the clipping jitted %.3f ms (%.2f×)",
             plainStep * 1e3, privateStep * 1e3, privateStep / plainStep, jittedStep * 1e3, jittedStep / plainStep))
