// gradcheck and gradgradcheck: a function's Jacobian from reverse mode and from forward mode,
// entry by entry, against central differences in float64 (PyTorch's `gradcheck`,
// `gradgradcheck`; JAX's `check_grads`).
//
// ```
// reverse:  row j of J = pullback(eⱼ)         for every output element j   (M backward sweeps)
// forward:  column i of J = jvp(eᵢ)           for every input element i    (N forward passes)
// numeric:  column i of J ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h                (2N evaluations)
// ```
//
// Every entry must satisfy |analytic − numeric| ≤ atol + rtol·|numeric|; entries at
// non-differentiable points are judged as FiniteDifferences.swift describes. `gradgradcheck`
// runs the same comparison on the function (x, u) ↦ Jᵀ(x)·u for a fixed random u, whose
// Jacobian holds the second derivatives: reverse over reverse and forward over reverse.
//
// Full Jacobians cost O(N + M) passes: meant for the small inputs of a test. For large inputs,
// `checkDerivatives` compares along random directions instead.
//
// Every entry point here is generic over `ArrayTree`, so arrays, lists and dictionaries of
// arrays and `ArrayStruct` parameter structs are all accepted; each one flattens the function
// (`FlatFunction`) and runs the core over lists of arrays (`jacobianOutcomes`). A type that
// conforms to `ArrayTree` (the `Tensor` facade, through its value) is accepted as it is.

import Fluxion
import Testing

/// Which modes of differentiation a check compares against central differences.
public struct DifferentiationModes: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Reverse mode: `vjp` pullbacks of every output element.
    public static let reverse = DifferentiationModes(rawValue: 1)
    /// Forward mode: `jvp` along every input element.
    public static let forward = DifferentiationModes(rawValue: 2)
    /// Both modes (the default).
    public static let both: DifferentiationModes = [.reverse, .forward]
}

// MARK: - gradcheck

/// Checks the derivatives of `f` at `inputs` against central differences, throwing a
/// `GradcheckFailure` that lists every disagreeing Jacobian entry when they differ.
///
/// ```swift
/// try gradcheck({ (x: NDArray) in (x ** 3 - 2 * x).sum() }, inputs: NDArray([0.5, -1.2, 2.0]))
/// ```
///
/// Every floating-point leaf of `inputs` is differentiated (integer and bool leaves are held
/// constant); every floating-point leaf of the result is compared. The function is evaluated
/// in float64 (float32 inputs are promoted); if its outputs stay float32 it is checked with
/// float32 tolerances.
///
/// ```
/// |J_analytic[j, i] − J_numeric[j, i]| ≤ atol + rtol·|J_numeric[j, i]|
/// J_numeric[·, i] = (f(x + eps·eᵢ) − f(x − eps·eᵢ)) / (2·eps)
/// ```
///
/// - Parameters:
///   - f: the function; it must not sample random numbers or depend on anything but its input.
///   - inputs: the point to check at: an array or any tree of arrays.
///   - eps: the central-difference step; nil takes `CheckTolerance.derived(for:)` the
///     precision the function computes in (float64: 1e-6, as PyTorch).
///   - atol: the absolute tolerance; nil takes that precision's default (float64: 1e-5).
///   - rtol: the relative tolerance; nil takes that precision's default (float64: 1e-3).
///   - precision: the precision the function computes in, when it differs from its outputs'
///     dtype (a float64 function that rounds through float32 inside); nil: from the outputs.
///   - modes: reverse mode, forward mode or both (the default).
///   - file: the caller's file, named in error messages (default: the call site).
///   - line: the caller's line, named in error messages (default: the call site).
/// - Returns: the report, which also lists non-differentiable points met.
/// - Throws: `GradcheckFailure` when an entry disagrees; what `f` throws at `inputs`.
@discardableResult
public func gradcheck<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, inputs: T, eps: Double? = nil, atol: Double? = nil, rtol: Double? = nil, precision: DType? = nil,
    modes: DifferentiationModes = .both, file: StaticString = #fileID, line: UInt = #line
) throws -> GradcheckReport {
    let report = try gradcheckReport(f, inputs: inputs, eps: eps, atol: atol, rtol: rtol, precision: precision, modes: modes,
                                     file: "\(file)", line: line)
    guard report.passed else { throw GradcheckFailure(report: report) }
    return report
}

