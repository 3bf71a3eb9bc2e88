// The operator vocabulary on tensors. Every operation is the `NDArray` operation of the same
// name — its shapes, broadcasting, dtypes and derivative rules are defined there, once — run
// on the tensors' values and recorded as one graph node with PyTorch's name for it. Nothing
// is computed here.
//
// An operation records only when grad mode is on and some input requires grad; otherwise it
// is the array operation and nothing more. Number operands are inputs without history
// (`(nil, 0)` in `nextFunctions`, as PyTorch's wrapped scalars).

import FluxionCore

extension Tensor {
    /// Whether an operation on `inputs` is recorded: grad mode is on and some input requires
    /// grad. The one place that decides.
    static func records(_ inputs: [Tensor?]) -> Bool {
        inputs.contains { $0?.requiresGrad == true } && AutogradState.current.gradEnabled
    }

    /// `operation` applied to the values of `inputs` (nil: a number operand), recorded as a
    /// node when it must be: named `name`, or when `name` is nil after the primitive that made
    /// the output (the operations that are one primitive). `file` and `line` are the user's
    /// call, when the operation is a function that knows it (operators cannot).
    static func record(_ name: String?, _ inputs: [Tensor?], file: StaticString = "", line: UInt = 0,
                       _ operation: ([NDArray]) throws -> NDArray) rethrows -> Tensor {
        guard records(inputs) else { return Tensor(try operation(inputs.compactMap { $0?.value })) }
        if inputs.contains(where: { $0?.isInference == true }) {
            return try recordedWithInference(name, inputs, file: file, line: line, operation)
        }
        return recorded(name, inputs, try operation(inputs.compactMap { $0?.operand }), file: file, line: line)
    }

    /// The tensor for `y`, an operation's result on recorded values, with its node.
    static func recorded(_ name: String?, _ inputs: [Tensor?], _ y: NDArray, file: StaticString = "", line: UInt = 0) -> Tensor {
        let (primal, ref) = Autograd.tape.split(y)
        let result = Tensor(primal)
        guard let ref else { return result }
        result.recorded = y
        result.gradFn = Node(name: name, ref: ref, inputs: inputs, file: file, line: line)
        return result
    }

    /// `record` for an operation with an input made in `inferenceMode`: PyTorch records it
    /// when it saves nothing of that input (an addition) and refuses at once when it would
    /// save it (a product). The inference tensors' values enter the tape as fresh leaves, so
    /// the entries that depend on them are known; the operation is refused when one of those
    /// entries reads floating values in its rule. (Such an entry counts as saving all of its
    /// floating inputs, so an operation whose rule reads only its other inputs — a product
    /// whose other factor alone requires grad — is refused too, as PyTorch refuses it.)
    private static func recordedWithInference(_ name: String?, _ inputs: [Tensor?], file: StaticString, line: UInt,
                                              _ operation: ([NDArray]) throws -> NDArray) rethrows -> Tensor {
        let tape = Autograd.tape
        var values: [NDArray] = []
        var probes: [TapeEntry] = []
        for input in inputs {
            guard let input else { continue }
            if input.isInference {
                let leaf = tape.leaf(input.value)
                probes.append(tape.split(leaf).ref!.node)
                values.append(leaf)
            } else {
                values.append(input.operand)
            }
        }
        let y = try operation(values)
        if let ref = tape.split(y).ref, savesAny(of: probes, from: ref) {
            let node = name ?? Node.name(of: ref)
            refuse(.inferenceTensorInGraph(node: node), operation: node, file: file, line: line)
        }
        return recorded(name, inputs, y, file: file, line: line)
    }

    /// Whether an entry recorded after the `probes` (tape leaves), among those `ref` depends
    /// on, has an input that depends on a probe and a rule that reads such (floating) inputs.
    private static func savesAny(of probes: [TapeEntry], from ref: TapeEntry.Ref) -> Bool {
        let first = probes.map(\.index).min() ?? Int.max
        let entries = ReverseInterpreter.reachable(from: [ref]).filter { $0.index >= first }
        var tainted = Set(probes.map(ObjectIdentifier.init))
        for entry in entries where entry.primitive != nil {   // creation order: inputs first
            guard entry.parents.contains(where: { $0.map { tainted.contains(ObjectIdentifier($0.node)) } ?? false }) else { continue }
            if entry.primitive!.vjpReadsValues { return true }
            tainted.insert(ObjectIdentifier(entry))
        }
        return false
    }

    /// `record` for an operation of this tensor alone.
    func unary(_ name: String?, file: StaticString = "", line: UInt = 0, _ operation: (NDArray) -> NDArray) -> Tensor {
        Tensor.record(name, [self], file: file, line: line) { operation($0[0]) }
    }

    /// `record` for one primitive of this tensor alone, named after it.
    func unary(_ operation: (NDArray) -> NDArray) -> Tensor { unary(nil, operation) }

    /// `record` for an operation of two tensors.
    static func binary(_ name: String?, _ a: Tensor, _ b: Tensor, file: StaticString = "", line: UInt = 0,
                       _ operation: (NDArray, NDArray) -> NDArray) -> Tensor {
        record(name, [a, b], file: file, line: line) { operation($0[0], $0[1]) }
    }

    /// `record` for one primitive of two tensors, named after it.
    static func binary(_ a: Tensor, _ b: Tensor, _ operation: (NDArray, NDArray) -> NDArray) -> Tensor {
        binary(nil, a, b, operation)
    }

    /// `record` with a number on the right: the number is an input without history.
    func withNumber(_ name: String? = nil, file: StaticString = "", line: UInt = 0, _ operation: (NDArray) -> NDArray) -> Tensor {
        Tensor.record(name, [self, nil], file: file, line: line) { operation($0[0]) }
    }
}

// MARK: - Arithmetic

