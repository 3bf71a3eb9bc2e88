// Figures as SVG: well-formed XML (parsed by FoundationXML), escaped text, a legend that lists
// every labelled series, a colour bar spanning the heat map's data, data drawn inside the plot
// area, log axes that leave out what they cannot show, x labels that do not overlap, and the
// same bytes every time.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import NotebookSupport

/// A figure using every kind of element: panels side by side, log and linear axes, every dash
/// and marker, a heat map with a diverging colour bar, and text needing escapes.
func sampleFigure() -> Figure {
    let steps = (1...500).map(Double.init)
    let loss = Plot(title: "loss < 1 & falling", x: Axis("training step"), y: Axis("loss", scale: .log), series: [
        .line("Adam", x: steps, y: steps.map { 3 * exp(-$0 / 80) + 1e-4 }),
        .line("L-BFGS", x: steps, y: steps.map { 2 / $0 }, dash: .dashed),
    ])
    let xs = (0...40).map { -5 + Double($0) / 4 }
    let fits = Plot(x: Axis("input x", limits: -5...5), y: Axis("output y"),
                    series: [.line("true", x: xs, y: xs.map(sin), dash: .solid),
                             .line("before", x: xs, y: xs.map { 0.5 * sin($0) }, dash: .dotted, marker: .square),
                             .line("after", x: xs, y: xs.map { 0.9 * sin($0) }, dash: .dashDot, marker: .triangle),
                             .scatter("support", x: [-4, -1, 2], y: [0.7, -0.8, 0.9], marker: .circle),
                             .scatter(nil, x: [0], y: [0], marker: .cross)])
    let grid = (0...20).map { Double($0) / 20 }
    let error = Plot(title: "error", x: Axis("x"), y: Axis("y"),
                     heatMap: HeatMap(x: grid, y: grid, title: "u − u* \"signed\"", colorMap: .diverging) { i, j in
                         1e-3 * (grid[i] - grid[j] * 0.5)
                     }, equalAspect: true)
    return Figure(title: "A & B <test>", panels: [loss, fits, error])
}

