// What a derivative check found, structured so that a failure says where and by how much:
// each comparison (`CheckOutcome`) lists every entry outside its tolerance (`Mismatch`: which
// input and element, which output and element, the analytic value, the value it was compared
// with, and the tolerance), worst first, and the non-differentiable points it met (`Kink`).
// `GradcheckReport` gathers the comparisons of one call; `GradcheckFailure` is the error a
// failed check throws, whose description is the report.
//
// Inputs and outputs are numbered by their position among the differentiable leaves of the
// trees passed in (`ArrayTree.leaves` order; integer and bool leaves are held constant and
// not counted), elements by their multi-index within that leaf.

import Fluxion

/// One position in a differentiated input or an output: the leaf and the element within it.
public struct ArrayPosition: Sendable, Hashable, CustomStringConvertible {
    /// The leaf's index among the differentiable leaves.
    public let leaf: Int
    /// The element's multi-index within the leaf (empty for a 0-d leaf).
    public let element: [Int]

    /// The element at multi-index `element` of the `leaf`-th differentiable leaf.
    public init(leaf: Int, element: [Int]) {
        self.leaf = leaf
        self.element = element
    }

    public var description: String { "\(leaf) element \(element)" }
}

/// An entry whose two computations disagree beyond the tolerance.
public struct Mismatch: Sendable, CustomStringConvertible {
    /// The input the entry belongs to (nil: a derivative along a random direction, or a
    /// comparison of values with no input position).
    public let input: ArrayPosition?
    /// The output the entry belongs to (nil: a scalar readout ⟨u, f(x)⟩ with a random u).
    public let output: ArrayPosition?
    /// The derivative under test (reverse mode, forward mode, the batched value, …).
    public let analytic: Double
    /// What it is compared with (central differences, or another derivative computation).
    public let expected: Double
    /// The largest difference the tolerance allows for this entry.
    public let allowed: Double
    /// Why the entry is special, for example a non-differentiable point.
    public var note: String? { noteOverride ?? baseNote }
    private let baseNote: String?
    private var noteOverride: String?
    /// Where the entry is, in words: "input 0 element [1] → output 0 element [2]",
    /// "input 0 element [1] → ⟨u, f(x)⟩", "along v → output 0 element [2]".
    public let place: String
    /// What `analytic` and `expected` are: "analytic" and "numeric" against central
    /// differences; "jacfwd" and "jacrev", "vmap" and "loop", … between two computations.
    public let analyticLabel: String, expectedLabel: String

    /// An entry outside its tolerance; the labels name the input and output positions and the
    /// two values compared when the defaults (positions, "analytic", "numeric") do not fit.
    public init(input: ArrayPosition?, output: ArrayPosition?, analytic: Double, expected: Double, allowed: Double,
                note: String? = nil, inputLabel: String? = nil, outputLabel: String? = nil,
                analyticLabel: String = "analytic", expectedLabel: String = "numeric") {
        self.input = input
        self.output = output
        self.analytic = analytic
        self.expected = expected
        self.allowed = allowed
        baseNote = note
        self.analyticLabel = analyticLabel
        self.expectedLabel = expectedLabel
        place = [input.map { "input \($0)" } ?? inputLabel, output.map { "output \($0)" } ?? outputLabel]
            .compactMap { $0 }.joined(separator: " → ")
    }

    /// The same entry with a note.
    func with(note: String?) -> Mismatch {
        var copy = self
        copy.noteOverride = note
        return copy
    }

    /// |analytic − expected| (infinite when exactly one of them is not finite).
    public var error: Double {
        if analytic.isNaN || expected.isNaN { return analytic.isNaN && expected.isNaN ? 0 : .infinity }
        if analytic == expected { return 0 }
        return Swift.abs(analytic - expected)
    }

    /// The error relative to |expected|.
    public var relativeError: Double { expected == 0 ? (error == 0 ? 0 : .infinity) : error / Swift.abs(expected) }

    /// How many times over its tolerance the entry is: what "worst" means when sorting.
    var excess: Double { allowed > 0 ? error / allowed : (error > 0 ? .infinity : 0) }

