// Workloads W1–W8 of the benchmark suite, written with the functional API, measured with the
// same policy and printed in the same JSON lines as the peer scripts in Benchmarks/peers/
// (workload names are shared exactly; inputs come from WorkloadData.swift's streams, which
// the peers reproduce). Each line's checksum lets implementations be seen to agree:
//
//   W1  the gradient dx₁₀₀/dx₀            W5, W6  Σ g² over the parameter gradient
//   W3  Σ g² over all per-sample gradients W7      Σ J²
//   W3n Σ‖gᵢ‖² of the per-example norms; Σ g² of the clipped sum
//   W4  the trace of the Hessian           W8      Σ (∂L/∂W)² + Σ (∂L/∂X)²
//
import CBLAS
import Fluxion
import FluxionNN
import Foundation

/// The suite's timing policy: a warm-up call, then at least 20 repetitions and 2 s (`--quick`:
/// 5 repetitions and 0.2 s, for checking that everything runs).
func timeWorkload(_ name: String, _ implementation: String, quick: Bool, checksum: () -> Double,
                  extra: () -> [(key: String, value: Double)] = { [] }, _ body: () -> Void) -> Measurement {
    measure(name, implementation, minRepetitions: quick ? 5 : 20, minSeconds: quick ? 0.2 : 2, checksum: checksum,
            extra: extra, body)
}

/// A jitted workload. Its compile time — staging the function into a program and simplifying
/// it, tracing included, as the JAX peer's `lower(...).compile()` — is measured once by
/// `compile` and reported apart as "compile_s"; the repetitions then time calls of the jitted
/// function, whose program is staged on the first (untimed) call.
func timeJitted(_ name: String, _ implementation: String = "fluxion-jit", quick: Bool, compile: () throws -> Program,
                checksum: () -> Double, _ body: () -> Void) -> Measurement {
    let start = now()
    blackHole(try! compile().equations.count)
    let compileSeconds = now() - start
    var m = timeWorkload(name, implementation, quick: quick, checksum: checksum, body)
    m.extra.append((key: "compile_s", value: compileSeconds))
    return m
}

/// The compile time of a jitted row, for the summary table.
private func compileNote(_ m: Measurement) -> String {
    String(format: "compile %.1f ms", (m.extra.first { $0.key == "compile_s" }?.value ?? .nan) * 1e3)
}

/// Prints the line and keeps a row for the summary table.
private func report(_ m: Measurement, _ rows: inout [String], note: String = "") {
    print(m.json)
    rows.append(String(format: "| %@ | %@ | %10.3f ms | %@ |", m.name, m.implementation, m.median * 1e3, note))
}

// MARK: - W1 scalar chain

/// x 0-d float32; 100 times x = sin(x)·1.01 + 0.1; value and gradient by `valueAndGrad`.
func w1ScalarChain(quick: Bool, rows: inout [String]) {
    let chain = { (x: NDArray) -> NDArray in
        var y = x
        for _ in 0..<100 { y = sin(y) * 1.01 + 0.1 }
        return y
    }
    let x0 = NDArray(0.5)
    let valueAndGradient = valueAndGrad(chain)
    let m = timeWorkload("W1-scalar-chain", "fluxion", quick: quick, checksum: { try! valueAndGradient(x0).grad.item() }) {
        blackHole(try! valueAndGradient(x0))
    }
    report(m, &rows, note: String(format: "%.3f µs per step", m.median * 1e6 / 100))

    // The same chain on the Tensor facade: record, then `backward()` into x₀'s `.grad`.
    func backwardStep() -> Double {
        let x0 = try! Tensor(0.5, requiresGrad: true)
        var x = x0
        for _ in 0..<100 { x = sin(x) * 1.01 + 0.1 }
        try! x.backward()
        return x0.grad!.item()
    }
    let facade = timeWorkload("W1-scalar-chain", "fluxion-backward", quick: quick, checksum: backwardStep) {
        blackHole(backwardStep())
    }
    report(facade, &rows, note: String(format: "%.3f µs per step", facade.median * 1e6 / 100))

    // The same value and gradient staged once by jit.
    let jitted = jit(valueAndGrad(chain))
    let staged = timeJitted("W1-scalar-chain", quick: quick, compile: { try makeProgram(valueAndGrad(chain))(x0).optimized() },
                            checksum: { try! jitted(x0).grad.item() }) {
        blackHole(try! jitted(x0))
    }
    report(staged, &rows, note: String(format: "%.3f µs per step, %@, %.1f× faster than unstaged",
                                       staged.median * 1e6 / 100, compileNote(staged), m.median / staged.median))
}

// MARK: - W2 MLP train step

/// One training step of the 784-256-256-10 ReLU MLP at batch 128 with the facade and
/// FluxionNN: forward, softmax cross-entropy, backward, SGD (lr 0.01). Weights from MLP3's
/// streams (transposed to Linear's [out, in]); checksum Σ g² at the initial parameters.
func w2TrainStep(quick: Bool, rows: inout [String]) {
    let x = Tensor(streamNormal([128, 784], seed: 10))
    let labels = Tensor(streamLabels(128, classes: 10, seed: 11))
    func make() -> Sequential {
        let model = Sequential([Linear(784, 256), ReLU(), Linear(256, 256), ReLU(), Linear(256, 10)])
        let arrays = MLP3.seeded().leaves
        try! noGrad {
            for (p, a) in zip(model.parameters(), arrays) { try p.copy_(Tensor(a.rank == 2 ? a.T : a)) }
        }
        return model
    }
    let checksum = { () -> Double in
        let model = make()
        try! crossEntropy(model(x), labels).backward()
        return model.parameters().reduce(0) { $0 + sumOfSquares($1.grad!.value) }
    }
    let model = make()
    let optimizer = SGD(model.parameters(), lr: 0.01)
    let m = timeWorkload("W2-mlp-train-b128", "fluxion", quick: quick, checksum: checksum) {
        optimizer.zeroGrad()
        let loss = crossEntropy(model(x), labels)
        try! loss.backward()
        optimizer.step()
    }
    report(m, &rows)

    // The same step written with the functional API and staged whole by jit: forward, gradient
    // and the SGD update in one program of (parameters, batch).
    let targets = oneHot(labels.value, numClasses: 10, dtype: .float32)
    let gradient = jit(grad(batchLoss))
    var parameters = MLP3.seeded()
    let initial = MLP3.seeded()
    let update = { (p: MLP3, x: NDArray, y: NDArray) -> MLP3 in
        let g = try grad(batchLoss)(p, x, y)
        return p.rebuilt(with: zip(p.leaves, g.leaves).map { $0 - 0.01 * $1 })
    }
    let step = jit(update)
    let staged = timeJitted("W2-mlp-train-b128", quick: quick, compile: { try makeProgram(update)(initial, x.value, targets).optimized() },
                            checksum: { sumOfSquares(try! gradient(initial, x.value, targets)) }) {
        parameters = try! step(parameters, x.value, targets)
    }
    report(staged, &rows, note: compileNote(staged))
}

/// The mean softmax cross-entropy of a batch.
func batchLoss(_ p: MLP3, _ x: NDArray, _ targets: NDArray) -> NDArray {
    exampleLoss(p, x, targets).mean()
}

// MARK: - W3 per-sample gradients

/// The 784-256-256-10 ReLU MLP shared by W2 and W3.
struct MLP3: ArrayStruct {
    var w1: NDArray, b1: NDArray, w2: NDArray, b2: NDArray, w3: NDArray, b3: NDArray
    static var arrayProperties: [ArrayProperty<MLP3>] {
        [.init(\.w1), .init(\.b1), .init(\.w2), .init(\.b2), .init(\.w3), .init(\.b3)]
    }

    /// Weights from streams 1, 2, 3; biases 0.
    static func seeded() -> MLP3 {
        MLP3(w1: streamWeight(784, 256, seed: 1), b1: .zeros([256]),
             w2: streamWeight(256, 256, seed: 2), b2: .zeros([256]),
             w3: streamWeight(256, 10, seed: 3), b3: .zeros([10]))
    }
}

/// Softmax cross-entropy of one example: logSumExp(logits) − logits[label], with a one-hot label.
func exampleLoss(_ p: MLP3, _ x: NDArray, _ target: NDArray) -> NDArray {
    let h1 = relu(matmul(x, p.w1) + p.b1)
    let h2 = relu(matmul(h1, p.w2) + p.b2)
    let logits = matmul(h2, p.w3) + p.b3
    return logits.logSumExp(dim: -1) - (target * logits).sum(dim: -1)
}

/// `vmap(grad(loss), inAxes: (nil, 0, 0))` at each batch size (inputs: the first B rows of
/// streams 10 and 11), with the peak resident memory the warm-up and repetitions add. One call
/// at batch 1 comes first, so that one-time initialisation is not counted as the workload's.
func w3PerSampleGradients(batches: [Int], quick: Bool, rows: inout [String]) {
    let p = MLP3.seeded()
    let perSample = vmap(grad(exampleLoss), inAxes: (nil, 0, 0))
    blackHole(try! perSample(p, streamNormal([1, 784], seed: 10), oneHot(streamLabels(1, classes: 10, seed: 11), numClasses: 10, dtype: .float32)))
    for batch in batches {
        let x = streamNormal([batch, 784], seed: 10)
        let y = oneHot(streamLabels(batch, classes: 10, seed: 11), numClasses: 10, dtype: .float32)
        let peak = PeakMemory()
        let m = timeWorkload("W3-per-sample-grad-b\(batch)", "fluxion", quick: quick,
                             checksum: { sumOfSquares(try! perSample(p, x, y)) }, extra: peak.fields) {
            blackHole(try! perSample(p, x, y))
        }
        let peakMiB = m.extra.first { $0.key == "peak_rss_delta_mib" }?.value ?? .nan
        report(m, &rows, note: String(format: "%.2f µs per example, peak +%.1f MiB", m.median * 1e6 / Double(batch), peakMiB))
    }
}

// MARK: - W3n private clipping

/// W3's MLP as a FluxionNN model (weights transposed once to Linear's [out, in]).
func mlp3Model() -> Sequential {
    let p = MLP3.seeded()
    let model = Sequential(Linear(784, 256), ReLU(), Linear(256, 256), ReLU(), Linear(256, 10))
    try! model.loadStateDict(["0.weight": Tensor(p.w1.mT), "0.bias": Tensor(p.b1), "2.weight": Tensor(p.w2.mT),
                              "2.bias": Tensor(p.b2), "4.weight": Tensor(p.w3.mT), "4.bias": Tensor(p.b3)])
    return model
}

/// DP-SGD's clipping on W3's MLP and data (labels as int64), C = 1, at each batch size:
/// `perSampleGradientNorms` (checksum Σ‖gᵢ‖²), `clippedGradientSum` (checksum Σ of the clipped
/// sum's squares; also jitted), and a non-private step (the summed loss's `backward()`) whose peak memory
/// the private rows are measured against.
func w3nPrivateClipping(batches: [Int], quick: Bool, rows: inout [String]) {
    let model = mlp3Model()
    let loss: PerExampleLoss = { crossEntropy($0, $1, reduction: .none) }
    let data = { (batch: Int) in (Tensor(streamNormal([batch, 784], seed: 10)), Tensor(streamLabels(batch, classes: 10, seed: 11))) }
    let stagedClipping = jit { (p: [String: Tensor], x: Tensor, y: Tensor) in
        try clippedGradientSum(model, parameters: p, x, y, loss: loss, maxNorm: 1).gradients
    }
    let (x1, y1) = data(1)
    blackHole(try! clippedGradientSum(model, x1, y1, loss: loss, maxNorm: 1).norms)
    for batch in batches {
        let (x, y) = data(batch)
        var peak = PeakMemory()
        let step = timeWorkload("W3n-nonprivate-step-b\(batch)", "fluxion", quick: quick, checksum: {
            model.zeroGrad()
            try! crossEntropy(model(x), y, reduction: .sum).backward()
            return sumOfSquares(model.parameters().map { $0.grad!.value })
        }, extra: peak.fields) {
            model.zeroGrad()
            try! crossEntropy(model(x), y, reduction: .sum).backward()
        }
        model.zeroGrad()
        let stepMiB = step.extra.first { $0.key == "peak_rss_delta_mib" }?.value ?? .nan
        report(step, &rows, note: String(format: "peak +%.1f MiB", stepMiB))
        peak = PeakMemory()
        let norms = timeWorkload("W3n-norms-b\(batch)", "fluxion", quick: quick, checksum: {
            sumOfSquares(try! perSampleGradientNorms(model, x, y, loss: loss).value)
        }, extra: peak.fields) {
            blackHole(try! perSampleGradientNorms(model, x, y, loss: loss))
        }
        let normsMiB = norms.extra.first { $0.key == "peak_rss_delta_mib" }?.value ?? .nan
        report(norms, &rows, note: String(format: "peak +%.1f MiB (%.2f× the step's)", normsMiB, normsMiB / stepMiB))
        peak = PeakMemory()
        let clipped = timeWorkload("W3n-clipped-sum-b\(batch)", "fluxion", quick: quick, checksum: {
            sumOfSquares(try! clippedGradientSum(model, x, y, loss: loss, maxNorm: 1).gradients.values.map(\.value))
        }, extra: peak.fields) {
            blackHole(try! clippedGradientSum(model, x, y, loss: loss, maxNorm: 1).gradients)
        }
        let clippedMiB = clipped.extra.first { $0.key == "peak_rss_delta_mib" }?.value ?? .nan
        report(clipped, &rows, note: String(format: "peak +%.1f MiB (%.2f× the step's)", clippedMiB, clippedMiB / stepMiB))
        let parameters = model.stateDict()
        peak = PeakMemory()
        let staged = timeWorkload("W3n-clipped-sum-b\(batch)", "fluxion-jit", quick: quick, checksum: {
            sumOfSquares(try! stagedClipping(parameters, x, y).values.map(\.value))
        }, extra: peak.fields) {
            blackHole(try! stagedClipping(parameters, x, y))
        }
        let stagedMiB = staged.extra.first { $0.key == "peak_rss_delta_mib" }?.value ?? .nan
        report(staged, &rows, note: String(format: "peak +%.1f MiB (%.2f× the step's)", stagedMiB, stagedMiB / stepMiB))
    }
}

