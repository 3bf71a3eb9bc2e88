// What the notebooks share: reading `--quick`, checking a printed result, printing graph
// edges as PyTorch does, timing, and smoothing a noisy training curve for its picture. Kept small on purpose: each notebook reads top to bottom.

import Dispatch
import Foundation
import Fluxion

/// Whether the notebook was asked for a short run (`--quick`).
public let quickRun = CommandLine.arguments.contains("--quick")

/// Stops the notebook with `message` unless `condition` holds (release builds keep it).
public func check(_ condition: Bool, _ message: @autoclosure () -> String,
                  file: StaticString = #fileID, line: UInt = #line) {
    // fatalError, not precondition: its message survives the release builds notebooks run in.
    guard condition else {
        fflush(nil)
        fatalError("check failed: \(message())", file: file, line: line)
    }
}

/// `nextFunctions` as PyTorch prints `next_functions`: `((<PowBackward0 object>, 0), …)`.
public func describe(_ edges: [(node: Node?, index: Int)]) -> String {
    let items = edges.map { "(\($0.node?.description ?? "nil"), \($0.index))" }
    return "(" + items.joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
}

/// `x`, or "nil" when it is absent (PyTorch prints `None`).
public func describe(_ x: (any CustomStringConvertible)?) -> String { x?.description ?? "nil" }

/// Seconds since an arbitrary start, for timing.
public func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// The median time of `body` in seconds over `repetitions` runs after one warm-up run.
public func medianTime(repetitions: Int = 5, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var times: [Double] = []
    for _ in 0..<repetitions {
        let start = now()
        try body()
        times.append(now() - start)
    }
    return times.sorted()[times.count / 2]
}

/// `curve` with each y replaced by the mean of it and the `window − 1` before it (fewer at the
/// start), to show the trend of a noisy training curve.
public func runningMean(_ curve: [(Double, Double)], window: Int) -> [(Double, Double)] {
    precondition(window >= 1, "a running mean needs a window of at least one point")
    var sum = 0.0
    return curve.indices.map { i in
        sum += curve[i].1
        if i >= window { sum -= curve[i - window].1 }
        return (curve[i].0, sum / Double(min(i + 1, window)))
    }
}
