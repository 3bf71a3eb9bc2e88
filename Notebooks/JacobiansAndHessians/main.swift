// Jacobians and Hessians: `jacrev` and `jacfwd` compute the same matrix by different sweeps.
// Reverse mode costs one backward pass per output, forward mode one forward pass per input —
// so `jacrev` wins for wide functions (few outputs, many inputs) and `jacfwd` for tall ones.
// Both are batched with vmap, so "one pass per row" is one batched pass.
//
// The notebook builds a Jacobian from vector-Jacobian products first (a loop of vjps, then the
// same with vmap, which is what jacrev does), takes Jacobians with respect to several
// arguments, times the two modes on wide and tall functions, computes Hessians (forward over
// reverse) with respect to one argument and to several, batches of Jacobians and Hessians
// with vmap, and Hessian-vector products without the Hessian — each checked against a closed
// form or another route.
//
// Run: swift run -c release JacobiansAndHessians [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Fluxion
import NotebookSupport

let repetitions = quickRun ? 3 : 10
func milliseconds(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }
/// The largest absolute difference between two arrays of one shape.
func maxDifference(_ a: NDArray, _ b: NDArray) -> Double {
    check(a.shape == b.shape, "compared arrays have one shape (\(a.shape) and \(b.shape))")
    return (a - b).abs().max().item()
}

// MARK: - A Jacobian from vector-Jacobian products

// A linear layer with tanh: y = tanh(W x + b), for one input x [D] or a batch [B, D].
func predict(_ weight: NDArray, _ bias: NDArray, _ x: NDArray) -> NDArray {
    tanh(matmul(x, weight.T) + bias)
}
let d = 16
let keys = RandomKey(seed: 10).split(into: 4)
let weight = NDArray.normal([d, d], key: keys[0], dtype: .float64) / Double(d).squareRoot()
let bias = NDArray.normal([d], key: keys[1], dtype: .float64)
let x = NDArray.normal([d], key: keys[2], dtype: .float64)
let y = predict(weight, bias, x)
let slope = 1 - y * y                                       // tanh′(W x + b)
// ∂yᵢ/∂xₖ = (1 − yᵢ²) Wᵢₖ.
let exactInputJacobian = slope.unsqueeze(1) * weight

// vjp runs the function once and returns its pullback u ↦ uᵀJ. Pulling back each unit vector
// gives the Jacobian row by row.
let (_, pullback) = try vjp({ predict(weight, bias, $0) }, at: x)
let unitVectors = NDArray.eye(d, dtype: .float64)
let rowByRow = stack(try (0..<d).map { try pullback(unitVectors[$0]) })
// vmap runs the d pullbacks as one batched backward pass — and that is jacrev.
let batchedRows = try vmap(pullback)(unitVectors)
let viaJacrev = try jacrev(predict, argnums: .third)(weight, bias, x)
print("Jacobian of tanh(Wx + b) in x, \(viaJacrev.shape): loop of vjp, vmap of vjp and jacrev differ from the closed form by",
      maxDifference(rowByRow, exactInputJacobian), maxDifference(batchedRows, exactInputJacobian), maxDifference(viaJacrev, exactInputJacobian))
check(maxDifference(rowByRow, exactInputJacobian) < 1e-15 && maxDifference(batchedRows, rowByRow) == 0
      && maxDifference(viaJacrev, rowByRow) == 0, "a loop of vjps, vmap of the vjp and jacrev give diag(1 − y²) W")

// MARK: - Jacobians with respect to several arguments

