// `Tensor`: PyTorch's stateful tensor over Fluxion's engine. A tensor wraps an immutable
// `NDArray` value plus autograd state: whether it requires grad, the node that made it
// (`gradFn`), its accumulated gradient (`grad`), hooks. It is a class because that state is
// shared and changes (`.grad` accumulates, `requiresGrad_()` flips, in-place operations rebind
// the value), as it does in PyTorch.
//
// A tensor that requires grad is a value on the facade's tape: a reverse trace at level 0,
// beneath every transform, shared by all threads. Operations on such tensors record tape
// entries through the same primitives and rules as `grad`; `backward()` runs the same sweep
// (Backward.swift). Because recorded values are immutable, nothing done to a tensor later can
// corrupt a graph that saved it.
//
// Composition follows from the levels. A transform applied to a function of tensors runs above
// the tape, so `backward()` through a transformed function works (`grad(f)(w)` with `w`
// requiring grad, then `.sum().backward()`). The reverse order does not: inside a transform,
// an operation on the transform's values is not recorded on the tape, and `backward` or
// `Autograd.grad` from its result throws `AutogradError.backwardInsideTransform`; there the
// transforms themselves differentiate (as `torch.func` code does).
//
// Threads. Arrays are immutable values, and transforms and grad modes keep their state per
// thread, so these are safe from any number of threads at once: operations on shared tensors
// (each records onto the shared tape), `backward()` and `Autograd.grad` on separate graphs,
// and backward passes on several threads that accumulate into the same leaves (`.grad` is
// updated under a lock, as PyTorch's is). Not safe, as in PyTorch: changing one tensor from
// two threads at once (in-place operations, `requiresGrad_`, `detach_`, `retainGrad`),
// registering or removing hooks while another thread runs a backward pass through them, and
// two backward passes through one shared graph at once unless both pass `retainGraph: true`
// (the first to finish would free what the other is reading). Modules may run `forward` on
// several threads while nothing changes them (`train()`/`eval()`, hooks, assignments);
// `functionalCall` is safe on several threads; an optimizer belongs to one thread, and its
// `step()` must not overlap a backward pass into its parameters.

import FluxionCore
import FluxionKernels
import Synchronization

/// The facade's shared state.
public enum Autograd {
    /// The tape every operation on tensors that require grad records on.
    static let tape = ReverseTrace(level: 0, transform: "autograd")

    /// How many recorded operations are alive (tape entries held by graphs, pullbacks or
    /// tensors): for checking that graphs are freed.
    public static var liveTapeEntries: Int { TapeNode.liveCount }
}

/// An n-dimensional array with PyTorch's autograd state.
public final class Tensor: @unchecked Sendable {
    /// The value, without history (PyTorch's `.data`).
    public private(set) var value: NDArray
    /// The value as recorded on the facade's tape, when the tensor takes part in a graph.
    var tracked: NDArray?
    /// The node of the operation that made this tensor; nil for leaves.
    public internal(set) var gradFn: Node?
    /// For a leaf that requires grad, the node that accumulates its gradient.
    private(set) var accumulator: Node?
    /// `grad`, behind a lock: backward passes on several threads may accumulate into one leaf.
    private let storedGrad = Mutex<Tensor?>(nil)
    /// Counts the in-place operations applied to this tensor.
    public private(set) var version = 0
    /// Whether the tensor was made inside `inferenceMode`.
    public let isInference: Bool

    /// A tensor holding `value`, which does not require grad.
    public init(_ value: NDArray) {
        let (primal, ref) = Autograd.tape.split(value)
        self.value = primal
        isInference = AutogradState.current.inferenceMode
        if let ref {
            // A value recorded by differentiating rules (a gradient made with createGraph).
            tracked = value
            gradFn = Node.at(ref)
        }
    }

    /// A tensor holding `value` that requires grad when `requiresGrad` is true.
    public convenience init(_ value: NDArray, requiresGrad: Bool,
                            file: StaticString = #fileID, line: UInt = #line) throws {
        self.init(value)
        if requiresGrad { try requiresGrad_(true, file: file, line: line) }
    }

    /// A 0-d tensor (float32 unless `dtype` says otherwise).
    public convenience init(_ scalar: Double, dtype: DType = .float32, requiresGrad: Bool = false,
                            file: StaticString = #fileID, line: UInt = #line) throws {
        try self.init(NDArray(scalar, dtype: dtype), requiresGrad: requiresGrad, file: file, line: line)
    }

    /// A 1-d tensor (float32 unless `dtype` says otherwise).
    public convenience init(_ scalars: [Double], dtype: DType = .float32, requiresGrad: Bool = false,
                            file: StaticString = #fileID, line: UInt = #line) throws {
        try self.init(NDArray(scalars, dtype: dtype), requiresGrad: requiresGrad, file: file, line: line)
    }