// MARK: - W4 Hessian

/// f(x) = Σ tanh(A x) + ½ Σ x², A 128×128 (stream 40, /√128), x stream 41, float64; the full
/// Hessian by `hessian` (forward over reverse).
func w4Hessian(quick: Bool, rows: inout [String]) {
    let a = streamNormal([128, 128], seed: 40, scale: 1 / 128.0.squareRoot(), dtype: .float64)
    let x = streamNormal([128], seed: 41, dtype: .float64)
    let f = { (x: NDArray) -> NDArray in tanh(matmul(a, x)).sum() + 0.5 * (x * x).sum() }
    let h = hessian(f)
    let trace = { () -> Double in
        let values = try! h(x).doubles
        return stride(from: 0, to: values.count, by: 129).reduce(0) { $0 + values[$1] }
    }
    report(timeWorkload("W4-hessian-f64", "fluxion", quick: quick, checksum: trace) { blackHole(try! h(x)) }, &rows)
    let staged = jit(hessian(f))
    let m = timeJitted("W4-hessian-f64", quick: quick, compile: { try makeProgram(hessian(f))(x).optimized() }, checksum: { (0..<128).reduce(0) { $0 + (try! staged(x))[$1, $1].item() } }) {
        blackHole(try! staged(x))
    }
    report(m, &rows, note: compileNote(m))
}

// MARK: - W5 PINN loss

/// The 2-64-64-1 tanh network u(x, y).
struct PINN: ArrayStruct {
    var w1: NDArray, b1: NDArray, w2: NDArray, b2: NDArray, w3: NDArray, b3: NDArray
    static var arrayProperties: [ArrayProperty<PINN>] {
        [.init(\.w1), .init(\.b1), .init(\.w2), .init(\.b2), .init(\.w3), .init(\.b3)]
    }

    /// Weights from streams 50, 51, 52 in float64 for d = 2 (W5), 55, 56, 57 otherwise (W5d);
    /// biases 0.
    static func seeded(inputs d: Int = 2) -> PINN {
        let seed: UInt64 = d == 2 ? 50 : 55
        return PINN(w1: streamWeight(d, 64, seed: seed, dtype: .float64), b1: .zeros([64], dtype: .float64),
                    w2: streamWeight(64, 64, seed: seed + 1, dtype: .float64), b2: .zeros([64], dtype: .float64),
                    w3: streamWeight(64, 1, seed: seed + 2, dtype: .float64), b3: .zeros([1], dtype: .float64))
    }

    /// u at points of shape [..., d]; the result drops the last axis.
    func callAsFunction(_ points: NDArray) -> NDArray {
        let h1 = tanh(matmul(points, w1) + b1)
        let h2 = tanh(matmul(h1, w2) + b2)
        return (matmul(h2, w3) + b3).squeeze(dim: -1)
    }
}

/// mean((Δu − s)²), the Laplacian of each point the trace of its d×d Hessian, batched over
/// the points with vmap.
func pinnLoss(_ p: PINN, _ points: NDArray, _ s: NDArray) throws -> NDArray {
    let laplacian = try vmap({ (point: NDArray) -> NDArray in try hessian({ p($0) })(point).trace() })(points)
    let r = laplacian - s
    return (r * r).mean()
}

