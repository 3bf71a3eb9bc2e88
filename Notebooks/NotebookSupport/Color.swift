// Colours as sRGB triples, and the palette series are drawn in: Okabe and Ito's eight colours,
// chosen to stay distinguishable under the common colour-vision deficiencies ("Color Universal
// Design", 2008). Yellow is left out: it does not show against white.

import Foundation

/// An sRGB colour, components in 0...1.
public struct Color: Equatable, Hashable, Sendable {
    /// The red component, 0...1.
    public var red: Double
    /// The green component, 0...1.
    public var green: Double
    /// The blue component, 0...1.
    public var blue: Double

    /// The colour with components `red`, `green`, `blue` in 0...1.
    public init(red: Double, green: Double, blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// The colour written `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(red: Double((hex >> 16) & 0xff) / 255, green: Double((hex >> 8) & 0xff) / 255, blue: Double(hex & 0xff) / 255)
    }

    /// Black, for reference curves (a true function, an exact solution).
    public static let black = Color(hex: 0x000000)
    /// Light grey, for raw data drawn beneath its trend (a noisy curve under its running mean).
    public static let lightGray = Color(hex: 0xb4b4b4)

    /// `#rrggbb`, as SVG writes it.
    public var hex: String {
        func byte(_ c: Double) -> Int { Int((Swift.min(Swift.max(c, 0), 1) * 255).rounded()) }
        return String(format: "#%02x%02x%02x", byte(red), byte(green), byte(blue))
    }

    /// CIE L* lightness, 0 (black) to 100 (white): how light the colour looks.
    ///
    /// ```
    /// Y = 0.2126 R + 0.7152 G + 0.0722 B   (linear RGB)
    /// L* = 116 Y^(1/3) − 16,  or 903.3 Y for Y ≤ 0.008856
    /// ```
    public var lightness: Double {
        func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        let y = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
        return y <= 0.008856 ? 903.3 * y : 116 * cbrt(y) - 16
    }

    /// The colour `fraction` of the way from `self` to `other`, mixed in sRGB (as SVG gradients mix).
    func mixed(with other: Color, _ fraction: Double) -> Color {
        Color(red: red + (other.red - red) * fraction, green: green + (other.green - green) * fraction,
              blue: blue + (other.blue - blue) * fraction)
    }
}

/// The colours series take in turn when they name none.
public enum Palette {
    /// Okabe–Ito without yellow: blue, vermilion, bluish green, orange, reddish purple, sky blue,
    /// black.
    public static let colorBlindSafe: [Color] = [0x0072b2, 0xd55e00, 0x009e73, 0xe69f00, 0xcc79a7, 0x56b4e9, 0x000000]
        .map { Color(hex: $0) }

    /// The `index`-th palette colour, cycling.
    public static func color(_ index: Int) -> Color { colorBlindSafe[index % colorBlindSafe.count] }
}
