// `Module`: PyTorch's `nn.Module` over the `Tensor` facade. A module is a class with
// `@Parameter` properties (its learnable tensors), child modules in ordinary stored
// properties, and a `forward`. Nothing is registered by hand: reflection (`Mirror`) finds
//
// - parameters: `@Parameter var weight: Tensor` (or `Tensor?`), named after the property;
// - children: stored properties holding a `Module`, an optional one, an array of modules
//   (named `layers.0`, `layers.1`, …) or a dictionary of them keyed by `String` (`heads.key`);
//
// in declaration order, superclass properties first. Names are dotted paths, as PyTorch's
// `named_parameters()`: `encoder.layers.0.weight`. A parameter or module reachable twice (a
// shared layer, tied weights) is listed once, under its first name. A plain stored `Tensor` is
// not a parameter (as a plain tensor attribute is not in PyTorch); one that requires grad is
// reported once, since it is most likely a missing `@Parameter`.
//
// Reflection costs a few microseconds per module, so `parameters()` is for setting things up
// (an optimizer keeps the list it is given); a training step need not call it.

import Fluxion
import FluxionCore
import Synchronization

/// A layer or a model: parameters, child modules and a `forward` from a tensor to a tensor.
///
/// ```swift
/// final class MLP: Module, @unchecked Sendable {
///     let layers: [Linear]
///     init(_ sizes: [Int]) {
///         layers = zip(sizes, sizes.dropFirst()).map { Linear($0, $1) }
///     }
///     override func forward(_ x: Tensor) -> Tensor {
///         var h = x
///         for (i, layer) in layers.enumerated() { h = layer(h); if i < layers.count - 1 { h = relu(h) } }
///         return h
///     }
/// }
/// MLP([4, 8, 1]).namedParameters().map(\.name)   // layers.0.weight, layers.0.bias, layers.1.weight, …
/// ```
///
/// Call a module (`model(x)`) rather than its `forward`: the call runs the module's hooks.
///
/// Modules may be shared between threads for calls and `functionalCall` (which never writes
/// the module); changing a module (training it, registering hooks) while another thread uses
/// it is for the caller to order, as in PyTorch. Modules are `@unchecked Sendable` on that
/// understanding, so a model can be a top-level value of a script; Swift asks each subclass to
/// say so too (`final class MLP: Module, @unchecked Sendable`).
open class Module: CustomStringConvertible, @unchecked Sendable {
    /// Whether the module is in training mode (`train()`) rather than evaluation (`eval()`);
    /// dropout reads it.
    public private(set) var training = true

    var forwardPreHooks: [(id: Int, body: ForwardPreHook)] = []
    var forwardHooks: [(id: Int, body: ForwardHook)] = []
    var backwardHooks: [(id: Int, body: BackwardHook)] = []

    /// A module with no parameters or children; subclasses declare theirs as stored properties.
    public init() {}

    /// The computation, from an input tensor to an output tensor. Subclasses override it;
    /// callers call the module itself, which runs hooks around it.
    open func forward(_ input: Tensor) -> Tensor {
        fatalError("FluxionNN: \(type(of: self)) does not override forward(_:). Fix: override func forward(_ input: Tensor) -> Tensor")
    }

    /// Extra text for `description`: the layer's settings (`in_features=3, out_features=2`).
    open var extraDescription: String { "" }

    /// The direct children with their names. Found by reflection; a container module may
    /// override it to name its children differently (`Sequential` names them `0`, `1`, …).
    open var namedChildren: [(name: String, module: Module)] {
        var found: [(String, Module)] = []
        forEachStoredProperty { label, value in
            if value is AnyParameter { return }
            if let module = value as? Module {
                found.append((label, module))
            } else if let modules = value as? [Module] {
                for (i, m) in modules.enumerated() { found.append(("\(label).\(i)", m)) }
            } else if let modules = value as? [String: Module] {
                for key in modules.keys.sorted() { found.append(("\(label).\(key)", modules[key]!)) }
            }
        }
        return found
    }