extension Tensor {
    /// Elementwise sum, with NumPy broadcasting; recorded as `AddBackward0`.
    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(a, b, +) }
    /// Elementwise difference, with NumPy broadcasting; recorded as `SubBackward0`.
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(a, b, -) }
    /// Elementwise product, with NumPy broadcasting; recorded as `MulBackward0`.
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(a, b, *) }
    /// Elementwise quotient, with NumPy broadcasting; recorded as `DivBackward0`.
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(a, b, /) }
    /// `a` raised to the power `b`, elementwise with broadcasting (`PowBackward1`: both get
    /// gradients, ∂/∂b = aᵇ·log a).
    public static func ** (a: Tensor, b: Tensor) -> Tensor { binary("PowBackward1", a, b, **) }
    /// The negation of each element (`NegBackward0`).
    public static prefix func - (x: Tensor) -> Tensor { x.unary(-) }

    /// `a + b` for each element of `a`; the number is an input without history.
    public static func + (a: Tensor, b: Double) -> Tensor { a.withNumber { $0 + b } }
    /// `a + b` for each element of `b`; the number is an input without history.
    public static func + (a: Double, b: Tensor) -> Tensor { b.withNumber { a + $0 } }
    /// `a − b` for each element of `a`; the number is an input without history.
    public static func - (a: Tensor, b: Double) -> Tensor { a.withNumber { $0 - b } }
    /// `a − b` for each element of `b` (`RsubBackward1`); the number is an input without history.
    public static func - (a: Double, b: Tensor) -> Tensor { b.withNumber("RsubBackward1") { a - $0 } }
    /// `a · b` for each element of `a`; the number is an input without history.
    public static func * (a: Tensor, b: Double) -> Tensor { a.withNumber { $0 * b } }
    /// `a · b` for each element of `b`; the number is an input without history.
    public static func * (a: Double, b: Tensor) -> Tensor { b.withNumber { a * $0 } }
    /// `a / b` for each element of `a`; the number is an input without history.
    public static func / (a: Tensor, b: Double) -> Tensor { a.withNumber { $0 / b } }
    /// `a / b` for each element of `b` (recorded as PyTorch does, `MulBackward0`); the number is an input without history.
    public static func / (a: Double, b: Tensor) -> Tensor { b.withNumber("MulBackward0") { a / $0 } }
    /// Each element raised to the constant power `p` (`PowBackward0`, p a parameter of the node).
    public static func ** (x: Tensor, p: Double) -> Tensor { x.unary("PowBackward0") { $0 ** p } }
    /// The number `a` raised to each element of `x` (`PowBackward2`): ∂/∂x = aˣ·log a.
    public static func ** (a: Double, x: Tensor) -> Tensor { x.withNumber("PowBackward2") { $0.scalarLike(a) ** $0 } }

    /// `x ** exponent` for a constant exponent.
    public func pow(_ exponent: Double) -> Tensor { self ** exponent }
    /// `x ** y` elementwise.
    public func pow(_ exponent: Tensor) -> Tensor { self ** exponent }

    /// The value converted to `dtype` (recorded for floating dtypes); the tensor itself when it
    /// has that dtype already, as in PyTorch.
    public func to(_ dtype: DType) -> Tensor {
        dtype == self.dtype ? self : unary { $0.to(dtype) }
    }
}

// MARK: - Elementwise functions

/// |x|, elementwise; its derivative at 0 is 0, as in PyTorch.
public func abs(_ x: Tensor) -> Tensor { x.unary(abs) }
/// −1, 0 or 1 by the sign of each element; its derivative is zero.
public func sign(_ x: Tensor) -> Tensor { x.unary(sign) }
/// eˣ, elementwise.
public func exp(_ x: Tensor) -> Tensor { x.unary(exp) }
/// The natural logarithm, elementwise (−∞ at 0, NaN below).
public func log(_ x: Tensor) -> Tensor { x.unary(log) }
/// log(1 + x), elementwise, accurate for small x.
public func log1p(_ x: Tensor) -> Tensor { x.unary(log1p) }
/// eˣ − 1, elementwise, accurate for small x.
public func expm1(_ x: Tensor) -> Tensor { x.unary(expm1) }
/// √x, elementwise.
public func sqrt(_ x: Tensor) -> Tensor { x.unary(sqrt) }
/// 1/√x, elementwise.
public func rsqrt(_ x: Tensor) -> Tensor { x.unary(rsqrt) }
/// The sine, elementwise.
public func sin(_ x: Tensor) -> Tensor { x.unary(sin) }
/// The cosine, elementwise.
public func cos(_ x: Tensor) -> Tensor { x.unary(cos) }
/// The tangent, elementwise.
public func tan(_ x: Tensor) -> Tensor { x.unary(tan) }
/// The arcsine, elementwise (on [−1, 1]).
public func asin(_ x: Tensor) -> Tensor { x.unary(asin) }
/// The arccosine, elementwise (on [−1, 1]).
public func acos(_ x: Tensor) -> Tensor { x.unary(acos) }
/// The arctangent, elementwise.
public func atan(_ x: Tensor) -> Tensor { x.unary(atan) }
/// The hyperbolic sine, elementwise.
public func sinh(_ x: Tensor) -> Tensor { x.unary(sinh) }
/// The hyperbolic cosine, elementwise.
public func cosh(_ x: Tensor) -> Tensor { x.unary(cosh) }
/// The hyperbolic tangent, elementwise.
public func tanh(_ x: Tensor) -> Tensor { x.unary(tanh) }
/// 1/(1 + e⁻ˣ), elementwise, computed stably for large |x|.
public func sigmoid(_ x: Tensor) -> Tensor { x.unary(sigmoid) }
/// max(x, 0), elementwise; its derivative at 0 is 0, as in PyTorch.
public func relu(_ x: Tensor) -> Tensor { x.unary(relu) }
/// log(1 + eˣ), elementwise, computed stably; its derivative is sigmoid(x).
public func softplus(_ x: Tensor) -> Tensor { x.unary(softplus) }
/// The error function, elementwise: erf(x) = (2/√π)∫₀ˣ e^(−t²) dt.
public func erf(_ x: Tensor) -> Tensor { x.unary(erf) }
/// The largest integer ≤ x, elementwise; its derivative is zero.
public func floor(_ x: Tensor) -> Tensor { x.unary(floor) }
/// The smallest integer ≥ x, elementwise; its derivative is zero.
public func ceil(_ x: Tensor) -> Tensor { x.unary(ceil) }
/// x rounded to the nearest integer, ties to even (as PyTorch); its derivative is zero.
public func round(_ x: Tensor) -> Tensor { x.unary(round) }
/// Each element of `x` raised to the constant `exponent` (`PowBackward0`).
public func pow(_ x: Tensor, _ exponent: Double) -> Tensor { x ** exponent }
/// `x` raised to the power `y`, elementwise with broadcasting (`PowBackward1`).
public func pow(_ x: Tensor, _ y: Tensor) -> Tensor { x ** y }
/// The larger of `a` and `b`, elementwise with broadcasting; a tie splits the gradient equally.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.binary(a, b, maximum) }
/// The smaller of `a` and `b`, elementwise with broadcasting; a tie splits the gradient equally.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.binary(a, b, minimum) }
/// The angle of the point (x, y), atan2(y, x) in (−π, π], elementwise with broadcasting.
public func atan2(_ y: Tensor, _ x: Tensor) -> Tensor { Tensor.binary(y, x, atan2) }

extension Tensor {
    /// `abs(self)` (see the free function).
    public func abs() -> Tensor { FluxionAutograd.abs(self) }
    /// `exp(self)` (see the free function).
    public func exp() -> Tensor { FluxionAutograd.exp(self) }
    /// `log(self)` (see the free function).
    public func log() -> Tensor { FluxionAutograd.log(self) }
    /// `sqrt(self)` (see the free function).
    public func sqrt() -> Tensor { FluxionAutograd.sqrt(self) }
    /// `sin(self)` (see the free function).
    public func sin() -> Tensor { FluxionAutograd.sin(self) }
    /// `cos(self)` (see the free function).
    public func cos() -> Tensor { FluxionAutograd.cos(self) }
    /// `tanh(self)` (see the free function).
    public func tanh() -> Tensor { FluxionAutograd.tanh(self) }
    /// `sigmoid(self)` (see the free function).
    public func sigmoid() -> Tensor { FluxionAutograd.sigmoid(self) }
    /// `relu(self)` (see the free function).
    public func relu() -> Tensor { FluxionAutograd.relu(self) }

