// A Poisson problem in eight dimensions, where nesting transforms becomes painful:
//
//     −Δu = (π²/d) Σᵢ sin(πxᵢ)   in (0, 1)ᵈ,     u = u* on the boundary,
//
// with the solution u*(x) = (1/d) Σᵢ sin(πxᵢ). A PINN needs Δu_θ at thousands of points inside
// a loss that is differentiated with respect to the weights. As the trace of each point's
// Hessian (`vmap` of `hessian`), that is a d×d Hessian per point, built by d reverse passes
// under a forward one, and the gradient differentiates all of it again. `laplacian` — the
// forward Laplacian — carries the d directional derivatives and the running Laplacian through
// one forward pass instead. The notebook first times one jitted loss-and-gradient step both ways
// for d = 2, 4, 8 (the cost grows more slowly the forward way), then trains the d = 8 network
// with the forward Laplacian (Adam, then L-BFGS) and draws a two-dimensional slice of the
// solution and its error.
//
// Run: swift run -c release HighDimensionalPoisson [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails.

import Foundation
import Fluxion
import FluxionNN
import NotebookSupport

typealias Parameters = [String: NDArray]

let dimension = quickRun ? 4 : 8
let hidden = 48
let adamSteps = quickRun ? 300 : 3000
let lbfgsRounds = quickRun ? 2 : 30
let dtype = DType.float64

/// A d → hidden → hidden → 1 tanh network, weights N(0, 1/fan_in).
func initialParameters(inputs d: Int, key: RandomKey) -> Parameters {
    let keys = key.split(into: 3)
    func weight(_ k: RandomKey, _ inputs: Int, _ outputs: Int) -> NDArray {
        NDArray.normal([inputs, outputs], key: k, dtype: dtype) / Double(inputs).squareRoot()
    }
    return ["w0": weight(keys[0], d, hidden), "b0": NDArray.zeros([hidden], dtype: dtype),
            "w1": weight(keys[1], hidden, hidden), "b1": NDArray.zeros([hidden], dtype: dtype),
            "w2": weight(keys[2], hidden, 1), "b2": NDArray.zeros([1], dtype: dtype)]
}

/// u_θ at points of shape [..., d].
func network(_ p: Parameters, _ points: NDArray) -> NDArray {
    let h0 = tanh(matmul(points, p["w0"]!) + p["b0"]!)
    let h1 = tanh(matmul(h0, p["w1"]!) + p["b1"]!)
    return (matmul(h1, p["w2"]!) + p["b2"]!).squeeze(dim: -1)
}

/// u*(x) = (1/d) Σᵢ sin(πxᵢ) at points [n, d].
func exact(_ points: NDArray) -> NDArray { sin(Double.pi * points).mean(dim: 1) }

/// −Δu* = (π²/d) Σᵢ sin(πxᵢ).
func source(_ points: NDArray) -> NDArray { Double.pi * Double.pi * exact(points) }

/// `count` interior points uniform in (0, 1)ᵈ and `count / 4` on the faces (one coordinate set
/// to 0 or 1 at random).
func collocationPoints(_ d: Int, count: Int, key: RandomKey) -> (interior: NDArray, boundary: NDArray) {
    let keys = key.split(into: 4)
    let interior = NDArray.uniform([count, d], key: keys[0], dtype: dtype)
    let faces = count / 4
    let onFace = NDArray.uniform([faces, d], key: keys[1], dtype: dtype)
    // Row r gets coordinate r mod d pinned to 0 or 1.
    let which = NDArray(shape: [faces, d], scalars: (0..<faces * d).map { Double($0 % d == ($0 / d) % d ? 1 : 0) }, dtype: dtype)
    let side = (NDArray.uniform([faces, 1], key: keys[2], dtype: dtype) .> 0.5).to(dtype)
    return (interior, onFace * (1 - which) + side * which)
}

/// The PINN loss for points, with the Laplacian from `laplacianOf` (a function of the
/// parameters and the interior points).
func makeLoss(_ interior: NDArray, _ boundary: NDArray, laplacianOf: @escaping (Parameters, NDArray) throws -> NDArray)
    -> (Parameters) throws -> NDArray {
    let f = source(interior), g = exact(boundary)
    return { p in
        let residual = try laplacianOf(p, interior) + f
        let edge = network(p, boundary) - g
        return (residual * residual).mean() + 10 * (edge * edge).mean()
    }
}

let forwardLaplacian = { (p: Parameters, points: NDArray) throws -> NDArray in
    try laplacian({ network(p, $0) }, batched: true)(points)
}
let hessianTrace = { (p: Parameters, points: NDArray) throws -> NDArray in
    try vmap({ (x: NDArray) in try hessian({ network(p, $0) })(x).trace() })(points)
}

