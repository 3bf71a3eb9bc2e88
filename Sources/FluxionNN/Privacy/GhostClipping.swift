// Per-example gradient norms and clipped gradient sums without per-example gradients
// ("ghost clipping", Goodfellow 2015; Li et al. 2022; Opacus' `GradSampleModuleFastGradientClipping`).
//
// The gradients δ of Σᵢ Lᵢ at the outputs of the layers with a ghost rule (`GhostClippable`:
// Linear, Conv2d, Embedding, LayerNorm) come from one forward and one backward pass, and no
// parameter gradient is formed: the forward pass adds a zero "tap" to each such layer's output
// and records the layer's input a, and the losses' pullback at the taps is δ (JAX's way of
// differentiating with respect to an intermediate value). Because example i's loss depends
// only on row i of every layer, δᵢ is the output gradient of Lᵢ alone, so each layer's
// per-example gradient is a function of (aᵢ, δᵢ) and its norm has a closed form
// (GhostRules.swift), e.g. for Linear
//
// ```
// ‖∇_W Lᵢ‖² = ‖aᵢ‖²·‖δᵢ‖²                              (vector inputs)
//           = Σ_{s,t} (aᵢₛ·aᵢₜ)(δᵢₛ·δᵢₜ)                 (sequence inputs, a Gram form)
// ‖∇_b Lᵢ‖² = ‖Σₛ δᵢₛ‖²
// ```
//
// The taps' shapes, and which layers are called once, come from staging the forward pass
// first (`makeProgram`: shapes only, no arithmetic). Every step is a transform, not the
// facade's tape, so the whole computation runs the same eagerly and inside `jit` (where it
// stages into one program), `grad` or `vmap`.
//
// Every other parameter (a layer without a rule, a layer called more than once, a layer run
// through `forward` instead of a call, a parameter used directly by a model's `forward`, a
// weight tied between two layers) is handled by `vmap(grad)` over examples in chunks of
// `chunkSize`, each chunk's per-example gradients reduced to squared norms and dropped before
// the next, so the result is exact for any differentiable model and memory stays bounded.
//
// The clipped sum Σᵢ cᵢ·gᵢ with cᵢ = min(1, C / (‖gᵢ‖ + 10⁻⁶)) (Opacus' factor) is, for a model
// whose parameters all have ghost rules, formed from the same a and δ with the rows of δ
// scaled by c (Linear: aᵀ·diag(c)·δ, one GEMM); otherwise by the losses' pullback at c over
// the same forward pass, differentiated then with respect to the parameters too.
//
// Requirements (as Opacus'): the first axis of the input is the example axis, every layer
// keeps it first, and no layer mixes examples (no batch normalisation). The losses must be per
// example (`reduction: .none`). Parameters that do not require grad are left out, unless
// substituted. A model or loss that reads its arrays' values (Swift control flow on them)
// cannot be staged; it is then run once more instead, eagerly, and cannot run inside `jit`.
//
// The pass registers forward hooks on the model's ruled layers for its extent (removed before
// it returns), so the model must not be called on another thread meanwhile.
//
// Left out: a ruled layer's parameter also used directly outside the layer's call (read by a
// parent's `forward`) is not detected; its norm would miss that use.

import Fluxion
import FluxionCore
import Synchronization

/// A loss per example: from the model's output for a batch `[B, ...]` and the batch's
/// targets to the B losses `[B]` (a loss with `reduction: .none`).
public typealias PerExampleLoss = (_ output: Tensor, _ target: Tensor) throws -> Tensor

/// The clipped gradient sum of a batch and what it was computed from.
public struct ClippedGradientSum {
    /// Σᵢ cᵢ·∇Lᵢ by parameter name (`namedParameters()` names), each of its parameter's shape;
    /// values without history.
    public let gradients: [String: Tensor]
    /// ‖∇Lᵢ‖ over all parameters, `[B]`.
    public let norms: Tensor
    /// The clipping factors cᵢ = min(1, C / (‖∇Lᵢ‖ + 10⁻⁶)), `[B]`.
    public let factors: Tensor
    /// The per-example losses Lᵢ, `[B]`, without history.
    public let losses: Tensor

    /// A clipped sum from its parts (a data-parallel sum of the ranks' sums, with their
    /// per-example norms, factors and losses joined): each member as documented above.
    public init(gradients: [String: Tensor], norms: Tensor, factors: Tensor, losses: Tensor) {
        self.gradients = gradients
        self.norms = norms
        self.factors = factors
        self.losses = losses
    }
}

