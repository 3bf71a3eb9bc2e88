// A physics-informed neural network for the Poisson problem on the unit square:
//
//     −Δu = 2π² sin(πx) sin(πy)  in (0, 1)²,     u = 0 on the boundary,
//
// whose solution is u = sin(πx) sin(πy). An MLP u_θ(x, y) is trained on the mean squared
// residual of the equation at collocation points plus the mean squared boundary values: Adam
// first, then L-BFGS to a tight residual, as PINN practice does. The Laplacian of the network at
// each point comes from `laplacian` — the forward Laplacian, one forward pass carrying the two
// directional derivatives and the running Laplacian through the network, where the trace of
// `hessian` would form each point's 2×2 Hessian by reverse passes under a forward one (the
// notebook checks that both agree) — and the training gradient is `grad` of all that with
// respect to the parameters: derivatives of third order, staged once by `jit`.
//
// Run: swift run -c release PINN [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Foundation
import Fluxion
import FluxionNN
import NotebookSupport

typealias Parameters = [String: NDArray]

let hidden = 32
let steps = quickRun ? 600 : 4000
let lbfgsRounds = quickRun ? 5 : 40
let dtype = DType.float64

// The network: 2 → hidden → hidden → 1 with tanh, weights N(0, 1/fan_in).
func initialParameters(key: RandomKey) -> Parameters {
    let keys = key.split(into: 3)
    func weight(_ k: RandomKey, _ inputs: Int, _ outputs: Int) -> NDArray {
        NDArray.normal([inputs, outputs], key: k, dtype: dtype) / Double(inputs).squareRoot()
    }
    return ["w0": weight(keys[0], 2, hidden), "b0": NDArray.zeros([hidden], dtype: dtype),
            "w1": weight(keys[1], hidden, hidden), "b1": NDArray.zeros([hidden], dtype: dtype),
            "w2": weight(keys[2], hidden, 1), "b2": NDArray.zeros([1], dtype: dtype)]
}

/// u_θ at points of shape [..., 2].
func network(_ p: Parameters, _ points: NDArray) -> NDArray {
    let h0 = tanh(matmul(points, p["w0"]!) + p["b0"]!)
    let h1 = tanh(matmul(h0, p["w1"]!) + p["b1"]!)
    return (matmul(h1, p["w2"]!) + p["b2"]!).squeeze(dim: -1)
}

/// Δu_θ at each of `points` [n, 2], by the forward Laplacian.
func networkLaplacian(_ p: Parameters, _ points: NDArray) throws -> NDArray {
    try laplacian({ (point: NDArray) in network(p, point) }, batched: true)(points)
}

/// The same Laplacian as the trace of each point's Hessian (forward over reverse), for comparison.
func hessianTraces(_ p: Parameters, _ points: NDArray) throws -> NDArray {
    try vmap({ (point: NDArray) in try hessian({ network(p, $0) })(point).trace() })(points)
}

func source(_ points: NDArray) -> NDArray {
    2 * Double.pi * Double.pi * sin(Double.pi * points[.all, 0]) * sin(Double.pi * points[.all, 1])
}

func exact(_ points: NDArray) -> NDArray { sin(Double.pi * points[.all, 0]) * sin(Double.pi * points[.all, 1]) }

// Collocation points: a jittered 16×16 grid inside, 32 points on each side of the boundary.
let (keyInterior, keyBoundary, keyInit) = { () -> (RandomKey, RandomKey, RandomKey) in
    let k = RandomKey(seed: 0).split(into: 3)
    return (k[0], k[1], k[2])
}()
/// The points (i·step + offset, j·step + offset) for i, j < n, as an [n², 2] array.
func gridPoints(_ n: Int, step: Double, offset: Double) -> NDArray {
    var coordinates: [Double] = []
    for i in 0..<n {
        for j in 0..<n { coordinates += [Double(i) * step + offset, Double(j) * step + offset] }
    }
    return NDArray(shape: [n * n, 2], scalars: coordinates, dtype: dtype)
}
let jitter = NDArray.uniform([256, 2], low: -0.5 / 16, high: 0.5 / 16, key: keyInterior, dtype: dtype)
let interior = gridPoints(16, step: 1.0 / 16, offset: 0.5 / 16) + jitter
let t = NDArray.uniform([32], key: keyBoundary, dtype: dtype)
let zeros = NDArray.zeros([32], dtype: dtype), ones = NDArray.ones([32], dtype: dtype)
let boundary = concat([stack([t, zeros], dim: 1), stack([t, ones], dim: 1), stack([zeros, t], dim: 1), stack([ones, t], dim: 1)])
let sourceValues = source(interior)