// One jitted loss-and-gradient step each way, as the dimension grows.
print("one jitted loss-and-gradient step, 1024 interior points:")
print("   d   forward Laplacian   Hessian trace   ratio")
for d in quickRun ? [2, 4] : [2, 4, 8] {
    let (interior, boundary) = collocationPoints(d, count: 1024, key: RandomKey(seed: UInt64(d)))
    let p = initialParameters(inputs: d, key: RandomKey(seed: 100))
    let forward = jit(valueAndGrad(makeLoss(interior, boundary, laplacianOf: forwardLaplacian)))
    let nested = jit(valueAndGrad(makeLoss(interior, boundary, laplacianOf: hessianTrace)))
    let (a, b) = (try forward(p), try nested(p))
    let gradientGap = zip(a.grad.leaves, b.grad.leaves).map { ($0 - $1).abs().max().item() }.max()!
    check(gradientGap < 1e-9 * max(1, a.value.item()), "both ways give the same gradient (d = \(d))")
    let tf = try medianTime { _ = try forward(p) }, tn = try medianTime { _ = try nested(p) }
    print(String(format: "%4d   %12.2f ms   %10.2f ms   %5.1f×", d, tf * 1e3, tn * 1e3, tn / tf))
}
// Timings are printed, not checked: five calls on a shared machine decide nothing (the
// benchmarks' W5 and W5d rows measure the same comparison properly).

// Training in `dimension` dimensions with the forward Laplacian.
let (interior, boundary) = collocationPoints(dimension, count: quickRun ? 512 : 2048, key: RandomKey(seed: 7))
let lossAndGrad = jit(valueAndGrad(makeLoss(interior, boundary, laplacianOf: forwardLaplacian)))
var parameters = initialParameters(inputs: dimension, key: RandomKey(seed: 8))
var adam = FunctionalAdam<Parameters>(learningRate: 3e-3)
var curve: [(Double, Double)] = []
let start = now()
for step in 1...adamSteps {
    adam.learningRate = 3e-3 * pow(1e-4 / 3e-3, Double(step - 1) / Double(adamSteps))
    let (value, gradient) = try lossAndGrad(parameters)
    parameters = adam.step(parameters, gradient)
    curve.append((Double(step), value.item()))
    if step == 1 || step % (adamSteps / 5) == 0 {
        print(String(format: "Adam step %5d  loss %.3e  %.1f s", step, value.item(), now() - start))
    }
}
var lbfgs = LBFGSState(maxIter: 50, toleranceGrad: 1e-9, toleranceChange: 1e-12, historySize: 50, lineSearch: .strongWolfe)
for _ in 1...lbfgsRounds {
    let before = lbfgs.iterations
    (parameters, _) = try lbfgs.step(parameters, objective: lossAndGrad)
    curve.append((Double(adamSteps + lbfgs.iterations), try lossAndGrad(parameters).value.item()))
    if lbfgs.iterations == before { break }
}
print(String(format: "L-BFGS %d iterations  loss %.3e  %.1f s", lbfgs.iterations, curve.last!.1, now() - start))

// Accuracy at fresh points, and a slice through the middle of the cube: x₀ and x₁ vary, the
// other coordinates are ½.
let testPoints = NDArray.uniform([4096, dimension], key: RandomKey(seed: 9), dtype: dtype)
let truth = exact(testPoints)
let relativeError = ((network(parameters, testPoints) - truth).norm() / truth.norm()).item()
print(String(format: "relative L2 error at 4096 random points in %d dimensions: %.2e", dimension, relativeError))

let n = 41
var slice: [Double] = []
for i in 0..<n {
    for j in 0..<n { slice += [Double(i) / Double(n - 1), Double(j) / Double(n - 1)] + [Double](repeating: 0.5, count: dimension - 2) }
}
let slicePoints = NDArray(shape: [n * n, dimension], scalars: slice, dtype: dtype)
let predicted = network(parameters, slicePoints), sliceTruth = exact(slicePoints)
let lossFigure = adamThenLBFGSLossFigure(title: "Poisson in \(dimension) dimensions: training loss", curve: curve,
                                         adamSteps: adamSteps, loss: "loss (residual MSE + 10 · boundary MSE)")
let sliceFigure = solutionAndErrorFigure(
    title: "A slice of the \(dimension)-dimensional cube: x₀ and x₁ vary, the other \(dimension - 2) coordinates are ½", axes: ("x₀", "x₁"),
    coordinates: (0..<n).map { Double($0) / Double(n - 1) }, solution: predicted.doubles, solutionLabel: "u_θ(x)",
    error: (predicted - sliceTruth).doubles, errorTitle: "error against u*", errorLabel: "u_θ − u*")
let paths = [try writeSVG(lossFigure, named: "HighDimensionalPoisson-loss.svg"),
             try writeSVG(sliceFigure, named: "HighDimensionalPoisson-slice.svg")]
print("pictures:", paths.joined(separator: " "))

check(curve.last!.1 < curve.first!.1 / 10, "training reduces the loss tenfold")
check(relativeError < (quickRun ? 0.5 : 1e-2), "relative L2 error below \(quickRun ? 0.5 : 1e-2)")
print("HighDimensionalPoisson complete.")
