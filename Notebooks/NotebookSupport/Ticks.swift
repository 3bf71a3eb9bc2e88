// Tick positions and labels for linear and logarithmic axes.
//
// Linear axes take steps of 1, 2 or 5 × 10ᵏ (Heckbert, "Nice numbers for graph labels", Graphics
// Gems, 1990), choosing among them the one whose tick count is nearest a target while staying
// within 4 to 10. Tick values are computed as the integer i·m divided or multiplied by an exact
// power of ten, never by accumulating a step, so 0.3 is the double nearest 0.3 and not
// 0.30000000000000004; labels then carry exactly the decimals the step needs. When the values
// are very large or very small the labels leave out a common factor 10ⁿ, which the axis writes
// once (as matplotlib's offset text does).
//
// Logarithmic axes get a tick at each power of ten, labelled 10ⁿ with Unicode superscripts
// (any font that draws the label draws them; no tspan baseline shifts), and minor ticks at
// 2…9 × 10ⁿ. Over many decades every second or third decade is labelled and the others become
// minor ticks; over about a decade, where that would leave two labels or fewer, 2 × 10ⁿ and
// 5 × 10ⁿ are labelled too.
//
// Not handled: ranges wider than the doubles (±1e308) and steps finer than about 1e-12 of the
// values' magnitude, which are treated as a single value.

import Foundation

/// The ticks of one axis: its limits, the labelled (major) ticks and the unlabelled (minor) ones.
public struct Ticks: Equatable, Sendable {
    /// The axis's lower limit, in data units.
    public var lower: Double
    /// The axis's upper limit, in data units.
    public var upper: Double
    /// The labelled tick positions, increasing, all within `lower...upper`.
    public var major: [Double]
    /// One label per major tick.
    public var labels: [String]
    /// The unlabelled tick positions, within `lower...upper`.
    public var minor: [Double]
    /// The labels show value / 10^`exponent`; 0 when they show the values themselves.
    public var exponent: Int

    /// Nice ticks for a linear axis.
    ///
    /// Steps are 1, 2 or 5 × 10ᵏ; the step chosen gives between 4 and 10 ticks, as near `target`
    /// as it can. A single value (or a range narrower than about 1e-12 of its magnitude) is
    /// widened by 10 % of its magnitude each way, or to −1…1 at zero.
    ///
    /// - Parameters:
    ///   - lower: one end of the data's range.
    ///   - upper: the other end.
    ///   - target: the preferred number of ticks.
    ///   - extend: whether the axis grows outwards to the nearest ticks (loose labelling, the
    ///     limits are the first and last tick), or keeps `lower…upper` as its limits and places the
    ///     ticks inside them (for heat maps and colour bars, whose extent is the data's).
    /// - Returns: ticks whose limits cover `lower…upper`.
    public static func linear(covering lower: Double, _ upper: Double, target: Int = 6, extend: Bool = true) -> Ticks {
        precondition(lower.isFinite && upper.isFinite, "ticks need a finite range, got \(lower)…\(upper)")
        var (lo, hi) = (Swift.min(lower, upper), Swift.max(lower, upper))
        let magnitude = Swift.max(abs(lo), abs(hi))
        if hi - lo <= magnitude * 1e-12 {
            let centre = (lo + hi) / 2
            let half = centre == 0 ? 1 : abs(centre) * 0.1
            (lo, hi) = (centre - half, centre + half)
        }
        let base = Int(floor(log10(hi - lo)))
        var best: (score: Double, first: Double, last: Double, mantissa: Double, power: Int)?
        for power in (base - 2)...(base + 1) {
            for mantissa in [1.0, 2.0, 5.0] {
                func value(_ i: Double) -> Double { tickValue(i * mantissa, power) }
                let step = value(1)
                var first = extend ? floor(lo / step) : ceil(lo / step)
                var last = extend ? ceil(hi / step) : floor(hi / step)
                // Division rounds: move by one where the neighbouring tick still satisfies the bound.
                if extend {
                    if value(first + 1) <= lo { first += 1 }
                    if value(first) > lo { first -= 1 }
                    if value(last - 1) >= hi { last -= 1 }
                    if value(last) < hi { last += 1 }
                } else {
                    if value(first - 1) >= lo { first -= 1 }
                    if value(first) < lo { first += 1 }
                    if value(last + 1) <= hi { last += 1 }
                    if value(last) > hi { last -= 1 }
                }
                let count = Int(last - first) + 1
                guard count >= 2 else { continue }
                // Outside 4…10 only as a last resort. A loose axis also pays for the room it adds
                // beyond the data (0…600 for data up to 500 loses to 0…500 in steps of 100); ties
                // go to the coarser step (seen later).
                let added = extend ? 1 - (hi - lo) / (value(last) - value(first)) : 0
                let score = Double((4...10).contains(count) ? abs(count - target) : 100 + abs(count - target)) + 2 * added
                if best == nil || score <= best!.score {
                    best = (score, first, last, mantissa, power)
                }
            }
        }
        let chosen = best!
        let major = stride(from: chosen.first, through: chosen.last, by: 1).map { tickValue($0 * chosen.mantissa, chosen.power) }
        let largest = major.map(abs).max() ?? 0
        let exponent = largest >= 1e5 || (largest > 0 && largest < 1e-2) ? Int(floor(log10(largest))) : 0
        let decimals = Swift.max(0, exponent - chosen.power)
        let labels = major.map { formatted($0 / tickValue(1, exponent), decimals: decimals) }
        return Ticks(lower: extend ? major.first! : lo, upper: extend ? major.last! : hi,
                     major: major, labels: labels, minor: [], exponent: exponent)
    }

