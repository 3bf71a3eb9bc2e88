// A one-minute tour of Fluxion: arrays (creation, broadcasting, reductions, views, matrix
// products, linear algebra, random numbers), the function transforms (grad to any order,
// per-sample gradients with vmap, Jacobians and Hessians) and the PyTorch-style Tensor facade
// (backward, .grad, createGraph, noGrad) — each result printed the way PyTorch prints it, and
// checked.
//
// Run: swift run -c release Tour
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Fluxion
import NotebookSupport

// Arrays are immutable values. Swift floating-point data becomes float32, as in PyTorch.
let x = NDArray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print("x =", x)
check(x.shape == [2, 3] && x.dtype == .float32, "Swift doubles become a float32 array of shape [2, 3]")

// Arithmetic broadcasts like NumPy: a row vector meets every row.
let shifted = x - x.mean(dim: 0)
print("x - x.mean(dim: 0) =", shifted)
check(shifted.floats == [-1.5, -1.5, -1.5, 1.5, 1.5, 1.5], "subtracting the column means broadcasts over rows")

// Reductions take any dimensions, with keepDim.
let rowSums = x.sum(dim: 1, keepDim: true)
print("x.sum(dim: 1, keepDim: true) =", rowSums)
check(rowSums.shape == [2, 1] && rowSums.floats == [6, 15], "keepDim keeps a dimension of size 1")

// Transposes, slices and broadcasts are views: no copy is made.
let column = x[.all, 1]
print("x[.all, 1] =", column, "shares storage:", column.sharesStorage(with: x))
check(column.floats == [2, 5] && column.sharesStorage(with: x), "a column subscript is a view of x")

// "Updating" a copy gives it new storage; the original is untouched.
var y = x
y[0, 0..<2] = NDArray(0.0)
print("y =", y)
check(y.floats == [0, 0, 3, 4, 5, 6] && x.floats == [1, 2, 3, 4, 5, 6], "updating a copy leaves x untouched")

// Matrix products go to BLAS, transposes as flags.
let gram = matmul(x, x.T)
print("x · xᵀ =", gram)
check(gram.floats == [14, 32, 32, 77], "x · xᵀ is the Gram matrix of the rows")

// Linear algebra through LAPACK: solve a symmetric positive-definite system two ways.
let a = NDArray([[4.0, 2.0], [2.0, 3.0]], dtype: .float64)
let b = NDArray([2.0, 1.0], dtype: .float64)
let solution = solve(a, b)
let l = cholesky(a)
let viaCholesky = triangularSolve(l, triangularSolve(l, b), transpose: true)
print("solve(a, b) =", solution, " via Cholesky:", viaCholesky)
let residual = (matmul(a, solution) - b).abs().max().item()
check(residual < 1e-12 && (solution - viaCholesky).abs().max().item() < 1e-12, "solve and the Cholesky route agree and solve the system")
print("det(a) =", det(a), " eigenvalues:", eigh(a).values)
check(abs(det(a).item() - 8) < 1e-12, "det of [[4, 2], [2, 3]] is 8")

// Random numbers come from explicit keys: the same key gives the same numbers.
let key = RandomKey(seed: 42)
let (k1, k2) = key.split()
let noise = NDArray.normal([10_000], key: k1)
print("normal samples: mean", noise.mean().item(), "std", noise.std().item())
check(NDArray.normal([10_000], key: k1).floats == noise.floats, "the same key draws the same numbers")
check(abs(noise.mean().item()) < 0.05 && abs(noise.std().item() - 1) < 0.05, "10 000 standard normals have mean ≈ 0 and std ≈ 1")
print("uniform:", NDArray.uniform([4], key: k2))

// A softmax written with the array vocabulary, stable for large logits.
let logits = NDArray([[1000.0, 1001.0, 1002.0], [-1.0, 0.0, 1.0]])
let softmax = exp(logits - logits.logSumExp(dim: 1, keepDim: true))
print("softmax =", softmax)
// float32 keeps about 7 digits, so logits near 1000 agree with the small ones to ~1e-4.
check(abs(softmax.sum(dim: 1).floats[0] - 1) < 1e-4 && abs(softmax.floats[2] - softmax.floats[5]) < 1e-4, "softmax rows sum to 1 and shifted logits give the same probabilities")

// — Function transforms —

// grad turns a scalar function into its gradient: d(x² + 3x)/dx at 2 is 7.
func quadratic(_ x: NDArray) -> NDArray { x * x + 3 * x }
let slope = try grad(quadratic)(NDArray(2.0))
print("d(x² + 3x)/dx at 2 =", slope)
check(slope.item() == 7, "d(x² + 3x)/dx at 2 is 7")

