// checkDerivatives: one call that cross-checks every transform on a user's function (or a
// function with a custom rule) at one point, each against an independent computation:
//
// ```
// vjp        Jᵀu            against central differences of ⟨u, f⟩ along every input element
// jvp        J v            against the central difference along v
// adjoint    ⟨u, J v⟩ = ⟨Jᵀu, v⟩                       (forward against reverse, to rounding)
// Jacobians  jacfwd(f) = jacrev(f), and jacrev(f) against central differences, entry by entry
// vmap       vmap(f), vmap of its vjp and of its jvp = a loop over examples (axis 0 and the
//            last axis), and a batch of 0 examples
// order ≥ 2  for the scalar g(x) = ⟨u, f(x)⟩ + ½⟨c, f(x)²⟩ (whose Hessian exercises every part
//            of f's second derivative, also for linear f): the Hessian four ways —
//            fwd∘rev (`hessian`), rev∘rev, rev∘fwd, fwd∘fwd — equal and symmetric; then every
//            check above, one order up, on ∇g (reverse mode), so grad∘grad and jvp∘grad meet
//            central differences of the gradient, and vmap∘grad (per-example gradients) a loop
// ```
//
// u, v, c are random (fixed by `seed`) with entries of magnitude in [0.1, 1]. Directions make
// this cheap for large inputs except for the Jacobian and Hessian comparisons, which are
// N×M and N×N: turn them off through `checks` for large N.

import Fluxion
import FluxionCore
import Testing

/// The comparisons `checkDerivatives` makes.
public struct DerivativeChecks: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// vjp against central differences.
    public static let reverse = DerivativeChecks(rawValue: 1 << 0)
    /// jvp against central differences.
    public static let forward = DerivativeChecks(rawValue: 1 << 1)
    /// ⟨u, J v⟩ = ⟨Jᵀu, v⟩.
    public static let adjoint = DerivativeChecks(rawValue: 1 << 2)
    /// jacfwd = jacrev = central differences.
    public static let jacobians = DerivativeChecks(rawValue: 1 << 3)
    /// vmap of the function and of its derivatives against loops. Needs a function that
    /// never reads its input's values as Swift numbers (`item()`, `doubles`).
    public static let vmap = DerivativeChecks(rawValue: 1 << 4)
    /// The Hessian four ways (from order 2).
    public static let hessians = DerivativeChecks(rawValue: 1 << 5)

    /// Every comparison (the default).
    public static let all: DerivativeChecks = [.reverse, .forward, .adjoint, .jacobians, .vmap, .hessians]
}

/// Cross-checks reverse mode, forward mode, Jacobians, `vmap` and (from `order` 2) second
/// derivatives of `f` at `x` against central differences and against each other, throwing a
/// `GradcheckFailure` that lists every failed comparison.
///
/// ```swift
/// try checkDerivatives({ (x: NDArray) in tanh(x) * x }, at: NDArray([0.3, -1.2], dtype: .float64))
/// ```
///
/// - Parameters:
///   - f: the function (pure: no random sampling, nothing but its input).
///   - x: the point: an array or any tree of arrays; floating-point leaves are differentiated.
///   - order: the highest order of derivatives checked (1, 2 or 3; each order costs about as
///     much as the one before times the number of input elements).
///   - eps: the central-difference step; nil takes the default for the precision the
///     function computes in (`CheckTolerance.derived(for:)`).
///   - atol: the absolute tolerance; nil takes that precision's default.
///   - rtol: the relative tolerance; nil takes that precision's default.
///   - precision: the precision the function computes in, when it differs from its outputs'
///     dtype (a float64 function that rounds through float32 inside); nil: from the outputs.
///   - checks: which comparisons to make (all by default).
///   - seed: fixes the random directions and the examples of the `vmap` checks.
///   - file: the caller's file, named in error messages (default: the call site).
///   - line: the caller's line, named in error messages (default: the call site).
/// - Returns: the report, which also lists non-differentiable points met.
@discardableResult
public func checkDerivatives<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, at x: T, order: Int = 2, eps: Double? = nil, atol: Double? = nil, rtol: Double? = nil, precision: DType? = nil,
    checks: DerivativeChecks = .all, seed: UInt64 = 0, file: StaticString = #fileID, line: UInt = #line
) throws -> GradcheckReport {
    let report = try derivativeReport(f, at: x, order: order, eps: eps, atol: atol, rtol: rtol, precision: precision, checks: checks, seed: seed,
                                      file: "\(file)", line: line)
    guard report.passed else { throw GradcheckFailure(report: report) }
    return report
}

