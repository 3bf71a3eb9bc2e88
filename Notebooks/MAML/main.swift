// MAML on few-shot sine regression (Finn et al., 2017). Each task is y = A sin(x − φ) with
// amplitude A in [0.1, 5] and phase φ in [0, π]; a learner sees K = 10 points of a new task,
// takes one gradient step from the meta-learned initialization θ, and is judged on 10 other
// points of the same task:
//
//     θ'ᵢ = θ − α ∇θ L(θ; supportᵢ),      meta-loss(θ) = meanᵢ L(θ'ᵢ; queryᵢ).
//
// The meta-gradient differentiates through the inner step (second order: `grad` of a function
// that calls `grad`), and the tasks of a meta-batch run as one batched computation (`vmap`).
// The baseline is the same network trained to fit all tasks at once, then adapted the same way.
//
// Run: swift run -c release MAML [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Foundation
import Fluxion
import NotebookSupport

typealias Parameters = [String: NDArray]

let iterations = quickRun ? 1500 : 8000
let tasksPerBatch = 25, shots = 10
let innerRate = 0.01

func initialParameters(key: RandomKey) -> Parameters {
    let keys = key.split(into: 3)
    func weight(_ k: RandomKey, _ inputs: Int, _ outputs: Int) -> NDArray {
        NDArray.normal([inputs, outputs], key: k) / Double(inputs).squareRoot()
    }
    return ["w0": weight(keys[0], 1, 40), "b0": NDArray.zeros([40]),
            "w1": weight(keys[1], 40, 40), "b1": NDArray.zeros([40]),
            "w2": weight(keys[2], 40, 1), "b2": NDArray.zeros([1])]
}

/// The network 1 → 40 → 40 → 1 with ReLU, at inputs of shape [n, 1].
func network(_ p: Parameters, _ x: NDArray) -> NDArray {
    let h0 = relu(matmul(x, p["w0"]!) + p["b0"]!)
    let h1 = relu(matmul(h0, p["w1"]!) + p["b1"]!)
    return matmul(h1, p["w2"]!) + p["b2"]!
}

func mse(_ p: Parameters, _ x: NDArray, _ y: NDArray) -> NDArray { ((network(p, x) - y) ** 2).mean() }

/// A batch of tasks: support and query points, each [tasks, K, 1].
struct Tasks: ArrayStruct {
    var supportX, supportY, queryX, queryY: NDArray
    var amplitude, phase: NDArray
    static var arrayProperties: [ArrayProperty<Tasks>] {
        [.init(\.supportX), .init(\.supportY), .init(\.queryX), .init(\.queryY), .init(\.amplitude), .init(\.phase)]
    }

    init(count: Int, key: RandomKey) {
        let k = key.split(into: 4)
        amplitude = NDArray.uniform([count, 1, 1], low: 0.1, high: 5, key: k[0])
        phase = NDArray.uniform([count, 1, 1], low: 0, high: Double.pi, key: k[1])
        supportX = NDArray.uniform([count, shots, 1], low: -5, high: 5, key: k[2])
        queryX = NDArray.uniform([count, shots, 1], low: -5, high: 5, key: k[3])
        supportY = Tasks.curve(supportX, amplitude, phase)
        queryY = Tasks.curve(queryX, amplitude, phase)
    }

    static func curve(_ x: NDArray, _ amplitude: NDArray, _ phase: NDArray) -> NDArray { amplitude * sin(x - phase) }
}

/// θ after `steps` gradient steps on one task's support set.
func adapted(_ p: Parameters, _ task: Tasks, steps: Int = 1) throws -> Parameters {
    var q = p
    for _ in 0..<steps {
        let g = try grad(mse)(q, task.supportX, task.supportY)
        q = q.merging(g) { w, dw in w - innerRate * dw }
    }
    return q
}

/// The query loss of one task after one inner step.
func adaptedLoss(_ p: Parameters, _ task: Tasks) throws -> NDArray {
    mse(try adapted(p, task), task.queryX, task.queryY)
}

func metaLoss(_ p: Parameters, _ tasks: Tasks) throws -> NDArray {
    try vmap(adaptedLoss, inAxes: (nil, 0))(p, tasks).mean()
}

/// The baseline's loss: fit every task's points with one network, no inner step.
func jointLoss(_ p: Parameters, _ tasks: Tasks) -> NDArray {
    ((network(p, tasks.queryX.reshape([-1, 1])) - tasks.queryY.reshape([-1, 1])) ** 2).mean()
}