// Transforms compose: the second and third derivatives of x³ at 2 are 12 and 6.
let cube = { (x: NDArray) in x ** 3 }
let second = try grad(grad(cube))(NDArray(2.0))
let third = try grad(grad(grad(cube)))(NDArray(2.0))
print("d²(x³)/dx² at 2 =", second, " d³(x³)/dx³ =", third)
check(second.item() == 12 && third.item() == 6, "the second and third derivatives of x³ at 2 are 12 and 6")

// Per-sample gradients: vmap over examples of grad over parameters. The parameters are
// shared (inAxes nil); inputs and targets are mapped along their first axis.
func loss(_ w: NDArray, _ input: NDArray, _ target: NDArray) -> NDArray {
    let prediction = tanh(matmul(input, w))
    return ((prediction - target) ** 2).sum()
}
let w = NDArray.normal([3], key: RandomKey(seed: 7), dtype: .float64)
let inputs = NDArray.normal([5, 3], key: RandomKey(seed: 8), dtype: .float64)
let targets = NDArray.normal([5], key: RandomKey(seed: 9), dtype: .float64)
let perSample = try vmap(grad(loss), inAxes: (nil, 0, 0))(w, inputs, targets)
print("per-sample gradients:", perSample)
for i in 0..<5 {
    let one = try grad(loss)(w, inputs[i], targets[i])
    check((perSample[i] - one).abs().max().item() < 1e-12, "example \(i)'s gradient equals grad of its own loss")
}
let batchGradient = try grad({ (w: NDArray) in loss(w, inputs, targets) })(w)
check((perSample.sum(dim: 0) - batchGradient).abs().max().item() < 1e-12, "per-sample gradients sum to the batch gradient")

// Jacobians by reverse and forward mode agree; their shape is output then input.
let m = NDArray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype: .float64)
let layer = { (x: NDArray) in tanh(matmul(m, x)) }
let point = NDArray([0.1, -0.2], dtype: .float64)
let jr = try jacrev(layer)(point), jf = try jacfwd(layer)(point)
print("jacrev =", jr)
check(jr.shape == [3, 2] && (jr - jf).abs().max().item() < 1e-12, "jacrev is 3×2 and equals jacfwd")

// A Hessian, forward over reverse: for Σ xᵢ³ it is diag(6x).
let h = try hessian({ ($0 ** 3).sum() })(NDArray([1.0, 2.0, 3.0], dtype: .float64))
print("hessian =", h)
check(h.doubles == [6, 0, 0, 0, 12, 0, 0, 0, 18], "the Hessian of Σ x³ is diag(6x)")

// — The Tensor facade: PyTorch's autograd, line for line, on the same engine —

// A tensor that requires grad records the operations applied to it; backward() fills .grad.
let t = try Tensor([2.0], requiresGrad: true)
let out = t ** 2 + 3 * t
print("out =", out)
check(out.description == "tensor([10.], grad_fn=<AddBackward0>)", "the facade prints PyTorch's description")
try out.backward()
print("t.grad =", t.grad!)
check(t.grad!.item() == 7, "backward gives d(t² + 3t)/dt = 7")

// createGraph records the backward pass too, so gradients can be differentiated again.
let s = try Tensor(2.0, requiresGrad: true)
let firstDerivative = try Autograd.grad(outputs: s ** 3, inputs: s, createGraph: true)[0]!
let secondDerivative = try Autograd.grad(outputs: firstDerivative, inputs: s)[0]!
print("d(s³)/ds =", firstDerivative, " d²(s³)/ds² =", secondDerivative)
check(firstDerivative.item() == 12 && secondDerivative.item() == 12, "createGraph lets the derivative be differentiated again")

// Nothing is recorded under noGrad: the way to update parameters.
let weights = try Tensor([1.0, -1.0], requiresGrad: true)
try (weights * weights).sum().backward()
_ = try noGrad { try weights.sub_(0.25 * weights.grad!) }
print("after one step:", weights)
check(weights.value.floats == [0.5, -0.5] && weights.isLeaf, "one SGD step under noGrad leaves a leaf")

// The transforms accept functions of tensors too.
let tensorSlope = try grad({ (v: Tensor) in (v ** 3).sum() })(Tensor(NDArray([1.0, 2.0])))
print("grad of Σ v³ at [1, 2] =", tensorSlope)
check(tensorSlope.value.floats == [3, 12], "grad accepts functions of tensors")

print("Tour complete.")