/// `gradcheck` that records a Swift Testing issue (at the caller's source location) instead of
/// throwing, and returns whether the check passed.
@discardableResult
public func expectGradcheck<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, inputs: T, eps: Double? = nil, atol: Double? = nil, rtol: Double? = nil, precision: DType? = nil,
    modes: DifferentiationModes = .both, sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
    recording(sourceLocation) {
        try gradcheckReport(f, inputs: inputs, eps: eps, atol: atol, rtol: rtol, precision: precision, modes: modes,
                            file: sourceLocation.fileID, line: UInt(sourceLocation.line))
    }
}

/// The report of `gradcheck` without throwing on a failed comparison (it still throws what
/// `f` throws at `inputs`).
public func gradcheckReport<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, inputs: T, eps: Double? = nil, atol: Double? = nil, rtol: Double? = nil, precision: DType? = nil,
    modes: DifferentiationModes = .both, file: String = #fileID, line: UInt = #line
) throws -> GradcheckReport {
    let function = try FlatFunction(f, at: inputs)
    let precision = precision ?? function.precision
    let tolerance = CheckTolerance.derived(for: precision).overriding(eps: eps, atol: atol, rtol: rtol)
    return GradcheckReport(check: "gradcheck", precision: precision, tolerance: tolerance,
                           outcomes: jacobianOutcomes(function, tolerance: tolerance, modes: modes), file: file, line: line)
}

// MARK: - gradgradcheck

/// Checks second derivatives: `gradcheck` of (x, u) ↦ Jᵀ(x)·u, the pullback of `f` at `x`
/// applied to a random output cotangent u (fixed by `seed`), with respect to both x and u.
///
/// ```
/// ∂/∂x (Jᵀ(x)·u) = Σⱼ uⱼ·∇²fⱼ(x)      (reverse over reverse, forward over reverse)
/// ∂/∂u (Jᵀ(x)·u) = Jᵀ(x)
/// ```
///
/// Parameters and results as `gradcheck`.
@discardableResult
public func gradgradcheck<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, inputs: T, eps: Double? = nil, atol: Double? = nil, rtol: Double? = nil, precision: DType? = nil,
    modes: DifferentiationModes = .both, seed: UInt64 = 0, file: StaticString = #fileID, line: UInt = #line
) throws -> GradcheckReport {
    let report = try gradgradcheckReport(f, inputs: inputs, eps: eps, atol: atol, rtol: rtol, precision: precision, modes: modes, seed: seed,
                                         file: "\(file)", line: line)
    guard report.passed else { throw GradcheckFailure(report: report) }
    return report
}

/// `gradgradcheck` that records a Swift Testing issue instead of throwing, and returns whether
/// the check passed.
@discardableResult
public func expectGradgradcheck<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, inputs: T, eps: Double? = nil, atol: Double? = nil, rtol: Double? = nil, precision: DType? = nil,
    modes: DifferentiationModes = .both, seed: UInt64 = 0, sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
    recording(sourceLocation) {
        try gradgradcheckReport(f, inputs: inputs, eps: eps, atol: atol, rtol: rtol, precision: precision, modes: modes, seed: seed,
                                file: sourceLocation.fileID, line: UInt(sourceLocation.line))
    }
}

/// The report of `gradgradcheck` without throwing on a failed comparison.
public func gradgradcheckReport<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, inputs: T, eps: Double? = nil, atol: Double? = nil, rtol: Double? = nil, precision: DType? = nil,
    modes: DifferentiationModes = .both, seed: UInt64 = 0, file: String = #fileID, line: UInt = #line
) throws -> GradcheckReport {
    let first = try FlatFunction(f, at: inputs)
    var random = SplitMix(seed: seed)
    let u = random.directions(first.outputShapes)
    let n = first.primals.count
    let apply = first.apply
    let second = try FlatFunction({ xu in
        try vjp(apply, at: Array(xu[..<n])).pullback(Array(xu[n...]))
    }, at: first.primals + u)
    let precision = precision ?? first.precision
    let tolerance = CheckTolerance.derived(for: precision).overriding(eps: eps, atol: atol, rtol: rtol)
    return GradcheckReport(check: "gradgradcheck of (x, u) ↦ Jᵀ(x)·u (inputs 0..<\(n) are x, the rest u)",
                           precision: precision, tolerance: tolerance,
                           outcomes: jacobianOutcomes(second, tolerance: tolerance, modes: modes), file: file, line: line)
}