func loss(_ p: Parameters) throws -> NDArray {
    let residual = try networkLaplacian(p, interior) + sourceValues
    let edge = network(p, boundary)
    return (residual * residual).mean() + 10 * (edge * edge).mean()
}

// The two Laplacians agree, and the forward one is cheaper.
var parameters = initialParameters(key: keyInit)
let forwardLaplacian = try networkLaplacian(parameters, interior), traces = try hessianTraces(parameters, interior)
let disagreement = ((forwardLaplacian - traces).abs().max() / traces.abs().max()).item()
let forwardTime = try medianTime { _ = try networkLaplacian(parameters, interior) }
let hessianTime = try medianTime { _ = try hessianTraces(parameters, interior) }
print(String(format: "Laplacian at %d points: forward Laplacian %.2f ms, trace of the Hessian %.2f ms, largest relative difference %.1e",
             interior.shape[0], forwardTime * 1e3, hessianTime * 1e3, disagreement))
check(disagreement < 1e-12, "the forward Laplacian equals the Hessian's trace")

// Training: Adam, the learning rate decaying exponentially from 3e-3 to 1e-4; the loss and its
// gradient staged once by jit.
var adam = FunctionalAdam<Parameters>(learningRate: 3e-3)
let lossAndGrad = jit(valueAndGrad(loss))
var curve: [(Double, Double)] = []
let start = now()
for step in 1...steps {
    adam.learningRate = 3e-3 * pow(1e-4 / 3e-3, Double(step - 1) / Double(steps))
    let (value, gradient) = try lossAndGrad(parameters)
    parameters = adam.step(parameters, gradient)
    curve.append((Double(step), value.item()))
    if step == 1 || step % (steps / 10) == 0 {
        print(String(format: "Adam step %5d  loss %.3e  %.1f s", step, value.item(), now() - start))
    }
}
let adamLoss = curve.last!.1

// Then L-BFGS with a strong-Wolfe line search (torch.optim.LBFGS's algorithm), up to 50
// iterations per round, on the same jitted loss and gradient.
var lbfgs = LBFGSState(maxIter: 50, toleranceGrad: 1e-9, toleranceChange: 1e-12, historySize: 50, lineSearch: .strongWolfe)
for round in 1...lbfgsRounds {
    let before = lbfgs.iterations
    (parameters, _) = try lbfgs.step(parameters, objective: lossAndGrad)
    let value = try lossAndGrad(parameters).value.item()
    curve.append((Double(steps + lbfgs.iterations), value))
    if round == 1 || round % max(1, lbfgsRounds / 8) == 0 {
        print(String(format: "L-BFGS %4d iterations  loss %.3e  %.1f s", lbfgs.iterations, value, now() - start))
    }
    if lbfgs.iterations == before { break }   // converged: no further iteration was taken
}
print(String(format: "loss: %.3e after Adam, %.3e after %d L-BFGS iterations", adamLoss, curve.last!.1, lbfgs.iterations))

// Accuracy on a 41×41 grid covering the square, boundary included.
let n = 41
let test = gridPoints(n, step: 1.0 / Double(n - 1), offset: 0)
let predicted = network(parameters, test), truth = exact(test)
let relativeError = ((predicted - truth).norm() / truth.norm()).item()
print(String(format: "relative L2 error against sin(πx) sin(πy): %.2e (%d Adam steps, %d L-BFGS iterations, %.1f s)",
             relativeError, steps, lbfgs.iterations, now() - start))

let lossFigure = adamThenLBFGSLossFigure(title: "PINN training loss", curve: curve, adamSteps: steps,
                                         loss: "loss (residual MSE + 10 · boundary MSE)")
let lossPath = try writeSVG(lossFigure, named: "PINN-loss.svg")
let solutionFigure = solutionAndErrorFigure(title: "−Δu = 2π² sin(πx) sin(πy) on the unit square", axes: ("x", "y"),
                                            coordinates: (0..<n).map { Double($0) / Double(n - 1) },
                                            solution: predicted.doubles, solutionLabel: "u_θ(x, y)", error: (predicted - truth).doubles,
                                            errorTitle: "error against sin(πx) sin(πy)", errorLabel: "u_θ − u")
let solutionPath = try writeSVG(solutionFigure, named: "PINN-solution.svg")
print("pictures:", lossPath, solutionPath)

check(curve.last!.1 < curve.first!.1 / 10, "training reduces the loss tenfold")
check(curve.last!.1 <= adamLoss, "L-BFGS does not end above where Adam left the loss")
check(relativeError < (quickRun ? 0.5 : 1e-3), "relative L2 error below \(quickRun ? 0.5 : 1e-3)")
print("PINN complete.")
