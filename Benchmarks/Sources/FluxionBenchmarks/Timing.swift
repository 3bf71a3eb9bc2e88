// Timing: a warm-up call, then repetitions until both a minimum count and a minimum time are
// reached; the median is reported with min, max and the repetition count.

import Foundation

struct Measurement {
    let name: String
    let implementation: String
    let median: Double
    let min: Double
    let max: Double
    let repetitions: Int
    let checksum: Double
    /// Further figures of the same run (e.g. peak memory), appended to the JSON line.
    var extra: [(key: String, value: Double)] = []

    /// One JSON line, machine-readable.
    var json: String {
        let fields = extra.map { String(format: #","%@":%.9g"#, $0.key, $0.value) }.joined()
        return String(format: #"{"workload":"%@","implementation":"%@","median_s":%.9g,"min_s":%.9g,"max_s":%.9g,"repetitions":%d,"checksum":%.9g%@}"#,
                      name, implementation, median, min, max, repetitions, checksum, fields)
    }
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Times `body`, which runs the workload `inner` times per call (so tiny workloads are timed
/// in batches); returns seconds per single run.
/// `extra` is read after the timing and before the checksum, so figures such as peak memory
/// describe the workload alone.
func measure(_ name: String, _ implementation: String, inner: Int = 1, minRepetitions: Int = 20,
             minSeconds: Double = 0.5, checksum: () -> Double = { 0 },
             extra: () -> [(key: String, value: Double)] = { [] }, _ body: () -> Void) -> Measurement {
    body()
    var samples: [Double] = []
    let start = now()
    while samples.count < minRepetitions || now() - start < minSeconds {
        let t0 = now()
        body()
        samples.append((now() - t0) / Double(inner))
    }
    samples.sort()
    let figures = extra()
    return Measurement(name: name, implementation: implementation, median: samples[samples.count / 2],
                       min: samples.first!, max: samples.last!, repetitions: samples.count, checksum: checksum(),
                       extra: figures)
}

/// Keeps the optimizer from removing work whose result is otherwise unused.
@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }
