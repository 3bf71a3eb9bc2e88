// Burgers' equation by a physics-informed neural network, in the setting of Raissi, Perdikaris
// and Karniadakis, "Physics-informed neural networks", J. Comput. Phys. 378 (2019), the
// continuous-time example for Burgers' equation:
//
//     u_t + u·u_x = ν·u_xx,    x ∈ [−1, 1], t ∈ [0, 1],    ν = 0.01/π,
//     u(0, x) = −sin(πx),      u(t, −1) = u(t, 1) = 0.
//
// The viscosity is small, so the wave steepens into a shock at x = 0 from t ≈ 1/π on, a few
// thousandths wide: the network has to find it from the equation alone. The network u_θ(t, x)
// has 9 layers (8 hidden layers of 20 tanh units), Xavier initialisation, float64. It is fitted
// to 100 initial and boundary values and to the residual of the equation
//
//     f = u_t + u·u_x − ν·u_xx
//
// at 10,000 collocation points (a Latin hypercube), by minimising
//
//     (1/N_u) Σᵢ (u_θ(tᵢ, xᵢ) − uᵢ)²  +  (1/N_f) Σⱼ f(tⱼ, xⱼ)²,
//
// first with Adam, then with L-BFGS and a strong-Wolfe line search (the paper runs L-BFGS
// alone, from the start). The training gradient, `jit(valueAndGrad(loss))`, differentiates with respect
// to the weights a loss that holds derivatives of the network with respect to its input.
//
// The reference is the exact solution by the Cole–Hopf transform (u = −2ν·φ_x/φ with φ solving
// the heat equation φ_t = ν·φ_xx):
//
//     u(t, x) = −∫ sin(π(x−η)) F(x−η) e^(−η²/4νt) dη / ∫ F(x−η) e^(−η²/4νt) dη,
//     F(y) = exp(−cos(πy)/(2πν)),
//
// by Gauss–Hermite quadrature after η = √(4νt)·z, on the paper's grid of 256 x by 100 t. The
// paper reports a relative L2 error of 6.7e-4 in this setting. Here 1000 Adam steps and 7000
// L-BFGS evaluations (about 90 ms each, for the value and gradient over 10,100 points) take
// 13 to 15 minutes on two busy cores and reach 4.1e-4; the error passes 1e-3 after about 6000
// evaluations, and more barely help (6e-4 after 10,000, the loss stalling near 1.7e-6).
//
// Run: swift run -c release Burgers [--quick]
// `--quick` trains a smaller network on fewer points for a few hundred steps and checks the
// reference's own properties. Results are checked with `check(condition, claim)`, which stops
// with the claim when it fails (through `fatalError`, so the message survives release builds).

import Foundation
import Fluxion
import FluxionNN
import NotebookSupport

let dtype = DType.float64
let nu = 0.01 / Double.pi

let widths = quickRun ? [2, 20, 20, 20, 1] : [2] + Array(repeating: 20, count: 8) + [1]
let dataCount = 100
let collocationCount = quickRun ? 1000 : 10_000
let adamSteps = quickRun ? 200 : 1000
let lbfgsEvaluations = quickRun ? 300 : 7000

let keys = RandomKey(seed: 1234).split(into: 4)
let (keyNetwork, keyData, keyStrata, keyJitter) = (keys[0], keys[1], keys[2], keys[3])

// MARK: - The reference solution

/// Gauss–Hermite nodes and weights, ∫ e^(−z²) g(z) dz ≈ Σᵢ wᵢ g(zᵢ). The nodes are the
/// eigenvalues of the Jacobi matrix of the Hermite polynomials (zero diagonal, √(k/2) beside
/// it: Golub–Welsch). The weights are the Christoffel numbers 1 / Σₖ pₖ(zᵢ)² over the
/// orthonormal polynomials, rather than √π times the squared first components of the
/// eigenvectors: those components are ~1e-10 at the outer nodes that dominate the Cole–Hopf
/// integrals for t near 1, and an eigensolver gets them only to an absolute 1e-16 (u would be
/// off by up to 1e-6 at t = 0.99; with these weights, by 1e-15). The polynomials grow like
/// e^(z²/2) ≤ eⁿ at the largest node, so n up to 300 stays finite.
func gaussHermite(_ n: Int) -> (nodes: NDArray, weights: NDArray) {
    var jacobi = [Double](repeating: 0, count: n * n)
    for k in 1..<n {
        jacobi[(k - 1) * n + k] = (Double(k) / 2).squareRoot()
        jacobi[k * n + k - 1] = (Double(k) / 2).squareRoot()
    }
    let z = eigh(NDArray(shape: [n, n], scalars: jacobi, dtype: dtype)).values
    // p₀ = π^(−1/4), pₖ₊₁ = (z·pₖ − √(k/2)·pₖ₋₁) / √((k+1)/2), orthonormal for the weight e^(−z²).
    var previous = NDArray.zerosLike(z), current = NDArray.fullLike(z, pow(Double.pi, -0.25))
    var sumOfSquares = current * current
    for k in 0..<(n - 1) {
        (previous, current) = (current, (z * current - (Double(k) / 2).squareRoot() * previous) / (Double(k + 1) / 2).squareRoot())
        sumOfSquares = sumOfSquares + current * current
    }
    return (z, 1 / sumOfSquares)
}

/// The Cole–Hopf solution at the points (t, x) (arrays of one shape [P]), with the integrals
/// taken by the rule Σᵢ wᵢ g(zᵢ) for ∫ e^(−z²) g(z) dz (η = √(4νt)·z). At t = 0 every node sits
/// at x and the quotient is −sin(πx) exactly.
func coleHopf(t: NDArray, x: NDArray, nodes: NDArray, weights: NDArray) -> NDArray {
    let y = x.unsqueeze(1) - sqrt(4 * nu * t).unsqueeze(1) * nodes           // x − η, [P, n]
    // F(y) reaches e^50: subtracting each point's largest exponent keeps the sums in range
    // whatever ν is, and the quotient does not change.
    let exponent = -cos(Double.pi * y) / (2 * Double.pi * nu)
    let terms = weights * exp(exponent - exponent.max(dim: 1, keepDim: true))
    return -(sin(Double.pi * y) * terms).sum(dim: 1) / terms.sum(dim: 1)
}

/// The same integrals by the trapezoidal rule in η on [−1.5, 1.5] (the Gaussian factor is below
/// e^(−176) beyond it for t ≤ 1), spectrally accurate for these smooth integrands: a check of
/// the Gauss–Hermite rule, at t > 0.
func coleHopfTrapezoid(t: NDArray, x: NDArray, count: Int) -> NDArray {
    let eta = NDArray.linspace(-1.5, 1.5, count: count, dtype: dtype)
    let y = x.unsqueeze(1) - eta
    let exponent = -cos(Double.pi * y) / (2 * Double.pi * nu) - eta * eta / (4 * nu * t).unsqueeze(1)
    let terms = exp(exponent - exponent.max(dim: 1, keepDim: true))
    return -(sin(Double.pi * y) * terms).sum(dim: 1) / terms.sum(dim: 1)
}

// The paper's grid: 256 x in [−1, 1], t = 0, 0.01, …, 0.99; points in row-major order (t, x).
let (gridX, gridT) = (256, 100)
let xs = NDArray.linspace(-1, 1, count: gridX, dtype: dtype)
let ts = NDArray.arange(gridT, dtype: dtype) * 0.01
let tGrid = ts.unsqueeze(1).expand([gridT, gridX]).reshape([-1])
let xGrid = xs.unsqueeze(0).expand([gridT, gridX]).reshape([-1])

var start = now()
let (nodes, weights) = gaussHermite(200)
let exact = coleHopf(t: tGrid, x: xGrid, nodes: nodes, weights: weights)
let exactRows = exact.reshape([gridT, gridX])
let lastRow = NDArray.fullLike(xs, 0.99)
let trapezoid = coleHopfTrapezoid(t: lastRow, x: xs, count: 6001)
let quadratureGap = (exactRows[gridT - 1] - trapezoid).abs().max().item()
print(String(format: "Cole–Hopf reference on %d × %d points: %.2f s; Gauss–Hermite (200 nodes) against the trapezoidal rule at t = 0.99: max gap %.1e",
             gridT, gridX, now() - start, quadratureGap))
check(Swift.abs(weights.sum().item() - Double.pi.squareRoot()) < 1e-13, "the Gauss–Hermite weights sum to √π")
check(quadratureGap < 1e-8, "two quadratures of the Cole–Hopf integrals agree to 1e-8")
check((exactRows[0] + sin(Double.pi * xs)).abs().max().item() < 1e-14, "the reference starts from u(0, x) = −sin(πx)")
check((exactRows + exactRows.flip(dims: [1])).abs().max().item() < 1e-12, "the reference is odd in x")
check(exact.abs().max().item() <= 1 + 1e-14, "the reference keeps |u| ≤ 1")
check(exactRows[.all, 0].abs().max().item() < 1e-12 && exactRows[.all, gridX - 1].abs().max().item() < 1e-12,
      "the reference vanishes at x = ±1")

