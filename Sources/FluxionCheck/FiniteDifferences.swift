// Central differences, and how a disagreement with them is judged.
//
// The numeric derivative of f at x along a direction d is the central difference
//
// ```
// D_h = (f(x + h·d) − f(x − h·d)) / 2h
// ```
//
// For an element direction the step actually taken, (x + h) − x as stored, replaces h, so
// rounding of the shifted input does not enter the quotient.
//
// When an analytic derivative A disagrees with D_h beyond the tolerance, the entry is looked
// at more closely with the one-sided differences F_s = (f(x + s·d) − f(x))/s and
// B_s = (f(x) − f(x − s·d))/s at s = h and s = h/10:
//
// - If D_{h/10} agrees with A, the coarse step was spoiled by a non-differentiable point
//   within it (F_h and B_h differ, F_{h/10} and B_{h/10} do not: a kink "within the step")
//   or by strong curvature. Either way the finer difference confirms A: no failure.
// - If the function jumps at x (f(x + s·d) − f(x − s·d) does not shrink with s, so the
//   difference quotient grows like 1/s, and at step h it is over a hundred times what A
//   predicts), no derivative exists there to check: reported as a jump, not a failure. This
//   is what second derivatives meet at a kink of the first (the gradient of |x| at 0).
// - If F_{h/10} and B_{h/10} still differ, by at least half as much as F_h and B_h (for a
//   smooth function the gap F_s − B_s ≈ s·f'' shrinks tenfold with the step), x itself is a
//   kink: relu or abs at 0, a tie of max. A then must lie between the one-sided derivatives
//   (a subgradient: relu'(0) = 0, split ties); it is reported as a kink, not a failure.
//   Outside them it is a failure, noted as at a kink.
// - Otherwise it is a failure.
//
// A wrong rule cannot pass by these steps: it would have to agree with a finer central
// difference, or lie between the one-sided derivatives of a point where they differ.

import Fluxion
import FluxionCore

/// A direction in input space: one element of one input, or a vector over all inputs.
enum Direction: Hashable {
    case element(leaf: Int, index: Int)
    /// The n-th vector direction registered with the engine.
    case vector(Int)
}

/// Evaluations of f on both sides of x along one direction.
struct Stencil {
    /// Flattened outputs at x + s₊·d and x − s₋·d.
    let plus: [Double], minus: [Double]
    /// The steps actually taken on each side.
    let stepPlus: Double, stepMinus: Double

    var central: [Double] { zip(plus, minus).map { ($0 - $1) / (stepPlus + stepMinus) } }
    func forward(_ center: [Double]) -> [Double] { zip(plus, center).map { ($0 - $1) / stepPlus } }
    func backward(_ center: [Double]) -> [Double] { zip(center, minus).map { ($0 - $1) / stepMinus } }

    /// The same stencil seen through a linear readout of the outputs.
    func reading(_ readout: Readout) -> Stencil {
        Stencil(plus: readout.apply(plus), minus: readout.apply(minus), stepPlus: stepPlus, stepMinus: stepMinus)
    }
}

/// A linear map applied to the flattened outputs before comparing: all of them, or ⟨u, f(x)⟩.
enum Readout {
    case all
    case dot([Double])

    func apply(_ values: [Double]) -> [Double] {
        switch self {
        case .all: values
        case let .dot(u): [zip(u, values).reduce(0) { $0 + $1.0 * $1.1 }]
        }
    }
}

/// Central differences of one flat function at one point, with every evaluation cached.
final class FiniteDifferences {
    let function: FlatFunction
    let step: Double
    /// f(x), flattened.
    let center: [Double]
    private var vectors: [[NDArray]] = []
    private var stencils: [StencilKey: Stencil] = [:]

    private struct StencilKey: Hashable {
        let direction: Direction
        let fine: Bool
    }

    init(_ function: FlatFunction, step: Double) {
        self.function = function
        self.step = step
        center = flatValues(function.outputs)
    }

    /// Registers a direction vector (arrays of the inputs' shapes).
    func direction(_ v: [NDArray]) -> Direction {
        vectors.append(v)
        return .vector(vectors.count - 1)
    }

    /// Every element direction, in concatenated order, with its position.
    var elementDirections: [(Direction, ArrayPosition)] {
        function.primals.enumerated().flatMap { leaf, x in
            (0..<x.count).map { (Direction.element(leaf: leaf, index: $0), ArrayPosition(leaf: leaf, element: multiIndex($0, x.shape))) }
        }
    }

