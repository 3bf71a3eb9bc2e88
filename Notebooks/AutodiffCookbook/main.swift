// The JAX Autodiff Cookbook, in Fluxion: derivatives of any order, gradients of a logistic
// regression with respect to chosen arguments and to trees of parameters, checks against
// finite differences, Hessian-vector products three ways, Jacobians in both modes and what
// they are made of (jvp, vjp, vmap), stopping gradients — then custom derivative rules: a
// forward rule that keeps log(1 + eˣ) differentiable where eˣ overflows, a backward rule that
// clips gradients, a fixed-point solver differentiated through the implicit function theorem
// instead of through its iterations, and rules that save residuals from the forward pass.
//
// Every printed result is checked against something computed another way: a closed form,
// central differences, or a loop.
//
// Run: swift run -c release AutodiffCookbook [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Foundation
import Fluxion
import FluxionCheck
import NotebookSupport

/// The largest absolute difference between two arrays of one shape.
func maxDifference(_ a: NDArray, _ b: NDArray) -> Double {
    check(a.shape == b.shape, "compared arrays have one shape (\(a.shape) and \(b.shape))")
    return (a.to(.float64) - b.to(.float64)).abs().max().item()
}

func section(_ title: String) { print("\n— \(title) —") }

// MARK: - Gradients of any order

section("grad, to any order")

// `grad` takes a function of an array to a 0-d array and returns the function computing its
// gradient. `tanh` itself is such a function, so its derivative is one call away.
let x0 = NDArray(2.0)
let dTanh = try grad(tanh)(x0)
// tanh' = 1 − tanh², tanh'' = −2 tanh (1 − tanh²), tanh''' = (1 − tanh²)(6 tanh² − 2).
let t0 = tanh(2.0)
print("tanh'(2) =", dTanh, " closed form", 1 - t0 * t0)
check(abs(dTanh.item() - (1 - t0 * t0)) < 1e-6, "grad(tanh)(2) = 1 − tanh²(2)")

// grad returns an ordinary function, so it can be differentiated again.
let d2Tanh = try grad(grad(tanh))(x0)
let d3Tanh = try grad(grad(grad(tanh)))(x0)
let (second0, third0) = (-2 * t0 * (1 - t0 * t0), (1 - t0 * t0) * (6 * t0 * t0 - 2))
print("tanh''(2) =", d2Tanh, " tanh'''(2) =", d3Tanh, " closed forms", second0, third0)
check(abs(d2Tanh.item() - second0) < 1e-6 && abs(d3Tanh.item() - third0) < 1e-6, "second and third derivatives of tanh")

// MARK: - A logistic regression

section("gradients of a logistic regression")

// Four examples of three features with boolean labels. Float64 here, so that the central
// differences below agree with the gradients to many digits.
let inputs = NDArray([[0.52, 1.12, 0.77],
                      [0.88, -1.08, 0.15],
                      [0.52, 0.06, -1.30],
                      [0.74, -2.49, 1.39]], dtype: .float64)
let targets = NDArray([true, true, false, true])

func predict(_ w: NDArray, _ b: NDArray, _ x: NDArray) -> NDArray { sigmoid(matmul(x, w) + b) }

/// The negative log-likelihood of the labels: −Σ log p(label).
func loss(_ w: NDArray, _ b: NDArray) -> NDArray {
    let p = predict(w, b, inputs)
    return -log(NDArray.where(targets, p, 1 - p)).sum()
}

let keys = RandomKey(seed: 0).split(into: 4)
let w = NDArray.normal([3], key: keys[0], dtype: .float64)
let b = NDArray.normal([], key: keys[1], dtype: .float64)

// `grad` differentiates the first argument unless told otherwise; `argnums:` picks others,
// and the compiler knows what comes back: one array, or a tuple for `.both`.
let wGrad = try grad(loss)(w, b)
let bGrad = try grad(loss, argnums: .second)(w, b)
let (wGrad2, bGrad2) = try grad(loss, argnums: .both)(w, b)
print("∂loss/∂w =", wGrad, " ∂loss/∂b =", bGrad)