/// The same loss with each point's Laplacian from the forward Laplacian (`laplacian`).
func pinnLossLaplacian(_ p: PINN, _ points: NDArray, _ s: NDArray) throws -> NDArray {
    let r = try laplacian({ p($0) }, batched: true)(points) - s
    return (r * r).mean()
}

/// The same loss with each second derivative as a forward-over-forward directional derivative
/// of the batched network (points are independent, so one tangent per axis serves them all).
func pinnLossForward(_ p: PINN, _ points: NDArray, _ s: NDArray) throws -> NDArray {
    var laplacian = NDArray.zerosLike(s)
    for axis in 0..<2 {
        let e = NDArray.zerosLike(points) + NDArray.eye(2, dtype: .float64)[axis]
        let slope = { (q: NDArray) throws -> NDArray in try jvp({ p($0) }, at: q, tangents: e).tangent }
        laplacian = laplacian + (try jvp(slope, at: points, tangents: e).tangent)
    }
    let r = laplacian - s
    return (r * r).mean()
}

/// 1024 points uniform in [0, 1)² (stream 53), s = sin(πx) sin(πy), float64; value and gradient
/// with respect to every parameter.
func w5PINN(quick: Bool, rows: inout [String]) {
    let p = PINN.seeded()
    let points = streamUniform([1024, 2], seed: 53, dtype: .float64)
    let s = sin(Double.pi * points[.all, 0]) * sin(Double.pi * points[.all, 1])
    for (implementation, loss) in [("fluxion", pinnLoss), ("fluxion-jvp-jvp", pinnLossForward), ("fluxion-laplacian", pinnLossLaplacian)] {
        let valueAndGradient = valueAndGrad(loss)
        report(timeWorkload("W5-pinn-f64", implementation, quick: quick,
                            checksum: { sumOfSquares(try! valueAndGradient(p, points, s).grad) }) {
            blackHole(try! valueAndGradient(p, points, s))
        }, &rows)
    }
    for (implementation, loss) in [("fluxion-jit", pinnLoss), ("fluxion-jvp-jvp-jit", pinnLossForward),
                                   ("fluxion-laplacian-jit", pinnLossLaplacian)] {
        let staged = jit(valueAndGrad(loss))
        let m = timeJitted("W5-pinn-f64", implementation, quick: quick,
                           compile: { try makeProgram(valueAndGrad(loss))(p, points, s).optimized() },
                           checksum: { sumOfSquares(try! staged(p, points, s).grad) }) {
            blackHole(try! staged(p, points, s))
        }
        report(m, &rows, note: compileNote(m))
    }
}

// MARK: - W5d PINN loss in ten dimensions

/// The 10-dimensional Poisson loss: the W5 network with 10 inputs (streams 55–57), 1024 points
/// uniform in [0, 1)¹⁰ (stream 58), s = Σᵢ sin(πxᵢ), float64; value and gradient with respect to
/// every parameter, the Laplacian as the Hessian's trace and by the forward Laplacian.
func w5dPINN(quick: Bool, rows: inout [String]) {
    let p = PINN.seeded(inputs: 10)
    let points = streamUniform([1024, 10], seed: 58, dtype: .float64)
    let s = sin(Double.pi * points).sum(dim: 1)
    for (implementation, loss) in [("fluxion-laplacian", pinnLossLaplacian)] {
        let valueAndGradient = valueAndGrad(loss)
        report(timeWorkload("W5d-pinn10-f64", implementation, quick: quick,
                            checksum: { sumOfSquares(try! valueAndGradient(p, points, s).grad) }) {
            blackHole(try! valueAndGradient(p, points, s))
        }, &rows)
    }
    for (implementation, loss) in [("fluxion-jit", pinnLoss), ("fluxion-laplacian-jit", pinnLossLaplacian)] {
        let staged = jit(valueAndGrad(loss))
        let m = timeJitted("W5d-pinn10-f64", implementation, quick: quick,
                           compile: { try makeProgram(valueAndGrad(loss))(p, points, s).optimized() },
                           checksum: { sumOfSquares(try! staged(p, points, s).grad) }) {
            blackHole(try! staged(p, points, s))
        }
        report(m, &rows, note: compileNote(m))
    }
}

// MARK: - W6 MAML

