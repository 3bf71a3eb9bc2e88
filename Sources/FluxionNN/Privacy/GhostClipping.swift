// Per-example gradient norms and clipped gradient sums without per-example gradients
// ("ghost clipping", Goodfellow 2015; Li et al. 2022; Opacus' `GradSampleModuleFastGradientClipping`).
//
// One forward pass records, for each layer with a ghost rule (`GhostClippable`: Linear,
// Conv2d, Embedding, LayerNorm), its input activations a; one backward pass from Σᵢ Lᵢ gives
// the gradients δ of the loss with respect to those layers' outputs — and only those, no
// parameter gradient is formed. Because example i's loss depends only on row i of every
// layer, δᵢ is the output gradient of Lᵢ alone, so each layer's per-example gradient is a
// function of (aᵢ, δᵢ) and its norm has a closed form (GhostRules.swift), e.g. for Linear
//
// ```
// ‖∇_W Lᵢ‖² = ‖aᵢ‖²·‖δᵢ‖²                              (vector inputs)
//           = Σ_{s,t} (aᵢₛ·aᵢₜ)(δᵢₛ·δᵢₜ)                 (sequence inputs, a Gram form)
// ‖∇_b Lᵢ‖² = ‖Σₛ δᵢₛ‖²
// ```
//
// Every other parameter (a layer without a rule, a layer called more than once, a layer run
// through `forward` instead of a call, a parameter used directly by a model's `forward`) is
// handled by `vmap(grad)` over examples in chunks of `chunkSize`, each chunk's per-example
// gradients reduced to squared norms and dropped before the next, so the result is exact for
// any differentiable model and memory stays bounded.
//
// The clipped sum Σᵢ cᵢ·gᵢ with cᵢ = min(1, C / (‖gᵢ‖ + 10⁻⁶)) (Opacus' factor) is, for a model
// whose parameters all have ghost rules, formed from the same a and δ with the rows of δ
// scaled by c (Linear: aᵀ·diag(c)·δ, one GEMM); otherwise by a second backward pass of the
// weighted loss Σᵢ cᵢ·Lᵢ over the same graph.
//
// Requirements (as Opacus'): the first axis of the input is the example axis, every layer
// keeps it first, and no layer mixes examples (no batch normalisation). The losses must be per
// example (`reduction: .none`). Parameters that do not require grad are left out.
//
// The pass registers forward hooks on the model's ruled layers for its extent (removed before
// it returns), so the model must not be called on another thread meanwhile.
//
// Left out: tied weights shared between two ghost layers are handled by the fallback only when
// the same module is called twice; two different modules holding one tensor are not detected.

import Fluxion
import FluxionCore

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
                              losses: Tensor(pass.losses.value))
}

// MARK: - The pass

/// One forward and one backward pass of a batch, with what the norms and the clipped sum need.
private struct GhostPass {
    /// A ghost layer's one call: its input's value and the gradient at its output.
    struct Record {
        let prefix: String
        let layer: any GhostClippable
        let input: NDArray
        let outputGradient: NDArray
    }

    let model: Module
    let losses: Tensor
    let records: [Record]
    /// Parameters without a ghost rule, by name.
    let others: [(name: String, tensor: Tensor)]
    let parameters: [(name: String, tensor: Tensor)]
    let norms: NDArray