// The closed form: with residuals r = p − y, ∂loss/∂w = Xᵀ r and ∂loss/∂b = Σ r.
let residual = predict(w, b, inputs) - targets.to(.float64)
let wExact = matmul(inputs.T, residual), bExact = residual.sum()
check(maxDifference(wGrad, wExact) < 1e-12 && maxDifference(bGrad, bExact) < 1e-12, "the gradients are Xᵀ(p − y) and Σ(p − y)")
check(maxDifference(wGrad2, wGrad) == 0 && maxDifference(bGrad2, bGrad) == 0, ".both gives the two gradients at once")

// MARK: - Trees of parameters

section("gradients of trees")

// Parameters can travel as a dictionary (or an array, or a struct conforming to ArrayStruct);
// the gradient comes back in the same structure.
typealias Parameters = [String: NDArray]
func treeLoss(_ p: Parameters) -> NDArray { loss(p["w"]!, p["b"]!) }
let parameters: Parameters = ["w": w, "b": b]
let treeGrad = try grad(treeLoss)(parameters)
print("grad of the dictionary:", treeGrad.keys.sorted().map { "\($0): \(treeGrad[$0]!)" }.joined(separator: ", "))
check(maxDifference(treeGrad["w"]!, wGrad) == 0 && maxDifference(treeGrad["b"]!, bGrad) == 0, "a dictionary's gradient holds the argnums gradients")

// A struct of parameters: the gradient is a value of the same struct type.
struct Logistic: ArrayStruct {
    var weight: NDArray
    var bias: NDArray
    static var arrayProperties: [ArrayProperty<Logistic>] { [.init(\.weight), .init(\.bias)] }
}
let structGrad = try grad({ (m: Logistic) in loss(m.weight, m.bias) })(Logistic(weight: w, bias: b))
check(maxDifference(structGrad.weight, wGrad) == 0 && maxDifference(structGrad.bias, bGrad) == 0, "a struct's gradient is the same struct")

// MARK: - Value and gradient

// The loss is usually wanted too; valueAndGrad gives both from one evaluation.
let (lossValue, lossGrad) = try valueAndGrad(loss)(w, b)
print("loss =", lossValue, " ∂loss/∂w =", lossGrad)
check(maxDifference(lossValue, loss(w, b)) == 0 && maxDifference(lossGrad, wGrad) == 0, "valueAndGrad is loss and grad at once")

// MARK: - Checking against finite differences

section("finite differences")

// A central difference along one direction is a one-line, independent check of a gradient.
let eps = 1e-4
let bNumeric = (loss(w, b + eps / 2) - loss(w, b - eps / 2)) / eps
print("∂loss/∂b: autodiff", bGrad.item(), " central difference", bNumeric.item())
check(abs(bGrad.item() - bNumeric.item()) < 1e-7, "∂loss/∂b agrees with a central difference")

let direction = NDArray.normal([3], key: keys[2], dtype: .float64)
let wNumeric = (loss(w + eps / 2 * direction, b) - loss(w - eps / 2 * direction, b)) / eps
let wDirectional = vdot(wGrad, direction)
print("∂loss/∂w along a random direction: autodiff", wDirectional.item(), " central difference", wNumeric.item())
check(abs(wDirectional.item() - wNumeric.item()) < 1e-7, "the directional derivative agrees with a central difference")

// FluxionCheck does this thoroughly, as JAX's check_grads: reverse and forward mode against
// central differences, the Jacobians, vmap, and (order 2) the Hessian four ways.
let report = try checkDerivatives(treeLoss, at: parameters, order: 2)
print("checkDerivatives(order: 2): \(report.passed ? "passed" : "FAILED")")
check(report.passed, "first and second derivatives of the loss pass checkDerivatives")

// MARK: - Hessian-vector products

section("Hessian-vector products")

// f(X) = Σ tanh(X)² has a diagonal Hessian: ∂²f/∂x² = 2(1 − tanh² x)(1 − 3 tanh² x), so H·v is
// that times v, element by element — a closed form to check three ways of computing H·v.
func sumOfSquaredTanh(_ x: NDArray) -> NDArray { (tanh(x) ** 2).sum() }
let shape = quickRun ? [60, 40] : [300, 200]
let hvKeys = RandomKey(seed: 1).split(into: 2)
let bigX = NDArray.normal(shape, key: hvKeys[0], dtype: .float64)
let bigV = NDArray.normal(shape, key: hvKeys[1], dtype: .float64)
let tb = tanh(bigX)
let exactHv = 2 * (1 - tb * tb) * (1 - 3 * tb * tb) * bigV

// Reverse over reverse: the gradient of x ↦ ⟨∇f(x), v⟩.
func hvpReverseReverse(_ f: @escaping (NDArray) throws -> NDArray, _ x: NDArray, _ v: NDArray) throws -> NDArray {
    try grad({ (x: NDArray) in vdot(try grad(f)(x), v) })(x)
}
// Forward over reverse: the directional derivative of ∇f along v (what `hvp` does).
func hvpForwardReverse(_ f: @escaping (NDArray) throws -> NDArray, _ x: NDArray, _ v: NDArray) throws -> NDArray {
    try jvp(grad(f), at: x, tangents: v).tangent
}
// Reverse over forward: the gradient of the directional derivative x ↦ ∂f(x)·v.
func hvpReverseForward(_ f: @escaping (NDArray) throws -> NDArray, _ x: NDArray, _ v: NDArray) throws -> NDArray {
    try grad({ (x: NDArray) in try jvp(f, at: x, tangents: v).tangent })(x)
}

let repetitions = quickRun ? 3 : 10
for (name, method) in [("reverse over reverse", hvpReverseReverse), ("forward over reverse", hvpForwardReverse),
                       ("reverse over forward", hvpReverseForward)] {
    let hv = try method(sumOfSquaredTanh, bigX, bigV)
    let time = try medianTime(repetitions: repetitions) { _ = try method(sumOfSquaredTanh, bigX, bigV) }
    print(String(format: "%@: %.2f ms, max error %.2e", name, time * 1000, maxDifference(hv, exactHv)))
    check(maxDifference(hv, exactHv) < 1e-12, "H·v by \(name)")
}
let libraryHv = try hvp(sumOfSquaredTanh, at: bigX, v: bigV)
check(maxDifference(libraryHv, exactHv) < 1e-12, "the library's hvp")

// The full Hessian, forward over reverse, agrees on a small input; its product with v is H·v.
let smallX = bigX[0, 0..<6], smallV = bigV[0, 0..<6]
let smallH = try hessian(sumOfSquaredTanh)(smallX)
print("hessian of Σ tanh² at 6 points:", smallH.shape)
check(maxDifference(matmul(smallH, smallV), try hvpForwardReverse(sumOfSquaredTanh, smallX, smallV)) < 1e-12, "H·v from the Hessian")
check(maxDifference(smallH, try jacfwd(jacrev(sumOfSquaredTanh))(smallX)) == 0, "hessian is jacfwd(jacrev(f))")

// MARK: - Jacobians in both modes

section("jacfwd and jacrev")

// The predictions as a function of the weights: R³ → R⁴. Its Jacobian is
// ∂pᵢ/∂wⱼ = pᵢ(1 − pᵢ) xᵢⱼ, and its Hessian pᵢ(1 − pᵢ)(1 − 2pᵢ) xᵢⱼ xᵢₖ.
let predictions = { (w: NDArray) in predict(w, b, inputs) }
let p = predictions(w)
let jForward = try jacfwd(predictions)(w), jReverse = try jacrev(predictions)(w)
let jExact = (p * (1 - p)).unsqueeze(1) * inputs
print("jacfwd:", jForward.shape, " jacrev:", jReverse.shape)
check(maxDifference(jForward, jExact) < 1e-15 && maxDifference(jReverse, jExact) < 1e-15, "both Jacobians are p(1 − p) x")
let pHessian = try hessian(predictions)(w)
let hExact = (p * (1 - p) * (1 - 2 * p)).reshape([4, 1, 1]) * inputs.unsqueeze(2) * inputs.unsqueeze(1)
print("hessian of the predictions:", pHessian.shape)
check(maxDifference(pHessian, hExact) < 1e-15, "the Hessian of each prediction")

// Jacobians of parameter trees are trees of blocks, one per parameter, each of shape
// output shape + parameter shape.
let jTree = try jacrev({ (p: Parameters) in predict(p["w"]!, p["b"]!, inputs) })(parameters)
print("jacrev over a dictionary:", jTree.keys.sorted().map { "\($0): \(jTree[$0]!.shape)" }.joined(separator: ", "))
check(jTree["w"]!.shape == [4, 3] && jTree["b"]!.shape == [4] && maxDifference(jTree["w"]!, jExact) < 1e-15
      && maxDifference(jTree["b"]!, p * (1 - p)) < 1e-15, "a dictionary's Jacobian is a block per parameter")

// Which mode is cheaper depends on the shape: reverse mode costs one backward pass per output,
// forward mode one forward pass per input (JacobiansAndHessians times both on larger cases).
let wideInput = NDArray.normal([4, 300], key: keys[3], dtype: .float64)
let wideW = NDArray.normal([300], key: keys[0], dtype: .float64) / 20
let wide = { (w: NDArray) in sigmoid(matmul(wideInput, w)) }                  // R³⁰⁰ → R⁴
let tall = { (v: NDArray) in sigmoid(matmul(wideInput.T, v)) }                // R⁴ → R³⁰⁰
let v4 = NDArray.normal([4], key: keys[1], dtype: .float64)
let wideTimes = (try medianTime(repetitions: repetitions) { _ = try jacrev(wide)(wideW) },
                 try medianTime(repetitions: repetitions) { _ = try jacfwd(wide)(wideW) })
let tallTimes = (try medianTime(repetitions: repetitions) { _ = try jacrev(tall)(v4) },
                 try medianTime(repetitions: repetitions) { _ = try jacfwd(tall)(v4) })
print(String(format: "4×300 Jacobian: jacrev %.3f ms, jacfwd %.3f ms;  300×4: jacrev %.3f ms, jacfwd %.3f ms",
             wideTimes.0 * 1000, wideTimes.1 * 1000, tallTimes.0 * 1000, tallTimes.1 * 1000))
let wideDifference = maxDifference(try jacrev(wide)(wideW), try jacfwd(wide)(wideW))
let tallDifference = maxDifference(try jacrev(tall)(v4), try jacfwd(tall)(v4))
check(wideDifference < 1e-15 && tallDifference < 1e-15, "the two modes agree on both shapes")

// MARK: - How Jacobians are made: jvp, vjp and vmap

section("jvp, vjp, and Jacobians from them")

// jvp pushes one tangent forward: J·v, with the value, in one pass.
let vW = NDArray.normal([3], key: keys[2], dtype: .float64)
let (valueAtW, jv) = try jvp(predictions, at: w, tangents: vW)
check(maxDifference(valueAtW, p) == 0 && maxDifference(jv, matmul(jExact, vW)) < 1e-15, "jvp gives f(w) and J·v")

// vjp runs the function once and returns a pullback, u ↦ uᵀJ, to call as often as needed.
let (_, pullback) = try vjp(predictions, at: w)
let u = NDArray.normal([4], key: keys[3], dtype: .float64)
check(maxDifference(try pullback(u), matmul(u, jExact)) < 1e-15, "the pullback gives uᵀJ")

// Matrix products with the Jacobian: map the pullback over the rows of a matrix, and jvp over
// the columns of another, with vmap instead of a loop.
let mRows = NDArray.normal([5, 4], key: keys[0], dtype: .float64)
let mjp = try vmap(pullback)(mRows)
let mjpLoop = stack(try (0..<5).map { try pullback(mRows[$0]) })
check(maxDifference(mjp, mjpLoop) < 1e-15 && maxDifference(mjp, matmul(mRows, jExact)) < 1e-15, "vmap of the pullback is M·J")
let mColumns = NDArray.normal([3, 5], key: keys[1], dtype: .float64)
let jmp = try vmap({ (v: NDArray) in try jvp(predictions, at: w, tangents: v).tangent }, inAxes: 1, outAxes: 1)(mColumns)
check(maxDifference(jmp, matmul(jExact, mColumns)) < 1e-15, "vmap of jvp over columns is J·M")

// And with the identity for M, those are jacrev and jacfwd: rows of J by pullbacks, columns
// by pushforwards.
let ourJacrev = try vmap(pullback)(NDArray.eye(4, dtype: .float64))
let ourJacfwd = try vmap({ (v: NDArray) in try jvp(predictions, at: w, tangents: v).tangent }, outAxes: 1)(NDArray.eye(3, dtype: .float64))
print("Jacobian from vmap(pullback):", ourJacrev.shape, " from vmap(jvp):", ourJacfwd.shape)
check(maxDifference(ourJacrev, jReverse) == 0 && maxDifference(ourJacfwd, jForward) < 1e-15, "jacrev and jacfwd rebuilt from vjp, jvp and vmap")

// (The cookbook's section on complex numbers has no counterpart: Fluxion's arrays are real.)

// MARK: - Stopping gradients

section("stopGradient")

// TD(0): the value v(s) = tanh(θ·s) of a state moves towards the target r + v(s′), but the
// target is a label, not something to optimise: stopGradient keeps the loss from pulling it.
struct Transition: ArrayStruct {
    var state: NDArray, reward: NDArray, next: NDArray
    static var arrayProperties: [ArrayProperty<Transition>] { [.init(\.state), .init(\.reward), .init(\.next)] }
}
func value(_ theta: NDArray, _ s: NDArray) -> NDArray { tanh(vdot(theta, s)) }
func tdLoss(_ theta: NDArray, _ t: Transition) -> NDArray {
    let target = t.reward + value(theta, t.next)
    return -0.5 * (stopGradient(target) - value(theta, t.state)) ** 2
}
func tdLossWithoutStop(_ theta: NDArray, _ t: Transition) -> NDArray {
    -0.5 * (t.reward + value(theta, t.next) - value(theta, t.state)) ** 2
}
let theta = NDArray([0.1, -0.1, 0.0], dtype: .float64)
let transition = Transition(state: NDArray([1.0, 2.0, -1.0], dtype: .float64), reward: NDArray(1.0, dtype: .float64),
                            next: NDArray([2.0, 1.0, 0.0], dtype: .float64))
let tdUpdate = try grad(tdLoss)(theta, transition)
// The semi-gradient: (target − v(s)) · v′(s), with v′(s) = (1 − v²) s.
let vS = value(theta, transition.state), vNext = value(theta, transition.next)
let tdError = transition.reward + vNext - vS
let semiGradient = tdError * (1 - vS * vS) * transition.state
print("TD(0) update:", tdUpdate, " closed form:", semiGradient)
check(maxDifference(tdUpdate, semiGradient) < 1e-15, "the TD update is the semi-gradient")
// Without stopGradient the target's own derivative, −(target − v(s)) · v′(s′), comes in too.
let fullGradient = try grad(tdLossWithoutStop)(theta, transition)
check(maxDifference(fullGradient, semiGradient - tdError * (1 - vNext * vNext) * transition.next) < 1e-15,
      "without stopGradient the target is differentiated too")

// Per-example updates for a batch of transitions: vmap over the transitions, θ shared.
let batchKeys = RandomKey(seed: 2).split(into: 3)
let transitions = Transition(state: NDArray.normal([8, 3], key: batchKeys[0], dtype: .float64),
                             reward: NDArray.normal([8], key: batchKeys[1], dtype: .float64),
                             next: NDArray.normal([8, 3], key: batchKeys[2], dtype: .float64))
let perExample = try vmap(grad(tdLoss), inAxes: (nil, 0))(theta, transitions)
let perExampleLoop = stack(try (0..<8).map { i in
    try grad(tdLoss)(theta, Transition(state: transitions.state[i], reward: transitions.reward[i], next: transitions.next[i]))
})
print("per-example TD updates:", perExample.shape)
check(maxDifference(perExample, perExampleLoop) < 1e-15, "vmap(grad) over transitions equals a loop")

// The straight-through estimator: round in the forward pass, the identity's derivative in the
// backward pass — x + stopGradient(round(x) − x).
let roundingPoints = NDArray([0.2, 1.7, -2.4, 3.5], dtype: .float64)
let straightThrough = { (x: NDArray) in x + stopGradient(round(x) - x) }
let stValue = straightThrough(roundingPoints)
let stJacobian = try jacfwd(straightThrough)(roundingPoints)
let roundJacobian = try jacfwd(round)(roundingPoints)
print("straight-through values:", stValue, " Jacobian diagonal:", stJacobian.diagonal())
check(maxDifference(stValue, round(roundingPoints)) == 0 && maxDifference(stJacobian, NDArray.eye(4, dtype: .float64)) == 0
      && roundJacobian.abs().max().item() == 0, "round's values with the identity's derivative (round's own is 0)")

// MARK: - Custom derivatives: a stable forward rule

section("customJVP: log(1 + eˣ)")

// In float32, e¹⁰⁰ overflows to ∞. The chain rule through log(1 + eˣ) then multiplies
// 1/(1 + eˣ) = 0 by eˣ = ∞: the derivative is NaN, although it is mathematically
// eˣ/(1 + eˣ) ≈ 1. Rewriting the derivative as 1 − 1/(1 + eˣ) needs no ∞ · 0.
func log1pexpNaive(_ x: NDArray) -> NDArray { log(1 + exp(x)) }
let naiveSlope = try grad(log1pexpNaive)(NDArray(100.0))
print("naive: log(1 + eˣ) at 100 =", log1pexpNaive(NDArray(100.0)), " its derivative =", naiveSlope)
check(naiveSlope.item().isNaN, "the naive derivative overflows to NaN in float32")

let log1pexp = customJVP({ (x: NDArray) in log(1 + exp(x)) },
                         jvp: { x, _, tangent in tangent * (1 - 1 / (1 + exp(x))) })
let stableSlope = try grad(log1pexp)(NDArray(100.0))
print("with customJVP: d/dx log(1 + eˣ) at 100 =", stableSlope)
check(stableSlope.item() == 1, "the custom rule's derivative at 100 is 1")
// (The value itself still overflows at 100 in float32, as printed above; `softplus` computes
// it stably. The rule fixes the derivative, which is what training needs.)

// Only a forward rule was given: reverse mode transposes it, vmap maps it, and the rule is
// array code, so it differentiates again — the second derivative is σ(x)(1 − σ(x)).
let grid = NDArray.arange(-3.0, 4.0)
let slopes = try vmap(grad(log1pexp))(grid)
let curvatures = try vmap(grad(grad(log1pexp)))(grid)
let sg = sigmoid(grid)
print("vmap(grad(log1pexp)) on -3…3:", slopes)
check(maxDifference(slopes, sg) < 1e-6 && maxDifference(curvatures, sg * (1 - sg)) < 1e-6, "first and second derivatives are σ and σ(1 − σ)")
check(maxDifference(try jacrev(log1pexp)(grid), try jacfwd(log1pexp)(grid)) < 1e-7, "reverse mode by transposing the forward rule")

