// Generators of arrays for property tests with swift-property-based: random shapes (0-d
// arrays included, size-0 arrays when the dimension range includes 0), shapes that broadcast
// together, and values inside an input domain (positive, (−1, 1), away from kinks).
//
// Each generator is built from the library's own shrinkable generators (`zip` of integer,
// boolean and floating-point generators), so a failing case shrinks: dimensions are dropped
// and reduced, broadcasting is undone, and values move toward the simplest point of their
// domain (the one nearest 0). `propertyCheck` then prints the small reproducer and the seed
// to replay it with `.fixedSeed(…)`:
//
// ```swift
// @Test func cubeMinusLinear() async {
//     await propertyCheck(count: checkCases(default: 20), input: Gen<NDArray>.array(in: .interval(-2...2))) { x in
//         expectGradcheck({ (x: NDArray) in (x ** 3 - 2 * x).sum() }, inputs: x)
//     }
// }
// ```
//
// Values come from a pool of unit values (uniform in [−1, 1], shrinking toward 0) mapped into
// the domain; arrays larger than the pool reuse it cyclically.

import Fluxion
import FluxionCore
import Foundation
import PropertyBased

/// Where generated values lie: a union of closed intervals.
public struct Domain: Sendable, CustomStringConvertible {
    /// Disjoint intervals, in increasing order.
    public let intervals: [ClosedRange<Double>]
    public let description: String

    /// The values in `intervals`; they must not overlap.
    public init(_ intervals: [ClosedRange<Double>], description: String, file: StaticString = #fileID, line: UInt = #line) {
        if intervals.isEmpty { fail("Domain", "no interval was given", fix: "pass at least one interval", file: file, line: line) }
        self.intervals = intervals.sorted { $0.lowerBound < $1.lowerBound }
        self.description = description
    }

    /// The values in `range`.
    public static func interval(_ range: ClosedRange<Double>) -> Domain { Domain([range], description: "\(range)") }

    /// Values in [-2, 2].
    public static let standard = interval(-2...2)
    /// Positive values, [0.1, 3]: log, sqrt, rsqrt and x^p keep moderate derivatives.
    public static let positive = Domain([0.1...3], description: "positive [0.1, 3]")
    /// Values in (−1, 1), kept 0.1 from the ends where asin, acos and atanh blow up: [−0.9, 0.9].
    public static let symmetricUnit = Domain([-0.9...0.9], description: "(−1, 1) as [−0.9, 0.9]")
    /// Values in [-2, 2] at least 0.1 from 0, the kink of relu, abs and sign.
    public static let awayFromZero = awayFrom([0], by: 0.1, in: -2...2)

    /// Values in `range` at least `margin` from each of `kinks` (non-differentiable points),
    /// so central differences never straddle one.
    public static func awayFrom(_ kinks: [Double], by margin: Double, in range: ClosedRange<Double>) -> Domain {
        var pieces: [ClosedRange<Double>] = [range]
        for k in kinks.sorted() {
            pieces = pieces.flatMap { p -> [ClosedRange<Double>] in
                var out: [ClosedRange<Double>] = []
                if p.lowerBound < k - margin { out.append(p.lowerBound...Swift.min(p.upperBound, k - margin)) }
                if p.upperBound > k + margin { out.append(Swift.max(p.lowerBound, k + margin)...p.upperBound) }
                return out
            }
        }
        return Domain(pieces, description: "\(range) at least \(margin) from \(kinks)")
    }

    /// The point of the domain nearest 0, which values shrink toward.
    public var anchor: Double {
        intervals.map { Swift.min(Swift.max(0, $0.lowerBound), $0.upperBound) }.min { Swift.abs($0) < Swift.abs($1) }!
    }

    /// Maps a unit value in [−1, 1] into the domain: 0 to `anchor`, positive values along the
    /// domain above it and negative ones along the domain below (mirrored when one side is
    /// empty), proportionally to length.
    public func value(unit: Double) -> Double {
        let a = anchor
        let above = intervals.compactMap { $0.upperBound >= a ? Swift.max($0.lowerBound, a)...$0.upperBound : nil }
        let below = intervals.compactMap { $0.lowerBound <= a ? $0.lowerBound...Swift.min($0.upperBound, a) : nil }.reversed()
        let length = { (pieces: [ClosedRange<Double>]) in pieces.reduce(0) { $0 + ($1.upperBound - $1.lowerBound) } }
        let goUp = unit >= 0 || length(Array(below)) == 0
        let pieces = goUp ? above : Array(below)
        var distance = Swift.abs(unit) * length(pieces)
        for p in pieces {
            let span = p.upperBound - p.lowerBound
            if distance <= span || p == pieces.last { return goUp ? Swift.min(p.lowerBound + distance, p.upperBound) : Swift.max(p.upperBound - distance, p.lowerBound) }
            distance -= span
        }
        return a
    }
}