    /// Each element limited to [min, max] (either bound may be omitted); `torch.clamp` records
    /// `ClampBackward1` whichever bounds are given (`clampMin` is `ClampMinBackward0`).
    public func clamp(min: Double? = nil, max: Double? = nil) -> Tensor {
        unary("ClampBackward1") { $0.clamp(min: min, max: max) }
    }
}

// MARK: - Comparisons, masks and selection

extension Tensor {
    /// A bool mask, true where `a` is less than `b` (broadcast); it carries no history.
    public static func .< (a: Tensor, b: Tensor) -> Tensor { Tensor(a.value .< b.value) }
    /// A bool mask, true where `a` is less than or equal to `b` (broadcast); it carries no history.
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { Tensor(a.value .<= b.value) }
    /// A bool mask, true where `a` is greater than `b` (broadcast); it carries no history.
    public static func .> (a: Tensor, b: Tensor) -> Tensor { Tensor(a.value .> b.value) }
    /// A bool mask, true where `a` is greater than or equal to `b` (broadcast); it carries no history.
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { Tensor(a.value .>= b.value) }
    /// A bool mask, true where `a` is equal to `b` (broadcast); it carries no history.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { Tensor(a.value .== b.value) }
    /// A bool mask, true where `a` is not equal to `b` (broadcast); it carries no history.
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { Tensor(a.value .!= b.value) }
    /// A bool mask, true where `a` is less than the number `b`; it carries no history.
    public static func .< (a: Tensor, b: Double) -> Tensor { Tensor(a.value .< b) }
    /// A bool mask, true where `a` is less than or equal to the number `b`; it carries no history.
    public static func .<= (a: Tensor, b: Double) -> Tensor { Tensor(a.value .<= b) }
    /// A bool mask, true where `a` is greater than the number `b`; it carries no history.
    public static func .> (a: Tensor, b: Double) -> Tensor { Tensor(a.value .> b) }
    /// A bool mask, true where `a` is greater than or equal to the number `b`; it carries no history.
    public static func .>= (a: Tensor, b: Double) -> Tensor { Tensor(a.value .>= b) }
    /// A bool mask, true where `a` is equal to the number `b`; it carries no history.
    public static func .== (a: Tensor, b: Double) -> Tensor { Tensor(a.value .== b) }
    /// A bool mask, true where `a` is not equal to the number `b`; it carries no history.
    public static func .!= (a: Tensor, b: Double) -> Tensor { Tensor(a.value .!= b) }
    /// The elementwise logical and of two bool masks.
    public static func .& (a: Tensor, b: Tensor) -> Tensor { Tensor(a.value .& b.value) }
    /// The elementwise logical or of two bool masks.
    public static func .| (a: Tensor, b: Tensor) -> Tensor { Tensor(a.value .| b.value) }
    /// The elementwise logical not of a bool mask.
    public static prefix func .! (x: Tensor) -> Tensor { Tensor(.!x.value) }

    /// `a` where `condition` is true, else `b` (`torch.where`).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor,
                               file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        record("WhereBackward0", [a, b], file: file, line: line) { NDArray.where(condition.value, $0[0], $0[1], file: file, line: line) }
    }

    /// `a` where `condition` is true, else the number `b`.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Double,
                               file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        a.withNumber("WhereBackward0", file: file, line: line) { NDArray.where(condition.value, $0, b, file: file, line: line) }
    }
}

// MARK: - Reductions

extension Tensor {
    /// The sum over `dims` (nil: all), removing them unless `keepDim` (`SumBackward0` for all,
    /// `SumBackward1` otherwise). Sums accumulate in float64.
    public func sum(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary(dims == nil ? "SumBackward0" : "SumBackward1", file: file, line: line) { $0.sum(dims: dims, keepDim: keepDim, file: file, line: line) }
    }
    /// The sum over dimension `dim` (nil: all elements, a 0-d result), keeping it as size 1 when
    /// `keepDim`.
    public func sum(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        sum(dims: dim.map { [$0] }, keepDim: keepDim, file: file, line: line)
    }
    /// The mean over `dims` (nil: all), removing them unless `keepDim`.
    public func mean(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary(dims == nil ? "MeanBackward0" : "MeanBackward1", file: file, line: line) { $0.mean(dims: dims, keepDim: keepDim, file: file, line: line) }
    }
    /// The mean over dimension `dim` (nil: all elements), keeping it as size 1 when `keepDim`.
    public func mean(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        mean(dims: dim.map { [$0] }, keepDim: keepDim, file: file, line: line)
    }
    /// The product over dimension `dim` (nil: all elements); its gradient is right with zeros in
    /// the input.
    public func prod(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary(dim == nil ? "ProdBackward0" : "ProdBackward1", file: file, line: line) { $0.prod(dim: dim, keepDim: keepDim, file: file, line: line) }
    }
    /// The largest element over `dims` (nil: all; `torch.amax`); ties share the gradient equally.
    public func max(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary(dims == nil ? "MaxBackward1" : "AmaxBackward0", file: file, line: line) { $0.max(dims: dims, keepDim: keepDim, file: file, line: line) }
    }
    /// The largest element over `dim` (nil: all), as the values of `torch.max(dim=)`.
    public func max(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary(dim == nil ? "MaxBackward1" : "MaxBackward0", file: file, line: line) { $0.max(dim: dim, keepDim: keepDim, file: file, line: line) }
    }
    /// The largest element over `dims` (all when nil), the derivative shared at a tie (`torch.amax`).
    public func amax(dims: [Int]? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("AmaxBackward0", file: file, line: line) { $0.amax(dims: dims, keepDim: keepDim, file: file, line: line) }
    }
    /// The smallest element over `dims` (all when nil), the derivative shared at a tie (`torch.amin`).
    public func amin(dims: [Int]? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("AminBackward0", file: file, line: line) { $0.amin(dims: dims, keepDim: keepDim, file: file, line: line) }
    }
    /// The smallest element over `dims` (nil: all; `torch.amin`); ties share the gradient equally.
    public func min(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary(dims == nil ? "MinBackward1" : "AminBackward0", file: file, line: line) { $0.min(dims: dims, keepDim: keepDim, file: file, line: line) }
    }
    /// The smallest element over `dim` (nil: all), as the values of `torch.min(dim=)`.
    public func min(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary(dim == nil ? "MinBackward1" : "MinBackward0", file: file, line: line) { $0.min(dim: dim, keepDim: keepDim, file: file, line: line) }
    }
    /// The int64 position of the largest element over `dim` (nil: of the flattened tensor); no
    /// history.
    public func argmax(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor(value.argmax(dim: dim, keepDim: keepDim, file: file, line: line))
    }
    /// The int64 position of the smallest element over `dim` (nil: of the flattened tensor); no
    /// history.
    public func argmin(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor(value.argmin(dim: dim, keepDim: keepDim, file: file, line: line))
    }
    /// The running sum along `dim`: element i is the sum of elements 0…i.
    public func cumsum(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("CumsumBackward0", file: file, line: line) { $0.cumsum(dim: dim, file: file, line: line) }
    }
    /// log Σ exp(x) over `dims` (nil: all), computed stably by subtracting the maximum.
    public func logSumExp(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("LogsumexpBackward0", file: file, line: line) { $0.logSumExp(dims: dims, keepDim: keepDim, file: file, line: line) }
    }
    /// log Σ exp(x) over `dim` (nil: all), computed stably by subtracting the maximum.
    public func logSumExp(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        logSumExp(dims: dim.map { [$0] }, keepDim: keepDim, file: file, line: line)
    }
    /// The variance over `dims` (nil: all): Σ(x − mean)² / (n − correction); `correction: 1` is
    /// the unbiased estimate, PyTorch's default.
    public func variance(dims: [Int]?, correction: Int = 1, keepDim: Bool = false,
                         file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("VarBackward0", file: file, line: line) { $0.variance(dims: dims, correction: correction, keepDim: keepDim, file: file, line: line) }
    }
    /// The variance over `dim` (nil: all): Σ(x − mean)² / (n − correction) (`torch.var`).
    public func `var`(dim: Int? = nil, correction: Int = 1, keepDim: Bool = false,
                      file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("VarBackward0", file: file, line: line) { $0.var(dim: dim, correction: correction, keepDim: keepDim, file: file, line: line) }
    }
    /// The standard deviation over `dim` (nil: all): the square root of `var`.
    public func std(dim: Int? = nil, correction: Int = 1, keepDim: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("StdBackward0", file: file, line: line) { $0.std(dim: dim, correction: correction, keepDim: keepDim, file: file, line: line) }
    }
    /// The p-norm over `dims` (nil: all): (Σ|x|ᵖ)^(1/p); p = 2 by default, ∞ for the largest |x|.
    public func norm(p: Double = 2, dims: [Int]? = nil, keepDim: Bool = false,
                     file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("NormBackward1", file: file, line: line) { $0.norm(p: p, dims: dims, keepDim: keepDim, file: file, line: line) }
    }
    /// The p-norm over dimension `dim`: (Σ|x|ᵖ)^(1/p).
    public func norm(p: Double = 2, dim: Int?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("NormBackward1", file: file, line: line) { $0.norm(p: p, dim: dim, keepDim: keepDim, file: file, line: line) }
    }
}