    /// A 2-d tensor from rows of equal length (float32 unless `dtype` says otherwise).
    public convenience init(_ rows: [[Double]], dtype: DType = .float32, requiresGrad: Bool = false,
                            file: StaticString = #fileID, line: UInt = #line) throws {
        try self.init(NDArray(rows, dtype: dtype, file: file, line: line), requiresGrad: requiresGrad, file: file, line: line)
    }

    /// The tape output this tensor's value was recorded at.
    var tapeRef: TapeNode.Ref? { tracked.flatMap { Autograd.tape.split($0).ref } }
    /// The node gradients for this tensor flow into: its `gradFn`, or its accumulator.
    var historyNode: Node? { gradFn ?? accumulator }
    /// The value operations compute on: recorded when the tensor requires grad.
    var engineValue: NDArray { tracked ?? value }
}

// MARK: - Autograd state

extension Tensor {
    /// Whether operations on this tensor are recorded for differentiation.
    public var requiresGrad: Bool { tracked != nil }

    /// Whether the tensor is a leaf of the graph: made by the user rather than by an operation
    /// on tensors that require grad.
    public var isLeaf: Bool { gradFn == nil }

    /// Whether this non-leaf tensor keeps its gradient after backward (`retainGrad()`).
    public var retainsGrad: Bool { gradFn?.retainsGrad ?? false }

    /// Makes this leaf require grad (or not), in place; returns the tensor.
    @discardableResult
    public func requiresGrad_(_ requiresGrad: Bool = true, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        guard isLeaf else {
            if requiresGrad { return self }
            throw AutogradError.requiresGradOnNonLeaf(file: "\(file)", line: line)
        }
        guard requiresGrad else {
            tracked = nil
            accumulator = nil
            return self
        }
        guard value.dtype.isFloatingPoint else {
            throw AutogradError.requiresGradOnNonFloating(dtype: value.dtype, file: "\(file)", line: line)
        }
        if isInference && !AutogradState.current.inferenceMode {
            throw AutogradError.requiresGradOnInferenceTensor(file: "\(file)", line: line)
        }
        if tracked == nil { becomeLeaf() }
        return self
    }

    /// Records this tensor's value as a new input of the facade's tape.
    private func becomeLeaf() {
        let leaf = Autograd.tape.leaf(value)
        tracked = leaf
        let node = Node(name: "AccumulateGrad", ref: Autograd.tape.split(leaf).ref!, inputs: [])
        node.variable = self
        accumulator = node
    }

    /// The gradient accumulated by backward passes: set for leaves that require grad and for
    /// tensors that `retainGrad()`; nil until the first backward. Reading it on another
    /// non-leaf tensor warns once (it is always nil there).
    ///
    /// Backward passes without `createGraph` add into the same `grad` tensor in place, so a
    /// reference taken to it sees later accumulations (as optimizers holding gradients expect);
    /// with `createGraph` the sum is a new tensor with history. Accumulation is atomic: backward
    /// passes on several threads may accumulate into one leaf. Assigning a gradient whose shape
    /// differs from the tensor's stops, as in PyTorch.
    public var grad: Tensor? {
        get {
            if !isLeaf && !retainsGrad { warnNonLeafGrad() }
            return storedGrad.withLock { $0 }
        }
        set {
            if let newValue, newValue.shape != shape {
                fail("grad", "a gradient of shape \(describe(newValue.shape)) was assigned to a tensor of shape \(describe(shape))",
                     fix: "assign a gradient with the tensor's shape", file: #fileID, line: #line)
            }
            storedGrad.withLock { $0 = newValue }
        }
    }

    /// Keeps this non-leaf tensor's gradient in `grad` during backward passes.
    public func retainGrad(file: StaticString = #fileID, line: UInt = #line) throws {
        guard requiresGrad else { throw noHistory(file: "\(file)", line: line) }
        guard let gradFn else { return }
        gradFn.retainsGrad = true
        gradFn.variable = self
    }

    /// The error for an operation that needs this tensor's history when it has none: naming the
    /// transform when the tensor is a value one is tracing (the graph records beneath them).
    func noHistory(file: String, line: UInt) -> AutogradError {
        if let transform = value.tracingTransform {
            return .backwardInsideTransform(transform: transform, file: file, line: line)
        }
        return .noGradFn(file: file, line: line)
    }

    /// Adds `gradient` to `grad`: in place unless either side has history (see `grad`).
    func accumulate(_ gradient: NDArray) {
        let g = Tensor(gradient)
        storedGrad.withLock { stored in
            guard let old = stored else {
                stored = g
                return
            }
            if g.requiresGrad || old.requiresGrad {
                stored = old + g
            } else {
                old.value = old.value + g.value
                old.version += 1
            }
        }
    }

    /// Registers `hook`, called with this tensor's gradient each time one is computed; a
    /// non-nil result replaces the gradient. Returns a handle whose `remove()` unregisters it.
    @discardableResult
    public func registerHook(file: StaticString = #fileID, line: UInt = #line,
                             _ hook: @escaping (Tensor) -> Tensor?) throws -> RemovableHandle {
        guard let node = historyNode else {
            throw noHistory(file: "\(file)", line: line)
        }
        let id = RemovableHandle.nextID()
        node.hooks.append((id, hook))
        return RemovableHandle { [weak node] in node?.hooks.removeAll { $0.id == id } }
    }

    /// A tensor sharing this one's value, with no history and not requiring grad.
    public func detach() -> Tensor { Tensor(value) }

    /// Detaches this tensor from its history in place: it becomes a leaf that does not
    /// require grad.
    @discardableResult
    public func detach_() -> Tensor {
        tracked = nil
        gradFn = nil
        accumulator = nil
        return self
    }

    /// Rebinds this tensor to `result` (an in-place operation): the value, history and version.
    func assign(_ result: Tensor) {
        value = result.value
        version += 1
        if let accumulator, requiresGrad, result.gradFn == nil {
            // A leaf updated without recording keeps its place on the tape.
            tracked = Autograd.tape.tracer(value, accumulator.ref)
        } else {
            tracked = result.tracked
            gradFn = result.gradFn
            if gradFn != nil { accumulator = nil }
        }
    }
}

/// Unregisters a hook.
public final class RemovableHandle: @unchecked Sendable {
    private var removal: (() -> Void)?

