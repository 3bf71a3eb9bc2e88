// The checks every rank runs under mpirun (the package's tests spawn them with 1, 2 and 4
// ranks; `mpirun -np 2 DistributedChecks` runs them by hand).
//
// Oracles: every rank can compute what every other rank contributes (contributions are
// functions of the rank, or of data drawn from shared keys), so collectives are checked against
// a local computation of the whole, and data-parallel training against the same training run
// by one process on the whole batch. With `--output FILE`, rank 0 also writes the global
// results, so that runs on different numbers of ranks can be compared with each other.
//
// A failed check prints its message and aborts the whole job (`MPI_Abort`) with exit code 1,
// so that no rank is left waiting in a collective.

import Fluxion
import FluxionDistributed
import FluxionNN
#if canImport(Glibc)
import Glibc
#endif

let world: Communicator
do {
    world = try Communicator.world
} catch {
    print("rank ?: \(error)")
    exit(1)
}

/// The value after `flag` on the command line, as an integer.
func option(_ flag: String) -> Int? {
    guard let i = CommandLine.arguments.firstIndex(of: flag), i + 1 < CommandLine.arguments.count else { return nil }
    return Int(CommandLine.arguments[i + 1])
}

// Misbehaving ranks, for the tests of the launcher: a check that fails (and aborts the job), a
// rank that exits without a word while the others wait, a rank that never returns.
if option("--fail-rank") == world.rank {
    print("rank \(world.rank): failing on purpose (--fail-rank)")
    fflush(nil)
    Communicator.abort(code: 1)
}
if option("--exit-rank") == world.rank { exit(3) }
if option("--hang-rank") == world.rank { while true { sleep(60) } }

var results: [(String, [Double])] = []
var failures = 0

/// Stops the job with `message` unless `condition` holds.
func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    guard !condition else { return }
    print("rank \(world.rank)/\(world.size): check at DistributedChecks/main.swift:\(line) failed: \(message())")
    fflush(nil)
    Communicator.abort(code: 1)
}

/// Stops unless `a` and `b` hold the same numbers within `rtol` relative to the largest magnitude.
func expectClose(_ a: [Double], _ b: [Double], rtol: Double, _ what: String, line: UInt = #line) {
    expect(a.count == b.count, "\(what): \(a.count) values against \(b.count)", line: line)
    let scale = Swift.max(1e-30, (a + b).map(abs).max() ?? 0)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    expect(worst <= rtol * scale, "\(what): differ by \(worst) (scale \(scale), rtol \(rtol)); first values \(a.prefix(4)) against \(b.prefix(4))",
           line: line)
}

/// Runs a check, turning a thrown error into a failed check.
func check(_ name: String, _ body: () throws -> Void) {
    do {
        try body()
        if world.rank == 0 { print("ok  \(name)") }
    } catch {
        expect(false, "\(name) threw \(error)")
    }
}

/// Expects `body` to throw a `DistributedError` on this rank.
func expectThrows(_ what: String, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        expect(false, "\(what) did not throw", line: line)
    } catch let error as DistributedError {
        expect(!error.description.isEmpty && error.description.contains("Fix:"), "\(what): message without a fix: \(error)", line: line)
    } catch {
        expect(false, "\(what) threw \(type(of: error)), not DistributedError: \(error)", line: line)
    }
}

/// A value of rank r at element i (small integers, so float sums are exact in any order).
func contribution(rank r: Int, _ i: Int) -> Double { Double((r * 7 + i * 3) % 11) - 5 }

let p = world.size
let r = world.rank

// MARK: - Collectives

check("world") {
    expect((0..<p).contains(r), "rank \(r) outside 0..<\(p)")
    if let s = getenv("OMPI_COMM_WORLD_SIZE").flatMap({ Int(String(cString: $0)) }) { expect(s == p, "size \(p), mpirun says \(s)") }
    try world.barrier()
}