// MARK: - The network and its residual

/// One dense layer.
struct Layer: ArrayStruct {
    var weight: NDArray, bias: NDArray
    static var arrayProperties: [ArrayProperty<Layer>] { [.init(\.weight), .init(\.bias)] }
}
typealias Network = [Layer]

/// Xavier (Glorot) normal weights, N(0, 2/(fan_in + fan_out)), and zero biases (the paper's
/// code truncates the normal at two standard deviations).
func initialNetwork(key: RandomKey) -> Network {
    let layerKeys = key.split(into: widths.count - 1)
    return zip(widths, widths.dropFirst()).enumerated().map { i, shape in
        Layer(weight: NDArray.normal([shape.0, shape.1], key: layerKeys[i], dtype: dtype) * (2 / Double(shape.0 + shape.1)).squareRoot(),
              bias: NDArray.zeros([shape.1], dtype: dtype))
    }
}

/// u_θ(t, x) for t and x of one shape, tanh between the layers; the inputs are scaled to
/// [−1, 1]² first, as in the paper's code.
func u(_ network: Network, _ t: NDArray, _ x: NDArray) -> NDArray {
    var h = stack([2 * t - 1, x], dim: -1)
    for layer in network.dropLast() { h = tanh(matmul(h, layer.weight) + layer.bias) }
    return (matmul(h, network.last!.weight) + network.last!.bias).squeeze(dim: -1)
}

/// The residual f = u_t + u·u_x − ν·u_xx at the points (t, x), arrays of shape [N].
///
/// u, u_x and u_xx come from the forward Laplacian of x ↦ u_θ(t, x), a function of one
/// variable, so that its Laplacian is u_xx alone; `vmap` maps it over the points. u_t is the
/// derivative of that value along t, by `jvp` over all points at once (each output depends on
/// its own point only, so a tangent of ones gives every point's u_t). `jvp` also pushes t's
/// tangent into u_x and u_xx, but nothing reads those, and `jit` drops them as dead code: the
/// staged network runs once carrying four numbers per unit — u, u_t, u_x, u_xx — the fewest
/// the residual needs.
///
/// The operators over the point (t, x) do more: `valueGradientAndLaplacian` gives u, u_t and
/// u_x, but its Laplacian holds u_tt too, so u_xx takes a second pass of `hessianDiagonal`
/// (4 + 5 numbers per unit, `residualOverPoints` below); `jvp` of `jvp` in x carries u_x
/// twice, once per level (5 with u_t). The notebook times the training step both ways.
func residual(_ network: Network, _ t: NDArray, _ x: NDArray) throws -> NDArray {
    let (d, dt) = try jvp({ (t: NDArray) in
        try vmap({ (t: NDArray, x: NDArray) -> [NDArray] in
            let r = try valueGradientAndLaplacian({ x in u(network, t, x) })(x)
            return [r.value, r.gradient, r.laplacian]
        })(t, x)
    }, at: t, tangents: NDArray.onesLike(t))
    return dt[0] + d[0] * d[1] - nu * d[2]
}

/// The residual by the operators over the point (t, x): u, u_t, u_x from
/// `valueGradientAndLaplacian`, u_xx from `hessianDiagonal` (`points` [N, 2]). The same numbers
/// as `residual`, by more work.
func residualOverPoints(_ network: Network, _ points: NDArray) throws -> NDArray {
    let f = { (point: NDArray) in u(network, point[0], point[1]) }
    let first = try valueGradientAndLaplacian(f, batched: true)(points)     // gradient [N, 2]: u_t, u_x
    let uxx = try hessianDiagonal(f, batched: true)(points)[.all, 1]        // [N, 2]: u_tt, u_xx
    return first.gradient[.all, 0] + first.value * first.gradient[.all, 1] - nu * uxx
}

// MARK: - Data

