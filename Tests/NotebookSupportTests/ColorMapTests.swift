// Colour maps and the palette: endpoints as published, viridis's lightness rising monotonically,
// the diverging map lightest at zero and symmetric in lightness, clamping outside 0...1, and a
// palette whose colours differ and show against white.

import Testing
@testable import NotebookSupport

@Test func colorMapEndpointsAreThePublishedOnes() {
    #expect(ColorMap.viridis(0).hex == "#440154")
    #expect(ColorMap.viridis(1).hex == "#fde725")
    #expect(ColorMap.viridis(0.5).hex == "#21918c")
    #expect(ColorMap.diverging(0).hex == "#2166ac")
    #expect(ColorMap.diverging(0.5).hex == "#f7f7f7")
    #expect(ColorMap.diverging(1).hex == "#b2182b")
}

@Test func viridisLightnessRisesMonotonically() {
    let lightness = (0...200).map { ColorMap.viridis(Double($0) / 200).lightness }
    for (a, b) in zip(lightness, lightness.dropFirst()) { #expect(b > a, "lightness \(a) then \(b)") }
    #expect(lightness.first! < 20 && lightness.last! > 85)
}

@Test func divergingMapIsLightestAtZeroAndSymmetric() {
    let lightness = (0...200).map { ColorMap.diverging(Double($0) / 200).lightness }
    for k in 0..<100 {
        #expect(lightness[k + 1] > lightness[k], "rising towards the middle at \(k)")
        #expect(lightness[200 - k - 1] > lightness[200 - k], "falling away from the middle at \(k)")
        #expect(abs(lightness[k] - lightness[200 - k]) < 12, "±\(k) look about equally light")
    }
    #expect(ColorMap.diverging.isDiverging && !ColorMap.viridis.isDiverging)
}

@Test func colorMapsClampOutsideTheUnitInterval() {
    #expect(ColorMap.viridis(-3) == ColorMap.viridis(0))
    #expect(ColorMap.viridis(7) == ColorMap.viridis(1))
    #expect(ColorMap.viridis(.nan) == ColorMap.viridis(0))
}

@Test func lightnessSpansBlackToWhite() {
    #expect(abs(Color(hex: 0x000000).lightness) < 1e-9)
    #expect(abs(Color(hex: 0xffffff).lightness - 100) < 0.01)
    #expect(Color(hex: 0x0072b2).hex == "#0072b2")
}

@Test func paletteColorsDifferAndShowOnWhite() {
    let colors = Palette.colorBlindSafe
    #expect(Set(colors.map(\.hex)).count == colors.count)
    #expect(colors.allSatisfy { $0.lightness < 80 }, "every colour darker than the yellow left out")
    #expect(Palette.color(colors.count) == Palette.color(0), "the palette cycles")
}
