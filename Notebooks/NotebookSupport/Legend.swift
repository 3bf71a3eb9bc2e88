// The legend: a boxed list of the labelled series, each beside a sample of its line and marker.
// Placed automatically it takes the inside corner of the plot that hides the fewest data
// points (matplotlib's "best"), trying the top right first. Panels that show the same series
// can share one legend instead, a row under the figure, which hides no data.

import Foundation

/// Where a plot puts its legend.
public enum LegendPlacement: Sendable, CaseIterable {
    /// The inside corner covering the fewest data points.
    case automatic
    /// Inside the plot's top left corner.
    case topLeft
    /// Inside the plot's top right corner.
    case topRight
    /// Inside the plot's bottom left corner.
    case bottomLeft
    /// Inside the plot's bottom right corner.
    case bottomRight
    /// No legend.
    case hidden
}

/// A legend laid out for one plot.
struct Legend {
    static let fontSize = 11.0, rowHeight = 16.0, padding = 6.0, sampleWidth = 26.0, inset = 8.0

    /// The labelled series and their colours, in drawing order.
    let entries: [(series: Series, color: Color)]
    /// The box, in pixels.
    let box: Rect

    /// The legend of `entries` inside `area`, at `placement`, avoiding `points` (pixels) when
    /// automatic; `nil` when hidden or when no series has a label.
    init?(entries: [(series: Series, color: Color)], placement: LegendPlacement, area: Rect, points: [(Double, Double)]) {
        guard placement != .hidden, !entries.isEmpty else { return nil }
        self.entries = entries
        let labelWidth = entries.map { SVG.textWidth($0.series.label ?? "", fontSize: Legend.fontSize) }.max() ?? 0
        let width = 2 * Legend.padding + Legend.sampleWidth + 6 + labelWidth
        let height = 2 * Legend.padding + Double(entries.count) * Legend.rowHeight - 4
        func box(_ corner: LegendPlacement) -> Rect {
            let left = corner == .topLeft || corner == .bottomLeft
            let top = corner == .topLeft || corner == .topRight
            return Rect(x: left ? area.x + Legend.inset : area.maxX - Legend.inset - width,
                        y: top ? area.y + Legend.inset : area.maxY - Legend.inset - height, width: width, height: height)
        }
        if placement == .automatic {
            let corners: [LegendPlacement] = [.topRight, .topLeft, .bottomRight, .bottomLeft]
            let covered = corners.map { corner in
                let candidate = box(corner)
                return points.filter { candidate.contains($0.0, $0.1, tolerance: 3) }.count
            }
            self.box = box(corners[covered.firstIndex(of: covered.min()!)!])
        } else {
            self.box = box(placement)
        }
    }

    func draw(into svg: inout SVGDocument) {
        svg.group(["class": "legend"]) { svg in
            svg.element("rect", ["x": SVG.number(box.x), "y": SVG.number(box.y), "width": SVG.number(box.width),
                                 "height": SVG.number(box.height), "fill": "white", "fill-opacity": "0.9",
                                 "stroke": "#999999", "stroke-width": "0.8", "rx": "2"])
            for (row, entry) in entries.enumerated() {
                let centre = box.y + Legend.padding + Legend.rowHeight * (Double(row) + 0.5) - 2
                Legend.drawEntry(entry, at: (box.x + Legend.padding, centre), into: &svg)
            }
        }
    }

    /// The width an entry takes in a row: sample, gap, label.
    static func entryWidth(_ entry: (series: Series, color: Color)) -> Double {
        sampleWidth + 6 + SVG.textWidth(entry.series.label ?? "", fontSize: fontSize)
    }

    /// Draws `entries` side by side, centred on `centre`, without a box (a figure's shared legend).
    static func drawRow(_ entries: [(series: Series, color: Color)], centre: (Double, Double), into svg: inout SVGDocument) {
        let gap = 18.0
        let total = entries.map(entryWidth).reduce(0, +) + gap * Double(Swift.max(0, entries.count - 1))
        var x = centre.0 - total / 2
        svg.group(["class": "legend"]) { svg in
            for entry in entries {
                drawEntry(entry, at: (x, centre.1), into: &svg)
                x += entryWidth(entry) + gap
            }
        }
    }

    /// One entry: a sample of the line and marker from `start`, then the label.
    static func drawEntry(_ entry: (series: Series, color: Color), at start: (Double, Double), into svg: inout SVGDocument) {
        let (x, centre) = start
        if let dash = entry.series.dash {
            svg.element("line", ["x1": SVG.number(x), "y1": SVG.number(centre), "x2": SVG.number(x + sampleWidth),
                                 "y2": SVG.number(centre), "stroke": entry.color.hex, "stroke-width": SVG.number(entry.series.lineWidth),
                                 "stroke-dasharray": dash.pattern ?? "none"])
        }
        if let marker = entry.series.marker {
            drawMarker(marker, at: (x + sampleWidth / 2, centre), size: entry.series.markerSize, color: entry.color, into: &svg)
        }
        svg.element("text", ["x": SVG.number(x + sampleWidth + 6), "y": SVG.number(centre + 0.35 * fontSize),
                             "font-size": SVG.number(fontSize)], text: entry.series.label ?? "")
    }
}

/// Draws `marker` centred at `centre`, `size` pixels across.
func drawMarker(_ marker: Marker, at centre: (Double, Double), size: Double, color: Color, into svg: inout SVGDocument) {
    let (x, y) = centre
    switch marker {
    case .circle:
        svg.element("circle", ["cx": SVG.number(x), "cy": SVG.number(y), "r": SVG.number(size / 2),
                               "fill": color.hex, "stroke": "white", "stroke-width": "0.8"])
    case .square:
        let side = size * 0.85
        svg.element("rect", ["x": SVG.number(x - side / 2), "y": SVG.number(y - side / 2), "width": SVG.number(side),
                             "height": SVG.number(side), "fill": color.hex, "stroke": "white", "stroke-width": "0.8"])
    case .triangle:
        let points = [(x, y - size * 0.6), (x - size * 0.55, y + size * 0.4), (x + size * 0.55, y + size * 0.4)]
        svg.element("polygon", ["points": points.map { SVG.number($0.0) + "," + SVG.number($0.1) }.joined(separator: " "),
                                "fill": color.hex, "stroke": "white", "stroke-width": "0.8"])
    case .cross:
        let h = size * 0.4
        let d = "M\(SVG.number(x - h)),\(SVG.number(y - h))L\(SVG.number(x + h)),\(SVG.number(y + h))"
            + "M\(SVG.number(x - h)),\(SVG.number(y + h))L\(SVG.number(x + h)),\(SVG.number(y - h))"
        svg.element("path", ["d": d, "stroke": color.hex, "stroke-width": "1.8", "fill": "none"])
    }
}
