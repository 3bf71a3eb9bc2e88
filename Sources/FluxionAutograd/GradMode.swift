// Grad modes: whether operations on tensors are recorded. The mode is per thread, as in
// PyTorch, and set for the extent of a closure (`noGrad { }`, `enableGrad { }`,
// `setGradEnabled(_:) { }`, `inferenceMode { }`), so it is restored even when the closure
// throws. `detectAnomaly { }` turns on anomaly detection for backward passes run inside it.
//
// `inferenceMode` is `noGrad` plus a mark on the tensors it makes: they can never join a
// graph later (a backward through a node that saved one throws), so nothing about them has to
// be tracked.

import FluxionCore
import FluxionKernels

/// The autograd settings of one thread.
final class AutogradState {
    var gradEnabled = true
    var inferenceMode = false
    var anomalyDetection = false

    private static let local = ThreadLocal { AutogradState() }
    static var current: AutogradState { local.value }

    /// Runs `body` with settings changed by `change`, restoring them afterwards.
    static func with<R>(_ change: (AutogradState) -> Void, _ body: () throws -> R) rethrows -> R {
        let state = current
        let saved = (state.gradEnabled, state.inferenceMode, state.anomalyDetection)
        change(state)
        defer { (state.gradEnabled, state.inferenceMode, state.anomalyDetection) = saved }
        return try body()
    }
}

/// Runs `body` without recording: tensors made inside do not require grad and have no
/// `gradFn` (`torch.no_grad()`).
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.gradEnabled = false }, body)
}

/// `f` run without recording, as a function (`@torch.no_grad()` on a function).
public func noGrad<T, R>(_ f: @escaping (T) throws -> R) -> (T) throws -> R {
    { x in try noGrad { try f(x) } }
}

/// Runs `body` with recording on, inside `noGrad` (`torch.enable_grad()`).
public func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.gradEnabled = true }, body)
}

/// Runs `body` with recording on or off (`torch.set_grad_enabled(mode)`).
public func setGradEnabled<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.gradEnabled = enabled }, body)
}

/// Whether operations on this thread are recorded now.
public var isGradEnabled: Bool { AutogradState.current.gradEnabled }

/// Runs `body` without recording, marking the tensors made inside as inference tensors that
/// can never take part in a graph (`torch.inference_mode()`).
public func inferenceMode<R>(_ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.gradEnabled = false; $0.inferenceMode = true }, body)
}

/// Whether this thread is inside `inferenceMode`.
public var isInferenceModeEnabled: Bool { AutogradState.current.inferenceMode }

/// Runs `body` with anomaly detection: operations remember where they were called, and a
/// backward pass that produces a NaN or an infinity throws `AutogradError.anomaly` naming the
/// backward node and that place (`torch.autograd.detect_anomaly()`). Slow; for debugging.
public func detectAnomaly<R>(_ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.anomalyDetection = true }, body)
}
