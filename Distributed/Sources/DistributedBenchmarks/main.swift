// Figures for FluxionDistributed, printed by rank 0 (release build; see Distributed/README.md):
//
//   allreduce  `allReduce` of float32 arrays (1M and 16M elements, and a tree of the same size)
//              against a raw `MPI_Allreduce` of the same buffer, and raw times from 4 bytes to
//              64 MB, from which the α–β model's latency α and inverse bandwidth β are fitted.
//   W2         the MLP 784-256-256-10 training step at global batch 128 (facade, SGD), gradients
//              averaged by `averageGradients`.
//   W3         per-sample gradients of the same MLP at global batch 1024 (vmap(grad)), float32,
//              each rank its shard, then the batch gradient Σᵢ gᵢ reduced over ranks.
//   W5         the PINN Laplacian loss of the 2-64-64-1 tanh network at 1024 points, float64,
//              value and gradient by `shardedValueAndGrad`.
//
// Each figure is the median over repetitions of the slowest rank's time; every repetition starts
// after a barrier. Run under mpirun with 1 and 2 ranks and compare:
//
//   OPENBLAS_NUM_THREADS=1 mpirun --allow-run-as-root -np 2 .build/release/DistributedBenchmarks
//   mpirun --allow-run-as-root -np 1 .build/release/DistributedBenchmarks --only W2,W3,W5
//
// Options: `--only allreduce,W2,W3,W5`, `--reps N` (default 20), `--quick` (3 repetitions),
// `--raw-first` (the raw call first in each repetition of the allreduce comparison),
// `--alpha µs --beta ns/byte` (project with these instead of the fitted figures).
// Inputs are drawn from fixed keys (the benchmark package's streams give the same shapes; the
// values do not change the timings).

import CMPI
import Foundation
import Fluxion
import FluxionDistributed
import FluxionNN
#if canImport(Glibc)
import Glibc
#endif

let world = try Communicator.world
let arguments = CommandLine.arguments
let only: Set<String>? = arguments.firstIndex(of: "--only").map { Set(arguments[$0 + 1].split(separator: ",").map(String.init)) }
let quick = arguments.contains("--quick")
let reps = quick ? 3 : (arguments.firstIndex(of: "--reps").flatMap { Int(arguments[$0 + 1]) } ?? 20)
func selected(_ name: String) -> Bool { only?.contains(name) ?? true }

/// Prints on rank 0 only.
func say(_ text: String) {
    if world.rank == 0 { print(text); fflush(nil) }
}

/// The median over `repetitions` of the slowest rank's time of `body`, in seconds, after one
/// warm-up call; each repetition starts after a barrier.
func time(_ repetitions: Int = reps, _ body: () throws -> Void) throws -> Double {
    try body()
    var times: [Double] = []
    for _ in 0..<repetitions {
        try world.barrier()
        let start = MPI_Wtime()
        try body()
        times.append(try world.allReduce(MPI_Wtime() - start, .max))
    }
    return times.sorted()[times.count / 2]
}

/// Several bodies timed in turn within each repetition (so that a disturbance hits them alike).
func timeInterleaved(_ bodies: [() throws -> Void], repetitions: Int = reps) throws -> [Double] {
    for body in bodies { try body() }
    var times = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<repetitions {
        for (k, body) in bodies.enumerated() {
            try world.barrier()
            let start = MPI_Wtime()
            try body()
            times[k].append(try world.allReduce(MPI_Wtime() - start, .max))
        }
    }
    return times.map { $0.sorted()[$0.count / 2] }
}

func milliseconds(_ t: Double) -> String { String(format: "%.3f ms", t * 1e3) }

/// The value after `flag` on the command line, as a number.
func number(_ flag: String) -> Double? { arguments.firstIndex(of: flag).flatMap { Double(arguments[$0 + 1]) } }

