// Data parallelism: every rank holds the same parameters, works on its own shard of the batch,
// and the ranks' results are reduced to what one process would compute on the whole batch.
//
// Sharding: the first axis of a batch of N examples is cut into `size` contiguous blocks of
// ⌊N/size⌋ or ⌈N/size⌉ rows (the first N mod size ranks take the longer ones) — the same blocks on
// every rank without communication, and in rank order, so that joining the ranks' per-example
// results (`allGather`) gives them in the batch's order.
//
// Means: a loss that is a mean over the examples of a shard, Lᵣ = (1/nᵣ) Σ_{i∈r} ℓᵢ, gives the
// global mean by weighting each rank by its share,
//
// ```
// L = (1/N) Σᵢ ℓᵢ = Σᵣ nᵣ·Lᵣ / Σᵣ nᵣ,        ∇L = Σᵣ nᵣ·∇Lᵣ / Σᵣ nᵣ
// ```
//
// so shards of unequal size (N not a multiple of size, or a rank with no examples) still give
// exactly the one-process result up to summation order. The weights nᵣ and the losses travel in
// the same buffer as the gradient: one MPI call per step.
//
// DP-SGD: clipping is per example, so each rank clips its own examples' gradients and the
// clipped sums add up across ranks (Σᵢ cᵢ·gᵢ splits over any partition of the batch). The noise
// must be added once to the global sum, not once per rank: independent draws on p ranks would
// sum to p times the variance the accountant assumes, so the model would train on noisier
// gradients than the one-process run for the same reported ε.
// `DPOptimizer` draws it from its own key, so optimizers built with the same key on every rank
// add the same draw to the same global sum: every rank takes the identical private step, with
// no extra communication. `Communicator.checkIdentical` verifies it.

import CMPI
import Fluxion
import FluxionNN

// MARK: - Sharding

extension Communicator {
    /// This rank's rows of a batch of `count` examples: a contiguous block of ⌊count/size⌋ or
    /// ⌈count/size⌉ rows, in rank order, covering 0 ..< count over the ranks without overlap
    /// (the first count mod size ranks take one row more).
    ///
    /// ```
    /// rows(r) = r·b + min(r, e) ..< (r+1)·b + min(r+1, e),   b = ⌊count/size⌋, e = count mod size
    /// ```
    public func shardRange(count: Int) -> Range<Int> {
        let (base, extra) = count.quotientAndRemainder(dividingBy: size)
        let lower = rank * base + Swift.min(rank, extra)
        return lower..<(lower + base + (rank < extra ? 1 : 0))
    }

    /// This rank's rows of `x` along its first axis (`shardRange(count: x.shape[0])`): a view.
    ///
    /// - Parameter x: a batch `[N, ...]`, the same on every rank (e.g. data read or drawn from a
    ///   shared key everywhere).
    /// - Returns: `[nᵣ, ...]`.
    /// - Throws: `DistributedError` for a 0-d `x`.
    public func shard(_ x: NDArray) throws -> NDArray {
        guard x.rank > 0 else {
            throw DistributedError(operation: "shard", problem: "a 0-d array has no batch axis to shard",
                                   fix: "pass a batch whose first axis runs over examples")
        }
        return x[shardRange(count: x.shape[0])]
    }

    /// This rank's rows of every array of a batch tree (points and targets, a MAML task
    /// batch's support and query sets), all cut along their first axis at the same rows.
    ///
    /// - Throws: `DistributedError` when the leaves' first axes differ or a leaf is 0-d.
    public func shard<Batch: ArrayTree>(_ batch: Batch) throws -> Batch {
        let count = try batchCount(batch, "shard")
        let rows = shardRange(count: count)
        return batch.mapLeaves { $0[rows] }
    }

    /// The common length of the first axes of `batch`'s leaves.
    func batchCount<Batch: ArrayTree>(_ batch: Batch, _ operation: String) throws -> Int {
        let leaves = batch.leaves
        guard let first = leaves.first else {
            throw DistributedError(operation: operation, problem: "the batch holds no arrays", fix: "pass the batch's arrays")
        }
        guard leaves.allSatisfy({ $0.rank > 0 && $0.shape[0] == first.shape.first }) else {
            throw DistributedError(operation: operation, problem: "the batch's arrays have first axes \(leaves.map { $0.shape.first ?? -1 }) (−1: 0-d)",
                                   fix: "give every array of the batch the examples along its first axis, the same number in each")
        }
        return first.shape[0]
    }
}