/// The norm of each example's gradient over all of `model`'s parameters, without forming the
/// per-example gradients where a layer has a ghost rule.
///
/// ```
/// normsᵢ = ‖∇_θ Lᵢ(θ)‖₂ = √(Σ_params ‖∇_p Lᵢ‖²),   Lᵢ = loss(model(input), target)ᵢ
/// ```
///
/// - Parameters:
///   - model: any module; layers with a `GhostClippable` rule (Linear, Conv2d, Embedding,
///     LayerNorm) cost one backward pass together, every other parameter `vmap(grad)`.
///   - parameters: values to use in place of the module's own, by name, as `functionalCall`
///     takes them (e.g. a `stateDict()`); the gradients are then with respect to these.
///     Parameters not named keep the module's own tensors.
///   - input: the batch `[B, ...]`, examples along the first axis.
///   - target: the targets `[B, ...]`, passed to `loss` as they are.
///   - loss: the per-example losses `[B]` (`crossEntropy(o, t, reduction: .none)`).
///   - chunkSize: examples per `vmap(grad)` chunk for parameters without a rule.
///   - file: the caller's file, named in error messages (default: the call site).
///   - line: the caller's line, named in error messages (default: the call site).
/// - Returns: `[B]`, in the parameters' dtype, without history.
/// - Throws: errors from `loss`, from the model, or `TransformError` from the fallback.
public func perSampleGradientNorms(_ model: Module, parameters: [String: Tensor]? = nil, _ input: Tensor, _ target: Tensor,
                                   loss: PerExampleLoss, chunkSize: Int = 32,
                                   file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
    let pass = try GhostPass(model, parameters, input, target, loss: loss, chunkSize: chunkSize, keepGraph: false,
                             file: file, line: line)
    return Tensor(pass.norms)
}

/// The batch sum of per-example gradients each clipped to norm `maxNorm`, without forming the
/// per-example gradients where a layer has a ghost rule (DP-SGD's clipped sum).
///
/// ```
/// Σᵢ cᵢ·∇_θ Lᵢ,   cᵢ = min(1, C / (‖∇_θ Lᵢ‖ + 10⁻⁶)),   C = maxNorm
/// ```
///
/// For a Linear layer the weight's term is aᵀ·diag(c)·δ (one GEMM) from the layer's input
/// activations a `[B·T, in]` and output gradients δ `[B·T, out]`; a model with parameters
/// outside the ghost rules takes a second backward pass of Σᵢ cᵢ·Lᵢ instead.
///
/// - Parameters: as `perSampleGradientNorms`, and `maxNorm` C > 0.
/// - Returns: the sum by parameter name, the norms, factors and losses.
public func clippedGradientSum(_ model: Module, parameters: [String: Tensor]? = nil, _ input: Tensor, _ target: Tensor,
                               loss: PerExampleLoss, maxNorm: Double, chunkSize: Int = 32, file: StaticString = #fileID, line: UInt = #line) throws -> ClippedGradientSum {
    guard maxNorm > 0, maxNorm.isFinite else {
        fail("clippedGradientSum", "maxNorm must be positive and finite, got \(maxNorm)", fix: "pass the clipping bound C > 0, e.g. maxNorm: 1",
             file: file, line: line)
    }
    let pass = try GhostPass(model, parameters, input, target, loss: loss, chunkSize: chunkSize, keepGraph: true,
                             file: file, line: line)
    let factors = minimum(maxNorm / (pass.norms + 1e-6), NDArray.onesLike(pass.norms))
    let sums = try pass.clippedSum(factors)
    return ClippedGradientSum(gradients: sums.mapValues { Tensor($0) }, norms: Tensor(pass.norms), factors: Tensor(factors),
                              losses: Tensor(pass.losses))
}

// MARK: - The pass

/// A model and a batch signature whose ghost layers were found.
private struct DiscoveryKey: Hashable {
    let model: ObjectIdentifier
    let input: [Int]
    let inputType: DType
    let target: [Int]
    let targetType: DType
    let learnable: [String]
}

/// The ghost layers found for recent (model, signature) pairs, so that a training loop stages
/// its forward pass once; each use is confirmed by the pass itself.
private let discoveries = Mutex<[DiscoveryKey: GhostPass.Discovery]>([:])

/// One forward pass and the pullbacks of a batch's losses, with what the norms and the clipped
/// sum need. Written with the transforms (`makeProgram`, `vjp`, `vmap(grad)`), not the tape,
/// so that it runs the same eagerly and under `jit`, `grad` or `vmap`.
private struct GhostPass {
    /// A ghost layer's one call: its input's value and the gradient at its output.
    struct Record {
        let prefix: String
        let layer: any GhostClippable
        let input: NDArray
        let outputGradient: NDArray
    }