// MARK: - Shape

extension Tensor {
    /// A view of this tensor (see Tensor+InPlace.swift): `read` recorded as `name`; an in-place
    /// change of the view writes this tensor's new value, `write(old value, new view value)`.
    func viewing(_ name: String, file: StaticString, line: UInt,
                 read: @escaping (NDArray) -> NDArray, write: @escaping (NDArray, NDArray) -> NDArray) -> Tensor {
        let result = unary(name, file: file, line: line, read)
        result.becomeView(of: self, ViewLink(base: self, read: read, write: write))
        return result
    }

    /// A view with another shape and the same elements in row-major order.
    private func reshapedView(_ name: String, file: StaticString, line: UInt, _ read: @escaping (NDArray) -> NDArray) -> Tensor {
        viewing(name, file: file, line: line, read: read) { base, v in v.reshape(base.shape) }
    }

    /// The elements with another shape (one size may be -1): a view, as PyTorch's `view`.
    public func reshape(_ shape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        reshapedView("ViewBackward0", file: file, line: line) { $0.reshape(shape, file: file, line: line) }
    }
    /// PyTorch's `view`: `reshape`, a view of this tensor.
    public func view(_ shape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        reshape(shape, file: file, line: line)
    }
    /// Dimensions `startDim...endDim` merged into one (a view).
    public func flatten(startDim: Int = 0, endDim: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        reshapedView("ViewBackward0", file: file, line: line) { $0.flatten(startDim: startDim, endDim: endDim, file: file, line: line) }
    }
    /// Dimension `dim` (or every dimension) of size 1 removed (a view).
    public func squeeze(dim: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        reshapedView(dim == nil ? "SqueezeBackward0" : "SqueezeBackward1", file: file, line: line) { $0.squeeze(dim: dim, file: file, line: line) }
    }
    /// Dimension `dim` removed if its size is 1 (a view), as PyTorch's `squeeze(dim)`.
    public func squeeze(_ dim: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        squeeze(dim: dim, file: file, line: line)
    }
    /// A dimension of size 1 inserted at `dim` (a view).
    public func unsqueeze(_ dim: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        reshapedView("UnsqueezeBackward0", file: file, line: line) { $0.unsqueeze(dim, file: file, line: line) }
    }
    /// The dimensions in the order `dims` (a view).
    public func permute(_ dims: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        viewing("PermuteBackward0", file: file, line: line, read: { $0.permute(dims, file: file, line: line) }) { base, v in
            var inverse = [Int](repeating: 0, count: dims.count)
            for (i, d) in dims.enumerated() { inverse[d < 0 ? d + base.rank : d] = i }
            return v.permute(inverse)
        }
    }
    /// Dimensions `dim0` and `dim1` swapped (a view).
    public func transpose(_ dim0: Int, _ dim1: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        viewing("TransposeBackward0", file: file, line: line, read: { $0.transpose(dim0, dim1, file: file, line: line) }) { _, v in
            v.transpose(dim0, dim1)
        }
    }
    /// The dimensions reversed (a view).
    public var T: Tensor { viewing("PermuteBackward0", file: "", line: 0, read: { $0.T }) { _, v in v.T } }
    /// The last two dimensions swapped (a view).
    public var mT: Tensor { viewing("TransposeBackward0", file: "", line: 0, read: { $0.mT }) { _, v in v.mT } }
    /// The matrix transpose of a tensor of at most 2 dimensions (`t()`, a view).
    public func t() -> Tensor { viewing("TBackward0", file: "", line: 0, read: { $0.T }) { _, v in v.T } }

    /// A view whose repeated elements cannot be written: writing it is refused as in PyTorch,
    /// unless nothing was repeated.
    fileprivate func expandedView(file: StaticString, line: UInt, _ read: @escaping (NDArray) -> NDArray) -> Tensor {
        viewing("ExpandBackward0", file: file, line: line, read: read) { base, v in
            guard v.count == base.count else {
                fail("in-place operation on an expanded tensor",
                     "more than one element of the written-to tensor (shape \(describe(v.shape)), expanded from \(describe(base.shape))) refers to a single element",
                     fix: "clone() the tensor before performing the operation", file: file, line: line)
            }
            return v.reshape(base.shape)
        }
    }
    /// The tensor broadcast to `shape` (a view; its repeated elements cannot be written).
    public func broadcast(to shape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        expandedView(file: file, line: line) { $0.broadcast(to: shape, file: file, line: line) }
    }
    /// The tensor expanded to `shape` (-1 keeps a size; a view whose repeated elements cannot
    /// be written).
    public func expand(_ shape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        expandedView(file: file, line: line) { $0.expand(shape, file: file, line: line) }
    }
    /// The tensor with `padding` (before, after) added around each dimension (a copy).
    public func pad(_ padding: [(Int, Int)], value: Double = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("ConstantPadNdBackward0", file: file, line: line) { $0.pad(padding, value: value, file: file, line: line) }
    }

