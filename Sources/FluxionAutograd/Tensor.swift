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
// Views. A tensor made by basic indexing, a reshape, a transpose, `diagonal`, `expand` or
// `detach()` remembers its base and how to read and write it (`ViewLink`): an in-place change
// of the view writes the base through a recorded functional update, and a change of the base
// reads its live views again (Tensor+InPlace.swift). So a view behaves as PyTorch's, though no
// storage is shared.
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
// two threads at once (in-place operations, `requiresGrad_`, `detach_`, `retainGrad`) or
// changing a tensor while another thread uses one of its views (the change updates them),
// registering or removing hooks while another thread runs a backward pass through them, and
// two backward passes through one shared graph at once unless both pass `retainGraph: true`
// (the first to finish would free what the other is reading). Modules may run `forward` on
// several threads while nothing changes them (`train()`/`eval()`, hooks, assignments);
// `functionalCall` is safe on several threads; an optimizer belongs to one thread, and its
// `step()` must not overlap a backward pass into its parameters.

import FluxionCore
import Synchronization

/// The facade's shared state.
public enum Autograd {
    /// The tape every operation on tensors that require grad records on.
    static let tape = ReverseInterpreter(level: 0, transform: "autograd")

    /// How many recorded operations are alive (tape entries held by graphs, pullbacks or
    /// tensors): for checking that graphs are freed.
    public static var liveTapeEntries: Int { TapeEntry.liveCount }
}

/// An n-dimensional array with PyTorch's autograd state.
public final class Tensor: @unchecked Sendable {
    /// The value, without history (PyTorch's `.data`).
    public private(set) var value: NDArray
    /// The value as recorded on the facade's tape, when the tensor takes part in a graph.
    var recorded: NDArray?
    /// The node of the operation that made this tensor; nil for leaves.
    public internal(set) var gradFn: Node?
    /// For a leaf that requires grad, the node that accumulates its gradient.
    private(set) var accumulator: Node?
    /// `grad`, behind a lock: backward passes on several threads may accumulate into one leaf.
    private let storedGrad = Mutex<Tensor?>(nil)
    /// Counts the in-place changes of this tensor: its own in-place operations, and for a view,
    /// the changes of its base.
    public private(set) var version = 0
    /// Whether the tensor was made inside `inferenceMode` (or is a view of such a tensor).
    public private(set) var isInference: Bool
    /// For a view (a basic subscript, a reshape, a transpose, `detach()`, …): its base and how
    /// to read and write it.
    private(set) var viewLink: ViewLink?
    /// The live views of this tensor, brought up to date when it changes in place; behind a
    /// lock, since views of a shared tensor may be made on several threads at once.
    private let views = Mutex(ViewList())

    /// A tensor holding `value`, which does not require grad.
    public init(_ value: NDArray) {
        let (primal, ref) = Autograd.tape.split(value)
        self.value = primal
        isInference = AutogradState.current.inferenceMode
        // A value recorded by differentiating rules (a gradient made with createGraph, a
        // transform's result computed from tensors that require grad) keeps its history, unless
        // grad mode is off: then it is a value without history, as PyTorch's transforms under
        // torch.no_grad() give.
        if let ref, AutogradState.current.gradEnabled {
            recorded = value
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
    var tapeOutput: TapeEntry.Ref? { recorded.flatMap { Autograd.tape.split($0).ref } }
    /// The node gradients for this tensor flow into: its `gradFn`, or its accumulator.
    var gradientNode: Node? { gradFn ?? accumulator }
    /// The value operations compute on: recorded when the tensor requires grad.
    var operand: NDArray { recorded ?? value }
}

// MARK: - Autograd state

extension Tensor {
    /// Whether operations on this tensor are recorded for differentiation.
    public var requiresGrad: Bool { recorded != nil }

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
            recorded = nil
            accumulator = nil
            return self
        }
        guard value.dtype.isFloatingPoint else {
            throw AutogradError.requiresGradOnNonFloating(dtype: value.dtype, file: "\(file)", line: line)
        }
        // A leaf of the facade's tape beneath a running transform would cut the transform out:
        // grad would silently see a constant.
        if let transform = value.tracingTransform {
            throw AutogradError.requiresGradInsideTransform(transform: transform, file: "\(file)", line: line)
        }
        if isInference && !AutogradState.current.inferenceMode {
            throw AutogradError.requiresGradOnInferenceTensor(file: "\(file)", line: line)
        }
        if recorded == nil { becomeLeaf() }
        return self
    }

