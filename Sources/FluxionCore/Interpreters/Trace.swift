// The interpreters' common ground: a trace is one level of one running transform, a tracer a
// value inside it (its shape and dtype, and whatever its interpreter carries).
//
// Levels come from the dynamic nesting of transforms on the current thread (ThreadState's
// stack of traces, pushed and popped by `withNewTrace` alone), so an array closed over from an
// outer transform is a constant to an inner one (no perturbation confusion). A tracer whose
// transform has ended is refused (Bind.swift): inside another transform the refusal is thrown
// as `TransformError.escapedTracer` when that transform returns; outside any transform it stops
// the program, since there is no transform to throw from.

import FluxionKernels

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
    /// The running transforms' traces, outermost first; the innermost has the highest level.
    var traces: [Trace] = []
    /// An error found inside an operation, thrown when the scope that catches it ends.
    var pendingError: (any Error)?
    /// How many running scopes (transforms, pullbacks) will throw a recorded error.
    var catchers = 0

    /// How many transforms are running on this thread (the level of the innermost).
    var depth: Int { traces.count }

    private static let local = ThreadLocal { ThreadState() }

    static var current: ThreadState { local.value }
}

/// Runs `body` with a new trace one level above the current ones, marks the trace inactive
/// afterwards, and throws any error operations recorded meanwhile.
func withNewTrace<T: Trace, R>(_ make: (Int) -> T, _ body: (T) throws -> R) throws -> R {
    let state = ThreadState.current
    let trace = make(state.depth + 1)
    state.traces.append(trace)
    defer {
        trace.isActive = false
        state.traces.removeLast()
    }
    return try throwingReported { try body(trace) }
}
