// Interpreters and the one entry point every operation goes through.
//
// A transform runs the user's function on tracers: arrays that stand for values and belong to
// one interpreter (a `Trace`) at one nesting level. `bind` finds the highest-level trace among
// its inputs and lets it process the primitive; the trace computes on its parent level by
// calling `bind` again with the values its tracers carry, so nested transforms compose
// (autodidax's design). With no tracer among the inputs, `bind` evaluates the kernel at once.
//
// Levels come from the dynamic nesting of transforms on the current thread, so an array closed
// over from an outer transform is a constant to an inner one (no perturbation confusion). A
// tracer whose transform has ended is refused: inside another transform the refusal is thrown
// as `TransformError.escapedTracer` when that transform returns; outside any transform it stops
// the program, since there is no transform to throw from.

import FluxionKernels
import Synchronization

/// An interpreter instance: one level of one transform.
public class Trace: @unchecked Sendable {
    /// The nesting level; inner transforms have higher levels.
    public let level: Int
    /// False once the transform that owns this trace has returned.
    var isActive = true
    /// The transform's name, for messages.
    let transform: String

    init(level: Int, transform: String) {
        self.level = level
        self.transform = transform
    }

    /// The outputs of `primitive` applied to `inputs`, some of which are this trace's tracers.
    func process(_ primitive: any Primitive, _ inputs: [NDArray]) -> [NDArray] {
        fatalError("every interpreter overrides process")
    }
}

/// A value inside a transform: its shape and dtype, and whatever its interpreter carries.
public class Tracer: @unchecked Sendable {
    public let shape: [Int]
    public let dtype: DType
    let trace: Trace

    init(trace: Trace, shape: [Int], dtype: DType) {
        self.trace = trace
        self.shape = shape
        self.dtype = dtype
    }

    /// The concrete value this tracer stands for, when it has one.
    func concreteValue() -> StridedArray {
        fail("reading elements", "a value inside \(trace.transform) (shape \(describe(shape))) stands for a whole batch of values, not one",
             fix: "compute with array operations inside the transform (NDArray.where instead of an if on a value), or return the value and read it outside",
             file: #fileID, line: #line)
    }
}

extension NDArray {
    /// The transform tracing this value, when it is a value inside a transform (for messages).
    package var tracingTransform: String? { tracer?.trace.transform }
}

/// What the current thread knows about its transforms.
final class ThreadState {
    /// How many transforms are running on this thread (the level of the innermost).
    var depth = 0
    /// An error found inside an operation, thrown when the innermost transform returns.
    var pendingError: (any Error)?
    /// How many running scopes (transforms, pullbacks) will throw a recorded error.
    var catchers = 0
    /// The randomness policy of each running `vmap`, innermost last.
    var batchTraces: [BatchTrace] = []

    private static let local = ThreadLocal { ThreadState() }

    static var current: ThreadState { local.value }
}

/// One instance of `Value` per thread, made on the thread's first use and released when the
/// thread ends.
package final class ThreadLocal<Value: AnyObject>: @unchecked Sendable {
    private let key: pthread_key_t
    private let make: () -> Value

    package init(_ make: @escaping () -> Value) {
        var key = pthread_key_t()
        pthread_key_create(&key) { if let p = $0 { Unmanaged<AnyObject>.fromOpaque(p).release() } }
        self.key = key
        self.make = make
    }

    package var value: Value {
        if let p = pthread_getspecific(key) { return unsafeDowncast(Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue(), to: Value.self) }
        let value = make()
        pthread_setspecific(key, Unmanaged<AnyObject>.passRetained(value).toOpaque())
        return value
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with a new trace one level above the current ones, marks the trace inactive
/// afterwards, and throws any error operations recorded meanwhile.
func withNewTrace<T: Trace, R>(_ make: (Int) -> T, _ body: (T) throws -> R) throws -> R {
    let state = ThreadState.current
    let trace = make(state.depth + 1)
    state.depth += 1
    defer {
        trace.isActive = false
        state.depth -= 1
    }
    return try throwingReported { try body(trace) }
}

/// Runs `body` (a transform or a sweep over a recorded tape) and throws any error that
/// operations recorded meanwhile. When `body` throws too, the recorded error is thrown: it is
/// the cause (a custom function whose forward threw leaves no output, which `body` then
/// reports), and it must not stay pending for an unrelated later call.
package func throwingReported<R>(_ body: () throws -> R) throws -> R {
    let state = ThreadState.current
    state.catchers += 1
    defer { state.catchers -= 1 }
    let result: R
    do {
        result = try body()
    } catch {
        if let pending = state.pendingError {
            state.pendingError = nil
            throw pending
        }
        throw error
    }
    if let error = state.pendingError {
        state.pendingError = nil
        throw error
    }
    return result
}

/// Records an error found inside an operation: thrown by the enclosing transform, or a stop
/// when no transform is running.
func report(_ error: any Error) {
    let state = ThreadState.current
    guard state.catchers > 0 else { fatalError("Fluxion: \(error)") }
    if state.pendingError == nil { state.pendingError = error }
}

// MARK: - bind

/// Applies `primitive` to `inputs`: evaluates at once when no input is a tracer, otherwise
/// hands it to the interpreter of the highest-level tracer.
public func bind(_ primitive: some Primitive, _ inputs: [NDArray]) -> [NDArray] {
    var top: Trace?
    for x in inputs {
        guard let t = x.tracer else { continue }
        guard t.trace.isActive else { return escaped(primitive, inputs, t) }
        if top == nil || t.trace.level > top!.level { top = t.trace }
    }
    guard let top else {
        // A draw has no inputs to carry a batch axis, so no trace sees it: the running vmaps
        // decide by their randomness policy.
        if inputs.isEmpty, let random = primitive as? any RandomPrimitive, !ThreadState.current.batchTraces.isEmpty {
            return [bindRandom(random)]
        }
        return primitive.evaluate(arrays: inputs)
    }
    return top.process(primitive, inputs)
}

/// A tracer outlived its transform: report it and compute on its concrete value so the caller
/// can continue to the point where the error is thrown.
func escaped(_ primitive: some Primitive, _ inputs: [NDArray], _ tracer: Tracer) -> [NDArray] {
    report(TransformError.escapedTracer(transform: tracer.trace.transform, operation: primitive.name, shape: tracer.shape))
    let stripped = inputs.map { x -> NDArray in
        guard let t = x.tracer, !t.trace.isActive else { return x }
        return NDArray.zeros(t.shape, dtype: t.dtype)
    }
    return bind(primitive, stripped)
}

/// Applies a one-input, one-output primitive.
@inlinable
public func bind(_ primitive: some UnaryPrimitive, _ x: NDArray) -> NDArray {
    if x.isConcrete { return NDArray(primitive.evaluate(x.header)) }
    return bind(primitive, [x])[0]
}

/// Applies a two-input, one-output primitive.
@inlinable
public func bind(_ primitive: some BinaryPrimitive, _ a: NDArray, _ b: NDArray) -> NDArray {
    if a.isConcrete && b.isConcrete { return NDArray(primitive.evaluate(a.header, b.header)) }
    return bind(primitive, [a, b])[0]
}