check("allReduce of an array (sum, mean, max; float32, float64)") {
    for dtype in [DType.float32, .float64] {
        let n = 1000
        let x = NDArray(shape: [10, 100], scalars: (0..<n).map { contribution(rank: r, $0) }, dtype: dtype)
        let sum = try world.allReduce(x, .sum)
        let mean = try world.allReduce(x, .mean)
        let max = try world.allReduce(x, .max)
        expect(sum.shape == [10, 100] && sum.dtype == dtype, "shape \(sum.shape) \(sum.dtype)")
        let expectedSum = (0..<n).map { i in (0..<p).reduce(0.0) { $0 + contribution(rank: $1, i) } }
        expectClose(sum.doubles, expectedSum, rtol: 0, "sum \(dtype)")
        expectClose(mean.doubles, expectedSum.map { $0 / Double(p) }, rtol: dtype == .float32 ? 1e-6 : 1e-15, "mean \(dtype)")
        expectClose(max.doubles, (0..<n).map { i in (0..<p).map { contribution(rank: $0, i) }.max()! }, rtol: 0, "max \(dtype)")
        // A strided view goes through a contiguous copy.
        let t = try world.allReduce(x.T, .sum)
        expectClose(t.doubles, NDArray(shape: [10, 100], scalars: expectedSum, dtype: .float64).T.doubles, rtol: 0, "sum of a transpose")
    }
    expect(try world.allReduce(Double(r + 1)) == Double(p * (p + 1) / 2), "scalar sum")
    expect(try world.allReduce(Double(r), .max) == Double(p - 1), "scalar max")
}

struct Mixed: ArrayStruct {
    var weight: NDArray
    var bias: NDArray
    var scale: NDArray
    static var arrayProperties: [ArrayProperty<Mixed>] { [.init(\.weight), .init(\.bias), .init(\.scale)] }
}

check("allReduce of trees in one buffer per dtype") {
    func tree(_ rank: Int) -> Mixed {
        Mixed(weight: NDArray(shape: [3, 4], scalars: (0..<12).map { contribution(rank: rank, $0) }, dtype: .float32),
              bias: NDArray(shape: [4], scalars: (0..<4).map { contribution(rank: rank, $0 + 20) }, dtype: .float32),
              scale: NDArray(shape: [], scalars: [contribution(rank: rank, 40)], dtype: .float64))
    }
    let reduced = try world.allReduce(tree(r), .mean)
    let all = (0..<p).map(tree)
    for (k, leaf) in reduced.leaves.enumerated() {
        let expected = all.map { $0.leaves[k].doubles }.reduce([Double](repeating: 0, count: leaf.count)) { zip($0, $1).map(+) }
        expectClose(leaf.doubles, expected.map { $0 / Double(p) }, rtol: 1e-6, "leaf \(k)")
        expect(leaf.shape == tree(r).leaves[k].shape && leaf.dtype == tree(r).leaves[k].dtype, "leaf \(k) shape or dtype changed")
    }
    // The float32 leaves are views of one reduced buffer.
    expect(reduced.weight.sharesStorage(with: reduced.bias), "the float32 leaves were not reduced in one buffer")
    expect(!reduced.weight.sharesStorage(with: reduced.scale), "float32 and float64 leaves share a buffer")

    let dictionary = ["a": NDArray([Double(r), 1], dtype: .float64), "b": NDArray([[Double(r)]], dtype: .float64)]
    let summed = try world.allReduce(dictionary)
    expectClose(summed["a"]!.doubles, [Double(p * (p - 1) / 2), Double(p)], rtol: 0, "dictionary a")
    expectClose(summed["b"]!.doubles, [Double(p * (p - 1) / 2)], rtol: 0, "dictionary b")
    let empty = try world.allReduce([NDArray](), .sum)
    expect(empty.isEmpty, "empty tree")
}

