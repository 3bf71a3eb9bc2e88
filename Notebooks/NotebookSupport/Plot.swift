// One panel of a figure: two axes, the series and an optional heat map drawn against them, a
// legend, a title, and the heat map's colour bar.
//
// Layout works inwards from the panel's frame. The y ticks are chosen first (the height left
// after the title and the x labels is known), their labels' width sets the left margin, and the
// x ticks are then chosen for the width that remains, coarsened until their labels do not
// overlap. Lines are clipped to the plot area; markers outside it are left out rather than cut.

import Foundation

/// A panel: axes with titles, series, an optional heat map, a legend and a title.
public struct Plot: Sendable {
    /// The panel's title, above the plot area.
    public var title: String?
    /// The horizontal axis.
    public var x: Axis
    /// The vertical axis.
    public var y: Axis
    /// The series, drawn in order over the heat map.
    public var series: [Series]
    /// Values over a grid, drawn under the series, with a colour bar at the right.
    public var heatMap: HeatMap?
    /// Where the legend goes.
    public var legend: LegendPlacement
    /// Whether one unit takes the same length on both axes (for maps of a physical domain).
    public var equalAspect: Bool

    /// A panel with axes `x` and `y`.
    ///
    /// - Parameters:
    ///   - title: the panel's title.
    ///   - x: the horizontal axis (title with unit, scale, limits).
    ///   - y: the vertical axis.
    ///   - series: lines and markers; those with a label appear in the legend.
    ///   - heatMap: values over a grid, drawn first; its extent sets the axes' ranges.
    ///   - legend: where the legend goes.
    ///   - equalAspect: whether both axes take the same length per unit.
    public init(title: String? = nil, x: Axis, y: Axis, series: [Series] = [], heatMap: HeatMap? = nil,
                legend: LegendPlacement = .automatic, equalAspect: Bool = false) {
        self.title = title
        self.x = x
        self.y = y
        self.series = series
        self.heatMap = heatMap
        self.legend = legend
        self.equalAspect = equalAspect
    }

    /// Each series with the colour it is drawn in: its own, else the palette's next.
    var coloredSeries: [(series: Series, color: Color)] {
        var next = 0
        return series.map { s in
            if let color = s.color { return (s, color) }
            defer { next += 1 }
            return (s, Palette.color(next))
        }
    }

    /// The range the data spans along `axis` (`values` the series' coordinates on it), and whether
    /// it is a heat map's extent, which the axis keeps exactly.
    private func dataRange(_ axis: Axis, _ values: [Double], heatMapCentres: [Double]?) -> (range: (Double, Double)?, tight: Bool) {
        if let centres = heatMapCentres {
            let edges = HeatMap.edges(centres)
            return ((edges.first!, edges.last!), true)
        }
        let shown = values.filter(axis.shows)
        guard let lower = shown.min(), let upper = shown.max() else { return (nil, false) }
        return ((lower, upper), false)
    }

    /// The panel laid out in `frame`.
    func layout(in frame: Rect) -> PlotLayout {
        let tickLabelSize = PlotLayout.tickLabelSize
        let xData = dataRange(x, series.flatMap(\.x), heatMapCentres: heatMap?.x)
        let yData = dataRange(y, series.flatMap(\.y), heatMapCentres: heatMap?.y)

        let bottom = PlotLayout.tickLength + 6 + tickLabelSize + 10 + PlotLayout.titleSize + 10
        let provisionalTop = title == nil ? 14.0 : 34.0
        let heightGuess = frame.height - provisionalTop - bottom
        let yTicks = y.ticks(for: yData.range, target: Swift.min(Swift.max(Int(heightGuess / 50), 4), 8), tight: yData.tight)
        let top = provisionalTop + (yTicks.exponent != 0 || heatMap != nil ? 8 : 0)
        let height = frame.height - top - bottom
        let yLabelWidth = yTicks.labels.map { SVG.textWidth($0, fontSize: tickLabelSize) }.max() ?? 0
        let left = 10 + PlotLayout.titleSize + 10 + yLabelWidth + 5 + PlotLayout.tickLength

        var colorTicks: Ticks?
        var right = 16.0
        if let heatMap {
            let range = heatMap.colorRange
            let ticks = Ticks.linear(covering: range.lower, range.upper, target: Swift.min(Swift.max(Int(height / 55), 4), 7),
                                     extend: false)
            colorTicks = ticks
            let labelWidth = ticks.labels.map { SVG.textWidth($0, fontSize: tickLabelSize) }.max() ?? 0
            right = PlotLayout.colorBarGap + PlotLayout.colorBarWidth + PlotLayout.tickLength + 5 + labelWidth + 10
                + PlotLayout.titleSize + 12
        }
        let width = frame.width - left - right

        // The x ticks: fewer until the widest label fits between neighbours.
        var target = Swift.min(Swift.max(Int(width / 60), 4), 8)
        var xTicks = x.ticks(for: xData.range, target: target, tight: xData.tight)
        while target > 2 {
            let widest = xTicks.labels.map { SVG.textWidth($0, fontSize: tickLabelSize) }.max() ?? 0
            let positions = xTicks.major.map { x.fraction($0, in: xTicks) * width }
            let gap = zip(positions, positions.dropFirst()).map { $1 - $0 }.min() ?? .infinity
            if gap >= widest + 10 { break }
            target -= 1
            xTicks = x.ticks(for: xData.range, target: target, tight: xData.tight)
        }

        var area = Rect(x: frame.x + left, y: frame.y + top, width: width, height: height)
        if equalAspect, x.scale == .linear, y.scale == .linear {
            let scale = Swift.min(width / (xTicks.upper - xTicks.lower), height / (yTicks.upper - yTicks.lower))
            let (w, h) = (scale * (xTicks.upper - xTicks.lower), scale * (yTicks.upper - yTicks.lower))
            area = Rect(x: area.x + (width - w) / 2, y: area.y + (height - h) / 2, width: w, height: h)
        }
        return PlotLayout(plot: self, area: area, xTicks: xTicks, yTicks: yTicks, colorTicks: colorTicks)
    }