    /// The stencil at step h (or h/10 when `fine`).
    func stencil(_ d: Direction, fine: Bool = false) throws -> Stencil {
        let key = StencilKey(direction: d, fine: fine)
        if let cached = stencils[key] { return cached }
        let s = fine ? step / 10 : step
        let made: Stencil
        switch d {
        case let .element(leaf, index):
            let x = function.primals[leaf]
            var values = x.doubles
            let original = values[index]
            let up = original + s, down = original - s
            values[index] = up
            let plus = try evaluate(replacing: leaf, with: float64(values, x.shape))
            values[index] = down
            let minus = try evaluate(replacing: leaf, with: float64(values, x.shape))
            made = Stencil(plus: plus, minus: minus, stepPlus: up - original, stepMinus: original - down)
        case let .vector(n):
            let v = vectors[n]
            let shifted = { (t: Double) in
                zip(self.function.primals, v).map { x, d in float64(zip(x.doubles, d.doubles).map { $0 + t * $1 }, x.shape) }
            }
            made = Stencil(plus: flatValues(try function.apply(shifted(s))), minus: flatValues(try function.apply(shifted(-s))),
                           stepPlus: s, stepMinus: s)
        }
        stencils[key] = made
        return made
    }

    private func evaluate(replacing leaf: Int, with x: NDArray) throws -> [Double] {
        var xs = function.primals
        xs[leaf] = x
        return flatValues(try function.apply(xs))
    }

    /// What a disagreement between an analytic entry and the central difference turns out to be.
    enum Verdict {
        /// A finer step agrees; `kink` when the coarse one-sided differences show a kink.
        case agreesAtFinerStep(kink: Bool)
        /// x is a kink and the analytic value is a subgradient.
        case kink(left: Double, right: Double)
        /// The function jumps by about `size` at x.
        case jump(size: Double)
        /// A real disagreement (possibly at a kink, with the analytic value outside the
        /// one-sided derivatives).
        case mismatch(note: String?)
    }

    /// Judges entry `entry` of the derivative along `d` read through `readout`, whose
    /// analytic value `analytic` disagreed with the central difference at step h.
    func judge(_ d: Direction, readout: Readout, entry: Int, analytic: Double, tolerance: CheckTolerance) throws -> Verdict {
        let center = readout.apply(self.center)
        let coarse = try stencil(d).reading(readout), fine = try stencil(d, fine: true).reading(readout)
        let f0 = coarse.forward(center)[entry], b0 = coarse.backward(center)[entry]
        let f1 = fine.forward(center)[entry], b1 = fine.backward(center)[entry]
        let gap0 = Swift.abs(f0 - b0), gap1 = Swift.abs(f1 - b1)
        let finer = fine.central[entry]
        if close(analytic, finer, allowed: tolerance.allowed(finer)) {
            // Smooth curvature opens the gap between one-sided differences in proportion to the
            // step, so the tenfold finer step shrinks it tenfold; a kink straddled by the coarse
            // step but not the fine one leaves almost nothing. A hundredfold shrinkage tells them
            // apart with room for the rounding noise of a float32 function, which a threshold
            // near ten would not (a smooth power was once reported as a kink that way).
            let kinkWithinStep = gap0 > tolerance.allowed(Swift.max(Swift.abs(f0), Swift.abs(b0))) && gap1 < gap0 / 100
            return .agreesAtFinerStep(kink: kinkWithinStep)
        }
        let rise0 = coarse.plus[entry] - coarse.minus[entry], rise1 = fine.plus[entry] - fine.minus[entry]
        let quotient0 = rise0 / (coarse.stepPlus + coarse.stepMinus)
        if Swift.abs(rise1) >= 0.5 * Swift.abs(rise0), Swift.abs(quotient0) > 100 * (Swift.abs(analytic) + tolerance.allowed(analytic)) {
            return .jump(size: rise1)
        }
        let kinkAtPoint = gap1 > tolerance.allowed(Swift.max(Swift.abs(f1), Swift.abs(b1))) && gap1 >= 0.5 * gap0
        guard kinkAtPoint else { return .mismatch(note: nil) }
        let low = Swift.min(f1, b1), high = Swift.max(f1, b1)
        if analytic >= low - tolerance.allowed(low), analytic <= high + tolerance.allowed(high) {
            return .kink(left: b1, right: f1)
        }
        return .mismatch(note: "at a non-differentiable point, outside its one-sided derivatives (left \(b1), right \(f1))")
    }
}