/// The α–β model's latency and inverse bandwidth (seconds, seconds per byte): fitted below, or
/// given with `--alpha MICROSECONDS --beta NANOSECONDS_PER_BYTE` to project another network.
var alpha: Double? = number("--alpha").map { $0 * 1e-6 }
var beta: Double? = number("--beta").map { $0 * 1e-9 }

/// What one data-parallel step of a workload computes and communicates, for the projections.
struct Workload {
    let name: String
    /// The global batch (examples, points).
    let batch: Int
    /// Compute per example on one rank, in seconds (measured with batch/size examples per rank).
    let perExample: Double
    /// Bytes reduced per step (one fused buffer).
    let bytes: Int
}
var workloads: [Workload] = []

say("FluxionDistributed benchmarks: \(world.size) rank\(world.size == 1 ? "" : "s"), \(reps) repetitions, OPENBLAS_NUM_THREADS=\(String(cString: getenv("OPENBLAS_NUM_THREADS") ?? strdup("unset")))")

// MARK: - allReduce against MPI_Allreduce

if selected("allreduce") {
    say("\n## allReduce (float32, sum) against a raw MPI_Allreduce of the same buffer")
    for n in [1 << 20, 1 << 24] {
        let x = NDArray.normal([n], key: RandomKey(seed: 1))
        // The raw call sends from the array's own storage, as `allReduce` does, into one fixed block.
        let receive = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { receive.deallocate() }
        receive.initialize(repeating: 0)
        // The same number of elements as a tree of six leaves (the MLP's proportions).
        let fractions = [0.745, 0.001, 0.243, 0.001, 0.0095]
        var sizes = fractions.map { Int(Double(n) * $0) }
        sizes.append(n - sizes.reduce(0, +))
        let tree = sizes.enumerated().map { NDArray.normal([$0.element], key: RandomKey(seed: UInt64(10 + $0.offset))) }
        var sink = 0.0
        let rawFirst = arguments.contains("--raw-first")
        let order = rawFirst ? [0, 1, 2, 3, 4] : [1, 2, 0, 3, 4]
        let bodies: [() throws -> Void] = [
            {
                let code = x.withUnsafeBufferPointer(as: Float.self) {
                    MPI_Allreduce($0.baseAddress, receive.baseAddress, Int32(n), cmpi_float(), cmpi_op_sum(), cmpi_comm_world())
                }
                guard code == MPI_SUCCESS else { throw DistributedError(operation: "MPI_Allreduce", problem: "code \(code)", fix: "") }
            },
            { sink += Double(try world.allReduce(x, .sum).count) },
            { sink += Double(try world.allReduce(tree, .sum).count) },
            {
                let out = NDArray(shape: [n], unsafeUninitializedElementsOf: Float.self) { out in
                    _ = x.withUnsafeBufferPointer(as: Float.self) {
                        MPI_Allreduce($0.baseAddress, out.baseAddress, Int32(n), cmpi_float(), cmpi_op_sum(), cmpi_comm_world())
                    }
                }
                sink += Double(out.count)
            },
            {
                var signature: [Int64] = [1, 2, -1, -2]
                _ = MPI_Allreduce(cmpi_in_place(), &signature, 4, cmpi_int64(), cmpi_op_max(), cmpi_comm_world())
                _ = x.withUnsafeBufferPointer(as: Float.self) {
                    MPI_Allreduce($0.baseAddress, receive.baseAddress, Int32(n), cmpi_float(), cmpi_op_sum(), cmpi_comm_world())
                }
            },
        ]
        // Measured in turn within each repetition; the order is an option because the first
        // call after the previous repetition's runs on colder buffers.
        let measured = try timeInterleaved(order.map { bodies[$0] })
        var times = [Double](repeating: 0, count: 5)
        for (position, k) in order.enumerated() { times[k] = measured[position] }
        let label = n == 1 << 20 ? "1M" : "16M"
        say(String(format: "allreduce-%@  raw MPI_Allreduce %@   allReduce(NDArray) %@ (%.3f×)   allReduce(tree of 6) %@ (%.3f×)   %.2f GB/s algorithm bandwidth",
                   label, milliseconds(times[0]), milliseconds(times[1]), times[1] / times[0], milliseconds(times[2]), times[2] / times[0],
                   Double(4 * n) / times[0] / 1e9))
        // Where a difference comes from: the raw call into a fresh block (the library's result
        // buffer), and the raw call after a 32-byte collective (the library's agreement check).
        say(String(format: "allreduce-%@  raw into a fresh block %@, raw after a 32-byte MAX collective %@", label,
                   milliseconds(times[3]), milliseconds(times[4])))
        blackHole(sink)
    }

    // α and β: raw MPI_Allreduce times over sizes, fitted by least squares to t = a + b·bytes.
    // For the ring algorithm t = 2(p−1)α + 2(p−1)/p·n·β, so α = a / (2(p−1)), β = b·p / (2(p−1)).
    if world.size > 1 {
        say("\n## raw MPI_Allreduce over sizes (float32), for the α–β model")
        var points: [(bytes: Double, t: Double)] = []
        for n in [1, 16, 256, 4096, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24] {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
            let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
            buffer.initialize(repeating: 1)
            out.initialize(repeating: 0)
            let count = n <= 4096 ? 1000 : n <= 1 << 20 ? 50 : 10
            // Small messages: many calls per timing, so the barrier does not dominate.
            let t = try time(Swift.max(3, reps / 2)) {
                for _ in 0..<count {
                    _ = MPI_Allreduce(buffer.baseAddress, out.baseAddress, Int32(n), cmpi_float(), cmpi_op_sum(), cmpi_comm_world())
                }
            } / Double(count)
            buffer.deallocate()
            out.deallocate()
            points.append((Double(4 * n), t))
            say(String(format: "raw-allreduce  %10d bytes  %10.2f µs", 4 * n, t * 1e6))
        }
        // Latency from the small messages, bandwidth from the large ones.
        let small = points.filter { $0.bytes <= 1024 }
        let large = points.filter { $0.bytes >= Double(1 << 20) }
        let a = small.map(\.t).reduce(0, +) / Double(small.count)
        let meanBytes = large.map(\.bytes).reduce(0, +) / Double(large.count)
        let meanT = large.map(\.t).reduce(0, +) / Double(large.count)
        let b = large.map { ($0.bytes - meanBytes) * ($0.t - meanT) }.reduce(0, +) / large.map { ($0.bytes - meanBytes) * ($0.bytes - meanBytes) }.reduce(0, +)
        let p = Double(world.size)
        let fittedAlpha = a / (2 * (p - 1)), fittedBeta = b * p / (2 * (p - 1))
        say(String(format: "fit: t ≈ %.2f µs + bytes × %.4f ns   →   α = %.2f µs, β = %.4f ns/byte (%.2f GB/s per link)",
                   a * 1e6, b * 1e9, fittedAlpha * 1e6, fittedBeta * 1e9, 1 / fittedBeta / 1e9))
        alpha = alpha ?? fittedAlpha
        beta = beta ?? fittedBeta
    }
}

// MARK: - Workloads

/// The 784-256-256-10 ReLU MLP of W2 and W3.
struct MLP3: ArrayStruct {
    var w1: NDArray, b1: NDArray, w2: NDArray, b2: NDArray, w3: NDArray, b3: NDArray
    static var arrayProperties: [ArrayProperty<MLP3>] {
        [.init(\.w1), .init(\.b1), .init(\.w2), .init(\.b2), .init(\.w3), .init(\.b3)]
    }

    static func seeded() -> MLP3 {
        let k = RandomKey(seed: 1).split(into: 3)
        return MLP3(w1: NDArray.normal([784, 256], key: k[0]) / 28, b1: .zeros([256]),
                    w2: NDArray.normal([256, 256], key: k[1]) / 16, b2: .zeros([256]),
                    w3: NDArray.normal([256, 10], key: k[2]) / 16, b3: .zeros([10]))
    }
}

/// Softmax cross-entropy of one example against a one-hot target (W3's `exampleLoss`).
func exampleLoss(_ p: MLP3, _ x: NDArray, _ target: NDArray) -> NDArray {
    let h1 = relu(matmul(x, p.w1) + p.b1)
    let h2 = relu(matmul(h1, p.w2) + p.b2)
    let logits = matmul(h2, p.w3) + p.b3
    return logits.logSumExp(dim: -1) - (target * logits).sum(dim: -1)
}

