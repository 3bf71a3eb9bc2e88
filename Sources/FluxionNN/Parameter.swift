// `@Parameter`: how a module declares a learnable tensor. Declaring it is all a module does —
// `parameters()`, `namedParameters()`, `zeroGrad`, `stateDict` and `functionalCall` find it by
// reflection (Module.swift) — and the wrapper gives it PyTorch's `nn.Parameter` behaviour: the
// tensor requires grad.
//
// The wrapper is also what makes `functionalCall` safe to run on several threads at once.
// Reading a parameter first looks in the current thread's substitution table (pushed by
// `functionalCall` for the extent of one call), so a module runs with substituted parameters
// on one thread while another thread trains it or calls it with other parameters; the module
// itself is never written. When no `functionalCall` runs anywhere, the read is one relaxed
// atomic load and the stored tensor.

import Fluxion
import FluxionCore
import Synchronization

/// What a `@Parameter` property holds: a `Tensor`, or an optional one (an optional bias).
public protocol ParameterValue {
    /// The tensor held, if any.
    var parameterTensor: Tensor? { get }
    /// The value holding `tensor`.
    static func holding(_ tensor: Tensor) -> Self
}

extension Tensor: ParameterValue {
    public var parameterTensor: Tensor? { self }
    public static func holding(_ tensor: Tensor) -> Tensor { tensor }
}

extension Optional: ParameterValue where Wrapped == Tensor {
    public var parameterTensor: Tensor? { self }
    public static func holding(_ tensor: Tensor) -> Tensor? { tensor }
}

/// A learnable tensor of a module (PyTorch's `nn.Parameter`):
///
/// ```swift
/// final class Affine: Module, @unchecked Sendable {
///     @Parameter var scale: Tensor
///     @Parameter var shift: Tensor?
///     init(_ n: Int) {
///         scale = Tensor.ones([n])
///         shift = Tensor.zeros([n])
///     }
///     override func forward(_ x: Tensor) -> Tensor { x * scale + (shift ?? Tensor.zeros([])) }
/// }
/// ```
///
/// A floating-point leaf tensor assigned to a parameter is made to require grad. Inside
/// `functionalCall` on the same thread, reading the property gives the substituted tensor.
@propertyWrapper
public final class Parameter<Value: ParameterValue>: AnyParameter, @unchecked Sendable {
    private var stored: Value

    /// Wraps `wrappedValue`; a floating-point leaf tensor is made to require grad.
    public init(wrappedValue: Value) {
        stored = wrappedValue
        Self.makeLearnable(wrappedValue)
    }

    /// The parameter's tensor — inside `functionalCall` on this thread, the substituted one.
    public var wrappedValue: Value {
        get {
            if FunctionalScope.running.load(ordering: .relaxed) > 0, let t = FunctionalScope.substitute(for: self) {
                return Value.holding(t)
            }
            return stored
        }
        set {
            stored = newValue
            Self.makeLearnable(newValue)
        }
    }

    /// The wrapper itself (`$weight`): the slot `functionalCall` substitutes.
    public var projectedValue: Parameter<Value> { self }

    /// The module's own tensor, ignoring any substitution.
    public var tensor: Tensor? { stored.parameterTensor }

    private static func makeLearnable(_ value: Value) {
        guard let t = value.parameterTensor, t.isLeaf, !t.requiresGrad, t.dtype.isFloatingPoint else { return }
        _ = try? t.requiresGrad_(true)
    }
}

/// A parameter slot of any value type, as reflection finds it.
public protocol AnyParameter: AnyObject {
    /// The module's own tensor, ignoring any substitution.
    var tensor: Tensor? { get }
}

// MARK: - Substitution

/// The per-thread tables of substituted parameters, innermost `functionalCall` last.
final class FunctionalState {
    var tables: [[ObjectIdentifier: Tensor]] = []
}

enum FunctionalScope {
    /// How many `functionalCall`s are running on all threads: while none is, parameter reads
    /// skip the thread-local lookup.
    static let running = Atomic<Int>(0)
    private static let local = ThreadLocal { FunctionalState() }

    /// The tensor substituted for `slot` on this thread, innermost call first.
    static func substitute(for slot: AnyObject) -> Tensor? {
        let tables = local.value.tables
        guard !tables.isEmpty else { return nil }
        let id = ObjectIdentifier(slot)
        for table in tables.reversed() {
            if let t = table[id] { return t }
        }
        return nil
    }

    /// Runs `body` with `table` substituted on this thread.
    static func with<R>(_ table: [ObjectIdentifier: Tensor], _ body: () throws -> R) rethrows -> R {
        let state = local.value
        state.tables.append(table)
        running.wrappingAdd(1, ordering: .relaxed)
        defer {
            state.tables.removeLast()
            running.wrappingSubtract(1, ordering: .relaxed)
        }
        return try body()
    }
}