// argnums picks the arguments; the result is a tuple of blocks, each of shape output shape +
// argument shape: ∂yᵢ/∂Wⱼₖ = δᵢⱼ (1 − yᵢ²) xₖ and ∂yᵢ/∂bⱼ = δᵢⱼ (1 − yᵢ²).
let (jWeight, jBias) = try jacrev(predict, argnums: .firstAndSecond)(weight, bias, x)
let identity = NDArray.eye(d, dtype: .float64)
let exactWeightJacobian = (identity * slope.unsqueeze(1)).unsqueeze(2) * x.reshape([1, 1, d])
let exactBiasJacobian = identity * slope.unsqueeze(1)
print("∂y/∂W \(jWeight.shape), ∂y/∂b \(jBias.shape): errors", maxDifference(jWeight, exactWeightJacobian), maxDifference(jBias, exactBiasJacobian))
check(maxDifference(jWeight, exactWeightJacobian) < 1e-15 && maxDifference(jBias, exactBiasJacobian) < 1e-15,
      "the Jacobians in W and b have their closed forms")
let (jWeightForward, jBiasForward) = try jacfwd(predict, argnums: .firstAndSecond)(weight, bias, x)
check(maxDifference(jWeightForward, jWeight) < 1e-15 && maxDifference(jBiasForward, jBias) < 1e-15, "jacfwd agrees with jacrev")

// For a function of two arguments, `.both` selects both: here the weights and the input.
let (jWeight2, jInput2) = try jacrev({ (w: NDArray, x: NDArray) in predict(w, bias, x) }, argnums: .both)(weight, x)
check(maxDifference(jWeight2, jWeight) == 0 && maxDifference(jInput2, viaJacrev) == 0, ".both gives the W and x blocks")

// MARK: - jacrev against jacfwd on wide and tall functions

// A layer f(x) = tanh(W x) with W of shape outputs × inputs.
func layer(_ w: NDArray) -> (NDArray) -> NDArray { { x in tanh(matmul(w, x)) } }

// Its Jacobian in closed form: diag(1 − tanh²(Wx)) · W.
func exactJacobian(_ w: NDArray, _ x: NDArray) -> NDArray {
    let y = tanh(matmul(w, x))
    return (1 - y * y).unsqueeze(1) * w
}

for (name, outputs, inputs) in [("wide", 16, 1024), ("tall", 1024, 16)] {
    let w = NDArray.normal([outputs, inputs], key: RandomKey(seed: 1), dtype: .float64) / Double(inputs).squareRoot()
    let x = NDArray.normal([inputs], key: RandomKey(seed: 2), dtype: .float64)
    let f = layer(w)
    let reverse = try jacrev(f)(x)
    let forward = try jacfwd(f)(x)
    let exact = exactJacobian(w, x)
    let errorReverse = (reverse - exact).abs().max().item()
    let errorForward = (forward - exact).abs().max().item()
    let timeReverse = try medianTime(repetitions: repetitions) { _ = try jacrev(f)(x) }
    let timeForward = try medianTime(repetitions: repetitions) { _ = try jacfwd(f)(x) }
    print("\(name) \(outputs)×\(inputs): jacrev \(milliseconds(timeReverse)), jacfwd \(milliseconds(timeForward)); shape \(reverse.shape); max error \(errorReverse), \(errorForward)")
    check(reverse.shape == [outputs, inputs] && errorReverse < 1e-12 && errorForward < 1e-12, "both Jacobians are exact")
}

// MARK: - Hessians

// The Hessian of f(x) = Σ tanh(A x) + ½ Σ x²: Aᵀ diag(−2 tanh(Ax)(1 − tanh²(Ax))) A + I.
let n = 64
let a = NDArray.normal([n, n], key: RandomKey(seed: 3), dtype: .float64) / Double(n).squareRoot()
let energy = { (x: NDArray) in tanh(matmul(a, x)).sum() + 0.5 * (x * x).sum() }
let point = NDArray.normal([n], key: RandomKey(seed: 4), dtype: .float64)
let h = try hessian(energy)(point)
let t = tanh(matmul(a, point))
let exactHessian = matmul(a.T, (-2 * t * (1 - t * t)).unsqueeze(1) * a) + NDArray.eye(n, dtype: .float64)
let hessianError = (h - exactHessian).abs().max().item()
let asymmetry = (h - h.T).abs().max().item()
print("hessian \(h.shape): max error \(hessianError), asymmetry \(asymmetry), time \(milliseconds(try medianTime(repetitions: repetitions) { _ = try hessian(energy)(point) }))")
check(hessianError < 1e-12 && asymmetry < 1e-12, "the Hessian is exact and symmetric")