// MARK: - Global means of gradients

extension Communicator {
    /// The mean over every rank's examples of a per-rank mean (a gradient tree, or a loss with
    /// its gradient), weighting each rank by its number of examples, by one MPI call:
    ///
    /// ```
    /// result = Σᵣ nᵣ·treeᵣ / Σᵣ nᵣ
    /// ```
    ///
    /// With equal shards this is `allReduce(tree, .mean)`.
    ///
    /// - Parameters:
    ///   - tree: this rank's mean over its `localCount` examples (float32/float64 leaves, the same
    ///     structure and shapes on every rank); ignored when `localCount` is 0.
    ///   - localCount: nᵣ ≥ 0; the total over ranks must be positive.
    /// - Returns: the global mean, the same on every rank.
    /// - Throws: `DistributedError` when the ranks' trees differ, no rank has examples, or MPI fails.
    public func globalMean<Tree: ArrayTree>(_ tree: Tree, localCount: Int) throws -> Tree {
        try globalMean(tree, localCount: localCount, extras: [], "globalMean").tree
    }

    /// `globalMean` with numbers reduced alongside by plain sum (a loss already weighted by nᵣ).
    func globalMean<Tree: ArrayTree>(_ tree: Tree, localCount: Int, extras: [Double],
                                     _ operation: String) throws -> (tree: Tree, total: Int, extras: [Double]) {
        guard localCount >= 0 else {
            throw DistributedError(operation: operation, problem: "localCount is \(localCount)", fix: "pass this rank's number of examples, 0 or more")
        }
        let leaves = tree.leaves
        try requireFloating(leaves, operation)
        try agree(on: leaves, structure: tree.treeStructure, operation)
        let reduced = try fusedAllReduce(leaves, cmpi_op_sum(), preScale: Double(localCount), extras: extras + [Double(localCount)], operation) {
            $0.last! > 0 ? 1 / $0.last! : 1
        }
        let total = Int(reduced.extras.last!.rounded())
        guard total > 0 else {
            throw DistributedError(operation: operation, problem: "no rank has any examples (every localCount is 0)",
                                   fix: "give at least one rank a non-empty shard")
        }
        return (tree.rebuilt(with: reduced.leaves), total, Array(reduced.extras.dropLast()))
    }

    /// Replaces each parameter's `.grad` by its mean over the ranks (DDP's gradient averaging,
    /// by one MPI call for all of them), after `backward()` and before the optimizer's `step()`:
    ///
    /// ```
    /// p.grad ← Σᵣ nᵣ·p.gradᵣ / Σᵣ nᵣ      (nᵣ = localCount, or 1 on every rank when nil)
    /// ```
    ///
    /// A parameter without a gradient on a rank counts as a zero gradient there; one without a
    /// gradient on every rank keeps none.
    ///
    /// - Parameters:
    ///   - parameters: the same parameters, in the same order, on every rank (`model.parameters()`).
    ///   - localCount: this rank's number of examples when the loss was a mean over unequal
    ///     shards; nil for equal shards (a plain mean over ranks).
    /// - Throws: `DistributedError` when the ranks' parameters differ, or MPI fails.
    public func averageGradients(_ parameters: [Tensor], localCount: Int? = nil) throws {
        let gradients = parameters.map { $0.grad?.value ?? NDArray.zerosLike($0.value) }
        let present = parameters.map { $0.grad == nil ? 0.0 : 1.0 }
        let weight = localCount ?? 1
        let (mean, _, counts) = try globalMean(gradients, localCount: weight, extras: present, "averageGradients")
        for (i, p) in parameters.enumerated() where counts[i] > 0 {
            p.grad = Tensor(mean[i])
        }
    }

    /// `averageGradients` over `model.parameters()`.
    ///
    /// - Throws: `DistributedError` when the ranks' models differ, or MPI fails.
    public func averageGradients(_ model: Module, localCount: Int? = nil) throws {
        try averageGradients(model.parameters(), localCount: localCount)
    }