    /// Draws the panel into `frame`; `index` keeps its clip path's and gradient's ids unique.
    func draw(into svg: inout SVGDocument, frame: Rect, index: Int) {
        let layout = layout(in: frame)
        let area = layout.area
        let clipID = "plot-area-\(index)"
        svg.group(["class": "plot"]) { svg in
            svg.raw("<defs><clipPath id=\"\(clipID)\">" + SVG.element("rect", layout.rectAttributes(area)) + "</clipPath></defs>")
            svg.element("rect", ["class": "plot-area", "x": SVG.number(area.x), "y": SVG.number(area.y),
                                 "width": SVG.number(area.width), "height": SVG.number(area.height), "fill": "white"])
            if let heatMap { layout.drawCells(heatMap, into: &svg) }
            layout.drawSeries(into: &svg, clipID: clipID)
            layout.drawAxes(into: &svg)
            let points = coloredSeries.flatMap { layout.samplePoints($0.series) }
            Legend(entries: coloredSeries.filter { !($0.series.label ?? "").isEmpty }, placement: legend, area: area,
                   points: points)?.draw(into: &svg)
            if let title {
                svg.element("text", ["class": "title", "x": SVG.number(area.x + area.width / 2),
                                     "y": SVG.number(area.y - (layout.yTicks.exponent != 0 || heatMap != nil ? 18 : 10)),
                                     "text-anchor": "middle", "font-size": SVG.number(PlotLayout.panelTitleSize)], text: title)
            }
            if let heatMap { layout.drawColorBar(heatMap, into: &svg, index: index) }
        }
    }
}

/// A panel's geometry: the plot area, the ticks, and the maps from data to pixels.
struct PlotLayout {
    static let tickLength = 5.0, minorTickLength = 3.0, tickLabelSize = 11.0, titleSize = 12.0, panelTitleSize = 13.0
    static let colorBarGap = 14.0, colorBarWidth = 14.0

    let plot: Plot
    let area: Rect
    let xTicks: Ticks, yTicks: Ticks
    let colorTicks: Ticks?

    /// The pixel column of `x`.
    func px(_ x: Double) -> Double { area.x + plot.x.fraction(x, in: xTicks) * area.width }
    /// The pixel row of `y` (up is smaller).
    func py(_ y: Double) -> Double { area.maxY - plot.y.fraction(y, in: yTicks) * area.height }

    /// The colour bar's rectangle.
    var colorBar: Rect { Rect(x: area.maxX + PlotLayout.colorBarGap, y: area.y, width: PlotLayout.colorBarWidth, height: area.height) }

    func rectAttributes(_ r: Rect) -> KeyValuePairs<String, String> {
        ["x": SVG.number(r.x), "y": SVG.number(r.y), "width": SVG.number(r.width), "height": SVG.number(r.height)]
    }

