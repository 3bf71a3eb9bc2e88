// The SVG text the figures are written in: elements with attributes in a fixed order, numbers
// with at most two decimals (a hundredth of a pixel), text escaped. Output depends only on the
// input, so the same figure always gives the same bytes.
//
// Text widths are estimated from per-character classes of a sans-serif face (DejaVu Sans, the
// face librsvg falls back to on Linux); layout only needs them to keep labels from overlapping.

import Foundation

/// An axis-aligned rectangle in SVG user units (pixels), y growing downwards.
struct Rect: Equatable {
    var x: Double, y: Double, width: Double, height: Double
    var maxX: Double { x + width }
    var maxY: Double { y + height }

    func contains(_ px: Double, _ py: Double, tolerance: Double = 1e-6) -> Bool {
        px >= x - tolerance && px <= maxX + tolerance && py >= y - tolerance && py <= maxY + tolerance
    }

    func intersects(_ other: Rect) -> Bool {
        x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }
}

/// An SVG document under construction: elements are appended in drawing order.
struct SVGDocument {
    let width: Double, height: Double
    private var body: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// Appends `<name attributes…/>`, or `<name attributes…>text</name>` when `text` is given.
    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String>, text: String? = nil) {
        body.append(SVG.element(name, attributes, text: text))
    }

    /// Appends already written SVG, such as a group's opening tag.
    mutating func raw(_ markup: String) { body.append(markup) }

    /// Runs `content` inside `<g attributes…>…</g>`.
    mutating func group(_ attributes: KeyValuePairs<String, String>, _ content: (inout SVGDocument) -> Void) {
        body.append("<g" + SVG.attributes(attributes) + ">")
        content(&self)
        body.append("</g>")
    }

    /// The finished document.
    func rendered() -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(SVG.number(width))" height="\(SVG.number(height))" \
        viewBox="0 0 \(SVG.number(width)) \(SVG.number(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>

        """ + body.joined(separator: "\n") + "\n</svg>\n"
    }
}

/// Formatting shared by everything that writes SVG.
enum SVG {
    /// `value` with at most two decimals and no trailing zeros ("12", "3.5", "-0.25").
    static func number(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// `text` with the characters XML reserves replaced by entities, usable in content and in
    /// double- or single-quoted attributes.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }

    static func attributes(_ attributes: KeyValuePairs<String, String>) -> String {
        attributes.map { " \($0.key)=\"\(escaped($0.value))\"" }.joined()
    }

    static func element(_ name: String, _ attributes: KeyValuePairs<String, String>, text: String? = nil) -> String {
        guard let text else { return "<\(name)\(SVG.attributes(attributes))/>" }
        return "<\(name)\(SVG.attributes(attributes))>\(escaped(text))</\(name)>"
    }

    /// The estimated width of `text` set at `fontSize` in a sans-serif face.
    static func textWidth(_ text: String, fontSize: Double) -> Double {
        var em = 0.0
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ", ".", ",", ":", ";", "'", "|", "!", "i", "j", "l", "I", "(", ")", "[", "]", "f", "t":
                em += 0.33
            case "⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹", "⁻", "₀", "₁", "₂", "₃":
                em += 0.42
            case "m", "w", "M", "W", "−", "—", "×", "∇", "∂":
                em += 0.9
            case "A"..."Z":
                em += 0.72
            default:
                em += 0.62
            }
        }
        return em * fontSize
    }
}