check("broadcast from rank 0 and from the last rank") {
    for root in p > 1 ? [0, p - 1] : [0] {
        let x = NDArray(shape: [2, 3], scalars: (0..<6).map { contribution(rank: r, $0) }, dtype: .float64)
        let y = try world.broadcast(x, root: root)
        expectClose(y.doubles, (0..<6).map { contribution(rank: root, $0) }, rtol: 0, "broadcast array from \(root)")
        let tree = Mixed(weight: .full([2, 2], Double(r)), bias: NDArray(shape: [3], scalars: [r, r + 1, r + 2]).to(.float32),
                         scale: .full([], Double(-r), dtype: .float64))
        let t = try world.broadcast(tree, root: root)
        expectClose(t.weight.doubles, [Double](repeating: Double(root), count: 4), rtol: 0, "broadcast weight")
        expectClose(t.bias.doubles, [root, root + 1, root + 2].map(Double.init), rtol: 0, "broadcast bias")
        expectClose(t.scale.doubles, [Double(-root)], rtol: 0, "broadcast scale")
        let indices = try world.broadcast(NDArray(shape: [3], scalars: [r, 2 * r, 3 * r]), root: root)
        expect(indices.dtype == .int64 && indices.ints == [root, 2 * root, 3 * root], "broadcast int64: \(indices.ints)")
    }
}

check("allGather with unequal first axes") {
    let mine = NDArray.full([r + 1, 2], Double(r), dtype: .float32)
    let all = try world.allGather(mine)
    let expected = (0..<p).flatMap { k in [Double](repeating: Double(k), count: 2 * (k + 1)) }
    expect(all.shape == [p * (p + 1) / 2, 2], "allGather shape \(all.shape)")
    expectClose(all.doubles, expected, rtol: 0, "allGather values")
    let scalars = try world.allGather(NDArray(Double(r), dtype: .float64))
    expectClose(scalars.doubles, (0..<p).map(Double.init), rtol: 0, "allGather of scalars")
    let none = try world.allGather(NDArray.zeros([0, 3]))
    expect(none.shape == [0, 3], "allGather of empty parts: \(none.shape)")
}

check("split into even and odd ranks") {
    let group = try world.split(color: r % 2)
    expect(group.size == (p - r % 2 + 1) / 2, "group size \(group.size)")
    expect(group.rank == r / 2, "group rank \(group.rank)")
    let sum = try group.allReduce(Double(r))
    expect(sum == Double(stride(from: r % 2, to: p, by: 2).reduce(0, +)), "sum within the group: \(sum)")
    try group.barrier()
}

check("misuse throws the same error on every rank") {
    expectThrows("allReduce of int64") { _ = try world.allReduce(NDArray([1, 2, 3])) }
    expectThrows("broadcast from a rank outside the group") { _ = try world.broadcast(NDArray([1.0]), root: p) }
    expectThrows("split with a negative color") { _ = try world.split(color: -1) }
    expectThrows("shard of a 0-d array") { _ = try world.shard(NDArray(1.0)) }
    if p > 1 {
        expectThrows("allReduce of different shapes") { _ = try world.allReduce(NDArray.zeros([r == 0 ? 3 : 4])) }
        expectThrows("allReduce of different dtypes") { _ = try world.allReduce(NDArray.zeros([3], dtype: r == 0 ? .float32 : .float64)) }
        expectThrows("broadcast of different trees") { _ = try world.broadcast(r == 0 ? [NDArray.zeros([2])] : [NDArray.zeros([2]), .zeros([2])]) }
        expectThrows("checkIdentical of different values") { try world.checkIdentical(NDArray([Double(r)])) }
        expectThrows("broadcast from different roots") { _ = try world.broadcast(NDArray([1.0]), root: r == 0 ? 0 : 1) }
    }
    try world.checkIdentical(NDArray([1.0, 2.0]), "constants")
    // The group still works after the errors.
    expect(try world.allReduce(1.0) == Double(p), "allReduce after errors")
}

check("shards cover the batch in order") {
    for count in [0, 1, 3, 10, 1024] {
        let rows = try world.allGather(NDArray(shape: [world.shardRange(count: count).count], scalars: Array(world.shardRange(count: count))))
        expect(rows.ints == Array(0..<count), "shards of \(count): \(rows.ints)")
    }
}