    init(_ removal: @escaping () -> Void) { self.removal = removal }

    /// Unregisters the hook; later calls do nothing.
    public func remove() {
        removal?()
        removal = nil
    }

    private static let counter = Atomic<Int>(0)
    static func nextID() -> Int { counter.wrappingAdd(1, ordering: .relaxed).oldValue }
}

private let warnedNonLeafGrad = Atomic<Bool>(false)

private func warnNonLeafGrad() {
    guard !warnedNonLeafGrad.exchange(true, ordering: .relaxed) else { return }
    print("""
        Fluxion warning: the .grad of a tensor that is not a leaf is being read. It is not filled \
        in by backward (it stays nil). Call retainGrad() on the tensor before backward if you \
        want its gradient, or read the gradient of a leaf.
        """)
}

// MARK: - Reading values out

extension Tensor {
    public var shape: [Int] { value.shape }
    public var dtype: DType { value.dtype }
    public var rank: Int { value.rank }
    public var count: Int { value.count }

    /// The single element, as `Double` (allowed on tensors that require grad, as PyTorch's
    /// `item()`).
    public func item(file: StaticString = #fileID, line: UInt = #line) -> Double { value.item(file: file, line: line) }

    /// The elements in row-major order as `T` (PyTorch's `.numpy()`/`.tolist()`); refused
    /// on a tensor that requires grad while grad mode is on (allowed inside `noGrad`, as
    /// PyTorch's check is).
    public func scalars<T: Element>(as type: T.Type = T.self, file: StaticString = #fileID, line: UInt = #line) throws -> [T] {
        try exported("scalars()", file: file, line: line).scalars(as: type)
    }

    /// The elements as `Float`; refused on a tensor that requires grad while grad mode is on.
    public func floats(file: StaticString = #fileID, line: UInt = #line) throws -> [Float] {
        try exported("floats()", file: file, line: line).floats
    }

    /// The elements as `Double`; refused on a tensor that requires grad while grad mode is on.
    public func doubles(file: StaticString = #fileID, line: UInt = #line) throws -> [Double] {
        try exported("doubles()", file: file, line: line).doubles
    }

    private func exported(_ operation: String, file: StaticString, line: UInt) throws -> NDArray {
        guard !(requiresGrad && isGradEnabled) else {
            throw AutogradError.exportRequiresGrad(operation: operation, file: "\(file)", line: line)
        }
        return value
    }
}

extension Tensor: CustomStringConvertible {
    /// PyTorch's text: `tensor([2., 4.], requires_grad=True)`, `tensor(7., grad_fn=<AddBackward0>)`.
    public var description: String {
        var suffixes: [String] = []
        if let gradFn {
            suffixes.append("grad_fn=<\(gradFn.name)>")
        } else if requiresGrad {
            suffixes.append("requires_grad=True")
        }
        return value.formatted(suffixes: suffixes)
    }
}