/// `checkDerivatives` that records a Swift Testing issue instead of throwing, and returns
/// whether every comparison passed.
@discardableResult
public func expectDerivatives<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, at x: T, order: Int = 2, eps: Double? = nil, atol: Double? = nil, rtol: Double? = nil, precision: DType? = nil,
    checks: DerivativeChecks = .all, seed: UInt64 = 0, sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
    recording(sourceLocation) {
        try derivativeReport(f, at: x, order: order, eps: eps, atol: atol, rtol: rtol, precision: precision, checks: checks, seed: seed,
                             file: sourceLocation.fileID, line: UInt(sourceLocation.line))
    }
}

/// The report of `checkDerivatives` without throwing on a failed comparison (it still throws
/// what `f` throws at `x`).
public func derivativeReport<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, at x: T, order: Int = 2, eps: Double? = nil, atol: Double? = nil, rtol: Double? = nil, precision: DType? = nil,
    checks: DerivativeChecks = .all, seed: UInt64 = 0, file: String = #fileID, line: UInt = #line
) throws -> GradcheckReport {
    if !(1...3).contains(order) {
        fail("checkDerivatives", "order \(order) is not checked", fix: "pass order 1, 2 or 3", at: CallSite(file: file, line: line))
    }
    let function = try FlatFunction(f, at: x)
    let precision = precision ?? function.precision
    let tolerance = CheckTolerance.derived(for: precision).overriding(eps: eps, atol: atol, rtol: rtol)
    var random = SplitMix(seed: seed)
    let outcomes = derivativeOutcomes(function, order: order, level: 1, label: "f", tolerance: tolerance, checks: checks,
                                      random: &random)
    return GradcheckReport(check: "checkDerivatives (order \(order))", precision: precision, tolerance: tolerance,
                           outcomes: outcomes, file: file, line: line)
}

// MARK: - The flat core

/// Every comparison for `function` (called `label` in the report) at `level`, then, below
/// `order`, the next order through ∇g.
func derivativeOutcomes(_ function: FlatFunction, order: Int, level: Int, label: String, tolerance: CheckTolerance,
                        checks: DerivativeChecks, random: inout SplitMix) -> [CheckOutcome] {
    if let problem = setupProblem(function) { return [.failed("\(label): setup", problem)] }
    var outcomes = firstOrderOutcomes(function, label: label, tolerance: tolerance, checks: checks, random: &random)
    guard level < order else { return outcomes }

    // g(x) = ⟨u, f(x)⟩ + ½⟨c, f(x)²⟩, a scalar whose derivatives involve all of f's.
    let u = random.directions(function.outputShapes), c = random.directions(function.outputShapes)
    let apply = function.apply
    let readout: ([NDArray]) throws -> NDArray = { xs in
        try zip(apply(xs), zip(u, c)).map { y, uc in (uc.0 * y).sum() + 0.5 * (uc.1 * y * y).sum() }.reduce(NDArray(0.0, dtype: .float64), +)
    }
    let g = "g\(level)"
    let definition = "\(g) = ⟨u, \(label)⟩ + ½⟨c, \(label)²⟩"
    if checks.contains(.hessians) {
        outcomes += hessianOutcomes(readout, at: function.primals, label: "\(g) (\(definition))", tolerance: tolerance)
    }
    let gradient: ([NDArray]) throws -> [NDArray] = { xs in try grad(readout)(xs) }
    let next: FlatFunction
    do {
        next = try FlatFunction(gradient, at: function.primals)
    } catch {
        return outcomes + [.failed("∇\(g) (\(definition))", "threw \(error)")]
    }
    return outcomes + derivativeOutcomes(next, order: order, level: level + 1, label: "∇\(g)", tolerance: tolerance,
                                         checks: checks, random: &random)
}

/// The first-order comparisons for one function.
func firstOrderOutcomes(_ function: FlatFunction, label: String, tolerance: CheckTolerance, checks: DerivativeChecks,
                        random: inout SplitMix) -> [CheckOutcome] {
    let differences = FiniteDifferences(function, step: tolerance.eps)
    let (apply, primals) = (function.apply, function.primals)
    let inputPlaces = positions(function.inputShapes), outputPlaces = positions(function.outputShapes)
    let u = zip(random.directions(function.outputShapes), function.outputs).map { $0.to($1.dtype) }
    let v = random.directions(function.inputShapes)
    var outcomes: [CheckOutcome] = []

    // Reverse mode: Jᵀu against central differences of ⟨u, f⟩, input element by element.
    var jtu: [NDArray]?
    if checks.contains(.reverse) || checks.contains(.adjoint) {
        let name = "\(label): vjp against central differences of ⟨u, \(label)⟩"
        outcomes.append(attempt(name) {
            let g = try vjp(apply, at: primals).pullback(u)
            if let problem = shapeProblem(g, function.inputShapes, "the pullback") { return .failed(name, problem) }
            jtu = g
            var comparison = NumericComparison(name, tolerance: tolerance, differences: differences)
            if checks.contains(.reverse) {
                let values = flatValues(g), readout = Readout.dot(flatValues(u))
                for (c, (d, input)) in differences.elementDirections.enumerated() {
                    try comparison.compare(along: d, readout: readout, analytic: [values[c]]) { _ in .input(input, of: "⟨u, \(label)⟩") }
                }
            }
            return comparison.outcome
        })
    }

    // Forward mode: J v against the central difference along v.
    var jv: [NDArray]?
    if checks.contains(.forward) || checks.contains(.adjoint) {
        let name = "\(label): jvp against central differences along v"
        outcomes.append(attempt(name) {
            let t = try jvp(apply, at: primals, tangents: v).tangent
            if let problem = shapeProblem(t, function.outputShapes, "jvp") { return .failed(name, problem) }
            jv = t
            var comparison = NumericComparison(name, tolerance: tolerance, differences: differences)
            if checks.contains(.forward) {
                try comparison.compare(along: differences.direction(v), readout: .all, analytic: flatValues(t)) {
                    .output(outputPlaces[$0], of: "along v")
                }
            }
            return comparison.outcome
        })
    }

    if checks.contains(.adjoint), let jtu, let jv {
        let lhs = zip(flatValues(u), flatValues(jv)).map { $0 * $1 }, rhs = zip(flatValues(jtu), flatValues(v)).map { $0 * $1 }
        let scale = (lhs + rhs).reduce(0) { $0 + Swift.abs($1) }
        let a = lhs.reduce(0, +), b = rhs.reduce(0, +)
        let allowed = tolerance.consistency * scale + 1e-300
        let entry = Mismatch(at: .value("⟨u, J v⟩"), analytic: a, expected: b, allowed: allowed,
                             labels: ("⟨u, J v⟩", "⟨Jᵀu, v⟩"))
        outcomes.append(CheckOutcome(name: "\(label): ⟨u, J v⟩ (forward) against ⟨Jᵀu, v⟩ (reverse)",
                                     tolerance: "rtol \(tolerance.consistency) of Σ|terms| (\(scale))", compared: 1,
                                     mismatches: close(a, b, allowed: allowed) ? [] : [entry], largest: entry))
    }

    let n = function.inputCount, m = function.outputCount
    if checks.contains(.jacobians), n > 0, m > 0 {
        let jacobianPlace = { (_: Int, flat: Int) in Mismatch.Place.entry(inputPlaces[flat % n], outputPlaces[flat / n]) }
        let vectorized = function.vectorized, z = function.flatPrimals
        var reverse: NDArray?
        outcomes.append(attempt("\(label): jacfwd against jacrev") {
            let forward = try jacfwd(vectorized)(z), backward = try jacrev(vectorized)(z)
            reverse = backward
            return consistencyOutcome("\(label): jacfwd against jacrev", analytic: [forward], expected: [backward], labels: ("jacfwd", "jacrev"),
                                      tolerance: tolerance, place: jacobianPlace)
        })
        if let reverse {
            let name = "\(label): jacrev against central differences"
            outcomes.append(attempt(name) {
                let entries = reverse.doubles
                var comparison = NumericComparison(name, tolerance: tolerance, differences: differences)
                for (c, (d, input)) in differences.elementDirections.enumerated() {
                    try comparison.compare(along: d, readout: .all, analytic: (0..<m).map { entries[$0 * n + c] }) {
                        .entry(input, outputPlaces[$0])
                    }
                }
                return comparison.outcome
            })
        }
    }

    if checks.contains(.vmap) {
        outcomes += vmapOutcomes(function, label: label, tolerance: tolerance, random: &random)
    }
    return outcomes
}

/// `vmap` of the function, of its pullback and of its jvp against loops over three examples
/// near the check point, along axis 0 and along the last axis; and over no examples.
func vmapOutcomes(_ function: FlatFunction, label: String, tolerance: CheckTolerance, random: inout SplitMix) -> [CheckOutcome] {
    let (apply, primals) = (function.apply, function.primals)
    let count = 3
    // Examples 1e-4·(1 + |x|) apart: different enough that mixing them up shows, close enough
    // to stay inside the function's domain.
    let examples: [[NDArray]] = (0..<count).map { b in
        primals.map { x in
            guard b > 0 else { return x }
            return float64(x.doubles.map { $0 + 1e-4 * (1 + Swift.abs($0)) * random.uniform(-1, 1) }, x.shape)
        }
    }
    let cotangents = (0..<count).map { _ in zip(random.directions(function.outputShapes), function.outputs).map { $0.to($1.dtype) } }
    let tangents = (0..<count).map { _ in random.directions(function.inputShapes) }
    /// Stacks leaf k of every example along `axis` (negative: from the end of the stacked rank).
    func stacked(_ lists: [[NDArray]], axis: Int) -> [NDArray] {
        lists[0].indices.map { k in stack(lists.map { $0[k] }, dim: axis < 0 ? lists[0][k].rank + 1 + axis : axis) }
    }
    /// The place of element i of leaf k stacked along `axis` (0 or -1): the example's index
    /// is the first or the last of the multi-index.
    func place(_ shapes: [[Int]], output: Bool, axis: Int = 0) -> (Int, Int) -> Mismatch.Place {
        { k, i in
            let position = ArrayPosition(leaf: k, element: multiIndex(i, axis == 0 ? [count] + shapes[k] : shapes[k] + [count]))
            return output ? .output(position, of: "stacked examples") : .input(position, of: "stacked examples")
        }
    }

    var outcomes: [CheckOutcome] = []
    for (axis, where_) in [(0, "axis 0"), (-1, "the last axis")] {
        let name = "\(label): vmap along \(where_) against a loop over 3 examples"
        outcomes.append(attempt(name) {
            let looped = stacked(try examples.map(apply), axis: axis)
            let mapped = try vmap({ (xs: [NDArray]) in try apply(xs) }, inAxes: axis, outAxes: axis)(stacked(examples, axis: axis))
            return consistencyOutcome(name, analytic: mapped, expected: looped, labels: ("vmap", "loop"), tolerance: tolerance,
                                      place: place(function.outputShapes, output: true, axis: axis))
        })
    }

    let pullbackName = "\(label): vmap of the vjp (per-example pullbacks) against a loop"
    outcomes.append(attempt(pullbackName) {
        let looped = stacked(try zip(examples, cotangents).map { x, u in try vjp(apply, at: x).pullback(u) }, axis: 0)
        let mapped = try vmap({ (xs: [NDArray], us: [NDArray]) in try vjp(apply, at: xs).pullback(us) })(
            stacked(examples, axis: 0), stacked(cotangents, axis: 0))
        return consistencyOutcome(pullbackName, analytic: mapped, expected: looped, labels: ("vmap", "loop"), tolerance: tolerance,
                                  place: place(function.inputShapes, output: false))
    })

    let jvpName = "\(label): vmap of the jvp (per-example tangents) against a loop"
    outcomes.append(attempt(jvpName) {
        let looped = stacked(try zip(examples, tangents).map { x, v in try jvp(apply, at: x, tangents: v).tangent }, axis: 0)
        let mapped = try vmap({ (xs: [NDArray], vs: [NDArray]) in try jvp(apply, at: xs, tangents: vs).tangent })(
            stacked(examples, axis: 0), stacked(tangents, axis: 0))
        return consistencyOutcome(jvpName, analytic: mapped, expected: looped, labels: ("vmap", "loop"), tolerance: tolerance,
                                  place: place(function.outputShapes, output: true))
    })

    let emptyName = "\(label): vmap over 0 examples"
    outcomes.append(attempt(emptyName) {
        let empty = primals.map { NDArray.zeros([0] + $0.shape, dtype: $0.dtype) }
        let mapped = try vmap({ (xs: [NDArray]) in try apply(xs) })(empty)
        let expected = function.outputs.map { [0] + $0.shape }
        guard mapped.map(\.shape) == expected else {
            return .failed(emptyName, "gave shapes \(mapped.map(\.shape)) where \(expected) were expected")
        }
        return CheckOutcome(name: emptyName, tolerance: "shapes", compared: mapped.count, mismatches: [])
    })
    return outcomes
}