let mnistLike = NDArray.normal([1024, 784], key: RandomKey(seed: 10))
let labels = NDArray(shape: [1024], scalars: (0..<1024).map { ($0 * 7) % 10 })

if selected("W2") {
    say("\n## W2: MLP 784-256-256-10 training step, global batch 128 (facade, SGD lr 0.01)")
    let model = Sequential(Linear(784, 256), ReLU(), Linear(256, 256), ReLU(), Linear(256, 10))
    try world.broadcastParameters(model)
    let optimizer = SGD(model.parameters(), lr: 0.01)
    let x = Tensor(try world.shard(mnistLike[0..<128])), y = Tensor(try world.shard(labels[0..<128]))
    let compute = try time {
        optimizer.zeroGrad()
        try crossEntropy(model(x), y).backward()
        optimizer.step()
    }
    let step = try time {
        optimizer.zeroGrad()
        try crossEntropy(model(x), y).backward()
        try world.averageGradients(model)
        optimizer.step()
    }
    let reduction = try time { try world.averageGradients(model) }
    let bytes = model.parameterCount * 4
    say(String(format: "W2-step  %@ per step of %d examples per rank (without the reduction %@; averageGradients alone %@), %d bytes of gradient reduced per step",
               milliseconds(step), x.shape[0], milliseconds(compute), milliseconds(reduction), bytes))
    workloads.append(Workload(name: "W2 (MLP step, B = 128)", batch: 128, perExample: compute / Double(x.shape[0]), bytes: bytes))
}

if selected("W3") {
    say("\n## W3: per-sample gradients, MLP 784-256-256-10 float32, global batch 1024")
    let p = try world.broadcast(MLP3.seeded())
    let perSample = vmap(grad(exampleLoss), inAxes: (nil, 0, 0))
    let x = try world.shard(mnistLike), y = try world.shard(oneHot(labels, numClasses: 10, dtype: .float32))
    var local: MLP3?
    let computeTime = try time {
        let g = try perSample(p, x, y)
        local = g.mapLeaves { $0.sum(dim: 0) }
    }
    let reduceTime = try time { blackHole(try world.allReduce(local!, .sum)) }
    let step = try time {
        let g = try perSample(p, x, y)
        blackHole(try world.allReduce(g.mapLeaves { $0.sum(dim: 0) }, .sum))
    }
    let parameters = p.leaves.reduce(0) { $0 + $1.count }
    say(String(format: "W3-step  %@ per step of %d examples per rank: per-sample gradients %@, allReduce of the %d-float batch gradient %@",
               milliseconds(step), x.shape[0], milliseconds(computeTime), parameters, milliseconds(reduceTime)))
    workloads.append(Workload(name: "W3 (per-sample grads, B = 1024)", batch: 1024, perExample: computeTime / Double(x.shape[0]),
                              bytes: parameters * 4))
}

/// The 2-64-64-1 tanh network of W5.
struct PINN: ArrayStruct {
    var w1: NDArray, b1: NDArray, w2: NDArray, b2: NDArray, w3: NDArray, b3: NDArray
    static var arrayProperties: [ArrayProperty<PINN>] {
        [.init(\.w1), .init(\.b1), .init(\.w2), .init(\.b2), .init(\.w3), .init(\.b3)]
    }
    func callAsFunction(_ points: NDArray) -> NDArray {
        let h1 = tanh(matmul(points, w1) + b1)
        let h2 = tanh(matmul(h1, w2) + b2)
        return (matmul(h2, w3) + b3).squeeze(dim: -1)
    }
}