// A rule can also state a convention where the chain rule is on the edge: x / (1 + √x) has
// derivative (2 + √x) / (2 (1 + √x)²), which is 1 at 0, but the chain rule meets
// x · (1/√x = ∞) there. JAX gets NaN and needs the custom rule; Fluxion multiplies derivatives
// that are infinite at a domain edge with a strong zero (0 · ∞ = 0, see the README), so the
// plain chain rule already gives the limit. The custom rule says so explicitly.
let ratioAt0 = try grad({ (x: NDArray) in x / (1 + sqrt(x)) })(NDArray(0.0))
let ratio = customJVP({ (x: NDArray) in x / (1 + sqrt(x)) },
                      jvp: { x, _, tangent in tangent * (2 + sqrt(x)) / (2 * (1 + sqrt(x)) ** 2) })
let ratioRuleAt0 = try grad(ratio)(NDArray(0.0))
print("d/dx x/(1 + √x) at 0: by the chain rule", ratioAt0, " by the custom rule", ratioRuleAt0)
check(ratioAt0.item() == 1 && ratioRuleAt0.item() == 1, "both give the derivative's limit at 0")

// MARK: - Custom derivatives: a backward rule with a non-differentiated argument

section("customVJP: clipping gradients")

// The identity in the forward pass, whose cotangent is clipped to [lo, hi] in the backward
// pass. The bounds are an ordinary Swift argument, not differentiated.
let clipGradient = customVJP({ (x: NDArray, bounds: (lo: Double, hi: Double)) in x },
                             forward: { x, _ in (x, [NDArray]()) },
                             backward: { bounds, _, cotangent in cotangent.clamp(min: bounds.lo, max: bounds.hi) })
let clippedSine = { (x: NDArray) in sin(try clipGradient(x, (-0.75, 0.75))) }
let angles = NDArray.linspace(0, 10, count: 50, dtype: .float64)
let clippedSlopes = try vmap(grad(clippedSine))(angles)
print("sin's derivative with clipping: min", clippedSlopes.min().item(), " max", clippedSlopes.max().item())
check(maxDifference(try clippedSine(angles), sin(angles)) == 0, "the value is untouched")
check(maxDifference(clippedSlopes, cos(angles).clamp(min: -0.75, max: 0.75)) < 1e-15, "the derivative is cos clipped to ±0.75")

// MARK: - Custom derivatives: implicit differentiation of a fixed point

section("customVJP: a fixed point, differentiated implicitly")

// x* = f(a, x*) found by iterating f. Differentiating through the iterations would record all
// of them; the implicit function theorem needs only the fixed point: with u solving the adjoint
// equation u = x̄ + (∂f/∂x)ᵀ u (itself a fixed point, reached by the same iteration),
// ā = (∂f/∂a)ᵀ u. A fixed number of steps, instead of a convergence test, keeps the code free
// of branches on values, so vmap can batch it.
typealias Iteration = (_ a: NDArray, _ x: NDArray) -> NDArray
let iterations = 30

func iterate(_ step: (NDArray) throws -> NDArray, from start: NDArray) rethrows -> NDArray {
    var x = start
    for _ in 0..<iterations { x = try step(x) }
    return x
}

let fixedPoint = customVJP(
    { (a: NDArray, f: Iteration) in iterate({ f(a, $0) }, from: a) },
    forward: { a, f in
        let x = iterate({ f(a, $0) }, from: a)
        return (x, [a, x])                                                  // residuals: a and x*
    },
    backward: { f, residuals, cotangent in
        let (a, x) = (residuals[0], residuals[1])
        let (_, pullbackX) = try vjp({ f(a, $0) }, at: x)
        let u = try iterate({ cotangent + (try pullbackX($0)) }, from: cotangent)
        return try vjp({ f($0, x) }, at: a).pullback(u)
    })