// MARK: - Data-parallel training against one process on the whole batch

/// Data from shared keys: the same on every rank.
let x = NDArray.normal([10, 5], key: RandomKey(seed: 11), dtype: .float64)
let labels = NDArray(shape: [10], scalars: (0..<10).map { ($0 * 7) % 3 })

func makeModel(seed: UInt64) -> Sequential {
    Sequential(Linear(5, 8, dtype: .float64, key: RandomKey(seed: seed)), Tanh(),
               Linear(8, 3, dtype: .float64, key: RandomKey(seed: seed + 1)))
}

func parameterValues(_ model: Module) -> [Double] { model.parameters().flatMap { $0.value.doubles } }

check("SGD steps with averaged gradients (facade)") {
    // Every rank initialises differently; the broadcast makes them rank 0's.
    let model = makeModel(seed: 100 + UInt64(r))
    try world.broadcastParameters(model)
    try world.checkIdentical(model.parameters().map(\.value), "parameters after broadcastParameters")
    let reference = makeModel(seed: 100)
    expectClose(parameterValues(model), parameterValues(reference), rtol: 0, "broadcast parameters")

    let optimizer = SGD(model.parameters(), lr: 0.1, momentum: 0.9)
    let referenceOptimizer = SGD(reference.parameters(), lr: 0.1, momentum: 0.9)
    let shardX = Tensor(try world.shard(x)), shardY = Tensor(try world.shard(labels))
    for _ in 0..<3 {
        optimizer.zeroGrad()
        try crossEntropy(model(shardX), shardY).backward()
        try world.averageGradients(model, localCount: shardX.shape[0])
        optimizer.step()
        referenceOptimizer.zeroGrad()
        try crossEntropy(reference(Tensor(x)), Tensor(labels)).backward()
        referenceOptimizer.step()
    }
    expectClose(parameterValues(model), parameterValues(reference), rtol: 1e-12, "parameters after 3 data-parallel steps")
    try world.checkIdentical(model.parameters().map(\.value), "parameters after data-parallel steps")
    results.append(("sgd-parameters", parameterValues(model)))
}

check("gradient tree averaged by globalMean (functional)") {
    let w = NDArray.normal([5, 3], key: RandomKey(seed: 5), dtype: .float64)
    let loss = { (w: NDArray, batch: [NDArray]) -> NDArray in crossEntropy(matmul(batch[0], w), batch[1]) }
    let local = try world.shard([x, labels])
    let g = try grad(loss)(w, local)
    let mean = try world.globalMean(g, localCount: local[0].shape[0])
    expectClose(mean.doubles, try grad(loss)(w, [x, labels]).doubles, rtol: 1e-12, "global mean gradient")
    results.append(("functional-gradient", mean.doubles))
}

struct SmallPINN: ArrayStruct {
    var w1: NDArray, b1: NDArray, w2: NDArray, b2: NDArray
    static var arrayProperties: [ArrayProperty<SmallPINN>] { [.init(\.w1), .init(\.b1), .init(\.w2), .init(\.b2)] }
    func callAsFunction(_ points: NDArray) -> NDArray { (matmul(tanh(matmul(points, w1) + b1), w2) + b2).squeeze(dim: -1) }
}

