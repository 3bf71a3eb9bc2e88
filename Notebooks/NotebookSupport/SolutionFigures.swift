// The two figures every PDE notebook draws: the training loss of Adam followed by L-BFGS, and a
// solution on a square grid beside its signed error.

/// The loss on a log axis: the first `adamSteps` points of `curve` as Adam's, the rest (from
/// Adam's last point on, so the two curves join) as L-BFGS rounds, one marker per point.
public func adamThenLBFGSLossFigure(title: String, curve: [(Double, Double)], adamSteps: Int, loss: String) -> Figure {
    Figure(Plot(title: title, x: Axis("iteration (Adam steps, then L-BFGS iterations)"), y: Axis(loss, scale: .log),
                series: [.line("Adam", points: Array(curve.prefix(adamSteps))),
                         .line("L-BFGS, rounds of up to 50 iterations", points: Array(curve[(adamSteps - 1)...]), marker: .circle)]))
}

/// A solution over the square grid `coordinates` × `coordinates` (row-major, the first
/// coordinate along x) beside its signed error, each a heat map with a colour bar on
/// equal-aspect axes named `axes`.
public func solutionAndErrorFigure(title: String, axes: (x: String, y: String), coordinates: [Double], solution: [Double],
                                   solutionLabel: String, error: [Double], errorTitle: String, errorLabel: String) -> Figure {
    let n = coordinates.count
    return Figure(title: title, panels: [
        Plot(title: "network solution", x: Axis(axes.x), y: Axis(axes.y),
             heatMap: HeatMap(x: coordinates, y: coordinates, title: solutionLabel) { i, j in solution[i * n + j] },
             equalAspect: true),
        Plot(title: errorTitle, x: Axis(axes.x), y: Axis(axes.y),
             heatMap: HeatMap(x: coordinates, y: coordinates, title: errorLabel, colorMap: .diverging) { i, j in error[i * n + j] },
             equalAspect: true),
    ], panelWidth: 450, panelHeight: 380)
}
