// The interpreters' common ground: an interpreter is one level of one running transform, a tracer a
// value inside it (its shape and dtype, and whatever its interpreter carries).
//
// Levels come from the dynamic nesting of transforms on the current thread (ThreadState's
// stack of interpreters, pushed and popped by `withNewInterpreter` alone), so an array closed over from an
// outer transform is a constant to an inner one (no perturbation confusion). A tracer whose
// transform has ended is refused (Bind.swift): inside another transform the refusal is thrown
// as `TransformError.escapedTracer` when that transform returns; outside any transform it stops
// the program, since there is no transform to throw from.

import FluxionKernels

/// An interpreter instance: one level of one transform.
public class Interpreter: @unchecked Sendable {
    /// The nesting level; inner transforms have higher levels.
    public let level: Int
    /// False once the transform that owns this interpreter has returned.
    var isActive = true
    /// The transform's name, for messages.
    let transform: String

    init(level: Int, transform: String) {
        self.level = level
        self.transform = transform
    }

    /// For each of `inputs`, the value it has one level down and, when it is one of this
    /// interpreter's tracers, what that tracer carries (nil otherwise): the one unpacking loop
    /// every interpreter's `process` starts with.
    @inline(__always)
    final func unpack<T: CarryingTracer>(_ inputs: [NDArray], _: T.Type) -> (values: [NDArray], carried: [T.Carried?]) {
        var values: [NDArray] = [], carried: [T.Carried?] = []
        values.reserveCapacity(inputs.count)
        carried.reserveCapacity(inputs.count)
        for x in inputs {
            // A tracer of this interpreter is always a `T`: no dynamic cast on this hot path.
            if let t = x.tracer, t.interpreter === self {
                let own = unsafeDowncast(t, to: T.self)
                values.append(own.lower)
                carried.append(own.carried)
            } else {
                values.append(x)
                carried.append(nil)
            }
        }
        return (values, carried)
    }

    /// The outputs of `primitive` applied to `inputs`, some of which are this interpreter's tracers.
    func process(_ primitive: any Primitive, _ inputs: [NDArray]) -> [NDArray] {
        fatalError("every interpreter overrides process")
    }
}

/// A value inside a transform: its shape and dtype, and whatever its interpreter carries.
public class Tracer: @unchecked Sendable {
    /// The shape of the value the tracer stands for.
    public let shape: [Int]
    /// The dtype of the value the tracer stands for.
    public let dtype: DType
    let interpreter: Interpreter

    init(interpreter: Interpreter, shape: [Int], dtype: DType) {
        self.interpreter = interpreter
        self.shape = shape
        self.dtype = dtype
    }

    /// The concrete value this tracer stands for, when it has one.
    func concreteValue() -> StridedArray {
        fail("reading elements", "a value inside \(interpreter.transform) (shape \(describe(shape))) stands for a whole batch of values, not one",
             fix: "compute with array operations inside the transform (NDArray.where instead of an if on a value), or return the value and read it outside",
             file: #fileID, line: #line)
    }
}

/// A tracer as its interpreter unpacks it: the value it stands for one level down, and what
/// the interpreter carries beside it (a tangent, a place on the tape, a batch axis).
protocol CarryingTracer: Tracer {
    associatedtype Carried
    var lower: NDArray { get }
    var carried: Carried { get }
}

extension NDArray {
    /// The transform tracing this value, when it is a value inside a transform (for messages).
    package var tracingTransform: String? { tracer?.interpreter.transform }
}

/// What the current thread knows about its transforms.
final class ThreadState {
    /// The running transforms' interpreters, outermost first; the innermost has the highest level.
    var interpreters: [Interpreter] = []
    /// An error found inside an operation, thrown when the scope that catches it ends.
    var pendingError: (any Error)?
    /// How many running scopes (transforms, pullbacks) will throw a recorded error.
    var catchers = 0

    /// How many transforms are running on this thread (the level of the innermost).
    var depth: Int { interpreters.count }

    private static let local = ThreadLocal { ThreadState() }

    static var current: ThreadState { local.value }
}

/// Runs `body` with a new interpreter one level above the current ones, marks the interpreter inactive
/// afterwards, and throws any error operations recorded meanwhile.
func withNewInterpreter<T: Interpreter, R>(_ make: (Int) -> T, _ body: (T) throws -> R) throws -> R {
    let state = ThreadState.current
    let interpreter = make(state.depth + 1)
    state.interpreters.append(interpreter)
    defer {
        interpreter.isActive = false
        state.interpreters.removeLast()
    }
    return try throwingReported { try body(interpreter) }
}