    /// This module's own parameter slots (not its children's), by reflection.
    final var ownParameterSlots: [(name: String, slot: AnyParameter)] {
        var found: [(String, AnyParameter)] = []
        forEachStoredProperty { label, value in
            guard let slot = value as? AnyParameter else {
                if let t = value as? Tensor, t.requiresGrad, t.isLeaf { warnPlainTensor(type(of: self), label) }
                return
            }
            // A property wrapper's storage is the property's name with a leading underscore.
            found.append((label.hasPrefix("_") ? String(label.dropFirst()) : label, slot))
        }
        return found
    }

    /// Calls `body` with each stored property declared below `Module`, superclasses first.
    private func forEachStoredProperty(_ body: (String, Any) -> Void) {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror, m.subjectType != Module.self {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        for m in mirrors.reversed() {
            for child in m.children {
                guard let label = child.label, !label.hasPrefix("$") else { continue }
                body(label, child.value)
            }
        }
    }

    public var description: String {
        let children = namedChildren
        let head = "\(type(of: self))(\(extraDescription)"
        guard !children.isEmpty else { return head + ")" }
        var lines = [head]
        for (name, child) in children {
            let text = child.description.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
            lines.append("  (\(name)): \(text)")
        }
        return lines.joined(separator: "\n") + "\n)"
    }
}

// MARK: - Calling

extension Module {
    /// Runs `forward` on `input`, with the module's hooks around it: forward pre-hooks,
    /// forward hooks, and the tensors through which backward hooks see gradients.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        if forwardPreHooks.isEmpty && forwardHooks.isEmpty && backwardHooks.isEmpty { return forward(input) }
        return callWithHooks(input)
    }
}

// MARK: - Parameters and modules

extension Module {
    /// The direct child modules.
    public var children: [Module] { namedChildren.map(\.module) }

    /// This module and every module below it, each once, with dotted names ("" for this one).
    public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
        var found: [(String, Module)] = []
        var seen = Set<ObjectIdentifier>()
        func visit(_ module: Module, _ name: String) {
            guard seen.insert(ObjectIdentifier(module)).inserted else { return }
            found.append((name, module))
            for (childName, child) in module.namedChildren {
                visit(child, name.isEmpty ? childName : "\(name).\(childName)")
            }
        }
        visit(self, prefix)
        return found
    }

    /// This module and every module below it, each once.
    public func modules() -> [Module] { namedModules().map(\.module) }

    /// Every parameter slot with its dotted name, including repeated ones (for substitution).
    func allParameterSlots() -> [(name: String, slot: AnyParameter)] {
        namedModules().flatMap { prefix, module in
            module.ownParameterSlots.map { (prefix.isEmpty ? $0.name : "\(prefix).\($0.name)", $0.slot) }
        }
    }

    /// The parameters with dotted names (`layers.0.weight`), each tensor once, in declaration
    /// order (`named_parameters()`). With `recurse: false`, only this module's own.
    public func namedParameters(prefix: String = "", recurse: Bool = true) -> [(name: String, tensor: Tensor)] {
        let slots = recurse ? allParameterSlots() : ownParameterSlots
        var seen = Set<ObjectIdentifier>()
        var found: [(String, Tensor)] = []
        for (name, slot) in slots {
            guard let t = slot.tensor, seen.insert(ObjectIdentifier(t)).inserted else { continue }
            found.append((prefix.isEmpty ? name : "\(prefix).\(name)", t))
        }
        return found
    }

    /// The parameters, each once (`parameters()`): what an optimizer updates.
    public func parameters(recurse: Bool = true) -> [Tensor] {
        namedParameters(recurse: recurse).map(\.tensor)
    }

    /// The parameters' values by name, without history (`state_dict()`; modules here hold no
    /// buffers): a tree `functionalCall` and the transforms take as it is.
    public func stateDict() -> [String: Tensor] {
        Dictionary(namedParameters().map { ($0.name, $0.tensor.detach()) }, uniquingKeysWith: { a, _ in a })
    }

    /// Copies values into the parameters by name (`load_state_dict`): the parameter tensors
    /// stay the same objects, so optimizers holding them see the new values. With `strict`,
    /// every parameter must be given and every name known.
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws {
        let params = Dictionary(namedParameters().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        if strict {
            let unknown = state.keys.filter { params[$0] == nil }.sorted()
            let missing = params.keys.filter { state[$0] == nil }.sorted()
            if !unknown.isEmpty || !missing.isEmpty {
                throw ModuleError.stateDictMismatch(module: "\(type(of: self))", missing: missing, unexpected: unknown)
            }
        }
        for (name, value) in state {
            guard let p = params[name] else { continue }
            guard value.shape == p.shape else {
                throw ModuleError.shapeMismatch(name: name, expected: p.shape, got: value.shape)
            }
            try noGrad { _ = try p.copy_(value) }
        }
    }

    /// Sets training mode (`true`) or evaluation mode on this module and every module below.
    @discardableResult
    public func train(_ mode: Bool = true) -> Self {
        for module in modules() { module.training = mode }
        return self
    }

    /// Sets evaluation mode (dropout passes values through) on this module and below.
    @discardableResult
    public func eval() -> Self { train(false) }

    /// Clears the parameters' gradients: with `setToNone` (the default, as in PyTorch) `grad`
    /// becomes nil; otherwise an existing gradient is filled with zeros.
    public func zeroGrad(setToNone: Bool = true) {
        FluxionNN.zeroGrad(parameters(), setToNone: setToNone)
    }

    /// Calls `body` on this module and every module below it (`apply`), children first.
    @discardableResult
    public func apply(_ body: (Module) -> Void) -> Self {
        for module in modules().reversed() { body(module) }
        return self
    }

    /// How many elements the parameters hold.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }
}