if selected("W5") {
    say("\n## W5: PINN Laplacian loss, 2-64-64-1 tanh float64, 1024 points (vmap of hessian traces)")
    let k = RandomKey(seed: 50).split(into: 4)
    let net = try world.broadcast(PINN(w1: NDArray.normal([2, 64], key: k[0], dtype: .float64) / 2.0.squareRoot(), b1: .zeros([64], dtype: .float64),
                                       w2: NDArray.normal([64, 64], key: k[1], dtype: .float64) / 8, b2: .zeros([64], dtype: .float64),
                                       w3: NDArray.normal([64, 1], key: k[2], dtype: .float64) / 8, b3: .zeros([1], dtype: .float64)))
    let points = NDArray.uniform([1024, 2], key: k[3], dtype: .float64)
    let source = sin(Double.pi * points[.all, 0]) * sin(Double.pi * points[.all, 1])
    let loss = { (p: PINN, batch: [NDArray]) throws -> NDArray in
        let laplacian = try vmap({ (point: NDArray) -> NDArray in try hessian({ p($0) })(point).trace() })(batch[0])
        let r = laplacian - batch[1]
        return (r * r).mean()
    }
    var value = 0.0
    let local = try world.shard([points, source])
    let compute = try time { blackHole(try valueAndGrad(loss)(net, local)) }
    let step = try time { value = try world.shardedValueAndGrad(loss, at: net, batch: [points, source]).value }
    let parameters = net.leaves.reduce(0) { $0 + $1.count }
    say(String(format: "W5-step  %@ per value and gradient of %d points per rank (loss %.6f; without the reduction %@), %d bytes reduced per step",
               milliseconds(step), local[0].shape[0], value, milliseconds(compute), parameters * 8 + 16))
    workloads.append(Workload(name: "W5 (PINN, 1024 points)", batch: 1024, perExample: compute / Double(local[0].shape[0]),
                              bytes: parameters * 8 + 16))
}

// MARK: - Projections

/// One allreduce of `bytes` on `p` ranks in the α–β model: the cheaper of the ring
/// (2(p−1)α + 2(p−1)/p·n·β) and recursive doubling (⌈log₂ p⌉·(α + n·β)), which MPI libraries
/// switch between by message size; plus the 32-byte agreement check (⌈log₂ p⌉·α).
func allreduceTime(bytes: Int, ranks p: Int, alpha: Double, beta: Double) -> Double {
    guard p > 1 else { return 0 }
    let n = Double(bytes), q = Double(p), steps = (log2(q)).rounded(.up)
    let ring = 2 * (q - 1) * alpha + 2 * (q - 1) / q * n * beta
    let doubling = steps * (alpha + n * beta)
    return Swift.min(ring, doubling) + steps * alpha
}

if let alpha, let beta, !workloads.isEmpty {
    say(String(format: "\n## Projections (α = %.2f µs, β = %.4f ns/byte): time per step at a fixed global batch (strong scaling)", alpha * 1e6, beta * 1e9))
    say("workload                           p   per rank   compute     allreduce   step        speed-up   efficiency")
    for w in workloads {
        let one = w.perExample * Double(w.batch)
        for p in [1, 2, 8, 64, 512] {
            let perRank = Double(w.batch) / Double(p)
            let compute = w.perExample * perRank.rounded(.up)  // the largest shard
            let comm = allreduceTime(bytes: w.bytes, ranks: p, alpha: alpha, beta: beta)
            let step = compute + comm
            let note = perRank < 1 ? "  (fewer examples than ranks: ranks idle)" : ""
            say(String(format: "%-32@ %4d %9.2f %9.3f ms %9.3f ms %9.3f ms %9.1f× %9.0f%%%@", w.name as NSString, p, perRank, compute * 1e3, comm * 1e3,
                       step * 1e3, one / step, 100 * one / step / Double(p), note))
        }
    }
}

@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }
