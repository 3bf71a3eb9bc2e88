// An axis of a plot: its title (with units), its scale, and optionally fixed limits. The plot
// turns an axis and the data it shows into ticks (`Ticks`) and a map from data to pixels.

import Foundation

/// How data values are placed along an axis.
public enum Scale: Sendable, Equatable {
    /// Equal differences take equal lengths.
    case linear
    /// Equal ratios take equal lengths (base 10); values at or below zero are not drawn.
    case log
}

/// One axis of a plot.
public struct Axis: Sendable {
    /// The axis title: the quantity and its unit, such as "time t (s)" or "training step".
    public var title: String
    /// Linear or logarithmic.
    public var scale: Scale
    /// Fixed limits; `nil` fits the data, growing out to the nearest nice ticks.
    public var limits: ClosedRange<Double>?

    /// An axis titled `title`.
    ///
    /// - Parameters:
    ///   - title: the quantity shown and its unit.
    ///   - scale: `.linear` or `.log`.
    ///   - limits: the range shown; `nil` fits the data.
    public init(_ title: String, scale: Scale = .linear, limits: ClosedRange<Double>? = nil) {
        self.title = title
        self.scale = scale
        self.limits = limits
    }

    /// Whether `value` can be placed on this axis (finite, and positive on a log axis).
    func shows(_ value: Double) -> Bool { value.isFinite && (scale == .linear || value > 0) }

    /// Ticks for data spanning `range` (`nil` when there is none), aiming at `target` ticks.
    /// Fixed limits, and `tight` ranges (a heat map's extent), keep their ends.
    func ticks(for range: (lower: Double, upper: Double)?, target: Int, tight: Bool) -> Ticks {
        let fixed = limits.map { ($0.lowerBound, $0.upperBound) }
        let (lower, upper) = fixed ?? range ?? (scale == .log ? (1, 10) : (0, 1))
        let extend = fixed == nil && !tight
        switch scale {
        case .linear: return Ticks.linear(covering: lower, upper, target: target, extend: extend)
        case .log: return Ticks.decades(covering: lower, upper, maximumLabels: target + 2, extend: extend)
        }
    }

    /// Where `value` falls between the limits of `ticks`, 0 at the lower and 1 at the upper.
    func fraction(_ value: Double, in ticks: Ticks) -> Double {
        switch scale {
        case .linear: return (value - ticks.lower) / (ticks.upper - ticks.lower)
        case .log: return log10(value / ticks.lower) / log10(ticks.upper / ticks.lower)
        }
    }
}
