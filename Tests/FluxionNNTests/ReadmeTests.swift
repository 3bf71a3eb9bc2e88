// The README's FluxionNN example, verbatim after the batch it trains on, so that it compiles
// and runs with the tests.

import Testing
import Fluxion
import FluxionNN

@Suite("The README's FluxionNN example")
struct ReadmeNNTests {
    @Test("modules, a training step and per-sample gradients, as the README shows them")
    func modulesAndPerSampleGradients() throws {
        let images = Tensor(NDArray.normal([4, 784], key: RandomKey(seed: 1)))
        let labels = Tensor(NDArray([3, 1, 4, 1], dtype: .int64))
        let model = Sequential(Linear(784, 256), ReLU(), Linear(256, 10))   // parameters: 0.weight, 0.bias, 2.weight, 2.bias
        let optimizer = Adam(model.parameters(), lr: 1e-3)
        optimizer.zeroGrad()
        try crossEntropy(model(images), labels).backward()                  // labels: int64 class indices
        optimizer.step()

        // Modules as functions of their parameters: per-sample gradients in three lines.
        func loss(_ p: [String: Tensor], _ x: Tensor, _ y: Tensor) throws -> Tensor {
            crossEntropy(try functionalCall(model, parameters: p, x), y)
        }
        let perSample = try vmap(grad(loss), inAxes: (nil, 0, 0))(model.stateDict(), images, labels)  // "0.weight": [B, 256, 784]
        #expect(perSample["0.weight"]!.shape == [4, 256, 784])
    }

    @Test("private training, as the README shows it")
    func privateTraining() throws {
        let model = Sequential(Linear(784, 256), ReLU(), Linear(256, 10))
        let images = Tensor(NDArray.normal([4, 784], key: RandomKey(seed: 2)))
        let labels = Tensor(NDArray([0, 9, 2, 2], dtype: .int64))
        let perExample: PerExampleLoss = { crossEntropy($0, $1, reduction: .none) }
        let norms = try perSampleGradientNorms(model, images, labels, loss: perExample)               // [B]
        let clipped = try clippedGradientSum(model, images, labels, loss: perExample, maxNorm: 1)    // Σᵢ cᵢ·gᵢ by name
        let dp = DPOptimizer.sgd(model.parameters(), lr: 0.1, noiseMultiplier: 1.1, maxGradNorm: 1,
                                 sampleRate: 256.0 / 60_000, datasetSize: 60_000, key: RandomKey(seed: 0))
        try dp.step(model, images, labels, loss: perExample)     // batches from PrivateSampling.poisson(rate:)
        print(dp.epsilon(delta: 1e-5))                           // ε spent so far

        // Under jit, the clipping stages into one program per batch shape:
        let clip = jit { (p: [String: Tensor], x: Tensor, y: Tensor) in
            try clippedGradientSum(model, parameters: p, x, y, loss: perExample, maxNorm: 1).gradients
        }
        dp.step(clippedSum: try clip(model.stateDict(), images, labels), of: model)
        #expect(norms.shape == [4] && clipped.gradients["0.weight"]!.shape == [256, 784])
        #expect(dp.epsilon(delta: 1e-5) > 0 && dp.steps == 2)
        // The jitted sum is the eager one.
        let again = try clippedGradientSum(model, images, labels, loss: perExample, maxNorm: 1).gradients
        let staged = try clip(model.stateDict(), images, labels)
        for (name, g) in again { expectClose(staged[name], try g.doubles(), rtol: 1e-5, atol: 1e-7, name) }
    }
}