    /// Records this tensor's value as a new input of the facade's tape.
    private func becomeLeaf() {
        let leaf = Autograd.tape.leaf(value)
        recorded = leaf
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
                old.rebind(Tensor(old.value + g.value))
            }
        }
    }

    /// Registers `hook`, called with this tensor's gradient each time one is computed; a
    /// non-nil result replaces the gradient. Returns a handle whose `remove()` unregisters it.
    @discardableResult
    public func registerHook(file: StaticString = #fileID, line: UInt = #line,
                             _ hook: @escaping (Tensor) -> Tensor?) throws -> RemovableHandle {
        guard let node = gradientNode else {
            throw noHistory(file: "\(file)", line: line)
        }
        let id = RemovableHandle.nextID()
        node.hooks.append((id, hook))
        return RemovableHandle { [weak node] in node?.hooks.removeAll { $0.id == id } }
    }

    /// A tensor sharing this one's value, with no history and not requiring grad — a view, as
    /// in PyTorch: an in-place operation on it changes this tensor too (without recording it,
    /// so this tensor keeps its place in its graph), and a change of this tensor shows in it.
    /// It does not keep this tensor (or its graph) alive.
    public func detach() -> Tensor {
        let result = Tensor(value)
        result.becomeView(of: self, ViewLink(base: self, differentiable: false, read: { $0 }, write: { _, v in v }))
        return result
    }

    /// Detaches this tensor from its history in place: it becomes a leaf that does not
    /// require grad. A view stays a view of its base, as `detach()` is (PyTorch refuses
    /// `detach_()` on a view instead).
    @discardableResult
    public func detach_() -> Tensor {
        if let link = viewLink, link.differentiable, let base = link.base {
            viewLink = ViewLink(base: base, differentiable: false, read: link.read, write: link.write)
        }
        recorded = nil
        gradFn = nil
        accumulator = nil
        return self
    }

    /// Rebinds this tensor to `result` (an in-place change): the value, the history and the
    /// version; then brings its views up to date.
    ///
    /// A result without history (an update inside `noGrad`) leaves a tensor that requires grad
    /// in its place in the graph with the new value, as PyTorch does: a leaf stays a leaf, and
    /// another tensor keeps its `gradFn`. `retainGrad()` moves to the new node, so `grad`
    /// is the gradient of the current version; hooks stay with the node they were registered
    /// on (they see the gradient of the version they were registered on), as in PyTorch.
    func rebind(_ result: Tensor) {
        let old = gradFn
        value = result.value
        version += 1
        if result.gradFn == nil, requiresGrad, let place = gradientNode {
            recorded = Autograd.tape.tracer(value, place.ref)
        } else {
            recorded = result.recorded
            gradFn = result.gradFn
            if gradFn != nil { accumulator = nil }
        }
        if let old, old !== gradFn, old.retainsGrad, old.variable === self {
            old.retainsGrad = false
            if let gradFn {
                gradFn.retainsGrad = true
                gradFn.variable = self
            }
        }
        refreshViews()
    }

    /// Makes `result` this tensor's value in place. A view writes its base through its link
    /// (recorded as PyTorch's `CopySlices`), and the base brings every view of it up to date,
    /// this one included.
    func commit(_ result: Tensor) {
        guard let link = viewLink, let base = link.base else { return rebind(result) }
        if link.differentiable {
            base.commit(Tensor.record("CopySlices", [base, result]) { link.write($0[0], $0[1]) })
        } else {
            // detach(): the base changes without recording, keeping its place in its graph.
            base.commit(Tensor(noGrad { link.write(base.value, result.value) }))
        }
    }

    /// Makes this tensor a view of `base` through `link`.
    func becomeView(of base: Tensor, _ link: ViewLink) {
        viewLink = link
        isInference = isInference || base.isInference
        base.views.withLock { list in
            if list.tensors.count >= list.capacity {
                list.tensors.removeAll { $0.tensor == nil }
                list.capacity = Swift.max(8, 2 * list.tensors.count)
            }
            list.tensors.append(WeakTensor(self))
        }
    }

    /// Reads every live view again from this tensor's new value.
    private func refreshViews() {
        let live = views.withLock { list -> [Tensor] in
            guard !list.tensors.isEmpty else { return [] }
            list.tensors.removeAll { $0.tensor == nil }
            return list.tensors.compactMap(\.tensor)
        }
        for view in live {
            guard let link = view.viewLink else { continue }
            // Recorded again as PyTorch regenerates a view's grad_fn after its base changed.
            view.rebind(link.differentiable
                ? setGradEnabled(link.madeWithGrad) { unary("AsStridedBackward0", link.read) }
                : Tensor(link.read(value)))
        }
    }

    /// Checks that an in-place change of this tensor is allowed (PyTorch's checks and errors).
    /// `throughView`: the change writes a view of this tensor (a basic subscript assignment),
    /// which PyTorch reports as a change of a view.
    func checkInPlace(_ operation: String, throughView: Bool = false, file: StaticString, line: UInt) throws {
        if isInference && !AutogradState.current.inferenceMode {
            throw AutogradError.inPlaceOnInferenceTensor(operation: operation, file: "\(file)", line: line)
        }
        guard isGradEnabled else { return }
        if isLeaf && requiresGrad {
            throw throughView ? AutogradError.inPlaceOnViewOfLeaf(operation: operation, file: "\(file)", line: line)
                : AutogradError.inPlaceOnLeaf(operation: operation, file: "\(file)", line: line)
        }
        var root = self
        while let link = root.viewLink, link.differentiable, let base = link.base {
            if link.madeInNoGrad {
                throw AutogradError.inPlaceOnNoGradView(operation: operation, file: "\(file)", line: line)
            }
            root = base
        }
        if root !== self && root.isLeaf && root.requiresGrad {
            throw AutogradError.inPlaceOnViewOfLeaf(operation: operation, file: "\(file)", line: line)
        }
    }
}

