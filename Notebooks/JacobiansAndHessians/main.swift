// Jacobians and Hessians: `jacrev` and `jacfwd` compute the same matrix by different sweeps.
// Reverse mode costs one backward pass per output, forward mode one forward pass per input —
// so `jacrev` wins for wide functions (few outputs, many inputs) and `jacfwd` for tall ones.
// Both are batched with vmap, so "one pass per row" is one batched pass. Then Hessians
// (forward over reverse), Hessian-vector products without the Hessian, and a batch of
// Hessians with vmap.
//
// Run: swift run -c release JacobiansAndHessians [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Fluxion
import NotebookSupport

let repetitions = quickRun ? 3 : 10
func milliseconds(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }

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

// Hessian-vector products cost about two gradients and never form the matrix.
let v = NDArray.normal([n], key: RandomKey(seed: 5), dtype: .float64)
let hv = try hvp(energy, at: point, v: v)
let hvError = (hv - matmul(exactHessian, v)).abs().max().item()
print("hvp: max error \(hvError), time \(milliseconds(try medianTime(repetitions: repetitions) { _ = try hvp(energy, at: point, v: v) }))")
check(hvError < 1e-12, "H·v without H")

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

print("JacobiansAndHessians complete.")