// The Hessian of a vector-valued function of several arguments, with respect to one of them:
// one Hessian per output, shape output + x + x, with ∂²yᵢ/∂xₖ∂xₗ = −2 yᵢ(1 − yᵢ²) Wᵢₖ Wᵢₗ.
let inputHessian = try hessian(predict, argnums: .third)(weight, bias, x)
let exactInputHessian = (-2 * y * slope).reshape([d, 1, 1]) * weight.unsqueeze(2) * weight.unsqueeze(1)
print("hessian of tanh(Wx + b) in x: \(inputHessian.shape), max error", maxDifference(inputHessian, exactInputHessian))
check(maxDifference(inputHessian, exactInputHessian) < 1e-15, "each output's Hessian in x")
// hessian is forward over reverse; reverse over reverse and forward over forward agree.
let reverseReverse = try jacrev(jacrev(predict, argnums: .third), argnums: .third)(weight, bias, x)
let forwardForward = try jacfwd(jacfwd(predict, argnums: .third), argnums: .third)(weight, bias, x)
check(maxDifference(reverseReverse, inputHessian) < 1e-15 && maxDifference(forwardForward, inputHessian) < 1e-15,
      "jacrev∘jacrev and jacfwd∘jacfwd give the same Hessian")

// With respect to several arguments: the Hessian of the squared error L(W, b) = ½‖y − target‖²
// comes in blocks, one row per selected argument: [(∂²L/∂W², ∂²L/∂W∂b), (∂²L/∂b∂W, ∂²L/∂b²)].
// With gᵢ = (1 − yᵢ²)((1 − yᵢ²) − 2yᵢ(yᵢ − targetᵢ)), every block is diagonal in the output
// unit: ∂²L/∂bᵢ∂bⱼ = δᵢⱼ gᵢ, ∂²L/∂Wᵢₖ∂bⱼ = δᵢⱼ gᵢ xₖ, ∂²L/∂Wᵢₖ∂Wⱼₗ = δᵢⱼ gᵢ xₖ xₗ.
let target = NDArray.normal([d], key: keys[3], dtype: .float64)
func squaredError(_ w: NDArray, _ b: NDArray) -> NDArray { 0.5 * ((predict(w, b, x) - target) ** 2).sum() }
let blocks = try hessian(squaredError, argnums: .both)(weight, bias)
let g = slope * (slope - 2 * y * (y - target))
let exactBB = identity * g.unsqueeze(1)                                                  // [i, j]
let exactWB = exactBB.unsqueeze(1) * x.reshape([1, d, 1])                                // [i, k, j]
let exactWW = exactBB.reshape([d, 1, d, 1]) * x.reshape([1, d, 1, 1]) * x.reshape([1, 1, 1, d])  // [i, k, j, l]
print("hessian of ½‖y − target‖² in (W, b): blocks", blocks[0].0.shape, blocks[0].1.shape, blocks[1].0.shape, blocks[1].1.shape)
check(blocks.count == 2 && maxDifference(blocks[0].0, exactWW) < 1e-14 && maxDifference(blocks[0].1, exactWB) < 1e-14
      && maxDifference(blocks[1].0, exactWB.permute([2, 0, 1])) < 1e-14 && maxDifference(blocks[1].1, exactBB) < 1e-14,
      "the four blocks of the Hessian in (W, b)")

// MARK: - Batches of Jacobians and Hessians