/// The Hessian of the scalar `g` four ways — forward over reverse (`hessian`), reverse over
/// reverse, reverse over forward, forward over forward — against each other, and its symmetry.
func hessianOutcomes(_ g: @escaping ([NDArray]) throws -> NDArray, at primals: [NDArray], label: String,
                     tolerance: CheckTolerance) -> [CheckOutcome] {
    let shapes = primals.map(\.shape)
    let n = shapes.reduce(0) { $0 + $1.reduce(1, *) }
    guard n > 0 else { return [] }
    let scalar = try? FlatFunction({ xs in [try g(xs)] }, at: primals)
    guard let vectorized = scalar?.vectorized else { return [.failed("\(label): Hessians", "the readout threw")] }
    let h = { (z: NDArray) in try vectorized(z).reshape([]) }
    let z = vector(primals.flatMap(\.doubles))
    let places = positions(shapes)
    let place = { (_: Int, flat: Int) in Mismatch.Place.entry(places[flat % n], places[flat / n]) }

    var reference: NDArray?
    var outcomes: [CheckOutcome] = []
    outcomes.append(attempt("\(label): Hessian by fwd∘rev is symmetric") {
        let fwdRev = try hessian(h)(z)
        reference = fwdRev
        return consistencyOutcome("\(label): Hessian by fwd∘rev is symmetric", analytic: [fwdRev], expected: [fwdRev.T], labels: ("H", "Hᵀ"),
                                  tolerance: tolerance, place: place)
    })
    guard let reference else { return outcomes }
    let ways: [(String, (@escaping (NDArray) throws -> NDArray) -> (NDArray) throws -> NDArray)] = [
        ("rev∘rev", { jacrev(jacrev($0)) }),
        ("rev∘fwd", { jacrev(jacfwd($0)) }),
        ("fwd∘fwd", { jacfwd(jacfwd($0)) }),
    ]
    for (way, make) in ways {
        let name = "\(label): Hessian by \(way) against fwd∘rev"
        outcomes.append(attempt(name) {
            consistencyOutcome(name, analytic: [try make(h)(z)], expected: [reference], labels: (way, "fwd∘rev"), tolerance: tolerance,
                               place: place)
        })
    }
    return outcomes
}
