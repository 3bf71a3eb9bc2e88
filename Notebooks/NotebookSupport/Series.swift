// A data series of a plot: points (x, y) drawn as a line, as markers, or both. A line breaks
// where a point cannot be shown (not finite, or not positive on a log axis) rather than joining
// across the gap.

import Foundation

/// The shape drawn at each point of a series.
public enum Marker: Sendable, CaseIterable {
    /// A filled disc.
    case circle
    /// A filled square.
    case square
    /// A filled triangle, point up.
    case triangle
    /// A diagonal cross (×), stroked.
    case cross
}

/// How a series' line is stroked.
public enum Dash: Sendable, CaseIterable {
    /// An unbroken line.
    case solid
    /// Long dashes.
    case dashed
    /// Dots.
    case dotted
    /// Alternating dashes and dots.
    case dashDot

    /// The SVG `stroke-dasharray`, `nil` for a solid line.
    var pattern: String? {
        switch self {
        case .solid: return nil
        case .dashed: return "6 3"
        case .dotted: return "1.5 2.5"
        case .dashDot: return "6 2.5 1.5 2.5"
        }
    }
}

/// Points drawn on a plot, as a line, markers, or both.
public struct Series: Sendable {
    /// The legend entry; `nil` leaves the series out of the legend.
    public var label: String?
    /// The x coordinates.
    public var x: [Double]
    /// The y coordinates, one per x.
    public var y: [Double]
    /// The colour; `nil` takes the next palette colour.
    public var color: Color?
    /// The line's dash pattern; `nil` draws no line (a scatter series).
    public var dash: Dash?
    /// The marker drawn at each point, if any.
    public var marker: Marker?
    /// The line width in pixels.
    public var lineWidth: Double = 1.6
    /// The marker's width in pixels.
    public var markerSize: Double = 7

    /// A series of the points (`x[i]`, `y[i]`).
    public init(label: String?, x: [Double], y: [Double], color: Color? = nil, dash: Dash? = .solid, marker: Marker? = nil) {
        precondition(x.count == y.count, "a series needs as many x as y values, got \(x.count) and \(y.count)")
        self.label = label
        self.x = x
        self.y = y
        self.color = color
        self.dash = dash
        self.marker = marker
    }

    /// A line through (`x[i]`, `y[i]`), optionally with markers.
    public static func line(_ label: String?, x: [Double], y: [Double], dash: Dash = .solid, marker: Marker? = nil,
                            color: Color? = nil) -> Series {
        Series(label: label, x: x, y: y, color: color, dash: dash, marker: marker)
    }

    /// A line through `points`, optionally with markers.
    public static func line(_ label: String?, points: [(Double, Double)], dash: Dash = .solid, marker: Marker? = nil,
                            color: Color? = nil) -> Series {
        line(label, x: points.map(\.0), y: points.map(\.1), dash: dash, marker: marker, color: color)
    }

    /// Markers at (`x[i]`, `y[i]`), no line.
    public static func scatter(_ label: String?, x: [Double], y: [Double], marker: Marker = .circle,
                               color: Color? = nil) -> Series {
        Series(label: label, x: x, y: y, color: color, dash: nil, marker: marker)
    }
}