    /// "analytic 2.0, numeric 1.0".
    var values: String { "\(analyticLabel) \(analytic), \(expectedLabel) \(expected)" }

    public var description: String {
        "\(place): \(values) (error \(error), allowed \(allowed))" + (note.map { "; \($0)" } ?? "")
    }
}

/// A finite-difference stencil that met a point where the function is not differentiable
/// (relu or abs at 0, a tie of max, a jump), reported instead of a failure.
public struct Kink: Sendable, CustomStringConvertible {
    /// What was met at a kink.
    public enum Kind: Sendable, Hashable {
        /// The point itself is non-differentiable: the one-sided derivatives differ at every
        /// step tried. The analytic value lies between them (a subgradient, as PyTorch's
        /// relu'(0) = 0 and max's split ties).
        case atPoint(left: Double, right: Double)
        /// A non-differentiable point lies within the step: central differences with a step
        /// ten times smaller agree with the analytic value.
        case withinStep
        /// The function jumps by about `size` at this point, so it has no derivative there to
        /// check: what second derivatives meet at a kink of the first (the gradient of |x| at 0).
        case jump(size: Double)
    }

    /// The comparison that met it ("reverse mode", "forward mode", …).
    public let check: String
    /// Where, as in `Mismatch`.
    public let place: String
    /// What kind of non-differentiable point it is.
    public let kind: Kind
    /// The derivative under test at that entry.
    public let analytic: Double
    /// The central difference at the check's step, spoiled by the kink.
    public let numeric: Double

    public var description: String {
        switch kind {
        case let .atPoint(left, right):
            return "\(place): not differentiable at this point (left derivative \(left), right derivative \(right)); analytic \(analytic) lies between them, central difference \(numeric)"
        case .withinStep:
            return "\(place): a non-differentiable point within the step spoils the central difference (\(numeric)); a smaller step agrees with analytic \(analytic)"
        case let .jump(size):
            return "\(place): the function jumps by about \(size) here, so it has no derivative to check (central difference \(numeric), analytic \(analytic))"
        }
    }
}

/// The result of one comparison, e.g. "reverse mode against central differences".
public struct CheckOutcome: Sendable, CustomStringConvertible {
    /// What was compared with what.
    public let name: String
    /// The tolerance applied: "atol 1e-05 + rtol 0.001·|numeric|" or the consistency one.
    public let tolerance: String
    /// How many entries were compared.
    public let compared: Int
    /// Every entry outside the tolerance, worst (relative to its tolerance) first.
    public let mismatches: [Mismatch]
    /// Non-differentiable points met, not counted as mismatches.
    public let kinks: [Kink]
    /// The entry with the largest error, for the record even when the check passes.
    public let largest: Mismatch?
    /// A failure that is not about values: a thrown error, different shapes.
    public let problem: String?

    /// The outcome of one comparison; the mismatches are kept worst first.
    public init(name: String, tolerance: String, compared: Int, mismatches: [Mismatch], kinks: [Kink] = [],
                largest: Mismatch? = nil, problem: String? = nil) {
        self.name = name
        self.tolerance = tolerance
        self.compared = compared
        self.mismatches = mismatches.sorted { $0.excess > $1.excess }
        self.kinks = kinks
        self.largest = largest
        self.problem = problem
    }

    /// A comparison that could not be made.
    static func failed(_ name: String, _ problem: String) -> CheckOutcome {
        CheckOutcome(name: name, tolerance: "", compared: 0, mismatches: [], problem: problem)
    }

    /// Whether every entry was within the tolerance and nothing else went wrong.
    public var passed: Bool { mismatches.isEmpty && problem == nil }

    /// How many offenders a description lists.
    static let shownOffenders = 5

