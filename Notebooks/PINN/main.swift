// A physics-informed neural network for the Poisson problem on the unit square:
//
//     −Δu = 2π² sin(πx) sin(πy)  in (0, 1)²,     u = 0 on the boundary,
//
// whose solution is u = sin(πx) sin(πy). An MLP u_θ(x, y) is trained with Adam on the mean
// squared residual of the equation at collocation points plus the mean squared boundary values.
// The Laplacian of the network at each point is the trace of its Hessian with respect to the
// point — `hessian` of the network as a function of (x, y), `vmap`ped over the points — and the
// training gradient is `grad` of all that with respect to the parameters: derivatives of third
// order, composed from the transforms.
//
// Run: swift run -c release PINN [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Foundation
import Fluxion
import NotebookSupport

typealias Parameters = [String: NDArray]

let hidden = 32
let steps = quickRun ? 600 : 8000
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

/// Δu_θ at each of `points` [n, 2]: the trace of the Hessian with respect to the point.
func laplacian(_ p: Parameters, _ points: NDArray) throws -> NDArray {
    let hessians = try vmap(hessian({ (point: NDArray) in network(p, point) }))(points)   // [n, 2, 2]
    return hessians[.all, 0, 0] + hessians[.all, 1, 1]
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
    let residual = try laplacian(p, interior) + sourceValues
    let edge = network(p, boundary)
    return (residual * residual).mean() + 10 * (edge * edge).mean()
}

// Training: Adam, the learning rate decaying exponentially from 3e-3 to 1e-4.
var parameters = initialParameters(key: keyInit)
var adam = FunctionalAdam<Parameters>(learningRate: 3e-3)
let lossAndGrad = valueAndGrad(loss)
var curve: [(Double, Double)] = []
let start = now()
for step in 1...steps {
    adam.learningRate = 3e-3 * pow(1e-4 / 3e-3, Double(step - 1) / Double(steps))
    let (value, gradient) = try lossAndGrad(parameters)
    parameters = adam.step(parameters, gradient)
    curve.append((Double(step), value.item()))
    if step == 1 || step % (steps / 10) == 0 {
        print(String(format: "step %5d  loss %.3e  %.1f s", step, value.item(), now() - start))
    }
}

// Accuracy on a 41×41 grid covering the square, boundary included.
let n = 41
let test = gridPoints(n, step: 1.0 / Double(n - 1), offset: 0)
let predicted = network(parameters, test), truth = exact(test)
let relativeError = ((predicted - truth).norm() / truth.norm()).item()
print(String(format: "relative L2 error against sin(πx) sin(πy): %.2e (%d steps, %.1f s)", relativeError, steps, now() - start))

let lossPath = try writeSVG(lineChart([("loss", curve)], title: "PINN training loss", logY: true), named: "PINN-loss.svg")
let rows = { (values: NDArray) in (0..<n).map { i in Array(values.doubles[(i * n)..<((i + 1) * n)]) } }
let solutionPath = try writeSVG(heatMap(rows(predicted), title: "u predicted"), named: "PINN-solution.svg")
let errorPath = try writeSVG(heatMap(rows((predicted - truth).abs()), title: "|u predicted − u exact|"), named: "PINN-error.svg")
print("pictures:", lossPath, solutionPath, errorPath)

check(curve.last!.1 < curve.first!.1 / 10, "training reduces the loss tenfold")
check(relativeError < (quickRun ? 0.5 : 1e-2), "relative L2 error below \(quickRun ? 0.5 : 1e-2)")
print("PINN complete.")