private let warnedPlainTensors = Mutex(Set<String>())

/// Tells the user once per property that a learnable-looking tensor is not a parameter.
private func warnPlainTensor(_ type: Module.Type, _ label: String) {
    let key = "\(type).\(label)"
    guard warnedPlainTensors.withLock({ $0.insert(key).inserted }) else { return }
    print("FluxionNN warning: \(key) is a Tensor that requires grad but not a @Parameter, so parameters(), optimizers and functionalCall do not see it. Fix: declare it @Parameter var \(label): Tensor")
}

/// Clears gradients: nil with `setToNone`, else zeros in place where a gradient exists.
func zeroGrad(_ parameters: [Tensor], setToNone: Bool) {
    for p in parameters {
        if setToNone {
            p.grad = nil
        } else if let g = p.grad {
            // In place, as PyTorch's zero_(); a gradient with history is replaced instead.
            if g.requiresGrad { p.grad = Tensor(NDArray.zerosLike(g.value)) } else { _ = try? g.zero_() }
        }
    }
}

/// A misuse of modules, `functionalCall` or `stateDict`.
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    /// `functionalCall` was given names the module has no parameter for.
    case unexpectedParameters(module: String, names: [String], known: [String])
    /// `functionalCall(strict: true)` was not given every parameter.
    case missingParameters(module: String, names: [String])
    /// A substituted or loaded value's shape differs from the parameter's.
    case shapeMismatch(name: String, expected: [Int], got: [Int])
    /// `loadStateDict(strict: true)` with missing or unknown names.
    case stateDictMismatch(module: String, missing: [String], unexpected: [String])
    /// `stackModuleState` with no modules, or modules whose parameters differ.
    case incompatibleModules(String)

    public var description: String {
        switch self {
        case let .unexpectedParameters(module, names, known):
            "functionalCall: \(module) has no parameters named \(names) (its parameters: \(known)). Fix: use the names namedParameters() gives"
        case let .missingParameters(module, names):
            "functionalCall: parameters \(names) of \(module) were not given (strict). Fix: pass every parameter, or strict: false to use the module's own for the rest"
        case let .shapeMismatch(name, expected, got):
            "parameter \(name) has shape \(expected), but the value given has shape \(got). Fix: pass a value of the parameter's shape"
        case let .stateDictMismatch(module, missing, unexpected):
            "loadStateDict: \(module) is missing \(missing) and has no parameters \(unexpected). Fix: pass every parameter by its namedParameters() name, or strict: false"
        case let .incompatibleModules(problem):
            "stackModuleState: \(problem). Fix: pass one or more modules of the same architecture"
        }
    }
}
