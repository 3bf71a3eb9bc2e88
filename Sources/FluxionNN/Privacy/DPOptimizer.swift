// DP-SGD (Abadi et al. 2016) as a wrapper around any optimizer, as Opacus' `DPOptimizer`:
// each step takes the batch sum of per-example gradients clipped to norm C
// (`clippedGradientSum`), adds Gaussian noise of standard deviation σ·C drawn from the
// optimizer's own `RandomKey`, divides by the expected batch size, and hands the result to the
// wrapped optimizer as its gradient:
//
// ```
// g̃ = (Σᵢ∈batch cᵢ·∇Lᵢ + N(0, σ²C²·I)) / B̄,   cᵢ = min(1, C / (‖∇Lᵢ‖ + 10⁻⁶)),   B̄ = q·N
// ```
//
// and records the step in an `RDPAccountant` (Poisson-subsampled Gaussian mechanism with rate
// q), so `epsilon(delta:)` reports the privacy spent. Dividing by the expected batch size, not
// the drawn one, keeps the sensitivity of the average at C/B̄ (Opacus does the same).
//
// Keys: each step splits the optimizer's key into the next key and the step's noise key, so a
// run is reproducible from its key and the noise does not depend on any global random stream.
//
// Left out: the accountant assumes Poisson sampling; with fixed-size batches
// (`PrivateSampling.fixedSize`) the reported ε uses q = B/N as an approximation, as Opacus does
// when asked.

import Fluxion
import FluxionCore

/// Differentially private training by DP-SGD around any optimizer (Opacus' `DPOptimizer`).
///
/// ```swift
/// let optimizer = DPOptimizer.sgd(model.parameters(), lr: 0.1, noiseMultiplier: 1.1, maxGradNorm: 1,
///                                 sampleRate: 256.0 / 60_000, datasetSize: 60_000, key: RandomKey(seed: 0))
/// for (x, y) in batches {                          // drawn with PrivateSampling.poisson
///     try optimizer.step(model, x, y) { crossEntropy($0, $1, reduction: .none) }
/// }
/// optimizer.epsilon(delta: 1e-5)
/// ```
///
/// Calling `step()` alone privatises whatever `.grad` holds, which must then be the clipped
/// sum (as `clippedGradientSum` gives); a parameter without a gradient is treated as zero, so
/// an empty Poisson batch still releases noise only.
public final class DPOptimizer: Optimizer {
    /// The optimizer that receives the privatised gradient.
    public let optimizer: any Optimizer
    /// σ: the noise's standard deviation over the clipping bound.
    public let noiseMultiplier: Double
    /// C: the bound each example's gradient norm is clipped to.
    public let maxGradNorm: Double
    /// q: the probability with which each example is in a batch.
    public let sampleRate: Double
    /// B̄ = q·N: what the noisy sum is divided by.
    public let expectedBatchSize: Double
    /// The privacy spent by the steps taken: `steps` compositions of one step's mechanism,
    /// formed when asked (σ and q are fixed, so a step only counts).
    public var accountant: RDPAccountant {
        var accountant = RDPAccountant()
        accountant.compose(noiseMultiplier: noiseMultiplier, samplingRate: sampleRate, steps: steps)
        return accountant
    }
    /// The steps taken.
    public private(set) var steps = 0
    /// The key the next step's noise is split from.
    private var key: RandomKey

    /// The wrapped optimizer's parameters.
    public var parameters: [Tensor] { optimizer.parameters }
    /// The wrapped optimizer's learning rate.
    public var lr: Double {
        get { optimizer.lr }
        set { optimizer.lr = newValue }
    }

    /// - Parameters:
    ///   - optimizer: the optimizer to feed the privatised gradient (SGD, Adam, …).
    ///   - noiseMultiplier: σ ≥ 0.
    ///   - maxGradNorm: C > 0.
    ///   - sampleRate: q in (0, 1], the batch's expected fraction of the dataset.
    ///   - datasetSize: N; the expected batch size is q·N.
    ///   - key: the key the noise of every step is split from.
    ///   - file: the caller's file, named in error messages (default: the call site).
    ///   - line: the caller's line, named in error messages (default: the call site).
    public init(_ optimizer: any Optimizer, noiseMultiplier: Double, maxGradNorm: Double, sampleRate: Double, datasetSize: Int,
                key: RandomKey, file: StaticString = #fileID, line: UInt = #line) {
        guard noiseMultiplier >= 0, maxGradNorm > 0, sampleRate > 0, sampleRate <= 1, datasetSize > 0 else {
            fail("DPOptimizer", "noise multiplier \(noiseMultiplier), max grad norm \(maxGradNorm), sample rate \(sampleRate), dataset size \(datasetSize)",
                 fix: "pass σ ≥ 0, C > 0, a sample rate in (0, 1] and a positive dataset size", file: file, line: line)
        }
        self.optimizer = optimizer
        self.noiseMultiplier = noiseMultiplier
        self.maxGradNorm = maxGradNorm
        self.sampleRate = sampleRate
        expectedBatchSize = sampleRate * Double(datasetSize)
        self.key = key
    }