    /// Decade ticks for a logarithmic axis.
    ///
    /// Major ticks sit at powers of ten, labelled 10ⁿ; at most `maximumLabels` of them are
    /// labelled, every second or third decade over wide ranges, the rest becoming minor ticks.
    /// Within a labelled decade the minor ticks are 2…9 × 10ⁿ; when fewer than three powers of
    /// ten would be labelled, 2 × 10ⁿ and 5 × 10ⁿ are labelled too.
    ///
    /// - Parameters:
    ///   - lower: one end of the data's range, positive.
    ///   - upper: the other end, positive.
    ///   - maximumLabels: the most labelled ticks wanted (at least 2).
    ///   - extend: whether the limits grow to whole labelled decades (otherwise they stay
    ///     `lower…upper` and only the ticks inside are kept).
    public static func decades(covering lower: Double, _ upper: Double, maximumLabels: Int = 8, extend: Bool = true) -> Ticks {
        precondition(lower > 0 && upper > 0 && lower.isFinite && upper.isFinite,
                     "a logarithmic axis needs a positive finite range, got \(lower)…\(upper)")
        let (lo, hi) = (Swift.min(lower, upper), Swift.max(lower, upper))
        var first = Int(floor(log10(lo))), last = Int(ceil(log10(hi)))
        if tickValue(1, first + 1) <= lo { first += 1 }
        if tickValue(1, first) > lo { first -= 1 }
        if tickValue(1, last - 1) >= hi { last -= 1 }
        if tickValue(1, last) < hi { last += 1 }
        if first == last { last += 1 }
        let every = Swift.max(1, Int(ceil(Double(last - first) / Double(Swift.max(1, maximumLabels - 1)))))
        first = Int(floor(Double(first) / Double(every))) * every
        last = Int(ceil(Double(last) / Double(every))) * every
        let powers = Array(stride(from: first, through: last, by: every))
        var minor: [Double] = []
        for k in first..<last {
            if every == 1 {
                minor += (2...9).map { tickValue(Double($0), k) }
            } else if (k - first) % every != 0 {
                minor.append(tickValue(1, k))
            }
        }
        var ticks = Ticks(lower: tickValue(1, first), upper: tickValue(1, last), major: powers.map { tickValue(1, $0) },
                          labels: powers.map(decadeLabel), minor: minor, exponent: 0)
        if !extend {
            let kept = ticks.major.indices.filter { ticks.major[$0] >= lo && ticks.major[$0] <= hi }
            ticks = Ticks(lower: lo, upper: hi, major: kept.map { ticks.major[$0] }, labels: kept.map { ticks.labels[$0] },
                          minor: ticks.minor.filter { $0 >= lo && $0 <= hi }, exponent: 0)
        }
        if every == 1 && ticks.major.count < 3 {
            // Two labels or fewer over the whole axis: label 2 × 10ⁿ and 5 × 10ⁿ as well.
            let promoted = (first..<last).flatMap { k in [2.0, 5.0].map { (tickValue($0, k), "\(Int($0))×" + decadeLabel(k)) } }
                .filter { $0.0 >= ticks.lower && $0.0 <= ticks.upper }
            let merged = (zip(ticks.major, ticks.labels).map { ($0, $1) } + promoted).sorted { $0.0 < $1.0 }
            ticks.major = merged.map(\.0)
            ticks.labels = merged.map(\.1)
            ticks.minor.removeAll { value in promoted.contains { $0.0 == value } }
        }
        return ticks
    }
}

/// "10" followed by `power` in superscript digits: 10⁻³, 10⁰, 10¹².
public func decadeLabel(_ power: Int) -> String { "10" + superscript(power) }

/// `value` in Unicode superscript digits, with a superscript minus when negative.
public func superscript(_ value: Int) -> String {
    let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
    return (value < 0 ? "⁻" : "") + String(abs(value)).map { digits[Int(String($0))!] }
}

/// i·10ᵏ, correctly rounded for integer i below 2⁵³ and |k| ≤ 22 (both factors exact).
func tickValue(_ i: Double, _ power: Int) -> Double {
    power >= 0 ? i * pow(10, Double(power)) : i / pow(10, Double(-power))
}

/// `value` with `decimals` decimals, a typographic minus, and no negative zero.
func formatted(_ value: Double, decimals: Int) -> String {
    var text = String(format: "%.\(decimals)f", value)
    if text.hasPrefix("-") {
        text.removeFirst()
        if text.contains(where: { $0 != "0" && $0 != "." }) { text = "−" + text }
    }
    return text
}
