// Ticks: linear ticks cover the data with 4 to 10 steps of 1, 2 or 5 × 10ᵏ over ranges from tiny
// to huge, negative and degenerate; labels carry no floating-point noise and agree in their
// decimals; log axes get decade ticks labelled 10ⁿ and minor ticks between them.

import Foundation
import Testing
@testable import NotebookSupport

/// Ranges of every kind, including single values.
let sampleRanges: [(Double, Double)] = {
    var ranges: [(Double, Double)] = [
        (0, 1), (0, 3), (-1, 1), (0.001, 0.0037), (1e-9, 3e-9), (1e20, 5e20), (-7.3, -2.1), (-1e-6, 2e-6),
        (1, 1500), (1, 8000), (1234.5, 1234.6), (0.36, 9.7), (-0.0125, 1.0125), (2.2e-6, 0.93), (-5, 5),
        (5, 5), (0, 0), (-3, -3), (1e-300, 1e-300), (7e12, 7e12), (1 - 1e-9, 1 + 1e-9), (-1e-15, 1e-15),
    ]
    // And a deterministic spread of magnitudes and offsets.
    var state: UInt64 = 12345
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    for _ in 0..<300 {
        let scale = pow(10, uniform() * 24 - 12)
        let a = (uniform() * 2 - 1) * scale * (uniform() < 0.3 ? 100 : 1), b = a + uniform() * scale
        ranges.append((a, b))
    }
    return ranges
}()

/// Checks that `ticks` are increasing, evenly spaced by 1, 2 or 5 × 10ᵏ, one label each, the
/// labels distinct.
func expectWellFormed(_ ticks: Ticks, _ range: (Double, Double), sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(ticks.labels.count == ticks.major.count, "one label per tick for \(range)", sourceLocation: sourceLocation)
    #expect(Set(ticks.labels).count == ticks.labels.count, "distinct labels \(ticks.labels) for \(range)", sourceLocation: sourceLocation)
    guard ticks.major.count >= 2 else { return }
    let step = ticks.major[1] - ticks.major[0]
    let mantissa = step / pow(10, floor(log10(step)))
    #expect([1.0, 2.0, 5.0, 10.0].contains { abs(mantissa - $0) < 1e-6 }, "step \(step) for \(range)", sourceLocation: sourceLocation)
    for (a, b) in zip(ticks.major, ticks.major.dropFirst()) {
        #expect(abs((b - a) - step) <= 1e-9 * Swift.max(abs(a), abs(b), step), "even spacing for \(range)", sourceLocation: sourceLocation)
    }
}

@Test func linearTicksCoverTheDataWithFourToTenTicks() {
    for (lower, upper) in sampleRanges {
        let ticks = Ticks.linear(covering: lower, upper)
        expectWellFormed(ticks, (lower, upper))
        #expect((4...10).contains(ticks.major.count), "\(ticks.major.count) ticks for \(lower)…\(upper)")
        #expect(ticks.lower <= lower && ticks.upper >= upper, "limits \(ticks.lower)…\(ticks.upper) cover \(lower)…\(upper)")
        #expect(ticks.lower == ticks.major.first && ticks.upper == ticks.major.last, "loose limits are the end ticks")
        #expect(ticks.lower < ticks.upper, "a degenerate range widens: \(lower)…\(upper)")
    }
}

@Test func tightTicksStayInsideFixedLimits() {
    for (lower, upper) in sampleRanges where upper - lower > 1e-9 * Swift.max(abs(lower), abs(upper)) {
        let ticks = Ticks.linear(covering: lower, upper, extend: false)
        expectWellFormed(ticks, (lower, upper))
        #expect(ticks.lower == lower && ticks.upper == upper, "tight limits stay \(lower)…\(upper)")
        #expect(ticks.major.allSatisfy { $0 >= lower && $0 <= upper }, "ticks \(ticks.major) inside \(lower)…\(upper)")
        #expect((3...10).contains(ticks.major.count), "\(ticks.major.count) ticks inside \(lower)…\(upper)")
    }
    #expect(Ticks.linear(covering: -0.0125, 1.0125, extend: false).major == [0, 0.2, 0.4, 0.6, 0.8, 1])
}

@Test func targetSetsTheTickCount() {
    #expect(Ticks.linear(covering: 0, 1, target: 6).major.count == 6)
    #expect(Ticks.linear(covering: 0, 1, target: 11).major.count <= 10)
    #expect(Ticks.linear(covering: 0, 30, target: 4).major == [0, 10, 20, 30])
    #expect(Ticks.linear(covering: 0, 30, target: 10).major == [0, 5, 10, 15, 20, 25, 30])
}

