// Runs the benchmarks and prints one JSON line per (workload, implementation), then tables.
// `--only matmul,bandwidth,overhead,transforms` selects groups; `--quick` uses the small sizes only.

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
let only: Set<String> = {
    guard let i = arguments.firstIndex(of: "--only"), i + 1 < arguments.count else { return [] }
    return Set(arguments[i + 1].split(separator: ",").map(String.init))
}()
func selected(_ group: String) -> Bool { only.isEmpty || only.contains(group) }

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
    for (header, rows) in tables {
        print()
        print(header)
        rows.forEach { print($0) }
    }
}

run()