// Newton's iteration for √a: x ← (x + a/x) / 2.
let newtonStep: Iteration = { a, x in 0.5 * (x + a / x) }
let newtonSqrt = { (a: NDArray) in try fixedPoint(a, newtonStep) }
let two = NDArray(2.0, dtype: .float64)
let root = try newtonSqrt(two), rootSlope = try grad(newtonSqrt)(two), rootCurvature = try grad(grad(newtonSqrt))(two)
print("√2 =", root, " d√a/da =", rootSlope, " d²√a/da² =", rootCurvature)
check(abs(root.item() - 2.0.squareRoot()) < 1e-15, "the iteration converges to √2")
check(abs(rootSlope.item() - 0.5 / 2.0.squareRoot()) < 1e-15, "d√a/da = 1/(2√a) from the implicit rule")
check(abs(rootCurvature.item() + 0.25 * pow(2, -1.5)) < 1e-15, "d²√a/da² = −a^(−3/2)/4: the rule differentiates again")
let radicands = NDArray([1.0, 4.0, 9.0, 0.25], dtype: .float64)
let rootSlopes = try vmap(grad(newtonSqrt))(radicands)
check(maxDifference(rootSlopes, 0.5 / sqrt(radicands)) < 1e-14, "vmap batches the solver and its rule")

// MARK: - Custom derivatives: residuals and two arguments

section("customVJP with residuals, customJVP and customVJP of two arguments")

// f(x, y) = sin(x)·y. A backward rule in JAX's form: the forward pass saves what the rule
// needs (cos x, sin x, y), so the rule recomputes nothing.
struct Pair: ArrayStruct {
    var x: NDArray, y: NDArray
    static var arrayProperties: [ArrayProperty<Pair>] { [.init(\.x), .init(\.y)] }
}
let sinTimes = customVJP({ (p: Pair) in sin(p.x) * p.y },
                         forward: { (p: Pair) -> (NDArray, [NDArray]) in (sin(p.x) * p.y, [cos(p.x), sin(p.x), p.y]) },
                         backward: { (r: [NDArray], cotangent: NDArray) in Pair(x: r[0] * cotangent * r[2], y: r[1] * cotangent) })
let point = Pair(x: NDArray(0.7, dtype: .float64), y: NDArray(-1.3, dtype: .float64))
let pairGrad = try grad(sinTimes)(point)
print("∇(sin x · y) at (0.7, −1.3):", pairGrad.x, pairGrad.y)
check(abs(pairGrad.x.item() - cos(0.7) * -1.3) < 1e-15 && abs(pairGrad.y.item() - sin(0.7)) < 1e-15, "the rule with residuals")
// The residuals' own derivatives come from the forward pass, so second derivatives work:
// ∂²f/∂x² = −sin(x)·y.
let pairCurvature = try grad({ (x: NDArray) in try grad(sinTimes)(Pair(x: x, y: point.y)).x })(point.x)
check(abs(pairCurvature.item() - -sin(0.7) * -1.3) < 1e-14, "a rule with residuals differentiates to second order")

// The same function with two differentiated arguments: a forward rule of both tangents, and a
// backward rule returning both cotangents (nil would mean zero).
let sinTimesJVP = customJVP({ (x: NDArray, y: NDArray) in sin(x) * y },
                            jvp: { x, y, _, tx, ty in cos(x) * tx * y + sin(x) * ty })
let sinTimesVJP = customVJP({ (x: NDArray, y: NDArray) in sin(x) * y },
                            vjp: { x, y, _, cotangent in (cos(x) * y * cotangent, sin(x) * cotangent) })
let (gxJ, gyJ) = try grad(sinTimesJVP, argnums: .both)(point.x, point.y)
let (gxV, gyV) = try grad(sinTimesVJP, argnums: .both)(point.x, point.y)
check(maxDifference(gxJ, pairGrad.x) < 1e-15 && maxDifference(gyJ, pairGrad.y) < 1e-15
      && maxDifference(gxV, pairGrad.x) < 1e-15 && maxDifference(gyV, pairGrad.y) < 1e-15, "the three rules agree")
// Each rule gives the other mode too.
let tangentJ = try jvp({ (p: Pair) in try sinTimesVJP(p.x, p.y) }, at: point, tangents: Pair(x: NDArray(1.0, dtype: .float64), y: NDArray(2.0, dtype: .float64))).tangent
check(abs(tangentJ.item() - (cos(0.7) * -1.3 + 2 * sin(0.7))) < 1e-15, "forward mode through a backward rule")

print("\nAutodiffCookbook complete.")