// As the paper's code: 100 points drawn from the initial line (the grid's 256 x at t = 0) and the
// two boundaries (the grid's 100 t at x = ±1), with their values −sin(πx) and 0.
let candidatesT = concat([NDArray.zeros([gridX], dtype: dtype), ts, ts])
let candidatesX = concat([xs, NDArray.fullLike(ts, -1), NDArray.fullLike(ts, 1)])
let chosen = NDArray.uniform([candidatesT.shape[0]], key: keyData, dtype: dtype).argsort().narrow(dim: 0, start: 0, length: dataCount)
let dataT = candidatesT.indexSelect(dim: 0, index: chosen), dataX = candidatesX.indexSelect(dim: 0, index: chosen)
let dataU = NDArray.where(dataT .== 0, -sin(Double.pi * dataX), NDArray.zerosLike(dataX))

/// A Latin hypercube of `count` points in [0, 1]^2: each coordinate takes each of `count`
/// equal strata once, in a random order, at a random place within it.
func latinHypercube(_ count: Int, strata: RandomKey, jitter: RandomKey) -> NDArray {
    let order = NDArray.uniform([2, count], key: strata, dtype: dtype).argsort(dim: 1).to(dtype)
    return ((order + NDArray.uniform([2, count], key: jitter, dtype: dtype)) / Double(count)).mT
}
// Collocation points in [0, 1] × [−1, 1], the data points among them (as the paper's code).
let hypercube = latinHypercube(collocationCount, strata: keyStrata, jitter: keyJitter)
let collocationT = concat([hypercube[.all, 0], dataT])
let collocationX = concat([2 * hypercube[.all, 1] - 1, dataX])

/// The mean squared misfit at the data points plus the mean squared residual `f` (at the
/// collocation points).
func loss(_ network: Network, residual f: NDArray) -> NDArray {
    let misfit = u(network, dataT, dataX) - dataU
    return (misfit * misfit).mean() + (f * f).mean()
}

var network = initialNetwork(key: keyNetwork)
let parameterCount = network.leaves.map(\.count).reduce(0, +)
print("network \(widths.map(String.init).joined(separator: "-")) (\(parameterCount) parameters), \(dataCount) initial and boundary points, \(collocationCount) collocation points")

// The two routes to the residual agree (at the first 64 collocation points, untrained weights).
let probeT = collocationT.narrow(dim: 0, start: 0, length: 64), probeX = collocationX.narrow(dim: 0, start: 0, length: 64)
let routeGap = (try residual(network, probeT, probeX) - residualOverPoints(network, stack([probeT, probeX], dim: 1))).abs().max().item()
check(routeGap < 1e-12, "the residual by the forward Laplacian in x equals the one by the operators over (t, x) (gap \(routeGap))")

// MARK: - Training

// The training step, and the same with the residual by the operators over (t, x), timed.
let objective = jit(valueAndGrad { (network: Network) in loss(network, residual: try residual(network, collocationT, collocationX)) })
let collocationPoints = stack([collocationT, collocationX], dim: 1)
let objectiveOverPoints = jit(valueAndGrad { (network: Network) in
    loss(network, residual: try residualOverPoints(network, collocationPoints))
})
let stepTime = try medianTime { _ = try objective(network) }
let stepTimeOverPoints = try medianTime { _ = try objectiveOverPoints(network) }
print(String(format: "value and gradient of the loss: %.0f ms (forward Laplacian in x, jvp in t), %.0f ms (valueGradientAndLaplacian and hessianDiagonal over (t, x))",
             stepTime * 1e3, stepTimeOverPoints * 1e3))

/// ‖u_θ − u‖ / ‖u‖ over the grid.
func relativeError(_ network: Network) -> Double { ((u(network, tGrid, xGrid) - exact).norm() / exact.norm()).item() }

var adamCurve: [(Double, Double)] = [], lbfgsCurve: [(Double, Double)] = []
start = now()
var adam = FunctionalAdam<Network>(learningRate: 1e-3)
for step in 1...adamSteps {
    let (value, gradient) = try objective(network)
    network = adam.step(network, gradient)
    adamCurve.append((Double(step), value.item()))
    if step % (adamSteps / 5) == 0 {
        print(String(format: "Adam   step %5d  loss %.3e  error %.2e  %6.1f s", step, value.item(), relativeError(network), now() - start))
    }
}
let adamTime = now() - start

// L-BFGS as the paper runs it (SciPy's, history 50): one long run until the gradient or the
// change in the loss is negligible, or the budget of evaluations is spent. The curve records the
// best loss after each evaluation, line-search trials included.
var solver = LBFGSState(maxIter: lbfgsEvaluations, maxEval: lbfgsEvaluations, toleranceGrad: 1e-9,
                        toleranceChange: Double.ulpOfOne, historySize: 50, lineSearch: .strongWolfe)
var (best, bestNetwork) = (Double.infinity, network)
(network, _) = try solver.step(network) { candidate in
    let (value, gradient) = try objective(candidate)
    if value.item() < best { (best, bestNetwork) = (value.item(), candidate) }
    lbfgsCurve.append((Double(adamSteps + lbfgsCurve.count + 1), best))
    if lbfgsCurve.count % (lbfgsEvaluations / 10) == 0 {
        print(String(format: "L-BFGS eval  %5d  loss %.3e  error %.2e  %6.1f s", lbfgsCurve.count, best, relativeError(bestNetwork), now() - start))
    }
    return (value, gradient)
}
let trainingTime = now() - start
let stopped = solver.evaluations >= lbfgsEvaluations ? "the budget spent" : "stopped by its tolerances"
print(String(format: "trained in %.1f s (%.1f min): %d Adam steps (%.1f s), then %d L-BFGS iterations, %d evaluations (", trainingTime,
             trainingTime / 60, adamSteps, adamTime, solver.iterations, solver.evaluations) + stopped + String(format: "); loss %.3e", best))

// MARK: - Accuracy against the Cole–Hopf solution

let predicted = u(network, tGrid, xGrid)
let finalError = ((predicted - exact).norm() / exact.norm()).item()
print(String(format: "relative L2 error over the %d × %d grid: %.2e after %.1f s (%.1f min) of training on this machine (the paper: 6.7e-4, with 9 layers of 20 tanh units, N_u = 100, N_f = 10,000, L-BFGS)",
             gridT, gridX, finalError, trainingTime, trainingTime / 60))

// Pictures as the paper draws them: u over (t, x), t across and x up, then u(x) at three times.
let lossFigure = Figure(Plot(title: "Burgers PINN training loss", x: Axis("iteration (Adam steps, then L-BFGS evaluations)"),
                             y: Axis("loss (data MSE + residual MSE)", scale: .log),
                             series: [.line("Adam", points: adamCurve), .line("L-BFGS, best so far", points: lbfgsCurve)]))
let lossPath = try writeSVG(lossFigure, named: "Burgers-loss.svg")
let (tValues, xValues) = (ts.doubles, xs.doubles)
let values = (predicted: predicted.doubles, error: (predicted - exact).doubles, exact: exact.doubles)
let solutionFigure = Figure(title: "u_t + u·u_x = (0.01/π)·u_xx, u(0, x) = −sin(πx)", panels: [
    Plot(title: "network solution", x: Axis("time t"), y: Axis("position x"),
         heatMap: HeatMap(x: tValues, y: xValues, title: "u_θ(t, x)", colorMap: .diverging) { i, j in values.predicted[i * gridX + j] }),
    Plot(title: "error against the Cole–Hopf solution", x: Axis("time t"), y: Axis("position x"),
         heatMap: HeatMap(x: tValues, y: xValues, title: "u_θ − u", colorMap: .diverging) { i, j in values.error[i * gridX + j] }),
], columns: 1, panelWidth: 720, panelHeight: 300)
let solutionPath = try writeSVG(solutionFigure, named: "Burgers-solution.svg")
let slicePanels = [25, 50, 75].map { ti in
    Plot(title: String(format: "t = %.2f", tValues[ti]), x: Axis("position x"), y: Axis("u(t, x)", limits: -1.1...1.1),
         series: [.line("Cole–Hopf", x: xValues, y: Array(values.exact[(ti * gridX)..<((ti + 1) * gridX)]), color: .black),
                  .line("network", x: xValues, y: Array(values.predicted[(ti * gridX)..<((ti + 1) * gridX)]), dash: .dashed,
                        color: Palette.color(1))])
}
let slicesPath = try writeSVG(Figure(title: "u(t, x) at three times: the shock at x = 0", panels: slicePanels,
                                     panelWidth: 380, panelHeight: 320, sharedLegend: true), named: "Burgers-slices.svg")
print("pictures:", lossPath, solutionPath, slicesPath)

check(best < adamCurve[0].1 / 10, "training reduces the loss tenfold")
if !quickRun { check(finalError <= 1e-3, "relative L2 error 1e-3 or better") }
print("Burgers complete.")