    /// DP-SGD: `DPOptimizer` around `SGD` (see both).
    public static func sgd(_ parameters: [Tensor], lr: Double, momentum: Double = 0, weightDecay: Double = 0,
                           noiseMultiplier: Double, maxGradNorm: Double, sampleRate: Double, datasetSize: Int,
                           key: RandomKey) -> DPOptimizer {
        DPOptimizer(SGD(parameters, lr: lr, momentum: momentum, weightDecay: weightDecay), noiseMultiplier: noiseMultiplier,
                    maxGradNorm: maxGradNorm, sampleRate: sampleRate, datasetSize: datasetSize, key: key)
    }

    /// DP-Adam: `DPOptimizer` around `Adam` (see both).
    public static func adam(_ parameters: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                            noiseMultiplier: Double, maxGradNorm: Double, sampleRate: Double, datasetSize: Int,
                            key: RandomKey) -> DPOptimizer {
        DPOptimizer(Adam(parameters, lr: lr, betas: betas, eps: eps), noiseMultiplier: noiseMultiplier,
                    maxGradNorm: maxGradNorm, sampleRate: sampleRate, datasetSize: datasetSize, key: key)
    }

    /// Replaces each parameter's gradient (the clipped sum, or nothing: zero) by
    /// (sum + N(0, σ²C²)) / B̄, steps the wrapped optimizer, and accounts for the step.
    public func step() {
        let (next, current) = key.split()
        key = next
        let keys = current.split(into: max(parameters.count, 1))
        for (p, k) in zip(parameters, keys) {
            let sum = p.grad?.value ?? NDArray.zerosLike(p.value)
            let noise = NDArray.normal(p.shape, key: k, dtype: p.dtype) * (noiseMultiplier * maxGradNorm)
            p.grad = Tensor((sum + noise) / expectedBatchSize)
        }
        optimizer.step()
        steps += 1
    }

    /// One private step on a batch: the clipped gradient sum of `model`'s parameters on
    /// (`input`, `target`) with per-example `loss`, then `step()`. The optimizer's parameters
    /// must be the model's.
    ///
    /// - Returns: the clipped sum with the batch's per-example norms and losses.
    @discardableResult
    public func step(_ model: Module, _ input: Tensor, _ target: Tensor, loss: PerExampleLoss) throws -> ClippedGradientSum {
        let clipped = try clippedGradientSum(model, input, target, loss: loss, maxNorm: maxGradNorm)
        step(clippedSum: clipped.gradients, of: model)
        return clipped
    }

    /// One private step from a clipped sum computed elsewhere — by a jitted
    /// `clippedGradientSum`, say, with `maxNorm` equal to this optimizer's `maxGradNorm`: each
    /// of `model`'s parameters gets its sum by name as its gradient (none: zero), then `step()`.
    public func step(clippedSum: [String: Tensor], of model: Module) {
        for (name, p) in model.namedParameters() { p.grad = clippedSum[name] }
        step()
    }

    /// ε of the steps so far at `delta` (the RDP accountant's bound).
    public func epsilon(delta: Double) -> Double { accountant.epsilon(delta: delta).epsilon }
}

/// How a private training loop draws its batches from a dataset of N examples.
public enum PrivateSampling: Sendable {
    /// Each example independently with probability `rate` (the sampling the accountant
    /// assumes): batches vary in size around rate·N.
    case poisson(rate: Double)
    /// `size` distinct examples uniformly at random.
    case fixedSize(Int)

    /// The indices of one batch, int64 `[b]` in increasing order, from `key`.
    public func batch(datasetSize n: Int, key: RandomKey) -> NDArray {
        let u = NDArray.uniform([n], key: key, dtype: .float64).doubles
        let chosen: [Int]
        switch self {
        case .poisson(let rate):
            chosen = u.indices.filter { u[$0] < rate }
        case .fixedSize(let size):
            chosen = Array(u.indices.sorted { u[$0] < u[$1] }.prefix(size)).sorted()
        }
        return NDArray(shape: [chosen.count], scalars: chosen)
    }
}