check("PINN Laplacian loss over sharded collocation points") {
    let keys = RandomKey(seed: 21).split(into: 3)
    let net = SmallPINN(w1: NDArray.normal([2, 8], key: keys[0], dtype: .float64), b1: .zeros([8], dtype: .float64),
                        w2: NDArray.normal([8, 1], key: keys[1], dtype: .float64) / 8.0.squareRoot(), b2: .zeros([1], dtype: .float64))
    let points = NDArray.uniform([13, 2], key: keys[2], dtype: .float64)
    let source = sin(Double.pi * points[.all, 0]) * sin(Double.pi * points[.all, 1])
    let loss = { (p: SmallPINN, batch: [NDArray]) throws -> NDArray in
        let r = try laplacian({ p($0) }, batched: true)(batch[0]) - batch[1]
        return (r * r).mean()
    }
    let (value, g) = try world.shardedValueAndGrad(loss, at: net, batch: [points, source])
    let (referenceValue, referenceGrad) = try valueAndGrad(loss)(net, [points, source])
    expectClose([value], [referenceValue.item()], rtol: 1e-12, "PINN loss")
    expectClose(g.leaves.flatMap(\.doubles), referenceGrad.leaves.flatMap(\.doubles), rtol: 1e-12, "PINN gradient")
    results.append(("pinn-loss-and-gradient", [value] + g.leaves.flatMap(\.doubles)))
}

check("MAML step over sharded tasks") {
    // Six regression tasks y = a·x; inner SGD step on the support set, loss on the query set.
    let keys = RandomKey(seed: 31).split(into: 4)
    let slopes = NDArray.normal([6, 1, 1], key: keys[0], dtype: .float64)
    let support = NDArray.normal([6, 5, 1], key: keys[1], dtype: .float64)
    let query = NDArray.normal([6, 7, 1], key: keys[2], dtype: .float64)
    let tasks = [support, support * slopes, query, query * slopes]
    let w0 = NDArray.normal([1, 1], key: keys[3], dtype: .float64)
    let mamlLoss = { (w: NDArray, tasks: [NDArray]) throws -> NDArray in
        var total = NDArray(0.0, dtype: .float64)
        for t in 0..<tasks[0].shape[0] {
            let inner = { (w: NDArray) -> NDArray in mseLoss(matmul(tasks[0][t], w), tasks[1][t]) }
            let adapted = w - 0.1 * (try grad(inner)(w))
            total = total + mseLoss(matmul(tasks[2][t], adapted), tasks[3][t])
        }
        return total / Double(tasks[0].shape[0])
    }
    let (value, g) = try world.shardedValueAndGrad(mamlLoss, at: w0, batch: tasks)
    let (referenceValue, referenceGrad) = try valueAndGrad(mamlLoss)(w0, tasks)
    expectClose([value, g.item()], [referenceValue.item(), referenceGrad.item()], rtol: 1e-12, "MAML loss and meta-gradient")
    results.append(("maml-loss-and-gradient", [value, g.item()]))
}

check("a rank without examples") {
    let w = NDArray.ones([5, 3], dtype: .float64)
    let loss = { (w: NDArray, batch: [NDArray]) -> NDArray in crossEntropy(matmul(batch[0], w), batch[1]) }
    let few = [x[0..<3], labels[0..<3]]
    let (value, g) = try world.shardedValueAndGrad(loss, at: w, batch: few)
    let (referenceValue, referenceGrad) = try valueAndGrad(loss)(w, few)
    expectClose([value] + g.doubles, [referenceValue.item()] + referenceGrad.doubles, rtol: 1e-12, "3 examples on \(p) ranks")
}