// Meta-training and baseline training on the same task stream.
var maml = initialParameters(key: RandomKey(seed: 1))
var baseline = maml
var mamlAdam = FunctionalAdam<Parameters>(learningRate: 1e-3)
var baselineAdam = FunctionalAdam<Parameters>(learningRate: 1e-3)
let metaStep = valueAndGrad(metaLoss)
let baselineStep = valueAndGrad(jointLoss)
var curve: [(Double, Double)] = []
let start = now()
var streamKey = RandomKey(seed: 2)
for iteration in 1...iterations {
    let (next, batchKey) = streamKey.split()
    streamKey = next
    let tasks = Tasks(count: tasksPerBatch, key: batchKey)
    let (value, gradient) = try metaStep(maml, tasks)
    maml = mamlAdam.step(maml, gradient)
    baseline = baselineAdam.step(baseline, try baselineStep(baseline, tasks).grad)
    curve.append((Double(iteration), value.item()))
    if iteration == 1 || iteration % (iterations / 10) == 0 {
        print(String(format: "iteration %5d  meta-loss %.3f  %.1f s", iteration, value.item(), now() - start))
    }
}
let secondsPerIteration = (now() - start) / Double(iterations)

// Evaluation on 200 new tasks: the query loss before adaptation, after one step and after ten.
let evaluation = Tasks(count: 200, key: RandomKey(seed: 3))
func meanLoss(_ p: Parameters, steps: Int) throws -> Double {
    try vmap({ (p: Parameters, task: Tasks) in
        mse(try adapted(p, task, steps: steps), task.queryX, task.queryY)
    }, inAxes: (nil, 0))(p, evaluation).mean().item()
}
let results = try [0, 1, 10].map { steps in (steps, try meanLoss(maml, steps: steps), try meanLoss(baseline, steps: steps)) }
print("query MSE on 200 new tasks (K = \(shots)):")
print("  gradient steps   MAML      baseline")
for (steps, m, b) in results { print(String(format: "  %2d               %-8.3f  %-8.3f", steps, m, b)) }
print(String(format: "%.1f ms per meta-iteration (%d tasks, second order)", secondsPerIteration * 1000, tasksPerBatch))

// Pictures: the meta-training curve, and three new tasks fitted from their K = 10 support points.
let lossFigure = Figure(Plot(title: "MAML meta-training", x: Axis("meta-iteration"),
                             y: Axis("meta-loss (query MSE after one step)", scale: .log),
                             series: [.line("each meta-batch (\(tasksPerBatch) tasks)", points: curve, color: .lightGray),
                                      .line("mean of the last 50", points: runningMean(curve, window: 50), color: Palette.color(0))]))
let lossPath = try writeSVG(lossFigure, named: "MAML-loss.svg")
let xs = NDArray.linspace(-5, 5, count: 101).reshape([-1, 1])
let fitPanels = try (0..<3).map { i in
    let task = evaluation.mapLeaves { $0[i] }
    let truth = Tasks.curve(xs, task.amplitude, task.phase)
    let before = network(maml, xs), after = network(try adapted(maml, task, steps: 10), xs)
    return Plot(title: String(format: "task %d: A = %.2f, φ = %.2f", i + 1, task.amplitude.item(), task.phase.item()),
                x: Axis("input x", limits: -5...5), y: Axis("output y"),
                series: [.line("true function", x: xs.doubles, y: truth.doubles, color: .black),
                         .line("MAML, before adaptation", x: xs.doubles, y: before.doubles, dash: .dashed),
                         .line("MAML, after 10 steps", x: xs.doubles, y: after.doubles),
                         .scatter("support points (K = \(shots))", x: task.supportX.doubles, y: task.supportY.doubles,
                                  marker: .circle)])
}
let fitPath = try writeSVG(Figure(title: "Few-shot sine regression: fits to new tasks from K = \(shots) points", panels: fitPanels,
                                  panelWidth: 420, panelHeight: 340, sharedLegend: true), named: "MAML-fits.svg")
print("pictures:", lossPath, fitPath)

let (_, mamlOneStep, baselineOneStep) = results[1]
check(results.allSatisfy { $0.1.isFinite && $0.2.isFinite }, "finite losses")
check(curve.suffix(10).map(\.1).reduce(0, +) < curve.prefix(10).map(\.1).reduce(0, +), "meta-training lowers the meta-loss")
// The quick run (1,500 meta-iterations, about 3 s) already shows both effects.
check(mamlOneStep < results[0].1, "one step of adaptation helps the meta-learned initialization")
check(mamlOneStep < baselineOneStep, "MAML adapts better than the jointly trained baseline")
print("MAML complete.")
