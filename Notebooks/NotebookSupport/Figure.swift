// A figure: panels on a grid (side by side by default, as "solution | error" pictures are), an
// optional title above them and an optional legend shared by all of them below, written as one
// SVG document. Every panel gets the same frame; the
// text is escaped and the numbers rounded to hundredths of a pixel, so a figure's SVG depends
// only on its content.

import Foundation

/// One or more panels and a title, written as SVG.
public struct Figure: Sendable {
    /// The title above all panels.
    public var title: String?
    /// The panels, row by row.
    public var panels: [Plot]
    /// Panels per row.
    public var columns: Int
    /// Each panel's width in pixels.
    public var panelWidth: Double
    /// Each panel's height in pixels.
    public var panelHeight: Double
    /// Whether one legend, a row under the panels, stands for all of them (the panels' own
    /// legends are then left out); each label is listed once.
    public var sharedLegend: Bool

    /// A figure of `panels`, `columns` to a row (all in one row by default).
    ///
    /// - Parameters:
    ///   - title: the figure's title, above the panels.
    ///   - panels: the panels, row by row; at least one.
    ///   - columns: panels per row; `nil` puts them all in one row.
    ///   - panelWidth: each panel's width in pixels, axis labels and colour bar included.
    ///   - panelHeight: each panel's height in pixels, titles and labels included.
    ///   - sharedLegend: whether one legend under the panels replaces theirs.
    public init(title: String? = nil, panels: [Plot], columns: Int? = nil, panelWidth: Double = 480, panelHeight: Double = 340,
                sharedLegend: Bool = false) {
        precondition(!panels.isEmpty, "a figure needs at least one panel")
        self.title = title
        self.panels = panels
        self.columns = Swift.max(1, Swift.min(columns ?? panels.count, panels.count))
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
        self.sharedLegend = sharedLegend
    }

    /// A figure of the single panel `plot`.
    public init(_ plot: Plot, width: Double = 560, height: Double = 380) {
        self.init(panels: [plot], panelWidth: width, panelHeight: height)
    }

    /// The height the title takes.
    private var titleHeight: Double { title == nil ? 0 : 30 }

    /// The height the shared legend takes.
    private var legendHeight: Double { sharedLegend ? 24 : 0 }

    /// The shared legend's entries: every labelled series, each label once, in panel order.
    var sharedLegendEntries: [(series: Series, color: Color)] {
        var seen = Set<String>()
        return panels.flatMap(\.coloredSeries).filter { entry in
            guard let label = entry.series.label, !label.isEmpty else { return false }
            return seen.insert(label).inserted
        }
    }

    /// Where panel `index` is drawn.
    func frame(ofPanel index: Int) -> Rect {
        Rect(x: Double(index % columns) * panelWidth, y: titleHeight + Double(index / columns) * panelHeight,
             width: panelWidth, height: panelHeight)
    }

    /// The figure as an SVG document.
    public func svg() -> String {
        let rows = (panels.count + columns - 1) / columns
        let width = Double(columns) * panelWidth
        let panelsHeight = Double(rows) * panelHeight
        var document = SVGDocument(width: width, height: titleHeight + panelsHeight + legendHeight)
        if let title {
            document.element("text", ["class": "figure-title", "x": SVG.number(width / 2), "y": "21", "text-anchor": "middle",
                                      "font-size": "15"], text: title)
        }
        for (index, panel) in panels.enumerated() {
            var panel = panel
            if sharedLegend { panel.legend = .hidden }
            panel.draw(into: &document, frame: frame(ofPanel: index), index: index)
        }
        if sharedLegend {
            Legend.drawRow(sharedLegendEntries, centre: (width / 2, titleHeight + panelsHeight + 8), into: &document)
        }
        return document.rendered()
    }
}