check("DP-SGD: clipping per example on each rank, noise once") {
    let batch = NDArray.normal([11, 5], key: RandomKey(seed: 41), dtype: .float64) * 3
    let targets = NDArray(shape: [11], scalars: (0..<11).map { ($0 * 5) % 3 })
    let perExample: PerExampleLoss = { crossEntropy($0, $1, reduction: .none) }
    let model = makeModel(seed: 200 + UInt64(r))
    try world.broadcastParameters(model)
    let reference = makeModel(seed: 200)
    func optimizer(_ m: Module) -> DPOptimizer {
        DPOptimizer.sgd(m.parameters(), lr: 0.5, noiseMultiplier: 1.1, maxGradNorm: 0.5, sampleRate: 0.25, datasetSize: 44,
                        key: RandomKey(seed: 7))
    }
    let dp = optimizer(model), referenceDP = optimizer(reference)
    let shardX = Tensor(try world.shard(batch)), shardY = Tensor(try world.shard(targets))

    let norms = try world.perSampleGradientNorms(model, shardX, shardY, loss: perExample)
    let referenceNorms = try perSampleGradientNorms(reference, Tensor(batch), Tensor(targets), loss: perExample)
    expectClose(norms.value.doubles, referenceNorms.value.doubles, rtol: 1e-12, "per-example norms")

    var clippedFactors: [Double] = []
    for _ in 0..<2 {
        let clipped = try dp.step(model, shardX, shardY, loss: perExample, communicator: world)
        let referenceClipped = try referenceDP.step(reference, Tensor(batch), Tensor(targets), loss: perExample)
        expectClose(clipped.factors.value.doubles, referenceClipped.factors.value.doubles, rtol: 1e-12, "clipping factors")
        expectClose(clipped.losses.value.doubles, referenceClipped.losses.value.doubles, rtol: 1e-12, "per-example losses")
        clippedFactors = clipped.factors.value.doubles
    }
    expect(clippedFactors.contains { $0 < 1 }, "no example was clipped, so clipping went untested")
    expectClose(parameterValues(model), parameterValues(reference), rtol: 1e-11, "parameters after 2 private steps")
    try world.checkIdentical(model.parameters().map(\.value), "parameters after private steps")
    // Noise drawn once: without it the step would differ from the reference by σC/B̄ per element.
    results.append(("dp-parameters", parameterValues(model)))
    results.append(("dp-norms", norms.value.doubles))
}

check("the README's example (an MLP trained on sharded batches)") {
    // The README's block, line for line (a test checks it), over two batches of the data above.
    let batches = (0..<2).map { i in
        (NDArray.normal([6, 784], key: RandomKey(seed: 60 + UInt64(i))), NDArray(shape: [6], scalars: (0..<6).map { ($0 + i) % 10 }))
    }
    let world = try Communicator.world                 // MPI_Init_thread on first use; finalised at exit
    let model = Sequential(Linear(784, 256), ReLU(), Linear(256, 10))
    try world.broadcastParameters(model)               // every rank starts from rank 0's values
    let optimizer = SGD(model.parameters(), lr: 0.01)
    for (x, y) in batches {                            // the same global batches on every rank
        let (xs, ys) = (Tensor(try world.shard(x)), Tensor(try world.shard(y)))
        optimizer.zeroGrad()
        try crossEntropy(model(xs), ys).backward()
        try world.averageGradients(model, localCount: xs.shape[0])   // one MPI call for all gradients
        optimizer.step()
    }
    try world.checkIdentical(model.parameters().map(\.value), "the README model's parameters")
}

// MARK: - Results

if r == 0, let i = CommandLine.arguments.firstIndex(of: "--output"), i + 1 < CommandLine.arguments.count {
    let text = results.map { name, values in name + " " + values.map { String($0) }.joined(separator: " ") }.joined(separator: "\n") + "\n"
    guard let file = fopen(CommandLine.arguments[i + 1], "w") else {
        expect(false, "cannot write \(CommandLine.arguments[i + 1])")
        exit(1)
    }
    fputs(text, file)
    fclose(file)
}
try world.barrier()

// Finalising early: every later use throws, and the exit handler does nothing more.
do {
    try Communicator.finalize()
    try Communicator.finalize()
} catch {
    print("rank \(r): finalize threw \(error)")
    exit(1)
}
for (what, use) in [("Communicator.world", { _ = try Communicator.world }), ("barrier", { try world.barrier() }),
                    ("allReduce", { _ = try world.allReduce(1.0) })] as [(String, () throws -> Void)] {
    do {
        try use()
        print("rank \(r): \(what) after finalize did not throw")
        exit(1)
    } catch let error as DistributedError where error.description.contains("finalized") {
    } catch {
        print("rank \(r): \(what) after finalize threw \(error)")
        exit(1)
    }
}
if r == 0 { print("all checks passed on \(p) rank\(p == 1 ? "" : "s")") }