    /// Elements `start..<start + length` along `dim`, as a view recorded as `name`.
    private func narrowed(_ name: String, dim: Int, start: Int, length: Int, file: StaticString, line: UInt) -> Tensor {
        viewing(name, file: file, line: line, read: { $0.narrow(dim: dim, start: start, length: length, file: file, line: line) }) { base, v in
            var updated = base
            let d = dim < 0 ? dim + base.rank : dim
            updated[items: [IndexItem](repeating: .all, count: d) + [.range(start: start, end: start + length)], file: file, line: line] = v
            return updated
        }
    }
    /// Elements `start..<start + length` along `dim` (a view).
    public func narrow(dim: Int, start: Int, length: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        narrowed("SliceBackward0", dim: dim, start: start, length: length, file: file, line: line)
    }
    /// Consecutive pieces of the given sizes along `dim` (views).
    public func split(sizes: [Int], dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> [Tensor] {
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return narrowed("SplitWithSizesBackward0", dim: dim, start: start, length: size, file: file, line: line)
        }
    }
    /// Consecutive pieces of `size` elements along `dim`, the last possibly smaller (views).
    public func split(size: Int, dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> [Tensor] {
        let sizes = value.split(size: size, dim: dim, file: file, line: line).map { $0.shape[$0.rank > 0 ? (dim + $0.rank) % $0.rank : 0] }
        return split(sizes: sizes, dim: dim, file: file, line: line)
    }
    /// `chunks` pieces of (nearly) equal size along `dim` (views).
    public func chunk(_ chunks: Int, dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> [Tensor] {
        let sizes = value.chunk(chunks, dim: dim, file: file, line: line).map { $0.shape[(dim + $0.rank) % $0.rank] }
        return split(sizes: sizes, dim: dim, file: file, line: line)
    }
}

// MARK: - Subscripts

extension Tensor {
    /// The elements selected by integers, ranges and strides, `.newAxis` and `.ellipsis`
    /// (NumPy's basic indexing, as NDArray's subscript): a view, so an in-place operation on
    /// it changes this tensor too (`t[.all, 0].add_(1)`, `t[.all, 0] += 1`).
    ///
    /// Setting (`t[0] = v`, `t[1..<3] = v`) writes `v`, broadcast to the region, into this
    /// tensor in place, recorded as PyTorch's `CopySlices`: the overwritten elements get no
    /// gradient and `v` the gradient of its region. Refused as an in-place operation is (a
    /// leaf that requires grad, or a view of one, while grad mode is on — allowed inside
    /// `noGrad`), with a stop, since a subscript cannot throw.
    public subscript(_ indices: any ArrayIndex..., file file: StaticString = #fileID, line line: UInt = #line) -> Tensor {
        get { self[items: indices.map(\.indexItem), file: file, line: line] }
        set { self[items: indices.map(\.indexItem), file: file, line: line] = newValue }
    }

    /// Basic indexing with numbers: reading gives the one selected element (as `item()`);
    /// setting (`t[0] = 5`, `t[.all, 0] = 0`) fills the region with the number.
    @_disfavoredOverload
    public subscript(_ indices: any ArrayIndex..., file file: StaticString = #fileID, line line: UInt = #line) -> Double {
        get { (self[items: indices.map(\.indexItem), file: file, line: line] as Tensor).item(file: file, line: line) }
        set { self[items: indices.map(\.indexItem), file: file, line: line] = newValue }
    }

    /// The elements selected by a list of index items: a view (see the variadic subscript);
    /// setting writes into this tensor in place.
    public subscript(items items: [IndexItem], file file: StaticString = #fileID, line line: UInt = #line) -> Tensor {
        get {
            viewing(items.allSatisfy(\.isIndex) ? "SelectBackward0" : "SliceBackward0", file: file, line: line,
                    read: { $0[items: items, file: file, line: line] }) { base, v in
                var updated = base
                updated[items: items, file: file, line: line] = v
                return updated
            }
        }
        set {
            write("CopySlices", "subscript assignment", newValue, throughView: true, file: file, line: line) { $0[items: items, file: file, line: line] = $1! }
        }
    }

    /// A list of index items with numbers: reading gives the one selected element; setting
    /// fills the region with the number.
    @_disfavoredOverload
    public subscript(items items: [IndexItem], file file: StaticString = #fileID, line line: UInt = #line) -> Double {
        get { self[items: items, file: file, line: line].item(file: file, line: line) }
        set {
            let number = NDArray(newValue, dtype: dtype)
            write("CopySlices", "subscript assignment", nil, throughView: true, file: file, line: line) { updated, _ in
                updated[items: items, file: file, line: line] = number
            }
        }
    }

    /// Advanced indexing with a tensor, as PyTorch's (a copy, recorded as `IndexBackward0`): an
    /// int64 `index` picks positions along the first dimension (`x[idx]`), a bool mask of the
    /// leading dimensions picks the elements where it is true (`x[x .> 0]`); see NDArray's
    /// subscript for the shapes.
    ///
    /// Setting writes into this tensor in place (`IndexPutBackward0`): the selected elements
    /// get no gradient, the assigned value the gradient of the positions it went to. Refused as
    /// an in-place operation is, with a stop.
    public subscript(_ index: Tensor, file file: StaticString = #fileID, line line: UInt = #line) -> Tensor {
        get { unary("IndexBackward0", file: file, line: line) { $0[index.value, file: file, line: line] } }
        set {
            write("IndexPutBackward0", "subscript assignment", newValue, throughView: false, file: file, line: line) { $0[index.value, file: file, line: line] = $1! }
        }
    }

    /// Advanced indexing with numbers: reading gives the one selected element; setting fills
    /// the selected elements with the number (`t[mask] = 0`, PyTorch's `MaskedFillBackward0`).
    @_disfavoredOverload
    public subscript(_ index: Tensor, file file: StaticString = #fileID, line line: UInt = #line) -> Double {
        get { self[index, file: file, line: line].item(file: file, line: line) }
        set {
            let number = NDArray(newValue, dtype: dtype)
            write(index.dtype == .bool ? "MaskedFillBackward0" : "IndexPutBackward0", "subscript assignment", nil,
                  throughView: false, file: file, line: line) { updated, _ in
                updated[index.value, file: file, line: line] = number
            }
        }
    }

    /// The elements at `index` along `dim` (`torch.gather`): out[i][j] = self[index[i][j]][j] for
    /// dim 0; `index` is int64, of the output's shape.
    public func gather(dim: Int, index: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("GatherBackward0", file: file, line: line) { $0.gather(dim: dim, index: index.value, file: file, line: line) }
    }
    /// The slices at the int64 positions `index` along `dim` (`torch.index_select`).
    public func indexSelect(dim: Int, index: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("IndexSelectBackward0", file: file, line: line) { $0.indexSelect(dim: dim, index: index.value, file: file, line: line) }
    }
    /// This tensor with `source`'s elements added at the positions `index` gives along `dim`
    /// (`torch.scatter_add`); repeated positions add up.
    public func scatterAdd(dim: Int, index: Tensor, source: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor.binary("ScatterAddBackward0", self, source, file: file, line: line) { $0.scatterAdd(dim: dim, index: index.value, source: $1, file: file, line: line) }
    }
}

/// The tensors joined along the existing dimension `dim` (`torch.cat`); the other dimensions
/// must agree.
public func concat(_ tensors: [Tensor], dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.record("CatBackward0", tensors, file: file, line: line) { concat($0, dim: dim, file: file, line: line) }
}

/// The tensors, of one shape, stacked along a new dimension `dim`.
public func stack(_ tensors: [Tensor], dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.record("StackBackward0", tensors, file: file, line: line) { stack($0, dim: dim, file: file, line: line) }
}

// MARK: - Linear algebra

/// The matrix product with PyTorch's `matmul` rules (vectors, matrices, broadcast batches).
public func matmul(_ a: Tensor, _ b: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let name = switch (a.rank, b.rank) {
    case (1, 1): "DotBackward0"
    case (2, 1): "MvBackward0"
    case (2, 2), (1, 2): "MmBackward0"
    default: "BmmBackward0"
    }
    return Tensor.binary(name, a, b, file: file, line: line) { matmul($0, $1, file: file, line: line) }
}

/// `bias + a · b` for matrices (`torch.addmm`, the operation of a linear layer).
public func addmm(_ bias: Tensor, _ a: Tensor, _ b: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.record("AddmmBackward0", [bias, a, b], file: file, line: line) { $0[0] + matmul($0[1], $0[2], file: file, line: line) }
}

/// The outer product of vectors: out[i, j] = a[i]·b[j], shape [n, m].
public func outer(_ a: Tensor, _ b: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("OuterBackward0", a, b, file: file, line: line) { outer($0, $1, file: file, line: line) }
}
/// The inner product Σᵢ aᵢbᵢ of two vectors, a 0-d tensor.
public func dot(_ a: Tensor, _ b: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("DotBackward0", a, b, file: file, line: line) { dot($0, $1, file: file, line: line) }
}
/// `einsum` of any number of tensors (see the `NDArray` form for the notation). PyTorch's
/// einsum has no node of its own — its nodes depend on how it splits the product — so the node
/// is named after the last primitive Fluxion's product ends with.
public func einsum(_ equation: String, _ operands: Tensor..., file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    einsum(equation, operands, file: file, line: line)
}
/// `einsum` of a list of tensors.
public func einsum(_ equation: String, _ operands: [Tensor], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.record(nil, operands, file: file, line: line) { einsum(equation, $0, file: file, line: line) }
}
/// X solving A·X = B (LU with partial pivoting, LAPACK); batched over leading dimensions.
/// A singular A gives NaN, as in JAX.
public func solve(_ a: Tensor, _ b: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("LinalgSolveExBackward0", a, b, file: file, line: line) { solve($0, $1, file: file, line: line) }
}
/// The lower-triangular L with A = L·Lᵀ of a symmetric positive-definite A (LAPACK);
/// differentiated as a function of A's symmetric part; NaN if A is not positive definite.
public func cholesky(_ a: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    a.unary("LinalgCholeskyExBackward0", file: file, line: line) { cholesky($0, file: file, line: line) }
}
/// X solving A·X = B for triangular A (lower unless `upper`; Aᵀ·X = B when `transpose`).
public func triangularSolve(_ a: Tensor, _ b: Tensor, upper: Bool = false, transpose: Bool = false,
                            file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("LinalgSolveTriangularBackward0", a, b, file: file, line: line) {
        triangularSolve($0, $1, upper: upper, transpose: transpose, file: file, line: line)
    }
}
/// A⁻¹ (by LU, LAPACK); NaN for a singular matrix.
public func inverse(_ a: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    a.unary("LinalgInvExBackward0", file: file, line: line) { inverse($0, file: file, line: line) }
}
/// The determinant, by LU; its gradient det(A)·A⁻ᵀ.
public func det(_ a: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    a.unary("LinalgDetBackward0", file: file, line: line) { det($0, file: file, line: line) }
}

extension Tensor {
    /// `matmul(self, other)`: the matrix product, batched and broadcast over leading dimensions.
    public func matmul(_ other: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        FluxionAutograd.matmul(self, other, file: file, line: line)
    }
}

// MARK: - Rearranging, sorting and selection

extension Tensor {
    /// The elements in reverse order along each of `dims`.
    public func flip(dims: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("FlipBackward0", file: file, line: line) { $0.flip(dims: dims, file: file, line: line) }
    }
    /// The columns (dimension 1) in reverse order.
    public func fliplr(file: StaticString = #fileID, line: UInt = #line) -> Tensor { unary("FlipBackward0", file: file, line: line) { $0.fliplr(file: file, line: line) } }
    /// The rows (dimension 0) in reverse order.
    public func flipud(file: StaticString = #fileID, line: UInt = #line) -> Tensor { unary("FlipBackward0", file: file, line: line) { $0.flipud(file: file, line: line) } }
    /// The elements shifted cyclically by `shifts[i]` along `dims[i]` (no dims: the flattened
    /// tensor).
    public func roll(shifts: [Int], dims: [Int] = [], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("RollBackward0", file: file, line: line) { $0.roll(shifts: shifts, dims: dims, file: file, line: line) }
    }
    /// The elements shifted cyclically by `shift` along `dim` (nil: the flattened tensor).
    public func roll(_ shift: Int, dim: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("RollBackward0", file: file, line: line) { $0.roll(shift, dim: dim, file: file, line: line) }
    }
    /// The lower triangle: elements above diagonal `diagonal` (0: the main one) set to zero.
    public func tril(diagonal: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("TrilBackward0", file: file, line: line) { $0.tril(diagonal: diagonal, file: file, line: line) }
    }
    /// The upper triangle: elements below diagonal `diagonal` (0: the main one) set to zero.
    public func triu(diagonal: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("TriuBackward0", file: file, line: line) { $0.triu(diagonal: diagonal, file: file, line: line) }
    }
    /// The diagonal `offset` of the matrices in dimensions `dim1` and `dim2`, as the last
    /// dimension (a view: `x.diagonal().zero_()` clears the diagonal of `x`).
    public func diagonal(offset: Int = 0, dim1: Int = 0, dim2: Int = 1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        viewing("DiagonalBackward0", file: file, line: line,
                read: { $0.diagonal(offset: offset, dim1: dim1, dim2: dim2, file: file, line: line) }) { base, v in
            // The matrices moved last and flattened: the diagonal is a strided slice of each row.
            let r = base.rank
            let (d1, d2) = ((dim1 + r) % r, (dim2 + r) % r)
            let order = (0..<r).filter { $0 != d1 && $0 != d2 } + [d1, d2]
            var inverse = [Int](repeating: 0, count: r)
            for (i, d) in order.enumerated() { inverse[d] = i }
            let moved = base.permute(order)
            let (n, m) = (base.shape[d1], base.shape[d2])
            var rows = moved.reshape(Array(moved.shape.dropLast(2)) + [n * m])
            let (count, start) = (v.shape.last ?? 0, offset >= 0 ? offset : -offset * m)
            rows[items: [.ellipsis, .range(start: start, end: start + (count - 1) * (m + 1) + 1, step: m + 1)], file: file, line: line] = v
            return rows.reshape(moved.shape).permute(inverse)
        }
    }
    /// `torch.diag`: a vector's matrix records `DiagEmbedBackward0`; a matrix's diagonal is
    /// PyTorch's `diagonal_copy`, recorded as `DiagonalBackward0_copy`.
    public func diag(offset: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary(rank == 1 ? "DiagEmbedBackward0" : "DiagonalBackward0_copy", file: file, line: line) { $0.diag(offset: offset, file: file, line: line) }
    }
    /// Matrices whose diagonal `offset`, in dimensions `dim1` and `dim2`, holds the last dimension
    /// of this tensor; zeros elsewhere.
    public func diagEmbed(offset: Int = 0, dim1: Int = -2, dim2: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("DiagEmbedBackward0", file: file, line: line) { $0.diagEmbed(offset: offset, dim1: dim1, dim2: dim2, file: file, line: line) }
    }
    /// The sum of the main diagonal of a matrix, a 0-d tensor.
    public func trace(file: StaticString = #fileID, line: UInt = #line) -> Tensor { unary("TraceBackward0", file: file, line: line) { $0.trace(file: file, line: line) } }
    /// The tensor repeated `repeats[i]` times along each dimension (`torch.Tensor.repeat`); more
    /// repeats than dimensions add leading dimensions.
    public func `repeat`(_ repeats: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("RepeatBackward0", file: file, line: line) { $0.repeat(repeats, file: file, line: line) }
    }
    /// The tensor repeated `reps[i]` times along each dimension (`torch.tile`; fewer reps than
    /// dimensions repeat the trailing ones).
    public func tile(_ reps: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("RepeatBackward0", file: file, line: line) { $0.tile(reps, file: file, line: line) }
    }
    /// Recorded as PyTorch records it: the flatten of an expanded copy, `ViewBackward0`.
    public func repeatInterleave(_ repeats: Int, dim: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("ViewBackward0", file: file, line: line) { $0.repeatInterleave(repeats, dim: dim, file: file, line: line) }
    }
    /// Dimension `source` moved to position `destination` (a view).
    public func movedim(source: Int, destination: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        viewing("PermuteBackward0", file: file, line: line,
                read: { $0.movedim(source: source, destination: destination, file: file, line: line) }) { _, v in
            v.movedim(source: destination, destination: source)
        }
    }
    /// The tensor expanded to `other`'s shape (a view whose repeated elements cannot be written).
    public func expandAs(_ other: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let shape = other.shape
        return expandedView(file: file, line: line) { $0.broadcast(to: shape, file: file, line: line) }
    }

    /// The sorted values (recorded as `SortBackward0`, or `SortBackward1` for PyTorch's
    /// `stable=True` overload) and the int64 positions, which carry no history.
    public func sort(dim: Int = -1, descending: Bool = false, stable: Bool = false,
                     file: StaticString = #fileID, line: UInt = #line) -> (values: Tensor, indices: Tensor) {
        var indices: NDArray?
        let values = unary(stable ? "SortBackward1" : "SortBackward0", file: file, line: line) {
            let sorted = $0.sort(dim: dim, descending: descending, stable: stable, file: file, line: line)
            indices = sorted.indices
            return sorted.values
        }
        return (values, Tensor(indices!))
    }
    /// The int64 positions that sort along `dim` (ascending unless `descending`; `stable` keeps
    /// equal elements in order); no history.
    public func argsort(dim: Int = -1, descending: Bool = false, stable: Bool = false,
                        file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor(value.argsort(dim: dim, descending: descending, stable: stable, file: file, line: line))
    }
    /// The `k` largest (or smallest) elements along `dim` and their int64 positions; the values
    /// carry the gradient.
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true,
                     file: StaticString = #fileID, line: UInt = #line) -> (values: Tensor, indices: Tensor) {
        var indices: NDArray?
        let values = unary("TopkBackward0", file: file, line: line) {
            let top = $0.topk(k, dim: dim, largest: largest, sorted: sorted, file: file, line: line)
            indices = top.indices
            return top.values
        }
        return (values, Tensor(indices!))
    }
    /// The lower median of all elements (`torch.median()`, `MedianBackward0`); the derivative
    /// is shared evenly among the elements equal to it.
    public func median(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("MedianBackward0", file: file, line: line) { $0.median(file: file, line: line) }
    }
    /// The lower median along `dim` (`MedianBackward1`) and its int64 position, which carries
    /// no history.
    public func median(dim: Int, keepDim: Bool = false, file: StaticString = #fileID,
                       line: UInt = #line) -> (values: Tensor, indices: Tensor) {
        var indices: NDArray?
        let values = unary("MedianBackward1", file: file, line: line) {
            let median = $0.median(dim: dim, keepDim: keepDim, file: file, line: line)
            indices = median.indices
            return median.values
        }
        return (values, Tensor(indices!))
    }
    /// The `k`-th smallest element along `dim` (k counts from 1, as in PyTorch) and its int64
    /// position.
    public func kthvalue(_ k: Int, dim: Int = -1, keepDim: Bool = false,
                         file: StaticString = #fileID, line: UInt = #line) -> (values: Tensor, indices: Tensor) {
        var indices: NDArray?
        let values = unary("KthvalueBackward0", file: file, line: line) {
            let kth = $0.kthvalue(k, dim: dim, keepDim: keepDim, file: file, line: line)
            indices = kth.indices
            return kth.values
        }
        return (values, Tensor(indices!))
    }

    /// The tensor with `fill` where the bool `mask` (broadcast) is true; filled elements get no
    /// gradient.
    public func maskedFill(_ mask: Tensor, value fill: Double, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("MaskedFillBackward0", file: file, line: line) { $0.maskedFill(mask.value, value: fill, file: file, line: line) }
    }
    /// The tensor with `fill` (a 0-d tensor, which gets the gradient of the filled places) where
    /// the bool `mask` is true.
    public func maskedFill(_ mask: Tensor, value fill: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor.binary("MaskedFillBackward1", self, fill, file: file, line: line) { $0.maskedFill(mask.value, value: $1, file: file, line: line) }
    }
    /// `torch.clamp` with tensor bounds (`ClampBackward0`); the bounds get gradients too.
    public func clamp(min: Tensor? = nil, max: Tensor? = nil, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor.record("ClampBackward0", [self, min, max].compactMap { $0 }, file: file, line: line) { v in
            var rest = v.dropFirst().makeIterator()
            let (lo, hi) = (min == nil ? nil : rest.next(), max == nil ? nil : rest.next())
            return v[0].clamp(min: lo, max: hi, file: file, line: line)
        }
    }
    /// Each element at least `min` (`torch.clamp_min`); no derivative flows at the bound.
    public func clampMin(_ min: Double) -> Tensor { unary("ClampMinBackward0") { $0.clampMin(min) } }
    /// Each element at least `min`, elementwise with broadcasting; at a tie the gradient is shared.
    public func clampMin(_ min: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor.binary("ClampMinBackward1", self, min, file: file, line: line) { $0.clampMin($1, file: file, line: line) }
    }
    /// Each element at most `max` (`torch.clamp_max`); no derivative flows at the bound.
    public func clampMax(_ max: Double) -> Tensor { unary("ClampMaxBackward0") { $0.clampMax(max) } }
    /// Each element at most `max`, elementwise with broadcasting; at a tie the gradient is shared.
    public func clampMax(_ max: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor.binary("ClampMaxBackward1", self, max, file: file, line: line) { $0.clampMax($1, file: file, line: line) }
    }
    /// `torch.clip`, the alias of `clamp`, records clamp's nodes.
    public func clip(min: Double? = nil, max: Double? = nil) -> Tensor { clamp(min: min, max: max) }
    /// `torch.clip` with tensor bounds: `clamp(min:max:)`.
    public func clip(min: Tensor? = nil, max: Tensor? = nil, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        clamp(min: min, max: max, file: file, line: line)
    }
    /// A bool mask, true where an element is NaN.
    public func isNaN() -> Tensor { Tensor(value.isNaN()) }
    /// A bool mask, true where an element is +∞ or −∞.
    public func isInf() -> Tensor { Tensor(value.isInf()) }
    /// A bool mask, true where an element is neither NaN nor infinite.
    public func isFinite() -> Tensor { Tensor(value.isFinite()) }

    /// The running product along `dim`: element i is the product of elements 0…i.
    public func cumprod(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("CumprodBackward0", file: file, line: line) { $0.cumprod(dim: dim, file: file, line: line) }
    }
    /// log of the running sum of exp along `dim`, computed stably.
    public func logcumsumexp(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("LogcumsumexpBackward0", file: file, line: line) { $0.logcumsumexp(dim: dim, file: file, line: line) }
    }
    /// `torch.diff` is a difference of two slices in PyTorch too: `SubBackward0`.
    public func diff(n: Int = 1, dim: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        unary("SubBackward0", file: file, line: line) { $0.diff(n: n, dim: dim, file: file, line: line) }
    }
}

/// log(eᵃ + eᵇ), elementwise with broadcasting, computed stably.
public func logaddexp(_ a: Tensor, _ b: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("LogaddexpBackward0", a, b, file: file, line: line) { logaddexp($0, $1, file: file, line: line) }
}
/// Rounds toward zero (`torch.trunc`); derivative 0.
public func trunc(_ x: Tensor) -> Tensor { x.unary("TruncBackward0", FluxionCore.trunc) }
/// x − y·trunc(x / y), the remainder with the sign of x (`torch.fmod`).
public func fmod(_ x: Tensor, _ y: Tensor) -> Tensor { Tensor.binary("FmodBackward1", x, y, FluxionCore.fmod) }
/// `fmod` by a number.
public func fmod(_ x: Tensor, _ y: Double) -> Tensor { x.unary("FmodBackward0") { FluxionCore.fmod($0, y) } }
/// x − y·floor(x / y), the remainder with the sign of y (`torch.remainder`).
public func remainder(_ x: Tensor, _ y: Tensor) -> Tensor { Tensor.binary("RemainderBackward1", x, y, FluxionCore.remainder) }
/// `remainder` by a number.
public func remainder(_ x: Tensor, _ y: Double) -> Tensor { x.unary("RemainderBackward0") { FluxionCore.remainder($0, y) } }
/// x·log(y), 0 where x = 0 (`torch.xlogy`).
public func xlogy(_ x: Tensor, _ y: Tensor) -> Tensor { Tensor.binary("XlogyBackward0", x, y, FluxionCore.xlogy) }
/// log(x / (1 − x)), x first clamped to [eps, 1 − eps] when `eps` is given (`torch.logit`).
public func logit(_ x: Tensor, eps: Double? = nil) -> Tensor { x.unary("LogitBackward0") { FluxionCore.logit($0, eps: eps) } }

/// `x` divided by its p-norm along `dim`, at least `eps` (`torch.nn.functional.normalize`).
public func normalize(_ x: Tensor, p: Double = 2, dim: Int = 1, eps: Double = 1e-12,
                      file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    x.unary("DivBackward0", file: file, line: line) { FluxionCore.normalize($0, p: p, dim: dim, eps: eps, file: file, line: line) }
}
/// The cosine of the angle between `a` and `b` along `dim` (`torch.nn.functional.cosine_similarity`).
public func cosineSimilarity(_ a: Tensor, _ b: Tensor, dim: Int = 1, eps: Double = 1e-8,
                             file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("SumBackward1", a, b, file: file, line: line) { FluxionCore.cosineSimilarity($0, $1, dim: dim, eps: eps, file: file, line: line) }
}
/// ‖a − b + eps‖ₚ along the last dimension (`torch.nn.functional.pairwise_distance`).
public func pairwiseDistance(_ a: Tensor, _ b: Tensor, p: Double = 2, eps: Double = 1e-6, keepDim: Bool = false,
                             file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("NormBackward1", a, b, file: file, line: line) {
        pairwiseDistance($0, $1, p: p, eps: eps, keepDim: keepDim, file: file, line: line)
    }
}
/// ‖a − b‖ₚ over all elements (`torch.dist`).
public func dist(_ a: Tensor, _ b: Tensor, p: Double = 2, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("DistBackward0", a, b, file: file, line: line) { FluxionCore.dist($0, $1, p: p, file: file, line: line) }
}
/// The p-norm distance between each row of `a` `[..., P, M]` and of `b` `[..., R, M]`:
/// `[..., P, R]` (`torch.cdist`).
public func cdist(_ a: Tensor, _ b: Tensor, p: Double = 2, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("CdistBackward0", a, b, file: file, line: line) { FluxionCore.cdist($0, $1, p: p, file: file, line: line) }
}

/// √(a² + b²), elementwise with broadcasting, without overflow for large a or b.
public func hypot(_ a: Tensor, _ b: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("HypotBackward0", a, b, file: file, line: line) { hypot($0, $1, file: file, line: line) }
}
/// start + weight·(end − start), elementwise with broadcasting.
public func lerp(_ start: Tensor, _ end: Tensor, weight: Double, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.binary("LerpBackward0", start, end, file: file, line: line) { lerp($0, $1, weight: weight, file: file, line: line) }
}
/// start + weight·(end − start) with a tensor weight, elementwise with broadcasting; the
/// weight gets a gradient too.
public func lerp(_ start: Tensor, _ end: Tensor, weight: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.record("LerpBackward1", [start, end, weight], file: file, line: line) { lerp($0[0], $0[1], weight: $0[2], file: file, line: line) }
}
