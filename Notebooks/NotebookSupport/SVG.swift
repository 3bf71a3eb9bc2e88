// Small SVG pictures for notebooks: a line chart (optionally log-scaled) and a heat map.
// Plain text output, so results can be looked at without a plotting library.

import Foundation

/// The folder notebooks write their pictures to: the one given as `--output DIR`, else
/// `.build/notebook-output/` under the current folder; created when missing, as an absolute
/// path.
public let outputFolder: URL = {
    let arguments = CommandLine.arguments
    let given = arguments.firstIndex(of: "--output").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    let folder = given.map { URL(fileURLWithPath: $0, isDirectory: true, relativeTo: current).standardizedFileURL }
        ?? current.appendingPathComponent(".build/notebook-output", isDirectory: true)
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
        fatalError("cannot create the output folder \(folder.path): \(error). Fix: pass --output with a folder you can write to")
    }
    return folder
}()

/// Where a notebook writes the picture `name` (in `outputFolder`).
public func outputURL(_ name: String) -> URL { outputFolder.appendingPathComponent(name) }

/// Writes `svg` to `name` in the output folder and returns its absolute path.
@discardableResult
public func writeSVG(_ svg: String, named name: String) throws -> String {
    let url = outputURL(name)
    try svg.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// A chart of one or more series (x, y), each a polyline; `logY` plots log10(y).
public func lineChart(_ series: [(label: String, points: [(Double, Double)])], title: String,
                      logY: Bool = false, width: Double = 640, height: Double = 400) -> String {
    let margin = 50.0
    let transformed = series.map { s in (s.label, s.points.map { ($0.0, logY ? log10(max($0.1, 1e-300)) : $0.1) }) }
    let xs = transformed.flatMap { $0.1.map(\.0) }, ys = transformed.flatMap { $0.1.map(\.1) }
    let (x0, x1) = (xs.min() ?? 0, max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-12))
    let (y0, y1) = (ys.min() ?? 0, max(ys.max() ?? 1, (ys.min() ?? 0) + 1e-12))
    func px(_ x: Double) -> Double { margin + (x - x0) / (x1 - x0) * (width - 2 * margin) }
    func py(_ y: Double) -> Double { height - margin - (y - y0) / (y1 - y0) * (height - 2 * margin) }
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
    var svg = """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
    <rect width="100%" height="100%" fill="white"/>
    <text x="\(width / 2)" y="20" text-anchor="middle" font-size="14">\(title)</text>
    <line x1="\(margin)" y1="\(height - margin)" x2="\(width - margin)" y2="\(height - margin)" stroke="black"/>
    <line x1="\(margin)" y1="\(margin)" x2="\(margin)" y2="\(height - margin)" stroke="black"/>
    <text x="\(margin)" y="\(height - margin + 16)">\(String(format: "%g", x0))</text>
    <text x="\(width - margin)" y="\(height - margin + 16)" text-anchor="end">\(String(format: "%g", x1))</text>
    <text x="\(margin - 4)" y="\(height - margin)" text-anchor="end">\(logY ? String(format: "1e%.1f", y0) : String(format: "%.3g", y0))</text>
    <text x="\(margin - 4)" y="\(margin + 4)" text-anchor="end">\(logY ? String(format: "1e%.1f", y1) : String(format: "%.3g", y1))</text>

    """
    for (i, (label, points)) in transformed.enumerated() {
        let color = colors[i % colors.count]
        let path = points.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
        svg += "<text x=\"\(width - margin - 4)\" y=\"\(margin + 16 * Double(i + 1))\" text-anchor=\"end\" fill=\"\(color)\">\(label)</text>\n"
    }
    return svg + "</svg>\n"
}

/// A heat map of `grid` (rows top to bottom), blue for low and red for high values.
public func heatMap(_ grid: [[Double]], title: String, cell: Double = 6) -> String {
    let rows = grid.count, columns = grid.first?.count ?? 0
    let values = grid.flatMap { $0 }
    let (lo, hi) = (values.min() ?? 0, max(values.max() ?? 1, (values.min() ?? 0) + 1e-300))
    let top = 30.0
    var svg = """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Double(columns) * cell + 20))" height="\(Int(Double(rows) * cell + top + 24))" font-family="sans-serif" font-size="12">
    <rect width="100%" height="100%" fill="white"/>
    <text x="10" y="20">\(title) (min \(String(format: "%.3g", lo)), max \(String(format: "%.3g", hi)))</text>

    """
    for (r, row) in grid.enumerated() {
        for (c, v) in row.enumerated() {
            let t = (v - lo) / (hi - lo)
            let color = String(format: "#%02x%02x%02x", Int(255 * t), Int(80 * (1 - abs(2 * t - 1))), Int(255 * (1 - t)))
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"/>\n",
                          10 + Double(c) * cell, top + Double(r) * cell, cell, cell, color)
        }
    }
    return svg + "</svg>\n"
}