/// The 1-40-40-1 ReLU regression network.
struct SineNet: ArrayStruct {
    var w1: NDArray, b1: NDArray, w2: NDArray, b2: NDArray, w3: NDArray, b3: NDArray
    static var arrayProperties: [ArrayProperty<SineNet>] {
        [.init(\.w1), .init(\.b1), .init(\.w2), .init(\.b2), .init(\.w3), .init(\.b3)]
    }

    /// Weights from streams 60, 61, 62; biases 0.
    static func seeded() -> SineNet {
        SineNet(w1: streamWeight(1, 40, seed: 60), b1: .zeros([40]),
                w2: streamWeight(40, 40, seed: 61), b2: .zeros([40]),
                w3: streamWeight(40, 1, seed: 62), b3: .zeros([1]))
    }

    func callAsFunction(_ x: NDArray) -> NDArray {
        matmul(relu(matmul(relu(matmul(x, w1) + b1), w2) + b2), w3) + b3
    }
}

/// One sine-regression task: support and query points, each [10, 1].
struct Task: ArrayStruct {
    var supportX: NDArray, supportY: NDArray, queryX: NDArray, queryY: NDArray
    static var arrayProperties: [ArrayProperty<Task>] {
        [.init(\.supportX), .init(\.supportY), .init(\.queryX), .init(\.queryY)]
    }
}

func mse(_ p: SineNet, _ x: NDArray, _ y: NDArray) -> NDArray {
    let r = p(x) - y
    return (r * r).mean()
}

/// The query loss after one inner SGD step (lr 0.01) on the support set, differentiable in `p`.
func adaptedLoss(_ p: SineNet, _ task: Task) throws -> NDArray {
    let g = try grad(mse)(p, task.supportX, task.supportY)
    let adapted = p.rebuilt(with: zip(p.leaves, g.leaves).map { $0 - 0.01 * $1 })
    return mse(adapted, task.queryX, task.queryY)
}

/// The outer loss: the mean over tasks, the tasks batched with vmap.
func mamlLoss(_ p: SineNet, _ tasks: Task) throws -> NDArray {
    try vmap(adaptedLoss, inAxes: (nil, 0))(p, tasks).mean()
}

/// 25 tasks y = A sin(x − φ), A ∈ [0.1, 5) (stream 63), φ ∈ [0, π) (stream 64), support and
/// query x ∈ [−5, 5) (streams 65, 66); one outer gradient (second order).
func w6MAML(quick: Bool, rows: inout [String]) {
    let p = SineNet.seeded()
    let amplitude = streamUniform([25, 1, 1], seed: 63, low: 0.1, high: 5)
    let phase = streamUniform([25, 1, 1], seed: 64, low: 0, high: Double.pi)
    let supportX = streamUniform([25, 10, 1], seed: 65, low: -5, high: 5)
    let queryX = streamUniform([25, 10, 1], seed: 66, low: -5, high: 5)
    let tasks = Task(supportX: supportX, supportY: amplitude * sin(supportX - phase),
                     queryX: queryX, queryY: amplitude * sin(queryX - phase))
    let outerGradient = grad(mamlLoss)
    report(timeWorkload("W6-maml", "fluxion", quick: quick, checksum: { sumOfSquares(try! outerGradient(p, tasks)) }) {
        blackHole(try! outerGradient(p, tasks))
    }, &rows)
    let staged = jit(grad(mamlLoss))
    let m = timeJitted("W6-maml", quick: quick, compile: { try makeProgram(grad(mamlLoss))(p, tasks).optimized() }, checksum: { sumOfSquares(try! staged(p, tasks)) }) {
        blackHole(try! staged(p, tasks))
    }
    report(m, &rows, note: compileNote(m))
}

// MARK: - W7 Jacobian

/// f(x) = tanh(W x), W 256×256 (stream 70, /16), x stream 71; the full Jacobian both ways.
func w7Jacobian(quick: Bool, rows: inout [String]) {
    let w = streamNormal([256, 256], seed: 70, scale: 1 / 16)
    let x = streamNormal([256], seed: 71)
    let f = { (x: NDArray) -> NDArray in tanh(matmul(w, x)) }
    for (mode, jacobian) in [("jacrev", jacrev(f)), ("jacfwd", jacfwd(f))] {
        report(timeWorkload("W7-jacobian-\(mode)", "fluxion", quick: quick, checksum: { sumOfSquares(try! jacobian(x)) }) {
            blackHole(try! jacobian(x))
        }, &rows)
        let staged = jit(jacobian)
        let m = timeJitted("W7-jacobian-\(mode)", quick: quick, compile: { try makeProgram(jacobian)(x).optimized() }, checksum: { sumOfSquares(try! staged(x)) }) {
            blackHole(try! staged(x))
        }
        report(m, &rows, note: compileNote(m))
    }
}

