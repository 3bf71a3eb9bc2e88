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
    /// Fixed limits; `nil` fits the data: a linear axis grows out to the nearest nice ticks, a
    /// log axis keeps the data's range when it holds two powers of ten, else grows to whole
    /// decades.
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
        case .log:
            // Whole decades only when the data hold fewer than two powers of ten; otherwise the
            // data's range, widened by 3 % of its decades each way, so a loss falling from 12 to
            // 0.9 is not squeezed into 10⁻¹…10².
            // Decade labels are short: a log axis takes a few more than a linear one.
            let labels = target + 4
            guard extend, lower > 0, upper > lower else {
                return Ticks.decades(covering: lower, upper, maximumLabels: labels, extend: extend)
            }
            let margin = pow(upper / lower, 0.03)
            let padded = Ticks.decades(covering: lower / margin, upper * margin, maximumLabels: labels, extend: false)
            return padded.major.count >= 2 ? padded : Ticks.decades(covering: lower, upper, maximumLabels: labels)
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