    /// Every rank's module starts from rank `root`'s parameter values (copied into the
    /// parameter tensors in place, so optimizers holding them see the values), by one MPI call.
    ///
    /// - Throws: `DistributedError` when the ranks' models differ, or MPI fails.
    public func broadcastParameters(_ model: Module, root: Int = 0) throws {
        let parameters = model.parameters()
        let values = try broadcast(parameters.map(\.value), root: root)
        guard rank != root else { return }
        try noGrad {
            for (p, v) in zip(parameters, values) { _ = try p.copy_(Tensor(v)) }
        }
    }
}

// MARK: - Sharded losses (PINN collocation points, MAML task batches)

extension Communicator {
    /// The value and gradient of a mean-over-examples loss on the whole `batch`, each rank
    /// computing its shard's and one MPI call combining them:
    ///
    /// ```
    /// L(θ) = (1/N) Σᵢ ℓᵢ(θ) = Σᵣ nᵣ·Lᵣ(θ) / N,   Lᵣ = loss(θ, shardᵣ(batch))
    /// ```
    ///
    /// For PINN collocation points (`batch` the points, or points and source values) and MAML
    /// task batches (a tree whose first axes run over tasks).
    ///
    /// - Parameters:
    ///   - loss: the mean of a per-example loss over the batch it is given, scalar.
    ///   - parameters: the same on every rank (`broadcast` them first).
    ///   - batch: the whole batch, the same on every rank; every leaf has the examples along its
    ///     first axis.
    /// - Returns: the global loss and its gradient, the same on every rank.
    /// - Throws: errors from `loss` and `valueAndGrad`; `DistributedError` as `globalMean`.
    public func shardedValueAndGrad<Parameters: ArrayTree, Batch: ArrayTree>(
        _ loss: @escaping (Parameters, Batch) throws -> NDArray, at parameters: Parameters, batch: Batch
    ) throws -> (value: Double, grad: Parameters) {
        _ = try batchCount(batch, "shardedValueAndGrad")
        return try meanValueAndGrad(loss, at: parameters, localBatch: shard(batch))
    }

    /// `shardedValueAndGrad` for data already split: each rank passes its own shard (of any
    /// size, 0 included) and gets the mean over all ranks' examples.
    ///
    /// - Throws: errors from `loss` and `valueAndGrad`; `DistributedError` as `globalMean`.
    public func meanValueAndGrad<Parameters: ArrayTree, Batch: ArrayTree>(
        _ loss: @escaping (Parameters, Batch) throws -> NDArray, at parameters: Parameters, localBatch: Batch
    ) throws -> (value: Double, grad: Parameters) {
        let n = try batchCount(localBatch, "meanValueAndGrad")
        var local = (value: 0.0, grad: parameters.mapLeaves { NDArray.zerosLike($0) })
        if n > 0 {
            let (value, g) = try valueAndGrad(loss)(parameters, localBatch)
            local = (value.item(), g)
        }
        let (mean, total, extras) = try globalMean(local.grad, localCount: n, extras: [Double(n) * local.value], "meanValueAndGrad")
        return (extras[0] / Double(total), mean)
    }
}

// MARK: - Private training

extension Communicator {
    /// Per-example gradient norms of a batch sharded over the ranks: each rank computes its
    /// examples' norms (`perSampleGradientNorms`), and the ranks' norms are joined in rank order.
    ///
    /// - Parameters: as `perSampleGradientNorms`, with `input` and `target` this rank's shard
    ///   (`shard(x)`), the model's parameters the same on every rank.
    /// - Returns: `[N]`, N the total of the shards, the same on every rank.
    /// - Throws: errors from the model and the loss; `DistributedError` when MPI fails.
    public func perSampleGradientNorms(_ model: Module, _ input: Tensor, _ target: Tensor, loss: @escaping PerExampleLoss,
                                       chunkSize: Int = 32) throws -> Tensor {
        let local = input.shape.first == 0 ? NDArray.zeros([0], dtype: try parameterDType(model))
            : try FluxionNN.perSampleGradientNorms(model, input, target, loss: loss, chunkSize: chunkSize).value
        return Tensor(try allGather(local))
    }