/// How a view reads its base and writes a new value back into it.
final class ViewLink {
    /// Whether the view is recorded from its base (false for `detach()`).
    let differentiable: Bool
    /// The view's value from the base's value.
    let read: (NDArray) -> NDArray
    /// The base's new value from its old value and the view's new value.
    let write: (NDArray, NDArray) -> NDArray
    /// Whether grad mode was on when the view was made.
    let madeWithGrad: Bool
    /// Made inside `noGrad` from a base that requires grad (PyTorch refuses to modify such a
    /// view in place with grad mode on).
    let madeInNoGrad: Bool
    /// A differentiable view keeps its base alive, as PyTorch's `_base`; `detach()` does not.
    private let strongBase: Tensor?
    private weak var weakBase: Tensor?

    init(base: Tensor, differentiable: Bool = true,
         read: @escaping (NDArray) -> NDArray, write: @escaping (NDArray, NDArray) -> NDArray) {
        self.differentiable = differentiable
        self.read = read
        self.write = write
        madeWithGrad = isGradEnabled
        madeInNoGrad = differentiable && !isGradEnabled && base.requiresGrad
        strongBase = differentiable ? base : nil
        weakBase = base
    }

    /// The tensor this is a view of (nil once a detached view's base is gone).
    var base: Tensor? { strongBase ?? weakBase }
}

/// A reference to a tensor that does not keep it alive.
struct WeakTensor {
    weak var tensor: Tensor?
    init(_ tensor: Tensor) { self.tensor = tensor }
}

/// The views of a tensor, and how many may be held before the dead ones are dropped.
struct ViewList {
    var tensors: [WeakTensor] = []
    var capacity = 8
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
    /// The value's shape.
    public var shape: [Int] { value.shape }
    /// The value's element type.
    public var dtype: DType { value.dtype }
    /// The number of dimensions.
    public var rank: Int { value.rank }
    /// The number of elements (the product of the shape; 1 for a 0-d tensor).
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
