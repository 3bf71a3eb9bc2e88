// A heat map: values on a rectangular grid, each cell coloured by a colour map, with a colour bar
// beside the plot. The grid is given by its cell centres; each cell reaches halfway to its
// neighbours, so the picture's extent is the grid's plus half a cell each way and the axes'
// ticks sit at the true coordinates of the centres.
//
// The colour range is the data's (finite values only); a diverging map gets the range symmetric
// about zero, so white means zero.

import Foundation

/// Values over a grid, drawn as coloured cells with a colour bar.
public struct HeatMap: Sendable {
    /// The x coordinates of the cell centres, increasing.
    public var x: [Double]
    /// The y coordinates of the cell centres, increasing.
    public var y: [Double]
    /// `values[j][i]` is the value at (`x[i]`, `y[j]`).
    public var values: [[Double]]
    /// The colour map.
    public var colorMap: ColorMap
    /// The colour bar's title: the quantity and its unit.
    public var title: String
    /// The colour range; `nil` takes the data's (symmetric about zero for a diverging map).
    public var limits: ClosedRange<Double>?

    /// A heat map of `value(i, j)` at (`x[i]`, `y[j]`).
    ///
    /// - Parameters:
    ///   - x: the cell centres along x, increasing, at least one.
    ///   - y: the cell centres along y, increasing, at least one.
    ///   - title: the colour bar's title.
    ///   - colorMap: `.viridis`, or `.diverging` for signed data.
    ///   - limits: the colour range; `nil` takes the data's.
    ///   - value: the value at column `i`, row `j`.
    public init(x: [Double], y: [Double], title: String, colorMap: ColorMap = .viridis, limits: ClosedRange<Double>? = nil,
                value: (_ i: Int, _ j: Int) -> Double) {
        precondition(!x.isEmpty && !y.isEmpty, "a heat map needs at least one cell")
        precondition(zip(x, x.dropFirst()).allSatisfy(<) && zip(y, y.dropFirst()).allSatisfy(<),
                     "a heat map's coordinates must increase")
        self.x = x
        self.y = y
        self.values = y.indices.map { j in x.indices.map { i in value(i, j) } }
        self.title = title
        self.colorMap = colorMap
        self.limits = limits
    }

    /// The colour range: `limits`, else the finite data's range (symmetric about zero for a
    /// diverging map); never empty.
    var colorRange: (lower: Double, upper: Double) {
        if let limits { return (limits.lowerBound, limits.upperBound) }
        let finite = values.joined().filter(\.isFinite)
        guard var lower = finite.min(), var upper = finite.max() else { return (0, 1) }
        if colorMap.isDiverging {
            let extent = Swift.max(abs(lower), abs(upper))
            (lower, upper) = (-extent, extent)
        }
        if lower == upper {
            let half = lower == 0 ? 1 : abs(lower) * 0.1
            (lower, upper) = (lower - half, upper + half)
        }
        return (lower, upper)
    }

    /// The cell edges along `centres`: halfway between neighbours, half a cell beyond the ends
    /// (half a unit each way for a single cell).
    static func edges(_ centres: [Double]) -> [Double] {
        guard centres.count > 1 else { return [centres[0] - 0.5, centres[0] + 0.5] }
        let middles = zip(centres, centres.dropFirst()).map { ($0 + $1) / 2 }
        return [centres[0] - (middles[0] - centres[0])] + middles + [centres.last! + (centres.last! - middles.last!)]
    }
}