    init(_ model: Module, _ substitutes: [String: Tensor]?, _ input: Tensor, _ target: Tensor, loss: PerExampleLoss, chunkSize: Int,
         keepGraph: Bool, file: StaticString, line: UInt) throws {
        self.model = model
        let batch = input.shape.first ?? 0
        // Substituted values become leaves of this pass's graph, so that layer outputs depend on them.
        let leaves = try (substitutes ?? [:]).mapValues { try Tensor($0.value, requiresGrad: true) }
        parameters = model.namedParameters().map { ($0.name, leaves[$0.name] ?? $0.tensor) }.filter { $0.1.requiresGrad }
        guard !parameters.isEmpty else {
            fail("perSampleGradientNorms", "\(type(of: model)) has no parameter that requires grad",
                 fix: "pass a model with learnable parameters", file: file, line: line)
        }

        // Forward, recording each ghost layer's calls.
        var calls: [ObjectIdentifier: [(input: Tensor, output: Tensor)]] = [:]
        let ghostModules = model.namedModules().compactMap { name, module in
            (module as? any GhostClippable).map { (name, $0) }
        }
        let handles = ghostModules.map { _, layer in
            layer.registerForwardHook { module, x, y in
                calls[ObjectIdentifier(module), default: []].append((x, y))
                return nil
            }
        }
        let output: Tensor
        do {
            defer { handles.forEach { $0.remove() } }
            output = substitutes == nil ? model(input) : try functionalCall(model, parameters: leaves, input)
        }
        losses = try loss(output, target)
        guard losses.shape == [batch] else {
            fail("perSampleGradientNorms", "the loss gave shape \(describe(losses.shape)) for a batch of \(batch) (input \(describe(input.shape)))",
                 fix: "return one loss per example, e.g. crossEntropy(output, target, reduction: .none)", file: file, line: line)
        }

        // A ghost rule applies to a layer called once, on a batch along the first axis, whose
        // parameters all require grad.
        let learnable = Set(parameters.map(\.name))
        var ghost: [(prefix: String, layer: any GhostClippable, input: Tensor, output: Tensor)] = []
        var covered = Set<String>()
        for (prefix, layer) in ghostModules {
            guard let made = calls[ObjectIdentifier(layer)], made.count == 1, let call = made.first,
                  call.input.shape.first == batch, call.output.shape.first == batch, call.output.requiresGrad else { continue }
            let own = layer.namedParameters(recurse: false).map { prefix.isEmpty ? $0.name : "\(prefix).\($0.name)" }
            guard !own.isEmpty, own.allSatisfy(learnable.contains) else { continue }
            ghost.append((prefix, layer, call.input, call.output))
            covered.formUnion(own)
        }
        others = parameters.filter { !covered.contains($0.name) }

        var squared = NDArray.zeros([batch], dtype: parameters[0].tensor.dtype)
        var records: [Record] = []
        if !ghost.isEmpty && batch > 0 {
            let deltas = try Autograd.grad(outputs: [losses.sum()], inputs: ghost.map(\.output),
                                           retainGraph: keepGraph && !others.isEmpty, allowUnused: true)
            for (entry, delta) in zip(ghost, deltas) {
                let record = Record(prefix: entry.prefix, layer: entry.layer, input: entry.input.value,
                                    outputGradient: delta?.value ?? NDArray.zerosLike(entry.output.value))
                for (_, norm2) in record.layer.perExampleSquaredNorms(input: record.input, outputGradient: record.outputGradient) {
                    squared = squared + norm2.to(squared.dtype)
                }
                records.append(record)
            }
        }
        self.records = records
        if !others.isEmpty && batch > 0 {
            squared = squared + (try Self.fallbackSquaredNorms(model, others, fixed: leaves.mapValues { $0.detach() }, input, target,
                                                               loss: loss, chunkSize: chunkSize, file: file, line: line))
        }
        norms = sqrt(squared)
    }

    /// Σ over parameters without a rule of ‖∇_p Lᵢ‖², by `vmap(grad)` over chunks of examples.
    /// `fixed`: substituted values of the other parameters, held constant.
    static func fallbackSquaredNorms(_ model: Module, _ others: [(name: String, tensor: Tensor)], fixed: [String: Tensor],
                                     _ input: Tensor, _ target: Tensor,
                                     loss: PerExampleLoss, chunkSize: Int, file: StaticString, line: UInt) throws -> NDArray {
        let batch = input.shape[0]
        return try withoutActuallyEscaping(loss) { loss in
            let values = Dictionary(uniqueKeysWithValues: others.map { ($0.name, $0.tensor.detach()) })
            let exampleLoss = { (p: [String: Tensor], x: Tensor, y: Tensor) throws -> Tensor in
                try loss(try functionalCall(model, parameters: fixed.merging(p) { $1 }, x.unsqueeze(0)), y.unsqueeze(0)).sum()
            }
            let perExample = vmap(grad(exampleLoss), inAxes: (nil, 0, 0), file: file, line: line)
            var pieces: [NDArray] = []
            let step = max(1, chunkSize)
            for start in stride(from: 0, to: batch, by: step) {
                let size = min(step, batch - start)
                let grads: [String: Tensor] = try noGrad {
                    try perExample(values, input.narrow(dim: 0, start: start, length: size).detach(),
                                   target.narrow(dim: 0, start: start, length: size).detach())
                }
                var chunk = NDArray.zeros([size], dtype: others[0].tensor.dtype)
                for (_, g) in grads {
                    let rows: NDArray = g.value.reshape([size, -1])
                    chunk = chunk + (rows * rows).sum(dim: 1)
                }
                pieces.append(chunk)
            }
            return pieces.count == 1 ? pieces[0] : concat(pieces, dim: 0)
        }
    }

    /// Σᵢ cᵢ·∇Lᵢ by parameter name: from the ghost rules when every parameter has one, else by
    /// a backward pass of Σᵢ cᵢ·Lᵢ over the graph kept from the first.
    func clippedSum(_ factors: NDArray) throws -> [String: NDArray] {
        guard others.isEmpty else {
            let weighted = (losses * Tensor(factors.to(losses.dtype))).sum()
            let grads = try Autograd.grad(outputs: [weighted], inputs: parameters.map(\.tensor), allowUnused: true)
            return Dictionary(uniqueKeysWithValues: zip(parameters, grads).map { p, g in
                (p.name, g?.value ?? NDArray.zerosLike(p.tensor.value))
            })
        }
        var sums: [String: NDArray] = [:]
        for record in records {
            for (name, g) in record.layer.clippedGradientSum(input: record.input, outputGradient: record.outputGradient,
                                                             factors: factors.to(record.outputGradient.dtype)) {
                sums[record.prefix.isEmpty ? name : "\(record.prefix).\(name)"] = g
            }
        }
        // A ghost layer whose output did not reach the loss still gets its (zero) sum.
        for p in parameters where sums[p.name] == nil { sums[p.name] = NDArray.zerosLike(p.tensor.value) }
        return sums
    }
}