// MARK: - The flat core

/// The comparisons of full Jacobians: reverse mode and forward mode against central
/// differences. Problems that make a comparison impossible become failed outcomes.
func jacobianOutcomes(_ function: FlatFunction, tolerance: CheckTolerance, modes: DifferentiationModes) -> [CheckOutcome] {
    if let problem = setupProblem(function) { return [.failed("setup", problem)] }
    let differences = FiniteDifferences(function, step: tolerance.eps)
    let outputPlaces = positions(function.outputShapes)
    var outcomes: [CheckOutcome] = []

    if modes.contains(.reverse) {
        let name = "reverse mode (vjp) against central differences"
        outcomes.append(attempt(name) {
            let (_, pullback) = try vjp(function.apply, at: function.primals)
            var rows: [[Double]] = []
            for (o, y) in function.outputs.enumerated() {
                for i in 0..<y.count {
                    let u = function.outputs.enumerated().map { k, y in
                        float64((0..<y.count).map { k == o && $0 == i ? 1 : 0 }, y.shape).to(y.dtype)
                    }
                    let g = try pullback(u)
                    if let problem = shapeProblem(g, function.inputShapes, "the pullback") { return .failed(name, problem) }
                    rows.append(flatValues(g))
                }
            }
            var comparison = NumericComparison(name, tolerance: tolerance, differences: differences)
            for (c, (d, input)) in differences.elementDirections.enumerated() {
                try comparison.compare(along: d, readout: .all, analytic: rows.map { $0[c] }) { .entry(input, outputPlaces[$0]) }
            }
            return comparison.outcome
        })
    }

    if modes.contains(.forward) {
        let name = "forward mode (jvp) against central differences"
        outcomes.append(attempt(name) {
            var comparison = NumericComparison(name, tolerance: tolerance, differences: differences)
            for (d, input) in differences.elementDirections {
                guard case let .element(leaf, index) = d else { continue }
                let v = function.primals.enumerated().map { k, x in
                    float64((0..<x.count).map { k == leaf && $0 == index ? 1 : 0 }, x.shape)
                }
                let t = try jvp(function.apply, at: function.primals, tangents: v).tangent
                if let problem = shapeProblem(t, function.outputShapes, "jvp") { return .failed(name, problem) }
                try comparison.compare(along: d, readout: .all, analytic: flatValues(t)) { .entry(input, outputPlaces[$0]) }
            }
            return comparison.outcome
        })
    }
    return outcomes
}

/// Why a function cannot be checked at its point, if it cannot.
func setupProblem(_ function: FlatFunction) -> String? {
    if function.primals.isEmpty { return "the inputs have no floating-point arrays to differentiate" }
    if function.outputs.isEmpty { return "the function returns no floating-point arrays" }
    if let bad = function.outputs.firstIndex(where: { !$0.doubles.allSatisfy(\.isFinite) }) {
        return "output \(bad) is not finite at the check point (\(function.outputs[bad])); check inside the function's domain"
    }
    return nil
}

/// A description of how `arrays` differ in count or shape from `shapes`, if they do.
func shapeProblem(_ arrays: [NDArray], _ shapes: [[Int]], _ what: String) -> String? {
    guard arrays.map(\.shape) != shapes else { return nil }
    return "\(what) returned arrays of shapes \(arrays.map(\.shape)) where \(shapes) were expected"
}

/// `body`'s outcome, or a failed outcome naming what it threw.
func attempt(_ name: String, _ body: () throws -> CheckOutcome) -> CheckOutcome {
    do {
        return try body()
    } catch {
        return .failed(name, "threw \(error)")
    }
}
