// DPOptimizer: the noise's mean and variance, the noiseless step against the clipped sum,
// reproducibility from the key, the accountant's bookkeeping, and the batch samplers.

import Testing
import Fluxion
import FluxionNN

@Suite("DPOptimizer: DP-SGD around any optimizer")
struct DPOptimizerTests {
    @Test("the noise added to a zero gradient has mean 0 and standard deviation σ·C / B̄")
    func noiseMoments() throws {
        let n = 40_000
        let p = try Tensor(NDArray.zeros([n], dtype: .float64), requiresGrad: true)
        // σ = 1.5, C = 2, B̄ = 0.1 · 100 = 10: the update −g̃ has standard deviation 0.3.
        let optimizer = DPOptimizer.sgd([p], lr: 1, noiseMultiplier: 1.5, maxGradNorm: 2, sampleRate: 0.1, datasetSize: 100,
                                        key: RandomKey(seed: 1))
        optimizer.step()
        let values = try p.detach().doubles()
        let mean = values.reduce(0, +) / Double(n)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        let sd = 0.3
        // Four standard errors: of the mean sd/√n, of the variance sd²·√(2/(n−1)).
        #expect(Swift.abs(mean) < 4 * sd / Double(n).squareRoot(), "mean \(mean)")
        #expect(Swift.abs(variance - sd * sd) < 4 * sd * sd * (2 / Double(n - 1)).squareRoot(), "variance \(variance)")
    }

    @Test("the same key gives the same noise; successive steps draw fresh noise")
    func keys() throws {
        func run(_ seed: UInt64) throws -> ([Double], [Double]) {
            let p = try Tensor(NDArray.zeros([8], dtype: .float64), requiresGrad: true)
            let optimizer = DPOptimizer.sgd([p], lr: 1, noiseMultiplier: 1, maxGradNorm: 1, sampleRate: 1, datasetSize: 1,
                                            key: RandomKey(seed: seed))
            optimizer.step()
            let first = try p.detach().doubles()
            optimizer.step()
            return (first, try p.detach().doubles().enumerated().map { $1 - first[$0] })
        }
        let (a1, a2) = try run(3)
        let (b1, _) = try run(3)
        let (c1, _) = try run(4)
        #expect(a1 == b1)
        #expect(a1 != c1)
        #expect(a1 != a2)
    }

    @Test("without noise a step moves the parameters by −lr·(clipped sum)/B̄; the accountant counts steps")
    func noiselessStep() throws {
        let keys = RandomKey(seed: 5).split(into: 3)
        let model = Sequential(Linear(4, 5, dtype: .float64, key: keys[0]), Tanh(), Linear(5, 3, dtype: .float64, key: keys[1]))
        let x = Tensor.randn([6, 4], key: keys[2], dtype: .float64) * 3
        let y = Tensor.randint(high: 3, [6], key: RandomKey(seed: 6))
        let loss: PerExampleLoss = { crossEntropy($0, $1, reduction: .none) }
        // Read now: stateDict() shares storage with the parameters the step updates in place.
        let before = try model.stateDict().mapValues { try $0.doubles() }
        let expected = try clippedGradientSum(model, x, y, loss: loss, maxNorm: 0.5)
        let optimizer = DPOptimizer.sgd(model.parameters(), lr: 0.2, noiseMultiplier: 0, maxGradNorm: 0.5, sampleRate: 0.5,
                                        datasetSize: 12, key: RandomKey(seed: 7))
        let result = try optimizer.step(model, x, y, loss: loss)
        #expect(try result.norms.doubles() == expected.norms.doubles())
        for (name, p) in model.namedParameters() {
            let moved = zip(before[name]!, try p.detach().doubles()).map { $1 - $0 }
            let step = try expected.gradients[name]!.doubles().map { -0.2 * $0 / 6 }
            expectClose(moved, step, rtol: 1e-10, atol: 1e-14, name)
        }
        #expect(optimizer.steps == 1)
        let noisy = DPOptimizer.adam(model.parameters(), noiseMultiplier: 1.1, maxGradNorm: 1, sampleRate: 0.01, datasetSize: 1000,
                                     key: RandomKey(seed: 8))
        for _ in 0..<10 { noisy.step() }
        var accountant = RDPAccountant()
        accountant.compose(noiseMultiplier: 1.1, samplingRate: 0.01, steps: 10)
        #expect(noisy.epsilon(delta: 1e-5) == accountant.epsilon(delta: 1e-5).epsilon)
        #expect(noisy.epsilon(delta: 1e-5) > 0)
    }

    @Test("Poisson batches include each example with the rate; fixed-size batches are distinct and sorted")
    func sampling() {
        let keys = RandomKey(seed: 9).split(into: 200)
        let sizes = keys.map { PrivateSampling.poisson(rate: 0.05).batch(datasetSize: 1000, key: $0).shape[0] }
        let mean = Double(sizes.reduce(0, +)) / Double(sizes.count)
        // Binomial(1000, 0.05): mean 50, standard deviation 6.9; over 200 batches the mean's is 0.49.
        #expect(Swift.abs(mean - 50) < 2, "mean batch size \(mean)")
        #expect(Set(sizes).count > 5)
        let fixed = PrivateSampling.fixedSize(30).batch(datasetSize: 100, key: keys[0]).to(.float64).doubles.map { Int($0) }
        #expect(fixed.count == 30 && Set(fixed).count == 30 && fixed == fixed.sorted() && fixed.allSatisfy { (0..<100).contains($0) })
    }
}