/// The SVG parsed, or a recorded failure.
func parsed(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) -> XMLDocument? {
    do {
        return try XMLDocument(xmlString: svg, options: [])
    } catch {
        Issue.record("not well-formed XML: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The elements named `name` under `document`'s elements of class `groupClass` (any depth).
func elements(_ document: XMLDocument, named name: String, inClass groupClass: String) -> [XMLElement] {
    let path = "//*[@class='\(groupClass)']//*[local-name()='\(name)']"
    return ((try? document.nodes(forXPath: path)) ?? []).compactMap { $0 as? XMLElement }
}

/// The attribute `name` of `element` (read by XPath: FoundationXML's `attribute(forName:)` finds
/// nothing on elements in a default namespace).
func text(_ element: XMLElement, _ name: String) -> String? {
    (try? element.nodes(forXPath: "@\(name)"))?.first?.stringValue
}

func attribute(_ element: XMLElement, _ name: String) -> Double { Double(text(element, name) ?? "") ?? .nan }

@Test func svgIsWellFormedXML() throws {
    let svg = sampleFigure().svg()
    let document = try #require(parsed(svg))
    #expect(document.rootElement()?.name == "svg")
    #expect(elements(document, named: "text", inClass: "x-axis").count >= 3 * 5, "tick labels and titles on all three panels")
}

@Test func textIsEscaped() throws {
    let figure = sampleFigure()
    let svg = figure.svg()
    #expect(!svg.contains("A & B <test>") && !svg.contains("loss < 1"))
    #expect(SVG.escaped("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;")
    let document = try #require(parsed(svg))
    let titles = ((try? document.nodes(forXPath: "//*[@class='figure-title' or @class='title']")) ?? []).map { $0.stringValue ?? "" }
    #expect(titles.contains("A & B <test>") && titles.contains("loss < 1 & falling"), "titles read back as written: \(titles)")
    let barTitles = elements(document, named: "text", inClass: "color-bar").map { $0.stringValue ?? "" }
    #expect(barTitles.contains("u − u* \"signed\""))
}

@Test func legendListsEveryLabelledSeries() throws {
    let figure = sampleFigure()
    let document = try #require(parsed(figure.svg()))
    let legendTexts = elements(document, named: "text", inClass: "legend").map { $0.stringValue ?? "" }
    let labels = figure.panels.flatMap(\.series).compactMap(\.label)
    #expect(legendTexts == labels, "legend \(legendTexts), series \(labels)")
    let hidden = Figure(Plot(x: Axis("x"), y: Axis("y"), series: [.line("a", x: [0, 1], y: [0, 1])], legend: .hidden))
    #expect(!hidden.svg().contains("class=\"legend\""))
}

@Test func sharedLegendListsEachLabelOnceAndReplacesThePanels() throws {
    let panel = { (k: Double) in
        Plot(x: Axis("x"), y: Axis("y"), series: [.line("truth", x: [0, 1], y: [0, k]), .scatter("samples", x: [0.5], y: [k / 2])])
    }
    let figure = Figure(panels: [panel(1), panel(2), Plot(x: Axis("x"), y: Axis("y"), series: [.line("extra", x: [0, 1], y: [1, 0])])],
                        sharedLegend: true)
    let document = try #require(parsed(figure.svg()))
    let legends = ((try? document.nodes(forXPath: "//*[@class='legend']")) ?? [])
    #expect(legends.count == 1, "one legend for the figure")
    let texts = elements(document, named: "text", inClass: "legend").map { $0.stringValue ?? "" }
    #expect(texts == ["truth", "samples", "extra"])
}

@Test func automaticLegendAvoidsTheData() {
    // Data in the top right: the legend goes elsewhere.
    let xs = (0...50).map { Double($0) / 50 }
    let plot = Plot(x: Axis("x"), y: Axis("y"), series: [.line("rising", x: xs, y: xs.map { $0 * $0 * $0 })])
    let frame = Rect(x: 0, y: 0, width: 500, height: 350)
    let layout = plot.layout(in: frame)
    let legend = Legend(entries: plot.coloredSeries, placement: .automatic, area: layout.area,
                        points: layout.samplePoints(plot.series[0]))!
    #expect(legend.box.x < layout.area.x + layout.area.width / 2, "legend on the left, away from the curve's top right end")
    #expect(legend.box.y < layout.area.y + layout.area.height / 2, "and at the top, above the curve's flat start")
}

@Test func heatMapColorBarSpansTheData() throws {
    let xs = [0.0, 0.5, 1.0, 1.5], ys = [-1.0, 0.0, 1.0]
    let values = { (i: Int, j: Int) in 0.3 + Double(i) * 1.7 - Double(j) * 0.4 }
    let sequential = Plot(x: Axis("x"), y: Axis("y"), heatMap: HeatMap(x: xs, y: ys, title: "v", value: values))
    let layout = sequential.layout(in: Rect(x: 0, y: 0, width: 480, height: 340))
    let ticks = try #require(layout.colorTicks)
    let all = ys.indices.flatMap { j in xs.indices.map { i in values(i, j) } }
    #expect(ticks.lower == all.min()! && ticks.upper == all.max()!, "bar \(ticks.lower)…\(ticks.upper)")
    #expect(ticks.major.allSatisfy { $0 >= ticks.lower && $0 <= ticks.upper } && ticks.major.count >= 3)
    // The axes reach the cells' outer edges and their ticks lie inside.
    #expect(layout.xTicks.lower == -0.25 && layout.xTicks.upper == 1.75)
    #expect(layout.yTicks.lower == -1.5 && layout.yTicks.upper == 1.5)
    #expect(layout.xTicks.major.allSatisfy { $0 >= -0.25 && $0 <= 1.75 })

    let signed = Plot(x: Axis("x"), y: Axis("y"), heatMap: HeatMap(x: xs, y: ys, title: "v", colorMap: .diverging) { i, j in
        values(i, j) - 1
    })
    let bar = try #require(signed.layout(in: Rect(x: 0, y: 0, width: 480, height: 340)).colorTicks)
    #expect(bar.lower == -bar.upper && bar.lower <= all.min()! - 1 && bar.upper >= all.max()! - 1,
            "a diverging bar is symmetric about zero and covers the data")
}

@Test func heatMapCellsFillThePlotAreaInTheirColors() throws {
    let xs = [0.0, 1.0, 2.0], ys = [0.0, 1.0]
    let plot = Plot(x: Axis("x"), y: Axis("y"), heatMap: HeatMap(x: xs, y: ys, title: "v") { i, j in Double(i + 3 * j) })
    let document = try #require(parsed(Figure(plot).svg()))
    let cells = elements(document, named: "rect", inClass: "heat-map")
    #expect(cells.count == 6)
    let fills = cells.map { text($0, "fill") ?? "" }
    #expect(fills.first == ColorMap.viridis(0).hex && fills.last == ColorMap.viridis(1).hex)
    let area = try #require(elements(document, named: "rect", inClass: "plot").first { text($0, "class") == "plot-area" })
    let covered = cells.map { attribute($0, "width") * attribute($0, "height") }.reduce(0, +)
    let whole = attribute(area, "width") * attribute(area, "height")
    #expect(abs(covered - whole) < 1e-4 * whole, "cells tile the plot area (to the hundredths of a pixel written)")
}

@Test func dataPointsMapInsideThePlotArea() throws {
    let document = try #require(parsed(sampleFigure().svg()))
    let areas = elements(document, named: "rect", inClass: "plot").filter { text($0, "class") == "plot-area" }
    #expect(areas.count == 3)
    let plots = ((try? document.nodes(forXPath: "//*[@class='plot']")) ?? []).compactMap { $0 as? XMLElement }
    var checked = 0
    for (plot, areaElement) in zip(plots, areas) {
        let area = Rect(x: attribute(areaElement, "x"), y: attribute(areaElement, "y"),
                        width: attribute(areaElement, "width"), height: attribute(areaElement, "height"))
        let lines = ((try? plot.nodes(forXPath: ".//*[local-name()='polyline']")) ?? []).compactMap { $0 as? XMLElement }
        for line in lines {
            for pair in (text(line, "points") ?? "").split(separator: " ") {
                let xy = pair.split(separator: ",").compactMap { Double($0) }
                #expect(xy.count == 2 && area.contains(xy[0], xy[1], tolerance: 0.01), "\(pair) inside \(area)")
                checked += 1
            }
        }
        let circles = ((try? plot.nodes(forXPath: ".//*[@class='markers']/*[local-name()='circle']")) ?? []).compactMap { $0 as? XMLElement }
        for circle in circles {
            #expect(area.contains(attribute(circle, "cx"), attribute(circle, "cy"), tolerance: 0.01))
            checked += 1
        }
    }
    #expect(checked > 1000, "the sample's points were found")
}

@Test func everySeriesPointIsMappedInsideItsArea() {
    for plot in sampleFigure().panels {
        let layout = plot.layout(in: Rect(x: 10, y: 20, width: 480, height: 340))
        for series in plot.series {
            for (x, y) in zip(series.x, series.y) {
                let inside = layout.area.contains(layout.px(x), layout.py(y), tolerance: 1e-9)
                #expect(inside, "(\(x), \(y)) at (\(layout.px(x)), \(layout.py(y))) outside \(layout.area)")
            }
        }
    }
}

@Test func logAxesLeaveOutWhatTheyCannotShow() throws {
    let plot = Plot(x: Axis("x"), y: Axis("y", scale: .log),
                    series: [.line("s", x: [1, 2, 3, 4, 5, 6], y: [1, 0.1, 0, 0.01, .nan, 0.001])])
    let document = try #require(parsed(Figure(plot).svg()))
    let lines = elements(document, named: "polyline", inClass: "series")
    #expect(lines.count == 3, "the line breaks at the zero and at the NaN")
    let layout = plot.layout(in: Rect(x: 0, y: 0, width: 560, height: 380))
    #expect(layout.yTicks.lower < 1e-3 && layout.yTicks.lower > 5e-4 && layout.yTicks.upper > 1 && layout.yTicks.upper < 2,
            "the data's range, a little widened: \(layout.yTicks.lower)…\(layout.yTicks.upper)")
    let narrow = Plot(x: Axis("x"), y: Axis("y", scale: .log), series: [.line("s", x: [0, 1], y: [0.3, 0.8])])
    let decade = narrow.layout(in: Rect(x: 0, y: 0, width: 560, height: 380)).yTicks
    #expect(decade.lower == 0.1 && decade.upper == 1, "less than two powers of ten: whole decades")
    let labels = elements(document, named: "text", inClass: "y-axis").map { $0.stringValue ?? "" }
    #expect(labels.contains("10⁻³") && labels.contains("10⁰"))
}

@Test func xTickLabelsDoNotOverlap() {
    for width in [200.0, 320, 480, 900] {
        let plot = Plot(x: Axis("x"), y: Axis("y"), series: [.line("s", x: [-123456.7, 987654.3], y: [0, 1])])
        let layout = plot.layout(in: Rect(x: 0, y: 0, width: width, height: 300))
        let centres = layout.xTicks.major.map(layout.px)
        let widths = layout.xTicks.labels.map { SVG.textWidth($0, fontSize: PlotLayout.tickLabelSize) }
        for k in 1..<centres.count {
            #expect(centres[k] - centres[k - 1] >= (widths[k] + widths[k - 1]) / 2 + 4, "labels \(layout.xTicks.labels) at width \(width)")
        }
    }
}

@Test func outputIsDeterministic() {
    #expect(sampleFigure().svg() == sampleFigure().svg())
    #expect(SVG.number(1.005) == SVG.number(1.005) && SVG.number(-0.001) == "0" && SVG.number(12.5) == "12.5")
}