/// Whether two values agree within `allowed` (NaN agrees with nothing; equal infinities agree).
func close(_ a: Double, _ b: Double, allowed: Double) -> Bool {
    if a == b { return true }
    guard a.isFinite, b.isFinite else { return false }
    return Swift.abs(a - b) <= allowed
}

// MARK: - Comparing against central differences

/// Accumulates one comparison of analytic derivatives against central differences, direction
/// by direction.
struct NumericComparison {
    let name: String
    let tolerance: CheckTolerance
    let differences: FiniteDifferences
    private(set) var compared = 0
    private(set) var mismatches: [Mismatch] = []
    private(set) var kinks: [Kink] = []
    private(set) var largest: Mismatch?

    init(_ name: String, tolerance: CheckTolerance, differences: FiniteDifferences) {
        self.name = name
        self.tolerance = tolerance
        self.differences = differences
    }

    /// Compares `analytic` (one value per readout entry) with central differences along `d`;
    /// `place(entry)` names each entry's input and output positions.
    mutating func compare(along d: Direction, readout: Readout, analytic: [Double], place: (Int) -> Mismatch.Place) throws {
        let numeric = try differences.stencil(d).reading(readout).central
        if numeric.count != analytic.count {
            fail("FluxionCheck", "\(analytic.count) analytic entries for \(numeric.count) numeric ones", fix: "report this: the readouts disagree", file: #fileID, line: #line)
        }
        for (j, (a, n)) in zip(analytic, numeric).enumerated() {
            compared += 1
            let entry = Mismatch(at: place(j), analytic: a, expected: n, allowed: tolerance.allowed(n))
            if close(a, n, allowed: entry.allowed) {
                if largest.map({ entry.error > $0.error }) ?? true { largest = entry }
                continue
            }
            switch try differences.judge(d, readout: readout, entry: j, analytic: a, tolerance: tolerance) {
            case .agreesAtFinerStep(kink: false):
                continue
            case .agreesAtFinerStep(kink: true):
                kinks.append(Kink(check: name, place: entry.place, kind: .withinStep, analytic: a, numeric: n))
            case let .kink(left, right):
                kinks.append(Kink(check: name, place: entry.place, kind: .atPoint(left: left, right: right), analytic: a, numeric: n))
            case let .jump(size):
                kinks.append(Kink(check: name, place: entry.place, kind: .jump(size: size), analytic: a, numeric: n))
            case let .mismatch(note):
                if largest.map({ entry.error > $0.error }) ?? true { largest = entry }
                mismatches.append(entry.with(note: note))
            }
        }
    }

    var outcome: CheckOutcome {
        CheckOutcome(name: name, tolerance: "atol \(tolerance.atol) + rtol \(tolerance.rtol)·|numeric|", compared: compared,
                     mismatches: mismatches, kinks: kinks, largest: largest)
    }
}

/// Compares two computations of the same values (forward against reverse, batched against
/// looped) within `consistency` relative to the largest magnitude involved.
func consistencyOutcome(_ name: String, analytic: [NDArray], expected: [NDArray], labels: (String, String),
                        tolerance: CheckTolerance, place: (Int, Int) -> Mismatch.Place) -> CheckOutcome {
    guard analytic.count == expected.count else {
        return .failed(name, "\(analytic.count) arrays where \(expected.count) were expected")
    }
    for (k, (a, e)) in zip(analytic, expected).enumerated() where a.shape != e.shape {
        return .failed(name, "array \(k) has shape \(a.shape) where \(e.shape) was expected")
    }
    let all = flatValues(analytic) + flatValues(expected)
    let scale = all.lazy.filter(\.isFinite).map(Swift.abs).max() ?? 0
    let allowed = tolerance.consistency * Swift.max(scale, 1e-300) + 1e-300
    var mismatches: [Mismatch] = []
    var largest: Mismatch?
    var compared = 0
    for (k, (a, e)) in zip(analytic, expected).enumerated() {
        for (i, (x, y)) in zip(a.doubles, e.doubles).enumerated() {
            compared += 1
            let entry = Mismatch(at: place(k, i), analytic: x, expected: y, allowed: allowed, labels: labels)
            if largest.map({ entry.error > $0.error }) ?? true { largest = entry }
            // The same computation done two ways may be NaN both times (outside its domain).
            if !close(x, y, allowed: allowed) && !(x.isNaN && y.isNaN) { mismatches.append(entry) }
        }
    }
    return CheckOutcome(name: name, tolerance: "rtol \(tolerance.consistency) of the largest magnitude (\(scale))",
                        compared: compared, mismatches: mismatches, largest: largest)
}
