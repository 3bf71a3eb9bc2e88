// Colour maps for heat maps: values in 0...1 to colours, by linear interpolation in sRGB between
// evenly spaced anchors.
//
// `viridis` is matplotlib's perceptually uniform map (van der Walt and Smith, 2015), sampled at 17
// points: its lightness rises monotonically from dark purple to yellow, so it reads in greyscale
// and to colour-blind readers. `diverging` is ColorBrewer's RdBu (Brewer, 2003), blue for
// negative through near-white to red for positive, for signed quantities such as errors; it is
// meant to be used over a range symmetric about zero, which `HeatMap` chooses for it.

import Foundation

/// A map from 0...1 to colours.
public struct ColorMap: Sendable, Equatable {
    /// The map's name, for reading figures' sources.
    public let name: String
    /// Colours at 0, 1/(n−1), …, 1.
    public let anchors: [Color]
    /// Whether the map is meant for signed data centred at zero.
    public let isDiverging: Bool

    /// A map interpolating `anchors`, evenly spaced over 0...1 (at least two).
    public init(name: String, anchors: [Color], isDiverging: Bool = false) {
        precondition(anchors.count >= 2, "a colour map needs at least two anchors")
        self.name = name
        self.anchors = anchors
        self.isDiverging = isDiverging
    }

    /// The colour at `fraction`, clamped to 0...1 (not-a-number gives the colour at 0).
    public func callAsFunction(_ fraction: Double) -> Color {
        let t = fraction.isNaN ? 0 : Swift.min(Swift.max(fraction, 0), 1)
        let position = t * Double(anchors.count - 1)
        let index = Swift.min(Int(position), anchors.count - 2)
        return anchors[index].mixed(with: anchors[index + 1], position - Double(index))
    }

    /// matplotlib's viridis: dark purple (0) through blue and green to yellow (1).
    public static let viridis = ColorMap(name: "viridis", anchors: [
        0x440154, 0x48186a, 0x472d7b, 0x424086, 0x3b528b, 0x33638d, 0x2c728e, 0x26828e, 0x21918c,
        0x1fa088, 0x28ae80, 0x3fbc73, 0x5ec962, 0x84d44b, 0xaddc30, 0xd8e219, 0xfde725,
    ].map { Color(hex: $0) })

    /// ColorBrewer's RdBu, reversed: dark blue (0) through near-white (½) to dark red (1).
    public static let diverging = ColorMap(name: "RdBu", anchors: [
        0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7, 0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b,
    ].map { Color(hex: $0) }, isDiverging: true)
}