    /// The series' points that can be shown, in pixels, split where a point cannot.
    func segments(_ series: Series) -> [[(Double, Double)]] {
        var result: [[(Double, Double)]] = [[]]
        for (x, y) in zip(series.x, series.y) {
            if plot.x.shows(x) && plot.y.shows(y) {
                result[result.count - 1].append((px(x), py(y)))
            } else if !result[result.count - 1].isEmpty {
                result.append([])
            }
        }
        return result.filter { !$0.isEmpty }
    }

    /// Points along the series (vertices and, for lines, points between them) in pixels, for
    /// keeping the legend off the data.
    func samplePoints(_ series: Series) -> [(Double, Double)] {
        var points: [(Double, Double)] = []
        for segment in segments(series) {
            guard series.dash != nil else { points += segment; continue }
            for (a, b) in zip(segment, segment.dropFirst()) {
                for k in 0..<4 {
                    let t = Double(k) / 4
                    points.append((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t))
                }
            }
            points.append(segment.last!)
        }
        return points
    }

    func drawSeries(into svg: inout SVGDocument, clipID: String) {
        let colored = plot.coloredSeries
        svg.group(["class": "series", "clip-path": "url(#\(clipID))", "fill": "none"]) { svg in
            for (series, color) in colored {
                guard let dash = series.dash else { continue }
                for segment in segments(series) {
                    let points = segment.map { SVG.number($0.0) + "," + SVG.number($0.1) }.joined(separator: " ")
                    svg.element("polyline", ["points": points, "stroke": color.hex, "stroke-width": SVG.number(series.lineWidth),
                                             "stroke-dasharray": dash.pattern ?? "none", "stroke-linejoin": "round",
                                             "stroke-linecap": "round"])
                }
            }
        }
        svg.group(["class": "markers"]) { svg in
            for (series, color) in colored {
                guard let marker = series.marker else { continue }
                for point in segments(series).joined() where area.contains(point.0, point.1, tolerance: 0.5) {
                    drawMarker(marker, at: point, size: series.markerSize, color: color, into: &svg)
                }
            }
        }
    }

    /// The heat map's cells, equal neighbouring colours in a row merged into one rectangle.
    func drawCells(_ heatMap: HeatMap, into svg: inout SVGDocument) {
        let xEdges = HeatMap.edges(heatMap.x), yEdges = HeatMap.edges(heatMap.y)
        let (lower, upper) = heatMap.colorRange
        let levels = 255.0
        func level(_ v: Double) -> Int? { v.isFinite ? Int((Swift.min(Swift.max((v - lower) / (upper - lower), 0), 1) * levels).rounded()) : nil }
        svg.group(["class": "heat-map", "shape-rendering": "crispEdges"]) { svg in
            for (j, row) in heatMap.values.enumerated() {
                let top = py(yEdges[j + 1]), bottom = py(yEdges[j])
                var i = 0
                while i < row.count {
                    guard let l = level(row[i]) else { i += 1; continue }
                    var end = i + 1
                    while end < row.count, level(row[end]) == l { end += 1 }
                    let left = px(xEdges[i]), right = px(xEdges[end])
                    svg.element("rect", ["x": SVG.number(left), "y": SVG.number(top), "width": SVG.number(right - left),
                                         "height": SVG.number(bottom - top),
                                         "fill": heatMap.colorMap(Double(l) / levels).hex])
                    i = end
                }
            }
        }
    }

