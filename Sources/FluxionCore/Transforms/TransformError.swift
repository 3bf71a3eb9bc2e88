// The errors transforms throw. Each says what happened, where the caller asked for the
// transform, and what to do.

/// A misuse of a transform, thrown by the transformed function.
public enum TransformError: Error, CustomStringConvertible, Equatable {
    /// `grad` (or `valueAndGrad`) of a function whose output is not 0-d.
    case nonScalarOutput(transform: String, shape: [Int], file: String, line: UInt)
    /// An integer or bool input where a transform differentiates.
    case nonDifferentiableInput(transform: String, dtype: DType, file: String, line: UInt)
    /// `vmap` inputs whose mapped axes have different sizes.
    case mappedSizesDiffer(sizes: [Int], file: String, line: UInt)
    /// A `vmap` axis outside an input's or output's dimensions.
    case axisOutOfRange(axis: Int, shape: [Int], file: String, line: UInt)
    /// `vmap` with every input unmapped.
    case nothingMapped(file: String, line: UInt)
    /// A value of a transform used after the transform returned.
    case escapedTracer(transform: String, operation: String, shape: [Int])
    /// Tangents given to `jvp`, `linearize` or `hvp` that do not match the primals' shapes.
    case tangentShapeMismatch(transform: String, expected: [[Int]], got: [[Int]], file: String, line: UInt)
    /// Cotangents given to a pullback that do not match the outputs' shapes.
    case cotangentShapeMismatch(transform: String, expected: [[Int]], got: [[Int]], file: String, line: UInt)
    /// A custom rule returned the wrong number or shapes of results.
    case customRuleMismatch(name: String, expected: [[Int]], got: [[Int]], file: String, line: UInt)
    /// Random sampling inside a `vmap` whose randomness is `.error`.
    case randomnessUnderVmap(operation: String, level: Int)
    /// A primitive without a batching rule inside `vmap(..., fallback: .error)`.
    case noBatchRule(primitive: String, file: String, line: UInt)
    /// A result (a stacked `vmap` output, a Jacobian) with more elements than an array can hold.
    case resultTooLarge(transform: String, shape: [Int], file: String, line: UInt)
    /// The elements of a value read while `jit` or `makeProgram` staged a function, where
    /// values have shapes and dtypes only (JAX's ConcretizationTypeError).
    case concreteValueInStaging(transform: String, shape: [Int], file: String, line: UInt)
    /// `divergence` of a function whose output does not have its input's shape.
    case notAVectorField(transform: String, input: [Int], output: [Int], file: String, line: UInt)
    /// A derivative order below 0.
    case negativeOrder(transform: String, order: Int, file: String, line: UInt)
    /// A `chunkSize` below 1 for `vmap` or a Jacobian (torch.func refuses it too).
    case invalidChunkSize(transform: String, chunkSize: Int, file: String, line: UInt)

    public var description: String {
        switch self {
        case let .nonScalarOutput(transform, shape, file, line):
            "\(transform) needs a function with a scalar (0-d) output, but it returned shape \(shape) (\(transform) called at \(file):\(line)). Fix: reduce the output (e.g. .sum() or .mean()\(shape.allSatisfy { $0 == 1 } ? ", or .reshape([]) for a one-element output" : "")), or use vjp/jacrev for non-scalar outputs"
        case let .nonDifferentiableInput(transform, dtype, file, line):
            "\(transform) cannot differentiate with respect to a \(dtype) input (\(transform) called at \(file):\(line)). Fix: convert it with .to(.float32) or .to(.float64), or pass it as an argument that is not differentiated"
        case let .mappedSizesDiffer(sizes, file, line):
            "vmap got mapped axes of different sizes \(sizes) (vmap called at \(file):\(line)). Fix: give every mapped input the same size along its mapped axis, or mark inputs that are shared with inAxes nil"
        case let .axisOutOfRange(axis, shape, file, line):
            "vmap axis \(axis) is out of range for shape \(shape) (vmap called at \(file):\(line)). Fix: choose an axis between \(-max(shape.count, 1)) and \(max(shape.count - 1, 0))"
        case let .nothingMapped(file, line):
            "vmap needs at least one mapped input, but every inAxes entry is nil (vmap called at \(file):\(line)). Fix: map at least one input along an axis"
        case let .escapedTracer(transform, operation, shape):
            "\(operation) was applied to a value of shape \(shape) that belongs to a \(transform) that has already returned. Fix: return the value from the transformed function instead of storing it outside"
        case let .tangentShapeMismatch(transform, expected, got, file, line):
            "\(transform) was given tangents of shapes \(got) for primals of shapes \(expected) (\(transform) called at \(file):\(line)). Fix: give one tangent per primal, with the primal's shape and structure"
        case let .cotangentShapeMismatch(transform, expected, got, file, line):
            "the pullback of \(transform) was given cotangents of shapes \(got) for outputs of shapes \(expected) (\(transform) called at \(file):\(line)). Fix: give one cotangent per output, with the output's shape and structure"
        case let .customRuleMismatch(name, expected, got, file, line):
            "the custom rule \(name) returned results of shapes \(got) where \(expected) were expected (defined at \(file):\(line)). Fix: return one result per input, each with its input's shape"
        case let .randomnessUnderVmap(operation, level):
            "\(operation) samples random numbers inside vmap (level \(level)) whose randomness is .error. Fix: pass randomness: .same or .different to vmap, or pass keys in as mapped inputs"
        case let .resultTooLarge(transform, shape, file, line):
            "\(transform) would produce a result of shape \(shape), more elements than an array can hold (\(transform) called at \(file):\(line)). Fix: map or differentiate fewer elements at a time (vmap's chunkSize:, or a Jacobian of a slice)"
        case let .concreteValueInStaging(transform, shape, file, line):
            "the elements of a value of shape \(shape) were read while \(transform) staged the function (\(transform) called at \(file):\(line)); a staged value has a shape and a dtype but no elements until the program runs. Fix: compute with array operations (NDArray.where(condition, a, b) instead of an if on a value), pass the value as a static argument if it decides the program's structure, or read it after the jitted function returns"
        case let .notAVectorField(transform, input, output, file, line):
            "\(transform) needs a vector field, one output component per input element, but the function maps shape \(input) to shape \(output) (\(transform) called at \(file):\(line)). Fix: return an array of the input's shape, or take the trace of jacfwd's Jacobian over the components you mean"
        case let .negativeOrder(transform, order, file, line):
            "\(transform) was asked for a derivative of order \(order) (\(transform) called at \(file):\(line)). Fix: pass an order of 0 (the value itself) or more"
        case let .invalidChunkSize(transform, chunkSize, file, line):
            "\(transform) was given chunkSize \(chunkSize) (\(transform) called at \(file):\(line)). Fix: pass a chunk size of 1 or more, or nil for the whole batch at once"
        case let .noBatchRule(primitive, file, line):
            "\(primitive) has no batching rule and vmap was asked not to fall back to a loop (vmap called at \(file):\(line)). Fix: use fallback: .loop"
        }
    }
}