// vmap over a batch of inputs, the parameters shared (nil): one Jacobian per example.
let batch = 64
let xs = NDArray.normal([batch, d], key: RandomKey(seed: 7), dtype: .float64)
let batchJacobian = try vmap(jacrev(predict, argnums: .third), inAxes: (nil, nil, 0))(weight, bias, xs)
let ys = predict(weight, bias, xs)
let exactBatchJacobian = (1 - ys * ys).unsqueeze(2) * weight.unsqueeze(0)
print("vmap(jacrev): \(batchJacobian.shape), max error", maxDifference(batchJacobian, exactBatchJacobian))
check(maxDifference(batchJacobian, exactBatchJacobian) < 1e-15, "a batch of Jacobians")
// Without vmap: examples do not interact, so the Jacobian of the batch's outputs summed over
// the batch is the same stack of Jacobians, with the batch axis second.
let summed = try jacrev({ (xs: NDArray) in predict(weight, bias, xs).sum(dim: 0) })(xs)
check(maxDifference(summed.movedim(source: 1, destination: 0), batchJacobian) < 1e-15, "the summed-output trick gives the same batch")

// A batch of Hessians: vmap over points of the Hessian of one function — for g(x) = Σ xᵢ⁴
// each is diag(12 x²).
let points = NDArray.normal([8, 5], key: RandomKey(seed: 6), dtype: .float64)
let quartic = { (x: NDArray) in (x ** 4).sum() }
let hessians = try vmap(hessian(quartic))(points)
print("vmap(hessian): \(hessians.shape)")
for i in 0..<8 {
    let expected = NDArray.eye(5, dtype: .float64) * (12 * points[i] ** 2).unsqueeze(0)
    check((hessians[i] - expected).abs().max().item() < 1e-10, "Hessian \(i) is diag(12x²)")
}
let loopTime = try medianTime(repetitions: repetitions) { for i in 0..<8 { _ = try hessian(quartic)(points[i]) } }
let batchedTime = try medianTime(repetitions: repetitions) { _ = try vmap(hessian(quartic))(points) }
print("8 Hessians: loop \(milliseconds(loopTime)), vmap \(milliseconds(batchedTime))")

// And per example of the layer: vmap of its Hessian in x.
let batchHessian = try vmap(hessian(predict, argnums: .third), inAxes: (nil, nil, 0))(weight, bias, xs)
let exactBatchHessian = (-2 * ys * (1 - ys * ys)).reshape([batch, d, 1, 1]) * (weight.unsqueeze(2) * weight.unsqueeze(1)).unsqueeze(0)
print("vmap(hessian) of the layer: \(batchHessian.shape), max error", maxDifference(batchHessian, exactBatchHessian))
check(maxDifference(batchHessian, exactBatchHessian) < 1e-15, "a batch of the layer's Hessians")

// MARK: - Hessian-vector products

// hvp is forward over reverse — the directional derivative of the gradient — and costs about
// two gradients without forming the matrix.
let v = NDArray.normal([n], key: RandomKey(seed: 5), dtype: .float64)
let hv = try hvp(energy, at: point, v: v)
let hvError = (hv - matmul(exactHessian, v)).abs().max().item()
print("hvp: max error \(hvError), time \(milliseconds(try medianTime(repetitions: repetitions) { _ = try hvp(energy, at: point, v: v) }))")
check(hvError < 1e-12, "H·v without H")
check(maxDifference(hv, matmul(h, v)) < 1e-12, "hvp equals the computed Hessian times v")
// Reverse over reverse: the pullback of the gradient, applied to v (H is symmetric, so vᵀH = Hv).
let (_, gradientPullback) = try vjp(grad(energy), at: point)
let hvReverse = try gradientPullback(v)
print("reverse over reverse: max difference from hvp", maxDifference(hvReverse, hv),
      " time", milliseconds(try medianTime(repetitions: repetitions) { _ = try vjp(grad(energy), at: point).pullback(v) }))
check(maxDifference(hvReverse, hv) < 1e-12, "forward over reverse equals reverse over reverse")

// For f(x) = Σ sin x the Hessian is diag(−sin x), so H·v = −sin(x)·v.
let sines = { (x: NDArray) in sin(x).sum() }
check(maxDifference(try hvp(sines, at: point, v: v), -sin(point) * v) < 1e-15, "H·v of Σ sin x is −sin(x)·v")

print("JacobiansAndHessians complete.")