    public var description: String {
        if let problem { return "\(name): FAILED: \(problem)" }
        var lines: [String] = []
        if passed {
            let worst = largest.map { ", largest error \($0.error) at \($0.place)" } ?? ""
            lines.append("\(name): passed (\(compared) \(compared == 1 ? "entry" : "entries") within \(tolerance)\(worst))")
        } else {
            lines.append("\(name): FAILED: \(mismatches.count) of \(compared) entries outside \(tolerance)")
            let first = mismatches[0]
            lines.append("  at \(first.place): \(first.values), error \(first.error) > allowed \(first.allowed)"
                         + (first.note.map { " (\($0))" } ?? ""))
            if mismatches.count > 1 {
                lines.append("  worst offenders:")
                for m in mismatches.prefix(Self.shownOffenders) { lines.append("    \(m)") }
                if mismatches.count > Self.shownOffenders { lines.append("    … and \(mismatches.count - Self.shownOffenders) more") }
            }
        }
        if !kinks.isEmpty {
            lines.append("  \(kinks.count) entr\(kinks.count == 1 ? "y" : "ies") at non-differentiable points, not counted as failures:")
            for k in kinks.prefix(Self.shownOffenders) { lines.append("    \(k)") }
            if kinks.count > Self.shownOffenders { lines.append("    … and \(kinks.count - Self.shownOffenders) more") }
        }
        return lines.joined(separator: "\n")
    }
}

/// Everything one call of `gradcheck`, `gradgradcheck` or `checkDerivatives` compared.
public struct GradcheckReport: Sendable, CustomStringConvertible {
    /// The check that ran ("gradcheck", "gradgradcheck", "checkDerivatives").
    public let check: String
    /// The precision the function was evaluated in (float64 unless it only computes in float32).
    public let precision: DType
    /// The step and tolerances used.
    public let tolerance: CheckTolerance
    /// Each comparison made, in the order made.
    public let outcomes: [CheckOutcome]
    /// Where the check was called.
    public let file: String
    /// The line the check was called from.
    public let line: UInt

    /// Whether every comparison passed.
    public var passed: Bool { outcomes.allSatisfy(\.passed) }
    /// The comparisons that failed.
    public var failures: [CheckOutcome] { outcomes.filter { !$0.passed } }
    /// Every non-differentiable point met.
    public var kinks: [Kink] { outcomes.flatMap(\.kinks) }

    public var description: String {
        let verdict = passed ? "passed" : "FAILED (\(failures.count) of \(outcomes.count) comparisons)"
        let header = "\(check) \(verdict): evaluated in \(precision), \(tolerance), called at \(file):\(line)"
        // A failure leads with what failed.
        let ordered = failures + outcomes.filter(\.passed)
        return ([header] + ordered.map(\.description)).joined(separator: "\n")
    }
}

/// The error a failed derivative check throws; its description is the full report.
public struct GradcheckFailure: Error, CustomStringConvertible {
    /// Everything the failed check compared, failures first.
    public let report: GradcheckReport

    public var description: String { report.description }
}

extension Mismatch {
    /// Where an entry is: positions, or words for what has none.
    struct Place {
        var input: ArrayPosition?
        var output: ArrayPosition?
        var inputLabel: String?
        var outputLabel: String?

        /// An entry of a Jacobian.
        static func entry(_ input: ArrayPosition, _ output: ArrayPosition) -> Place { Place(input: input, output: output) }
        /// An element of an input-shaped result (a gradient, a pullback).
        static func input(_ input: ArrayPosition, of what: String) -> Place { Place(input: input, outputLabel: what) }
        /// An element of an output-shaped result (a tangent, a mapped output).
        static func output(_ output: ArrayPosition, of what: String) -> Place { Place(output: output, inputLabel: what) }
        /// A single number.
        static func value(_ what: String) -> Place { Place(inputLabel: what) }
    }

    init(at place: Place, analytic: Double, expected: Double, allowed: Double, note: String? = nil,
         labels: (String, String) = ("analytic", "numeric")) {
        self.init(input: place.input, output: place.output, analytic: analytic, expected: expected, allowed: allowed,
                  note: note, inputLabel: place.inputLabel, outputLabel: place.outputLabel,
                  analyticLabel: labels.0, expectedLabel: labels.1)
    }
}