    /// The learnable parameters' values by name: substitutes where given, else the module's own.
    let parameters: [(name: String, value: NDArray)]
    let losses: NDArray
    let records: [Record]
    /// Parameters without a ghost rule, by name.
    let others: [(name: String, value: NDArray)]
    let norms: NDArray
    /// u ↦ Σᵢ uᵢ·∇_θ Lᵢ for every parameter, in `parameters`' order: kept when a clipped sum
    /// has parameters outside the ghost rules.
    let weightedGradient: ((NDArray) throws -> [NDArray])?

    init(_ model: Module, _ substitutes: [String: Tensor]?, _ input: Tensor, _ target: Tensor, loss: PerExampleLoss, chunkSize: Int,
         keepGraph: Bool, file: StaticString, line: UInt) throws {
        let batch = input.shape.first ?? 0
        let substitutes = substitutes ?? [:]
        parameters = model.namedParameters().compactMap { name, tensor in
            substitutes[name].map { (name, $0.value) } ?? (tensor.requiresGrad ? (name, tensor.value) : nil)
        }
        guard !parameters.isEmpty else {
            fail("perSampleGradientNorms", "\(type(of: model)) has no parameter that requires grad",
                 fix: "pass a model with learnable parameters", file: file, line: line)
        }
        let values = Dictionary(uniqueKeysWithValues: parameters)
        let (input, target) = (input.value, target.value)

        // Which ruled layers are called once on the batch, with what output: found by staging
        // the forward pass (shapes only, no arithmetic), or remembered from an earlier batch of
        // the same signature — the tapped pass below confirms it either way.
        let candidates = Self.candidates(model, learnable: Set(values.keys))
        let key = DiscoveryKey(model: ObjectIdentifier(model), input: input.shape, inputType: input.dtype, target: target.shape,
                               targetType: target.dtype, learnable: parameters.map(\.name))
        let remembered = discoveries.withLock { $0[key] }
        var found = try remembered ?? Self.discover(model, candidates, values, input, target, loss: loss)
        guard found.lossShape == [batch] else {
            fail("perSampleGradientNorms", "the loss gave shape \(describe(found.lossShape)) for a batch of \(batch) (input \(describe(input.shape)))",
                 fix: "return one loss per example, e.g. crossEntropy(output, target, reduction: .none)", file: file, line: line)
        }

        // The forward pass again with a zero added to each ghost layer's output (a "tap"): the
        // losses' pullback at a tap is the gradient δ at that output. The parameters are
        // differentiated too only when the clipped sum must come from the pullback. If a ghost
        // layer is not called exactly once with the output found (what was remembered no longer
        // holds, or the model's calls depend on its values), the layers are found again; should
        // that not hold either, every parameter takes the fallback.
        let names = parameters.map(\.name)
        var attempt = 0
        var pass: TappedPass
        while true {
            let ghost = found.layers.compactMap { found -> Ghost? in
                candidates.first { $0.prefix == found.prefix }.map { Ghost(prefix: found.prefix, layer: $0.layer, tap: NDArray.zeros(found.output, dtype: found.dtype)) }
            }
            let throughGraph = keepGraph && parameters.contains { !Self.covered(by: ghost).contains($0.name) }
            if let done = try Self.tappedPass(model, ghost, values: values, parameters: parameters, throughGraph: throughGraph,
                                              input, target, loss: loss, file: file, line: line) {
                pass = done
                break
            }
            attempt += 1
            found = attempt == 1 ? try Self.discover(model, candidates, values, input, target, loss: loss)
                                 : Discovery(layers: [], lossShape: found.lossShape)
        }
        discoveries.withLock { cache in
            if cache.count >= 64 { cache.removeAll() }
            cache[key] = found
        }
        let (ghost, losses, pullback, inputs) = (pass.ghost, pass.losses, pass.pullback, pass.inputs)
        let covered = Self.covered(by: ghost)
        others = parameters.filter { !covered.contains($0.name) }
        self.losses = losses
        weightedGradient = pass.throughGraph ? { u in Array(try pullback(u).prefix(names.count)) } : nil

        // ‖∇_p Lᵢ‖² by parameter, summed over parameters in declaration order (so that the
        // norms do not depend on a dictionary's order, nor on whether a clipped sum is asked).
        var squared: [String: NDArray] = [:]
        var records: [Record] = []
        if !ghost.isEmpty && batch > 0 {
            let deltas = try pullback(NDArray.onesLike(losses)).suffix(ghost.count)
            for ((g, a), delta) in zip(zip(ghost, inputs), deltas) {
                records.append(Record(prefix: g.prefix, layer: g.layer, input: a, outputGradient: delta))
                for (name, norm2) in g.layer.perExampleSquaredNorms(input: a, outputGradient: delta) {
                    squared[Self.join(g.prefix, name)] = norm2
                }
            }
        }
        self.records = records
        if !others.isEmpty && batch > 0 {
            squared.merge(try Self.fallbackSquaredNorms(model, others, fixed: values, input, target, loss: loss,
                                                        chunkSize: chunkSize, file: file, line: line)) { $1 }
        }
        let dtype = parameters[0].value.dtype
        norms = sqrt(parameters.reduce(NDArray.zeros([batch], dtype: dtype)) { total, p in
            squared[p.name].map { total + $0.to(dtype) } ?? total
        })
    }

