// A WGAN-GP gradient penalty: the critic D of a Wasserstein GAN is kept 1-Lipschitz by
// penalising λ·(‖∇ₓD(x̂)‖ − 1)² at points x̂ between real and generated samples. The penalty
// contains a gradient, so its gradient with respect to the critic's weights is a second
// derivative: `Autograd.grad(…, createGraph: true)` records the backward pass as a graph of its
// own, and `backward()` runs through it. The notebook trains a critic that way, then checks the
// result three ways: the same gradient through the transforms (`grad` of `vmap(grad)`), and
// against finite differences with `gradcheck` of the penalty and `gradgradcheck` of the critic.
//
// Run: swift run -c release GradientPenalty [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Foundation
import Fluxion
import FluxionCheck
import FluxionNN
import NotebookSupport

let steps = quickRun ? 150 : 1500
let batch = 256, lambda = 10.0

// The data: "real" samples on a ring of radius 2, "generated" ones from a Gaussian blob at the
// origin (the generator is frozen, so the critic's optimum is known: the Wasserstein-1 distance
// between the two is the mean radial distance, about 2 − 0.5·√(π/2) ≈ 1.37).
func realSamples(_ key: RandomKey) -> Tensor {
    let keys = key.split(into: 2)
    let angle = NDArray.uniform([batch], low: 0, high: 2 * Double.pi, key: keys[0], dtype: .float64)
    let radius = 2 + 0.05 * NDArray.normal([batch], key: keys[1], dtype: .float64)
    return Tensor(stack([radius * cos(angle), radius * sin(angle)], dim: 1))
}
func generatedSamples(_ key: RandomKey) -> Tensor {
    Tensor(0.5 * NDArray.normal([batch, 2], key: key, dtype: .float64))
}

// The critic: 2 → hidden → hidden → 1 with tanh, in float64.
func makeCritic(hidden: Int, seed: UInt64) -> Sequential {
    Sequential(Linear(2, hidden, dtype: .float64, key: RandomKey(seed: seed)), Tanh(),
               Linear(hidden, hidden, dtype: .float64, key: RandomKey(seed: seed + 1)), Tanh(),
               Linear(hidden, 1, dtype: .float64, key: RandomKey(seed: seed + 2)))
}

// The penalty as PyTorch code writes it: interpolate, differentiate the critic with respect to
// the interpolates keeping the graph, and penalise the gradient norms' distance from 1.
func gradientPenalty(_ critic: Module, real: Tensor, generated: Tensor, epsilon: Tensor) throws -> Tensor {
    let interpolates = try (epsilon * real + (1 - epsilon) * generated).requiresGrad_()
    let scores = critic(interpolates)
    let gradients = try Autograd.grad(outputs: scores, inputs: interpolates, gradOutputs: Tensor.onesLike(scores),
                                      createGraph: true)[0]!
    return ((gradients.norm(dim: 1) - 1) ** 2).mean()
}

// — Training the critic: Adam (β = 0.5, 0.9, as in WGAN-GP) on D(generated) − D(real) + λ·penalty —

let critic = makeCritic(hidden: 64, seed: 1)
let adam = Adam(critic.parameters(), lr: 1e-3, betas: (0.5, 0.9))
var distanceCurve: [(Double, Double)] = [], penaltyCurve: [(Double, Double)] = []
var key = RandomKey(seed: 10)
let start = now()
for step in 1...steps {
    let keys = key.split(into: 4)
    key = keys[0]
    let real = realSamples(keys[1]), generated = generatedSamples(keys[2])
    let epsilon = Tensor.rand([batch, 1], key: keys[3], dtype: .float64)
    adam.zeroGrad()
    let distance = critic(real).mean() - critic(generated).mean()
    let penalty = try gradientPenalty(critic, real: real, generated: generated, epsilon: epsilon)
    let loss = -distance + lambda * penalty
    try loss.backward()
    adam.step()
    distanceCurve.append((Double(step), distance.item()))
    penaltyCurve.append((Double(step), penalty.item()))
    if step == 1 || step % (steps / 10) == 0 {
        print(String(format: "step %5d  distance estimate %.4f  penalty %.2e  %.1f s",
                     step, distance.item(), penalty.item(), now() - start))
    }
}

// The critic's gradient norms at fresh interpolates: near 1, as the penalty asks.
let evaluationKeys = RandomKey(seed: 99).split(into: 3)
let real = realSamples(evaluationKeys[0]), generated = generatedSamples(evaluationKeys[1])
let epsilon = Tensor.rand([batch, 1], key: evaluationKeys[2], dtype: .float64)
let interpolates = try (epsilon * real + (1 - epsilon) * generated).requiresGrad_()
let inputGradients = try Autograd.grad(outputs: critic(interpolates).sum(), inputs: interpolates)[0]!
let norms = inputGradients.norm(dim: 1).value
let meanDistance = (critic(real).mean() - critic(generated).mean()).item()
// The penalty holds the norms near 1 rather than below it, so the estimate may exceed W₁ a little.
print(String(format: "gradient norms at interpolates: mean %.3f, min %.3f, max %.3f; distance estimate %.4f (W₁ ≈ 1.37)",
             norms.mean().item(), norms.min().item(), norms.max().item(), meanDistance))

// — Check 1: the same penalty through the transforms —
// D at one point as a function of the point, differentiated and vmapped over the batch, inside
// `grad` with respect to the weights: one computation, no graph kept by hand. (Inside a
// transform the transforms differentiate: `Autograd.grad` there would throw, naming the
// transform, because the tensor graph records beneath every transform.)

typealias Weights = [String: NDArray]
func penaltyThroughTransforms(_ module: Module) -> (Weights, NDArray) throws -> NDArray {
    let score = { (x: NDArray, w: Weights) in try functionalCall(module, parameters: w, x.unsqueeze(0)).sum() }
    let inputGradients = vmap(grad(score), inAxes: (0, nil))
    return { w, x in ((try inputGradients(x, w)).norm(dim: 1) - 1).pow(2).mean() }
}
func weights(of module: Module) -> Weights {
    Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.name, $0.tensor.value) })
}
let transformGradient = try grad(penaltyThroughTransforms(critic))(weights(of: critic), interpolates.value)

critic.zeroGrad()
try gradientPenalty(critic, real: real, generated: generated, epsilon: epsilon).backward()
var largest = 0.0
for (name, parameter) in critic.namedParameters() {
    // The last bias does not reach ∇ₓD: backward leaves its .grad nil, as PyTorch leaves None.
    let viaBackward = parameter.grad?.value ?? NDArray.zerosLike(parameter.value)
    largest = max(largest, (viaBackward - transformGradient[name]!).abs().max().item())
}
print("largest difference between backward() through createGraph and grad of vmap(grad):", largest)
check(largest < 1e-10, "the facade and the transforms give the same penalty gradient")

// — Checks 2 and 3: against finite differences, on a small critic of the same shape —
// The penalty's gradient with respect to the weights (`gradcheck`, reverse and forward mode),
// and every second derivative of the critic with respect to weights and points together
// (`gradgradcheck`), which is what that gradient is made of.

let small = makeCritic(hidden: 6, seed: 7)
let points = NDArray.normal([4, 2], key: RandomKey(seed: 8), dtype: .float64)
let smallPenalty = penaltyThroughTransforms(small)
let penaltyReport = try gradcheck({ (w: Weights) in try smallPenalty(w, points) }, inputs: weights(of: small))
print("gradcheck of the penalty as a function of the weights:", penaltyReport.passed ? "passed" : "FAILED")

var weightsAndPoints: [String: Tensor] = weights(of: small).mapValues { Tensor($0) }
weightsAndPoints["x"] = Tensor(points)
let secondOrderReport = try gradgradcheck({ (inputs: [String: Tensor]) in
    var w = inputs
    let x = w.removeValue(forKey: "x")!
    return try functionalCall(small, parameters: w, x)
}, inputs: weightsAndPoints)
print("gradgradcheck of the critic as a function of weights and points:", secondOrderReport.passed ? "passed" : "FAILED")

// — Pictures: the training curves and the critic over the plane —

let trainingFigure = Figure(title: "WGAN-GP critic training", panels: [
    Plot(title: "distance estimate", x: Axis("training step"), y: Axis("E D(real) − E D(generated)"),
         series: [.line("each batch", points: distanceCurve, color: .lightGray),
                  .line("mean of the last 20", points: runningMean(distanceCurve, window: 20), color: Palette.color(0)),
                  .line("W₁ ≈ 1.37", x: [1, Double(steps)], y: [1.37, 1.37], dash: .dashed, color: .black)]),
    Plot(title: "gradient penalty", x: Axis("training step"), y: Axis("E (‖∇ₓD(x̂)‖ − 1)²", scale: .log),
         series: [.line("each batch", points: penaltyCurve, color: .lightGray),
                  .line("mean of the last 20", points: runningMean(penaltyCurve, window: 20), color: Palette.color(0))]),
], panelWidth: 440)
let trainingPath = try writeSVG(trainingFigure, named: "GradientPenalty-training.svg")
let n = 41
let axis = (0..<n).map { -3 + 6 * Double($0) / Double(n - 1) }
let plane = Tensor(NDArray(shape: [n * n, 2], scalars: axis.flatMap { y in axis.flatMap { x in [x, y] } }, dtype: .float64))
let field = noGrad { critic(plane) }.value.doubles
let shown = 80   // of each kind of sample, enough to see the ring and the blob
let realPoints = real.value.doubles, generatedPoints = generated.value.doubles
let criticPlot = Plot(title: "critic after training, with samples", x: Axis("x₁"), y: Axis("x₂"),
                      series: [.scatter("real (ring, r = 2)", x: (0..<shown).map { realPoints[2 * $0] },
                                        y: (0..<shown).map { realPoints[2 * $0 + 1] }, marker: .circle, color: Palette.color(1)),
                               .scatter("generated (blob)", x: (0..<shown).map { generatedPoints[2 * $0] },
                                        y: (0..<shown).map { generatedPoints[2 * $0 + 1] }, marker: .triangle,
                                        color: Palette.color(5))],
                      heatMap: HeatMap(x: axis, y: axis, title: "critic D(x)") { i, j in field[j * n + i] }, equalAspect: true)
let picture = try writeSVG(Figure(panels: [criticPlot], panelWidth: 520, panelHeight: 440, sharedLegend: true),
                           named: "GradientPenalty-critic.svg")
print("pictures:", trainingPath, picture)

check(penaltyReport.passed && secondOrderReport.passed, "gradcheck and gradgradcheck pass")
check(penaltyCurve.suffix(10).map(\.1).reduce(0, +) < penaltyCurve.prefix(10).map(\.1).reduce(0, +), "training lowers the penalty")
check(meanDistance > 0.5, "the critic separates real from generated samples")
if !quickRun {
    check(abs(norms.mean().item() - 1) < 0.1, "gradient norms at interpolates near 1")
    check(abs(meanDistance - 1.37) < 0.2, "the distance estimate near the Wasserstein distance")
}
print("GradientPenalty complete.")