    func drawAxes(into svg: inout SVGDocument) {
        let tick = PlotLayout.tickLength, minor = PlotLayout.minorTickLength, size = PlotLayout.tickLabelSize
        svg.group(["class": "axes", "stroke": "black", "stroke-width": "0.8"]) { svg in
            svg.element("rect", ["x": SVG.number(area.x), "y": SVG.number(area.y), "width": SVG.number(area.width),
                                 "height": SVG.number(area.height), "fill": "none"])
            var d = ""
            for (value, length) in xTicks.major.map({ ($0, tick) }) + xTicks.minor.map({ ($0, minor) }) {
                d += "M\(SVG.number(px(value))),\(SVG.number(area.maxY))v\(SVG.number(length))"
            }
            for (value, length) in yTicks.major.map({ ($0, tick) }) + yTicks.minor.map({ ($0, minor) }) {
                d += "M\(SVG.number(area.x)),\(SVG.number(py(value)))h\(SVG.number(-length))"
            }
            if !d.isEmpty { svg.element("path", ["d": d]) }
        }
        svg.group(["class": "x-axis", "font-size": SVG.number(size), "text-anchor": "middle"]) { svg in
            for (value, label) in zip(xTicks.major, xTicks.labels) {
                svg.element("text", ["x": SVG.number(px(value)), "y": SVG.number(area.maxY + tick + 4 + size * 0.8)], text: label)
            }
            let titleY = area.maxY + tick + 4 + size + 10 + PlotLayout.titleSize * 0.8
            svg.element("text", ["class": "axis-title", "x": SVG.number(area.x + area.width / 2), "y": SVG.number(titleY),
                                 "font-size": SVG.number(PlotLayout.titleSize)], text: plot.x.title)
            if xTicks.exponent != 0 {
                svg.element("text", ["x": SVG.number(area.maxX), "y": SVG.number(titleY), "text-anchor": "end"],
                            text: "×" + decadeLabel(xTicks.exponent))
            }
        }
        let labelWidth = yTicks.labels.map { SVG.textWidth($0, fontSize: size) }.max() ?? 0
        svg.group(["class": "y-axis", "font-size": SVG.number(size), "text-anchor": "end"]) { svg in
            for (value, label) in zip(yTicks.major, yTicks.labels) {
                svg.element("text", ["x": SVG.number(area.x - tick - 4), "y": SVG.number(py(value) + size * 0.35)], text: label)
            }
            let titleX = area.x - tick - 4 - labelWidth - 10, titleY = area.y + area.height / 2
            svg.element("text", ["class": "axis-title", "x": SVG.number(titleX), "y": SVG.number(titleY), "text-anchor": "middle",
                                 "font-size": SVG.number(PlotLayout.titleSize),
                                 "transform": "rotate(-90 \(SVG.number(titleX)) \(SVG.number(titleY)))"], text: plot.y.title)
            if yTicks.exponent != 0 {
                svg.element("text", ["x": SVG.number(area.x), "y": SVG.number(area.y - 5), "text-anchor": "start"],
                            text: "×" + decadeLabel(yTicks.exponent))
            }
        }
    }

    /// The colour bar: the map as a gradient over the colour range, with ticks and a title.
    func drawColorBar(_ heatMap: HeatMap, into svg: inout SVGDocument, index: Int) {
        guard let ticks = colorTicks else { return }
        let bar = colorBar, size = PlotLayout.tickLabelSize, id = "color-bar-\(index)"
        let anchors = heatMap.colorMap.anchors
        svg.group(["class": "color-bar"]) { svg in
            var gradient = "<defs><linearGradient id=\"\(id)\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
            for (k, color) in anchors.enumerated() {
                gradient += "<stop offset=\"\(SVG.number(Double(k) / Double(anchors.count - 1)))\" stop-color=\"\(color.hex)\"/>"
            }
            svg.raw(gradient + "</linearGradient></defs>")
            svg.element("rect", ["x": SVG.number(bar.x), "y": SVG.number(bar.y), "width": SVG.number(bar.width),
                                 "height": SVG.number(bar.height), "fill": "url(#\(id))", "stroke": "black", "stroke-width": "0.8"])
            func y(_ value: Double) -> Double { bar.maxY - (value - ticks.lower) / (ticks.upper - ticks.lower) * bar.height }
            let d = ticks.major.map { "M\(SVG.number(bar.maxX)),\(SVG.number(y($0)))h\(SVG.number(PlotLayout.tickLength))" }.joined()
            svg.element("path", ["d": d, "stroke": "black", "stroke-width": "0.8"])
            for (value, label) in zip(ticks.major, ticks.labels) {
                svg.element("text", ["x": SVG.number(bar.maxX + PlotLayout.tickLength + 4), "y": SVG.number(y(value) + size * 0.35),
                                     "font-size": SVG.number(size)], text: label)
            }
            if ticks.exponent != 0 {
                svg.element("text", ["x": SVG.number(bar.x), "y": SVG.number(bar.y - 5), "font-size": SVG.number(size)],
                            text: "×" + decadeLabel(ticks.exponent))
            }
            let labelWidth = ticks.labels.map { SVG.textWidth($0, fontSize: size) }.max() ?? 0
            let titleX = bar.maxX + PlotLayout.tickLength + 4 + labelWidth + 10 + PlotLayout.titleSize * 0.8
            let titleY = bar.y + bar.height / 2
            svg.element("text", ["class": "axis-title", "x": SVG.number(titleX), "y": SVG.number(titleY), "text-anchor": "middle",
                                 "font-size": SVG.number(PlotLayout.titleSize),
                                 "transform": "rotate(-90 \(SVG.number(titleX)) \(SVG.number(titleY)))"], text: heatMap.title)
        }
    }
}