    /// A ruled layer treated by its rule, and the zero added to its output.
    struct Ghost {
        let prefix: String
        let layer: any GhostClippable
        let tap: NDArray
    }

    /// What staging the forward pass found: the ruled layers called once on the batch, with
    /// their output's shape and dtype, and the losses' shape.
    struct Discovery: Sendable {
        let layers: [(prefix: String, output: [Int], dtype: DType)]
        let lossShape: [Int]
    }

    /// The forward pass with taps, differentiated.
    struct TappedPass {
        let ghost: [Ghost]
        let throughGraph: Bool
        let losses: NDArray
        let pullback: (NDArray) throws -> [NDArray]
        let inputs: [NDArray]
    }

    /// The forward pass staged (or, for a model that reads its values, run once) with hooks
    /// that note each candidate's calls.
    static func discover(_ model: Module, _ candidates: [(prefix: String, layer: any GhostClippable)], _ values: [String: NDArray],
                         _ input: NDArray, _ target: NDArray, loss: PerExampleLoss) throws -> Discovery {
        var calls: [ObjectIdentifier: [(input: [Int], output: [Int], dtype: DType)]] = [:]
        var lossShape: [Int] = []
        try withoutActuallyEscaping(loss) { loss in
            let handles = candidates.map { _, layer in
                layer.registerForwardHook { module, x, y in
                    calls[ObjectIdentifier(module), default: []].append((x.shape, y.shape, y.dtype))
                    return nil
                }
            }
            defer { handles.forEach { $0.remove() } }
            let forward = { (p: [String: NDArray], x: NDArray, t: NDArray) throws -> NDArray in
                let losses = try loss(try functionalCall(model, parameters: p.mapValues { Tensor($0) }, Tensor(x)), Tensor(t))
                lossShape = losses.shape
                return losses.value
            }
            do {
                _ = try makeProgram(forward, name: "forward")(values, input, target)
            } catch TransformError.concreteValueInStaging {
                // A model that reads its values cannot be staged: run it once instead.
                calls = [:]
                _ = try noGrad { try forward(values, input, target) }
            }
        }
        let batch = input.shape.first ?? 0
        let layers = candidates.compactMap { prefix, layer -> (prefix: String, output: [Int], dtype: DType)? in
            guard let made = calls[ObjectIdentifier(layer)], made.count == 1, let call = made.first,
                  call.input.first == batch, call.output.first == batch else { return nil }
            return (prefix, call.output, call.dtype)
        }
        return Discovery(layers: layers, lossShape: lossShape)
    }

    /// The forward pass with `ghost`'s taps under `vjp` (with respect to the parameters too
    /// when `throughGraph`); nil when a ghost layer was not called exactly once with its tap's
    /// shape.
    static func tappedPass(_ model: Module, _ ghost: [Ghost], values: [String: NDArray], parameters: [(name: String, value: NDArray)],
                           throughGraph: Bool, _ input: NDArray, _ target: NDArray, loss: PerExampleLoss,
                           file: StaticString, line: UInt) throws -> TappedPass? {
        let names = parameters.map(\.name)
        var calls = [Int](repeating: 0, count: ghost.count)
        let (losses, pullback, inputs) = try vjp(hasAux: { (leaves: [NDArray]) throws -> (NDArray, [NDArray]) in
            let p = throughGraph ? Dictionary(uniqueKeysWithValues: zip(names, leaves.prefix(names.count))) : values
            let taps = Array(leaves.suffix(ghost.count))
            var inputs = ghost.map { NDArray.zeros([0], dtype: $0.tap.dtype) }
            let handles = ghost.enumerated().map { k, g in
                g.layer.registerForwardHook { _, x, y in
                    calls[k] += y.shape == taps[k].shape ? 1 : 2
                    guard calls[k] == 1 else { return nil }
                    inputs[k] = x.value
                    return y + Tensor(taps[k])
                }
            }
            defer { handles.forEach { $0.remove() } }
            let output = try functionalCall(model, parameters: p.mapValues { Tensor($0) }, Tensor(input))
            return (try loss(output, Tensor(target)).value, inputs)
        }, at: (throughGraph ? parameters.map(\.value) : []) + ghost.map(\.tap), file: file, line: line)
        guard calls.allSatisfy({ $0 == 1 }) else { return nil }
        return TappedPass(ghost: ghost, throughGraph: throughGraph, losses: losses, pullback: pullback, inputs: inputs)
    }

