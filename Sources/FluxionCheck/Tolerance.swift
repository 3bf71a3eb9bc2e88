// Step sizes and tolerances for derivative checks, derived from the precision a function
// computes in.
//
// A central difference with step h approximates a derivative to
//
// ```
// (f(x + h) − f(x − h)) / 2h = f'(x) + h²·f'''(ξ)/6        (truncation)
//                                     + O(ε·|f(x)| / h)     (rounding, ε the unit roundoff)
// ```
//
// so a step near ε^(1/3) balances the two. Float64 uses PyTorch gradcheck's step and
// tolerances (h = 1e-6, atol 1e-5, rtol 1e-3): the truncation error is ~1e-12·|f'''| and the
// rounding error ~1e-10·|f|, far inside the tolerance for well-scaled functions. A function
// that only computes in float32 (its outputs are float32 even for float64 inputs) gets
// h = 1e-3 (rounding ~6e-5·|f|) with atol and rtol 1e-2.
//
// Comparisons between two derivative computations of one quantity (forward against reverse
// mode, `jacfwd` against `jacrev`, `vmap` against a loop) differ by rounding only and use the
// much tighter `consistency` tolerance, relative to the largest magnitude compared.

import Fluxion

/// The step and tolerances of a derivative check.
public struct CheckTolerance: Sendable, Hashable, CustomStringConvertible {
    /// The finite-difference step h.
    public var eps: Double
    /// Absolute tolerance: an entry passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
    public var atol: Double
    /// Relative tolerance, scaled by the numeric value.
    public var rtol: Double
    /// Relative tolerance between two derivative computations of one quantity (forward
    /// against reverse, batched against looped), scaled by the largest magnitude compared.
    public var consistency: Double

    /// A step and tolerances given explicitly (see `derived(for:)` for the defaults).
    public init(eps: Double, atol: Double, rtol: Double, consistency: Double) {
        self.eps = eps
        self.atol = atol
        self.rtol = rtol
        self.consistency = consistency
    }

    /// The defaults for a function that computes in `dtype`.
    public static func derived(for dtype: DType) -> CheckTolerance {
        switch dtype {
        case .float32: CheckTolerance(eps: 1e-3, atol: 1e-2, rtol: 1e-2, consistency: 1e-4)
        default: CheckTolerance(eps: 1e-6, atol: 1e-5, rtol: 1e-3, consistency: 1e-8)
        }
    }

    /// These tolerances with any of the given values replacing the defaults.
    func overriding(eps: Double?, atol: Double?, rtol: Double?) -> CheckTolerance {
        var t = self
        if let eps { t.eps = eps }
        if let atol { t.atol = atol }
        if let rtol { t.rtol = rtol }
        return t
    }

    /// The largest |analytic − numeric| allowed for an entry whose numeric value is `numeric`.
    func allowed(_ numeric: Double) -> Double { atol + rtol * Swift.abs(numeric) }

    public var description: String { "eps \(eps), atol \(atol), rtol \(rtol)" }
}
