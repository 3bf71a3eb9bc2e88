// Runs the benchmarks and prints one JSON line per (workload, implementation), then tables.
// `--only matmul,bandwidth,overhead,transforms,jacobians,ensemble` selects groups, `--only W1,W3` the suite's
// workloads (Workloads.swift); both kinds mix, and nothing selected runs everything.
// `--quick` uses the small sizes and few repetitions; `--batches 16,64` sets W3's batch sizes.

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
let only: Set<String> = {
    guard let i = arguments.firstIndex(of: "--only"), i + 1 < arguments.count else { return [] }
    return Set(arguments[i + 1].split(separator: ",").map(String.init))
}()
func selected(_ group: String) -> Bool { only.isEmpty || only.contains(group) }
let w3Batches: [Int] = {
    guard let i = arguments.firstIndex(of: "--batches"), i + 1 < arguments.count else { return [16, 64, 256, 1024] }
    return arguments[i + 1].split(separator: ",").compactMap { Int($0) }
}()

func run() {
    var tables: [(String, [String])] = []
    if selected("overhead") {
        tables.append(("| operation | time per call |\n|---|---|", overheadBenchmarks()))
    }
    if selected("bandwidth") {
        tables.append(("| operation | median | bandwidth | vs memcpy |\n|---|---|---|---|",
                       bandwidthBenchmarks(counts: quick ? [1 << 20] : [1 << 20, 1 << 24])))
    }
    if selected("matmul") {
        tables.append(("| matmul | Fluxion | cblas | Fluxion rate | cblas time / Fluxion time |\n|---|---|---|---|---|",
                       matmulBenchmarks(sizes: quick ? [256, 512] : [256, 512, 1024, 2048])))
    }
    if selected("transforms") {
        tables.append(("| transform | vmap(grad) | loop of grad | speed-up |\n|---|---|---|---|",
                       transformBenchmarks(batches: quick ? [64] : [16, 64, 256])))
    }
    if selected("jacobians") {
        tables.append(("| second-order Jacobian (tanh(W·x + b), W 16×16) | median |\n|---|---|", jacobianOrderBenchmarks()))
    }
    if selected("ensemble") {
        tables.append(("| model ensemble | vmap | loop | speed-up |\n|---|---|---|---|", ensembleBenchmarks()))
    }
    var workloadRows: [String] = []
    if selected("W1") { w1ScalarChain(quick: quick, rows: &workloadRows) }
    if selected("W2") { w2TrainStep(quick: quick, rows: &workloadRows) }
    if selected("W3") { w3PerSampleGradients(batches: w3Batches, quick: quick, rows: &workloadRows) }
    if selected("W3n") { w3nPrivateClipping(batches: w3Batches, quick: quick, rows: &workloadRows) }
    if selected("W4") { w4Hessian(quick: quick, rows: &workloadRows) }
    if selected("W5") { w5PINN(quick: quick, rows: &workloadRows) }
    if selected("W5d") { w5dPINN(quick: quick, rows: &workloadRows) }
    if selected("W6") { w6MAML(quick: quick, rows: &workloadRows) }
    if selected("W7") { w7Jacobian(quick: quick, rows: &workloadRows) }
    if selected("W8") { w8Linear(quick: quick, rows: &workloadRows) }
    if !workloadRows.isEmpty {
        tables.append(("| workload | implementation | median | |\n|---|---|---|---|", workloadRows))
    }
    for (header, rows) in tables {
        print()
        print(header)
        rows.forEach { print($0) }
    }
}

run()