    /// DP-SGD's clipped gradient sum of a batch sharded over the ranks: each rank clips its own
    /// examples' gradients, and the ranks' sums are added by one MPI call:
    ///
    /// ```
    /// Σᵢ cᵢ·∇Lᵢ = Σᵣ Σ_{i∈r} cᵢ·∇Lᵢ,   cᵢ = min(1, C / (‖∇Lᵢ‖ + 10⁻⁶))
    /// ```
    ///
    /// No noise is added here: `DPOptimizer.step(_:_:_:loss:communicator:)` adds it once.
    ///
    /// - Parameters: as `clippedGradientSum`, with `input` and `target` this rank's shard.
    /// - Returns: the global sum by parameter name, and the norms, factors and losses of every
    ///   example joined in rank order; the same on every rank.
    /// - Throws: errors from the model and the loss; `DistributedError` when MPI fails.
    public func clippedGradientSum(_ model: Module, _ input: Tensor, _ target: Tensor, loss: @escaping PerExampleLoss,
                                   maxNorm: Double, chunkSize: Int = 32) throws -> ClippedGradientSum {
        let named = model.namedParameters().filter { $0.tensor.requiresGrad }
        var sums: [String: NDArray]
        var perExample: [NDArray]
        if input.shape.first == 0 {
            let dtype = try parameterDType(model)
            sums = Dictionary(named.map { ($0.name, NDArray.zerosLike($0.tensor.value)) }, uniquingKeysWith: { a, _ in a })
            perExample = Array(repeating: NDArray.zeros([0], dtype: dtype), count: 3)
        } else {
            let local = try FluxionNN.clippedGradientSum(model, input, target, loss: loss, maxNorm: maxNorm, chunkSize: chunkSize)
            sums = local.gradients.mapValues(\.value)
            perExample = [local.norms.value, local.factors.value, local.losses.value]
        }
        let global = try allReduce(sums, .sum)
        let joined = try perExample.map { try allGather($0) }
        return ClippedGradientSum(gradients: global.mapValues { Tensor($0) }, norms: Tensor(joined[0]), factors: Tensor(joined[1]),
                                  losses: Tensor(joined[2]))
    }

    private func parameterDType(_ model: Module) throws -> DType {
        guard let first = model.parameters().first(where: \.requiresGrad) else {
            throw DistributedError(operation: "clippedGradientSum", problem: "\(type(of: model)) has no parameter that requires grad",
                                   fix: "pass a model with trainable parameters")
        }
        return first.dtype
    }
}

extension DPOptimizer {
    /// One private step on a batch sharded over the ranks: the global clipped gradient sum
    /// (`Communicator.clippedGradientSum`), then `step()`, which adds the Gaussian noise once.
    ///
    /// ```
    /// g̃ = (Σᵣ Σ_{i∈r} cᵢ·∇Lᵢ + N(0, σ²C²·I)) / B̄
    /// ```
    ///
    /// Build the optimizer with the same `key` on every rank and start from the same parameters
    /// (`broadcastParameters`): every rank then draws the same noise and takes the same step, as
    /// one process would on the whole batch. The sample rate and dataset size are the global
    /// ones.
    ///
    /// - Parameters:
    ///   - model: the model whose parameters this optimizer holds.
    ///   - input: this rank's shard of the batch, `[nᵣ, ...]` (nᵣ may be 0).
    ///   - target: the shard's targets.
    ///   - loss: the per-example loss.
    ///   - communicator: the ranks sharing the batch.
    /// - Returns: the global clipped sum with every example's norm and loss.
    /// - Throws: errors from the model and the loss; `DistributedError` when MPI fails.
    @discardableResult
    public func step(_ model: Module, _ input: Tensor, _ target: Tensor, loss: @escaping PerExampleLoss,
                     communicator: Communicator) throws -> ClippedGradientSum {
        let clipped = try communicator.clippedGradientSum(model, input, target, loss: loss, maxNorm: maxGradNorm)
        for (name, p) in model.namedParameters() { p.grad = clipped.gradients[name] }
        step()
        return clipped
    }
}
