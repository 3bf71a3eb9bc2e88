// Backward passes: `backward()` accumulating into `.grad`, and `Autograd.grad` returning the
// gradients. Both run the reverse sweep `grad` uses, over the facade's tape:
//
// 1. seeds: the outputs' gradients (ones for a scalar output);
// 2. the graph of nodes reachable from the outputs, checked for freed values and misuse;
// 3. one sweep, in which hooks and `retainGrad` intercept cotangents as they complete, and
//    anomaly detection inspects every rule's results;
// 4. afterwards, unless `retainGraph`, every node releases the values it saved.
//
// With `createGraph` the rules run on the recorded values as tensors on the tape, so the
// gradients are recorded too and can be differentiated again; grad mode is on during the
// sweep exactly when `createGraph` is, as in PyTorch.

import FluxionCore

extension Tensor {
    /// Computes the gradient of this tensor with respect to the leaves of its graph and adds
    /// it to their `grad`.
    ///
    /// - Parameters:
    ///   - gradient: ∂L/∂self for some downstream L, with this tensor's shape; required unless
    ///     the tensor has one element. The leaves receive the vector-Jacobian product.
    ///   - retainGraph: keep saved values for another backward pass (default: `createGraph`).
    ///   - createGraph: record the backward pass, so the gradients have a `gradFn` and can be
    ///     differentiated again.
    ///   - inputs: accumulate only into these tensors (leaves or not) instead of all leaves; the
    ///     pass stops at them (nothing beyond them runs, hooks included). Must not be empty,
    ///     and each must require grad.
    ///   - file: the caller's file, named in error messages (default: the call site).
    ///   - line: the caller's line, named in error messages (default: the call site).
    public func backward(gradient: Tensor? = nil, retainGraph: Bool? = nil, createGraph: Bool = false,
                         inputs: [Tensor]? = nil, file: StaticString = #fileID, line: UInt = #line) throws {
        if let inputs {
            try Autograd.checkInputs(inputs, function: "backward()", file: file, line: line)
        }
        let pass = BackwardPass(file: "\(file)", line: line, createGraph: createGraph,
                                retainGraph: retainGraph ?? createGraph, fillsRetainedGrads: true)
        let (targets, gradients) = try pass.run(roots: [self], gradients: [gradient], inputs: inputs)
        for (target, g) in zip(targets, gradients) {
            // A tensor that retains its gradient received it during the sweep.
            if let g, !target.retainsGrad { target.accumulate(g) }
        }
    }
}

extension Autograd {
    /// The gradients of `outputs` with respect to `inputs`, returned rather than accumulated
    /// into `.grad` (`torch.autograd.grad`).
    ///
    /// - Parameters:
    ///   - outputs: the tensors to differentiate.
    ///   - inputs: the tensors to differentiate with respect to.
    ///   - gradOutputs: ∂L/∂output for each output (nil: ones, for one-element outputs).
    ///   - retainGraph: keep saved values for another pass (default: `createGraph`).
    ///   - createGraph: record the computation, so the gradients can be differentiated again
    ///     (Hessians, gradient penalties, MAML inner steps).
    ///   - allowUnused: give nil for inputs the outputs do not depend on instead of throwing.
    ///   - file: the caller's file, named in error messages (default: the call site).
    ///   - line: the caller's line, named in error messages (default: the call site).
    /// - Returns: one gradient per input, with the input's shape.
    ///
    /// The pass stops at `inputs` (which must not be empty, and must require grad): nothing
    /// beyond them runs — no hook of a tensor they were computed from, no rule — and only the
    /// nodes that ran release their saved values.
    public static func grad(outputs: [Tensor], inputs: [Tensor], gradOutputs: [Tensor?]? = nil,
                            retainGraph: Bool? = nil, createGraph: Bool = false, allowUnused: Bool = false,
                            file: StaticString = #fileID, line: UInt = #line) throws -> [Tensor?] {
        try checkInputs(inputs, function: "grad()", file: file, line: line)
        let pass = BackwardPass(file: "\(file)", line: line, createGraph: createGraph,
                                retainGraph: retainGraph ?? createGraph, fillsRetainedGrads: false)
        let seeds = gradOutputs ?? outputs.map { _ in nil }
        let (_, gradients) = try pass.run(roots: outputs, gradients: seeds, inputs: inputs)
        return try gradients.enumerated().map { i, g in
            guard let g else {
                if allowUnused { return nil }
                throw AutogradError.unusedInput(index: i, file: "\(file)", line: line)
            }
            return Tensor(g)
        }
    }