    /// The names of the parameters the ghost layers' rules cover.
    static func covered(by ghost: [Ghost]) -> Set<String> {
        Set(ghost.flatMap { g in g.layer.namedParameters(recurse: false).map { join(g.prefix, $0.name) } })
    }

    /// `prefix.name`, or `name` at the top.
    static func join(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    /// The ruled layers whose parameters are all learnable and held by no other slot of the
    /// model (a weight tied between two layers gets gradient from both, so no one layer's rule
    /// gives its norm; it takes the fallback).
    static func candidates(_ model: Module, learnable: Set<String>) -> [(prefix: String, layer: any GhostClippable)] {
        var holders: [ObjectIdentifier: Int] = [:]
        for (_, slot) in model.allParameterSlots() {
            if let t = slot.tensor { holders[ObjectIdentifier(t), default: 0] += 1 }
        }
        return model.namedModules().compactMap { prefix, module in
            guard let layer = module as? any GhostClippable else { return nil }
            let own = layer.ownParameterSlots.compactMap { name, slot in slot.tensor.map { (Self.join(prefix, name), $0) } }
            guard !own.isEmpty, own.allSatisfy({ learnable.contains($0.0) && holders[ObjectIdentifier($0.1)] == 1 }) else { return nil }
            return (prefix, layer)
        }
    }

    /// ‖∇_p Lᵢ‖² `[B]` for each parameter p without a rule, by `vmap(grad)` over chunks of
    /// examples. `fixed`: the values of every parameter; those of `others` are differentiated.
    static func fallbackSquaredNorms(_ model: Module, _ others: [(name: String, value: NDArray)], fixed: [String: NDArray],
                                     _ input: NDArray, _ target: NDArray,
                                     loss: PerExampleLoss, chunkSize: Int, file: StaticString, line: UInt) throws -> [String: NDArray] {
        let batch = input.shape[0]
        return try withoutActuallyEscaping(loss) { loss in
            let exampleLoss = { (p: [String: NDArray], x: NDArray, y: NDArray) throws -> NDArray in
                let all = fixed.merging(p) { $1 }.mapValues { Tensor($0) }
                return try loss(try functionalCall(model, parameters: all, Tensor(x.unsqueeze(0))), Tensor(y.unsqueeze(0))).value.sum()
            }
            let perExample = vmap(grad(exampleLoss), inAxes: (nil, 0, 0), file: file, line: line)
            let differentiated = Dictionary(uniqueKeysWithValues: others)
            var pieces: [String: [NDArray]] = [:]
            let step = max(1, chunkSize)
            for start in stride(from: 0, to: batch, by: step) {
                let size = min(step, batch - start)
                let grads = try perExample(differentiated, input.narrow(dim: 0, start: start, length: size),
                                           target.narrow(dim: 0, start: start, length: size))
                for (name, g) in grads {
                    let rows = g.reshape([size, -1])
                    pieces[name, default: []].append((rows * rows).sum(dim: 1))
                }
            }
            return pieces.mapValues { $0.count == 1 ? $0[0] : concat($0, dim: 0) }
        }
    }

    /// Σᵢ cᵢ·∇Lᵢ by parameter name: from the ghost rules when every parameter has one, else by
    /// the losses' pullback at c.
    func clippedSum(_ factors: NDArray) throws -> [String: NDArray] {
        if let weightedGradient {
            return Dictionary(uniqueKeysWithValues: zip(parameters.map(\.name), try weightedGradient(factors.to(losses.dtype))))
        }
        var sums: [String: NDArray] = [:]
        for record in records {
            for (name, g) in record.layer.clippedGradientSum(input: record.input, outputGradient: record.outputGradient,
                                                             factors: factors.to(record.outputGradient.dtype)) {
                sums[Self.join(record.prefix, name)] = g
            }
        }
        // A ghost layer whose output did not reach the loss still gets its (zero) sum.
        for p in parameters where sums[p.name] == nil { sums[p.name] = NDArray.zerosLike(p.value) }
        return sums
    }
}
