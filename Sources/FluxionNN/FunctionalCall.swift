// From modules to functions (`torch.func.functional_call`): a module run with its parameters
// taken from a tree keyed by parameter name, so that the function transforms — `grad`,
// `vmap`, `jacrev`, `hessian` — apply to a model's parameters:
//
// ```swift
// func loss(_ p: [String: Tensor], _ x: Tensor, _ y: Tensor) throws -> Tensor {
//     crossEntropy(try functionalCall(model, parameters: p, x.unsqueeze(0)), y.unsqueeze(0))
// }
// let perSample = try vmap(grad(loss), inAxes: (nil, 0, 0))(model.stateDict(), x, y)
// ```
//
// Thread safety: the substitution is not done by writing the module. Each `@Parameter` read
// consults a table of substitutes kept per thread for the extent of the call (Parameter.swift),
// so any number of threads may run `functionalCall` on one module, with different parameters,
// while another trains it. Parameters the tree does not name keep the module's own tensors
// (unless `strict`); a tensor tied to a substituted one (the same tensor under two names) is
// substituted too.

import Fluxion

/// `module(input)` with the parameters named in `parameters` (dotted names, as
/// `namedParameters()` gives) in place of its own, on this thread only.
///
/// - Parameters:
///   - module: the module to run; its own parameters are left untouched.
///   - parameters: substitutes by name; tensors, possibly holding values of a running
///     transform (grad, vmap, …), each of its parameter's shape.
///   - input: the module's input.
///   - strict: require every parameter to be given.
/// - Returns: the module's output.
/// - Throws: `ModuleError` for an unknown name, a shape mismatch, or (strict) a missing name.
public func functionalCall(_ module: Module, parameters: [String: Tensor], _ input: Tensor, strict: Bool = false) throws -> Tensor {
    let table = try substitutionTable(module, parameters, strict: strict)
    return FunctionalScope.with(table) { module(input) }
}

/// `functionalCall` on arrays: parameters and input as `NDArray`s (as pure functions of
/// arrays take them), the output's value returned.
public func functionalCall(_ module: Module, parameters: [String: NDArray], _ input: NDArray, strict: Bool = false) throws -> NDArray {
    try functionalCall(module, parameters: parameters.mapValues { Tensor($0) }, Tensor(input), strict: strict).value
}

/// The substitute for each parameter slot, checked against the module's parameters.
private func substitutionTable(_ module: Module, _ parameters: [String: Tensor], strict: Bool) throws -> [ObjectIdentifier: Tensor] {
    // A slot holding nothing (a layer built without bias) is not a parameter.
    let slots = module.allParameterSlots().filter { $0.slot.tensor != nil }
    let names = Set(slots.map(\.name))
    let unknown = parameters.keys.filter { !names.contains($0) }.sorted()
    guard unknown.isEmpty else {
        throw ModuleError.unexpectedParameters(module: "\(type(of: module))", names: unknown, known: slots.map(\.name))
    }
    // Tied parameters: every slot holding a substituted slot's tensor follows it.
    var byTensor: [ObjectIdentifier: Tensor] = [:]
    for (name, slot) in slots {
        guard let value = parameters[name], let own = slot.tensor else { continue }
        guard value.shape == own.shape else { throw ModuleError.shapeMismatch(name: name, expected: own.shape, got: value.shape) }
        byTensor[ObjectIdentifier(own)] = byTensor[ObjectIdentifier(own)] ?? value
    }
    var table: [ObjectIdentifier: Tensor] = [:]
    var missing: [String] = []
    for (name, slot) in slots {
        if let value = parameters[name] {
            table[ObjectIdentifier(slot)] = value
        } else if let own = slot.tensor, let tied = byTensor[ObjectIdentifier(own)] {
            table[ObjectIdentifier(slot)] = tied
        } else {
            missing.append(name)
        }
    }
    if strict && !missing.isEmpty {
        throw ModuleError.missingParameters(module: "\(type(of: module))", names: missing)
    }
    return table
}

/// The parameters of several modules of one architecture stacked along a new first axis,
/// by name (`torch.func.stack_module_state`): with `functionalCall` under `vmap`, an
/// ensemble runs as one batched model.
///
/// ```swift
/// let models = (0..<5).map { _ in MLP() }
/// let stacked = try stackModuleState(models)                 // "layers.0.weight": [5, 8, 4], …
/// let outputs = try vmap({ (p: [String: Tensor], x: Tensor) in try functionalCall(models[0], parameters: p, x) },
///                        inAxes: (0, nil))(stacked, x)        // [5, batch, …]
/// ```
///
/// The stacked tensors are new values without history.
public func stackModuleState(_ modules: [Module]) throws -> [String: Tensor] {
    guard let first = modules.first else { throw ModuleError.incompatibleModules("no modules were given") }
    let layout = first.namedParameters().map { ($0.name, $0.tensor.shape) }
    var stacked: [String: [NDArray]] = [:]
    for (i, module) in modules.enumerated() {
        let params = module.namedParameters()
        guard params.map({ ($0.name, $0.tensor.shape) }).elementsEqual(layout, by: { $0 == $1 }) else {
            throw ModuleError.incompatibleModules("module \(i) (\(type(of: module))) has parameters \(params.map { "\($0.name) \($0.tensor.shape)" }), module 0 has \(layout.map { "\($0.0) \($0.1)" })")
        }
        for (name, tensor) in params { stacked[name, default: []].append(tensor.value) }
    }
    return stacked.mapValues { Tensor(stack($0)) }
}