    /// Refuses an empty list of inputs and inputs that do not require grad, as PyTorch does.
    static func checkInputs(_ inputs: [Tensor], function: String, file: StaticString, line: UInt) throws {
        guard !inputs.isEmpty else { throw AutogradError.emptyInputs(function: function, file: "\(file)", line: line) }
        for (i, input) in inputs.enumerated() where !input.requiresGrad {
            throw AutogradError.inputDoesNotRequireGrad(index: i, file: "\(file)", line: line)
        }
    }

    /// The gradient of one output with respect to one input (see `grad(outputs:inputs:)`).
    public static func grad(outputs: Tensor, inputs: Tensor, gradOutputs: Tensor? = nil,
                            retainGraph: Bool? = nil, createGraph: Bool = false, allowUnused: Bool = false,
                            file: StaticString = #fileID, line: UInt = #line) throws -> [Tensor?] {
        try grad(outputs: [outputs], inputs: [inputs], gradOutputs: [gradOutputs], retainGraph: retainGraph,
                 createGraph: createGraph, allowUnused: allowUnused, file: file, line: line)
    }

    /// The gradients of one output with respect to several inputs, as in
    /// `torch.autograd.grad(loss, list(model.parameters()))` (see `grad(outputs:inputs:)`).
    public static func grad(outputs: Tensor, inputs: [Tensor], gradOutputs: Tensor? = nil,
                            retainGraph: Bool? = nil, createGraph: Bool = false, allowUnused: Bool = false,
                            file: StaticString = #fileID, line: UInt = #line) throws -> [Tensor?] {
        try grad(outputs: [outputs], inputs: inputs, gradOutputs: [gradOutputs], retainGraph: retainGraph,
                 createGraph: createGraph, allowUnused: allowUnused, file: file, line: line)
    }
}

/// One backward pass over the facade's tape.
struct BackwardPass {
    let file: String
    let line: UInt
    let createGraph: Bool
    let retainGraph: Bool
    /// Whether tensors that `retainGrad()` receive their gradients (backward does,
    /// `Autograd.grad` does not).
    let fillsRetainedGrads: Bool

    /// The tensors gradients are computed for and their gradients (nil: not reached).
    ///
    /// With `inputs`, the pass stops at them, as PyTorch's engine does: only the nodes on a
    /// path from a root to an input run (and only their hooks), and only they are checked for
    /// freed values and release theirs afterwards; the graph beyond the inputs is untouched.
    /// Without, the inputs are every leaf of the graph.
    func run(roots: [Tensor], gradients: [Tensor?], inputs: [Tensor]?) throws -> (targets: [Tensor], gradients: [NDArray?]) {
        let seeds = try zip(roots, gradients).map(seed)
        let nodes = graph(from: roots)
        // The tape outputs the sweep computes gradients for; without inputs, every leaf's
        // (including leaves whose tensor is gone, so that hooks on the way to them run).
        var targets: [Tensor]
        let leaves: [TapeEntry.Ref]
        var targetRefs: [TapeEntry.Ref?]
        if let inputs {
            (targets, targetRefs) = (inputs, inputs.map(\.tapeOutput))
            leaves = targetRefs.compactMap { $0 }
        } else {
            let accumulators = nodes.filter(\.accumulatesGrad)
            (targets, targetRefs) = ([], [])
            var all: [TapeEntry.Ref] = []
            for node in accumulators {
                all.append(node.ref)
                if let tensor = node.variable { targets.append(tensor); targetRefs.append(node.ref) }
            }
            leaves = all
        }
        // Without inputs every operation runs: each leads to a leaf.
        let running = inputs == nil ? nodes.filter { !$0.accumulatesGrad }
                                    : nodesThatRun(nodes, toward: Set(leaves.map { ObjectIdentifier($0.node) }))
        for node in running where node.freed {
            throw AutogradError.graphFreed(node: node.name, file: file, line: line)
        }

        let gradientsByRef = try setGradEnabled(createGraph) {
            try throwingReported {
                try ReverseInterpreter.backward(outputs: seeds, leaves: leaves, options: options(for: nodes))
            }
        }
        if !retainGraph {
            for node in running {
                for entry in node.tapeEntries { entry.release() }
            }
        }
        var byKey: [TapeEntry.Ref.Key: NDArray] = [:]
        for (ref, g) in zip(leaves, gradientsByRef) { if let g { byKey[ref.key] = g } }
        return (targets, targetRefs.map { $0.flatMap { byKey[$0.key] } })
    }

    /// The nodes among `nodes` whose rule a sweep toward the tape entries `targets` applies:
    /// those with an input that is, or leads to, a target.
    private func nodesThatRun(_ nodes: [Node], toward targets: Set<ObjectIdentifier>) -> [Node] {
        // Inputs were recorded before the operations that use them.
        let ordered = nodes.sorted { $0.ref.node.index < $1.ref.node.index }
        var leads = Set<ObjectIdentifier>()
        var running: [Node] = []
        for node in ordered {
            var anyInputLeads = false
            node.forEachInput { if leads.contains(ObjectIdentifier($0)) { anyInputLeads = true } }
            if anyInputLeads { running.append(node) }
            if anyInputLeads || targets.contains(ObjectIdentifier(node.ref.node)) { leads.insert(ObjectIdentifier(node)) }
        }
        return running
    }

    /// The tape output and starting cotangent of one root.
    private func seed(_ root: Tensor, _ gradient: Tensor?) throws -> (TapeEntry.Ref, NDArray) {
        guard let ref = root.tapeOutput else { throw root.noHistory(file: file, line: line) }
        guard let gradient else {
            guard root.count == 1 else {
                throw AutogradError.implicitGradientOfNonScalar(shape: root.shape, file: file, line: line)
            }
            return (ref, NDArray.onesLike(root.value))
        }
        var g = (createGraph ? gradient.operand : gradient.value).to(root.dtype)
        if g.shape != root.shape {
            // A gradient for a broadcast of the output sums back to it, as in PyTorch.
            guard expands(root.shape, to: g.shape) else {
                throw AutogradError.gradientShapeMismatch(output: root.shape, gradient: g.shape, file: file, line: line)
            }
            g = g.unbroadcast(to: root.shape)
        }
        return (ref, g)
    }

    /// Every node reachable from the roots, depth first.
    private func graph(from roots: [Tensor]) -> [Node] {
        var found: [Node] = []
        var seen = Set<ObjectIdentifier>()
        var stack = roots.compactMap(\.gradientNode)
        while let node = stack.popLast() {
            guard seen.insert(ObjectIdentifier(node)).inserted else { continue }
            found.append(node)
            node.forEachInput { stack.append($0) }
        }
        return found
    }

    /// Hooks, retained gradients, anomaly detection and recorded rules for the sweep.
    private func options(for nodes: [Node]) -> SweepOptions {
        var options = SweepOptions()
        var intercepted: [TapeEntry.Ref.Key: Node] = [:]
        for node in nodes where !node.hooks.isEmpty || (fillsRetainedGrads && node.retainsGrad) {
            intercepted[node.ref.key] = node
        }
        if !intercepted.isEmpty {
            let (fills, recorded) = (fillsRetainedGrads, createGraph)
            options.intercept = { ref, cotangent in
                guard let node = intercepted[ref.key] else { return cotangent }
                var g = cotangent
                for (_, hook) in node.hooks {
                    guard let replaced = hook(Tensor(g)) else { continue }
                    guard replaced.shape == g.shape else {
                        throw AutogradError.hookChangedShape(node: node.name, expected: g.shape, got: replaced.shape)
                    }
                    g = recorded ? replaced.operand : replaced.value
                }
                if fills, node.retainsGrad, let tensor = node.variable { tensor.accumulate(g) }
                return g
            }
        }
        if AutogradState.current.anomalyDetection {
            var owners: [ObjectIdentifier: Node] = [:]
            for node in nodes {
                for entry in node.tapeEntries { owners[ObjectIdentifier(entry)] = node }
            }
            options.inspect = { entry, cotangents in
                for (i, ct) in cotangents.enumerated() {
                    guard let ct, let bad = nonFinite(ct) else { continue }
                    let owner = owners[ObjectIdentifier(entry)] ?? Node.at(TapeEntry.Ref(node: entry, output: 0))
                    throw AutogradError.anomaly(node: owner.name, output: i, value: bad, forward: owner.forwardSite)
                }
            }
        }
        if createGraph {
            let tape = Autograd.tape
            options.savedValues = { entry in
                let primals = zip(entry.primals, entry.parents).map { p, parent in parent.map { tape.tracer(p, $0) } ?? p }
                let outputs = entry.outputs.enumerated().map { i, y in
                    y.dtype.isFloatingPoint ? tape.tracer(y, TapeEntry.Ref(node: entry, output: i)) : y
                }
                return (primals, outputs)
            }
        }
        return options
    }
}

/// Whether an array of shape `small` broadcasts to `large`.
func expands(_ small: [Int], to large: [Int]) -> Bool {
    guard small.count <= large.count else { return false }
    return zip(small.reversed(), large.reversed()).allSatisfy { $0 == $1 || $0 == 1 }
}

/// "nan" or "inf" when `x` holds such a value.
private func nonFinite(_ x: NDArray) -> String? {
    let values = x.doubles
    if values.contains(where: \.isNaN) { return "nan" }
    if values.contains(where: \.isInfinite) { return "inf" }
    return nil
}