@Test func tickValuesAndLabelsCarryNoFloatNoise() {
    let ticks = Ticks.linear(covering: 0, 1)
    #expect(ticks.major == [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    #expect(ticks.major[3] == 0.6 && ticks.major[3] != 3 * 0.2)
    #expect(ticks.labels == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    #expect(Ticks.linear(covering: 0, 0.3, target: 4).labels == ["0.0", "0.1", "0.2", "0.3"])
    #expect(Ticks.linear(covering: 1, 1500).labels == ["0", "500", "1000", "1500"])
    for (lower, upper) in sampleRanges {
        let labels = Ticks.linear(covering: lower, upper).labels
        let decimals = Set(labels.map { $0.split(separator: ".").dropFirst().first?.count ?? 0 })
        #expect(decimals.count == 1, "labels \(labels) agree in their decimals")
        #expect(labels.allSatisfy { $0.count <= 12 && !$0.contains("e") }, "short plain labels \(labels) for \(lower)…\(upper)")
    }
}

@Test func negativeLabelsUseAMinusSignAndNeverMinusZero() {
    #expect(Ticks.linear(covering: -1, 1).labels == ["−1.0", "−0.5", "0.0", "0.5", "1.0"])
    #expect(formatted(-0.0001, decimals: 2) == "0.00")
    #expect(formatted(-2.5, decimals: 1) == "−2.5")
}

@Test func veryLargeAndVerySmallValuesShareAnExponent() {
    let huge = Ticks.linear(covering: 0, 4e6, target: 5)
    #expect(huge.exponent == 6 && huge.labels == ["0", "1", "2", "3", "4"])
    let small = Ticks.linear(covering: 0, 3e-5, target: 4)
    #expect(small.exponent == -5 && small.labels == ["0", "1", "2", "3"])
    let moderate = Ticks.linear(covering: 0.001, 12000)
    #expect(moderate.exponent == 0)
}

@Test func decadeTicksAreLabelledAsPowersOfTen() {
    let ticks = Ticks.decades(covering: 0.003, 47)
    #expect(ticks.lower == 1e-3 && ticks.upper == 100)
    #expect(ticks.major == [1e-3, 1e-2, 1e-1, 1, 10, 100])
    #expect(ticks.labels == ["10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹", "10²"])
    #expect(ticks.minor.count == 5 * 8)
    #expect(ticks.minor.contains(2e-3) && ticks.minor.contains(90) && ticks.minor.allSatisfy { $0 > 1e-3 && $0 < 100 })
    #expect(Ticks.decades(covering: 1, 1000).major == [1, 10, 100, 1000], "exact powers are not widened")
    let single = Ticks.decades(covering: 5, 5)
    #expect(single.lower == 1 && single.upper == 10 && single.major == [1, 2, 5, 10], "a single value gets its decade")
    let power = Ticks.decades(covering: 100, 100)
    #expect(power.lower == 100 && power.upper == 1000)
}

@Test func wideLogRangesLabelEveryFewDecades() {
    let ticks = Ticks.decades(covering: 1e-12, 1e3, maximumLabels: 8)
    #expect(ticks.major.count <= 8 && ticks.major.count >= 4)
    #expect(ticks.lower <= 1e-12 && ticks.upper >= 1e3)
    #expect(ticks.minor.contains(1e-11), "unlabelled decades become minor ticks")
    #expect(ticks.labels.first == "10⁻¹²" && ticks.labels.last == "10³")
}

@Test func narrowLogRangesAlsoLabelTwoAndFive() {
    let ticks = Ticks.decades(covering: 0.9, 12, extend: false)
    #expect(ticks.major == [1, 2, 5, 10])
    #expect(ticks.labels == ["10⁰", "2×10⁰", "5×10⁰", "10¹"])
    #expect(!ticks.minor.contains(2) && !ticks.minor.contains(5) && ticks.minor.contains(3))
    let oneDecade = Ticks.decades(covering: 0.03, 0.08)
    #expect(oneDecade.labels == ["10⁻²", "2×10⁻²", "5×10⁻²", "10⁻¹"])
    #expect(Ticks.decades(covering: 1e-3, 1).labels == ["10⁻³", "10⁻²", "10⁻¹", "10⁰"], "three decades need no help")
}

@Test func logTicksWithinFixedLimits() {
    let ticks = Ticks.decades(covering: 0.5, 2000, extend: false)
    #expect(ticks.lower == 0.5 && ticks.upper == 2000)
    #expect(ticks.major == [1, 10, 100, 1000])
    #expect(ticks.minor.allSatisfy { $0 >= 0.5 && $0 <= 2000 })
}

@Test func superscriptsWriteSignedPowers() {
    #expect(superscript(-12) == "⁻¹²")
    #expect(superscript(0) == "⁰")
    #expect(decadeLabel(5) == "10⁵")
    #expect(decadeLabel(-3) == "10⁻³")
}