/// The number of cases a property test draws: `FLUXION_CHECK_CASES` from the environment when
/// it is set (to run more in a long job), `default` otherwise.
public func checkCases(default count: Int) -> Int {
    if let text = ProcessInfo.processInfo.environment["FLUXION_CHECK_CASES"], let n = Int(text), n > 0 { return n }
    return count
}

/// An array of `shape` whose elements are `domain`'s values at `units` (cyclically).
func array(_ shape: [Int], units: [Double], domain: Domain, dtype: DType) -> NDArray {
    let n = shape.reduce(1, *)
    let values = (0..<n).map { domain.value(unit: units.isEmpty ? 0 : units[$0 % units.count]) }
    return NDArray(shape: shape, scalars: values, dtype: .float64).to(dtype)
}

/// How many unit values arrays of these ranks and dimensions need (at most 256).
func poolSize(ranks: ClosedRange<Int>, dimensions: ClosedRange<Int>) -> Int {
    var n = 1
    for _ in 0..<ranks.upperBound where n < 256 { n *= Swift.max(dimensions.upperBound, 1) }
    return Swift.max(1, Swift.min(n, 256))
}

extension Gen where Value == [Int] {
    /// Shapes of rank in `ranks` with dimensions in `dimensions` (include 0 to allow size-0
    /// arrays). Shrinks toward fewer and smaller dimensions.
    public static func shape(ranks: ClosedRange<Int> = 0...3, dimensions: ClosedRange<Int> = 1...4)
        -> Generator<[Int], some SendableSequenceType> {
        Gen<Int>.int(in: dimensions).array(of: ranks)
    }
}

extension Gen where Value == NDArray {
    /// Arrays of random shape (rank in `ranks`, dimensions in `dimensions`) with values in
    /// `domain`, of `dtype` (nil: float64).
    public static func array(ranks: ClosedRange<Int> = 0...3, dimensions: ClosedRange<Int> = 1...4,
                             in domain: Domain = .standard, dtype: DType? = nil)
        -> Generator<NDArray, some SendableSequenceType> {
        zip(Gen<[Int]>.shape(ranks: ranks, dimensions: dimensions),
            Gen<Double>.value(in: -1...1).array(of: poolSize(ranks: ranks, dimensions: dimensions)))
            .map { shape, units in FluxionCheck.array(shape, units: units, domain: domain, dtype: dtype ?? DType.float64) }
    }

    /// Arrays of the fixed `shape` with values in `domain`.
    public static func array(shape: [Int], in domain: Domain = .standard, dtype: DType? = nil)
        -> Generator<NDArray, some SendableSequenceType> {
        Gen<Double>.value(in: -1...1).array(of: Swift.max(1, Swift.min(shape.reduce(1, *), 256)))
            .map { units in FluxionCheck.array(shape, units: units, domain: domain, dtype: dtype ?? DType.float64) }
    }
}

extension Gen where Value == [NDArray] {
    /// `count` arrays whose shapes broadcast together (NumPy rules): each is a suffix of one
    /// full shape (rank in `ranks`) with some dimensions replaced by 1. Values in `domain`.
    /// Shrinks toward equal, full shapes and fewer, smaller dimensions.
    public static func broadcastable(_ count: Int = 2, ranks: ClosedRange<Int> = 0...3, dimensions: ClosedRange<Int> = 1...4,
                                     in domain: Domain = .standard, dtype: DType? = nil)
        -> Generator<[NDArray], some SendableSequenceType> {
        let pool = poolSize(ranks: ranks, dimensions: dimensions)
        let maxRank = ranks.upperBound
        return zip(Gen<[Int]>.shape(ranks: ranks, dimensions: dimensions),
                   Gen<Int>.int(in: 0...maxRank).array(of: count),
                   Gen<Bool>.bool(0.3).array(of: count * Swift.max(maxRank, 1)),
                   Gen<Double>.value(in: -1...1).array(of: count * pool))
            .map { full, dropped, ones, units in
                (0..<count).map { k in
                    let kept = Array(full.suffix(Swift.max(0, full.count - dropped[k])))
                    let offset = full.count - kept.count
                    let shape = kept.enumerated().map { d, n in ones[k * Swift.max(maxRank, 1) + offset + d] ? 1 : n }
                    return FluxionCheck.array(shape, units: Array(units[(k * pool)..<((k + 1) * pool)]), domain: domain, dtype: dtype ?? DType.float64)
                }
            }
    }
}