// MARK: - W8 GEMM-bound layer

/// A bias-free `Linear` 1024→1024 (W [out, in], stream 80, /32) on a batch of 1024 (stream 81):
/// y = X Wᵀ, L = ½ Σ y², both gradients. "fluxion" is `valueAndGrad` of L; "fluxion-vjp" the
/// pullback of the layer at cotangent y (= ∂L/∂y); "cblas" the three GEMMs alone on
/// preallocated buffers: y = X Wᵀ, ∂L/∂X = y W, ∂L/∂W = yᵀ X.
func w8Linear(quick: Bool, rows: inout [String]) {
    let n = 1024
    let w = streamNormal([n, n], seed: 80, scale: 1 / 32)
    let x = streamNormal([n, n], seed: 81)
    let inputs = [w, x]
    let loss = { (wx: [NDArray]) -> NDArray in
        let y = matmul(wx[1], wx[0].T)
        return 0.5 * (y * y).sum()
    }
    let valueAndGradient = valueAndGrad(loss)
    report(timeWorkload("W8-linear-1024", "fluxion", quick: quick, checksum: { sumOfSquares(try! valueAndGradient(inputs).grad) }) {
        blackHole(try! valueAndGradient(inputs))
    }, &rows)

    let layerVJP = { () -> (NDArray, [NDArray]) in
        let (y, pullback) = try! vjp({ (wx: [NDArray]) in matmul(wx[1], wx[0].T) }, at: inputs)
        return (0.5 * (y * y).sum(), try! pullback(y))
    }
    report(timeWorkload("W8-linear-1024", "fluxion-vjp", quick: quick, checksum: { sumOfSquares(layerVJP().1) }) {
        blackHole(layerVJP())
    }, &rows)

    let y = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    let dx = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    let dw = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    defer { y.deallocate(); dx.deallocate(); dw.deallocate() }
    let n32 = Int32(n)
    let gemms = {
        w.withUnsafeBufferPointer(as: Float.self) { pw in
            x.withUnsafeBufferPointer(as: Float.self) { px in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n32, n32, n32, 1, px.baseAddress, n32, pw.baseAddress, n32, 0, y, n32)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, n32, n32, 1, y, n32, pw.baseAddress, n32, 0, dx, n32)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n32, n32, n32, 1, y, n32, px.baseAddress, n32, 0, dw, n32)
            }
        }
    }
    let rawChecksum = { () -> Double in
        gemms()
        var total = 0.0
        for i in 0..<(n * n) { total += Double(dx[i]) * Double(dx[i]) + Double(dw[i]) * Double(dw[i]) }
        return total
    }
    report(timeWorkload("W8-linear-1024", "cblas", quick: quick, checksum: rawChecksum) { gemms() }, &rows)
}

// MARK: - Peak memory

/// The peak resident set size while a workload runs, from Linux's /proc/self/status: the
/// high-water mark (VmHWM) is reset to the current size by writing 5 to /proc/self/clear_refs,
/// and the figure reported is VmHWM afterwards minus VmRSS at the reset. Run each batch size
/// in its own process (`--batches`) so that memory kept by the allocator from one size does
/// not lower the next one's figure.
struct PeakMemory {
    let baselineKiB: Int
    let resetWorked: Bool

    init() {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        var worked = false
        if fd >= 0 {
            worked = write(fd, "5", 1) == 1
            close(fd)
        }
        resetWorked = worked
        baselineKiB = PeakMemory.status("VmRSS") ?? 0
    }

    /// A field of /proc/self/status in KiB.
    static func status(_ key: String) -> Int? {
        // /proc files report a size of 0, so read until the end rather than by size.
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Int(line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    func deltaMiB() -> Double { Double((PeakMemory.status("VmHWM") ?? 0) - baselineKiB) / 1024 }

    func fields() -> [(key: String, value: Double)] {
        resetWorked ? [("peak_rss_delta_mib", deltaMiB()), ("baseline_rss_mib", Double(baselineKiB) / 1024)] : []
    }
}
