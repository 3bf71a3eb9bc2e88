// Grad modes: whether operations on tensors are recorded. The mode is per thread, as in
// PyTorch, and set for the extent of a closure (`noGrad { }`, `enableGrad { }`,
// `setGradEnabled(_:) { }`, `inferenceMode { }`), so it is restored even when the closure
// throws. `detectAnomaly { }` turns on anomaly detection for backward passes run inside it.
//
// `inferenceMode` is `noGrad` plus a mark on the tensors it makes, as PyTorch's inference
// tensors: outside inference mode they cannot require grad or be updated in place, and an
// operation that would save one for backward is refused when it is called — a throwing
// function (`Function.apply`, `mul_`, …) throws `AutogradError.inferenceTensorInGraph`, an
// operator (`*`, `matmul`, …) stops with the same message, since it cannot throw. An
// operation that saves nothing of it (`x + t`) records as usual.

import FluxionCore

/// The autograd settings of one thread.
final class AutogradState {
    var gradEnabled = true
    var inferenceMode = false
    var anomalyDetection = false
    /// Inside `throwingRefusals`: refusals are kept in `refusal` to be thrown, not stops.
    var collectsRefusals = false
    var refusal: AutogradError?

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
@discardableResult
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.gradEnabled = false }, body)
}

/// `f` run without recording, as a function (`@torch.no_grad()` on a function).
public func noGrad<T, R>(_ f: @escaping (T) throws -> R) -> (T) throws -> R {
    { x in try noGrad { try f(x) } }
}

/// Runs `body` with recording on, inside `noGrad` (`torch.enable_grad()`).
@discardableResult
public func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.gradEnabled = true }, body)
}

/// Runs `body` with recording on or off (`torch.set_grad_enabled(mode)`).
@discardableResult
public func setGradEnabled<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.gradEnabled = enabled }, body)
}

/// Whether operations on this thread are recorded now.
public var isGradEnabled: Bool { AutogradState.current.gradEnabled }

/// Runs `body` without recording, marking the tensors made inside as inference tensors that
/// can never take part in a graph (`torch.inference_mode()`).
@discardableResult
public func inferenceMode<R>(_ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.gradEnabled = false; $0.inferenceMode = true }, body)
}

/// Whether this thread is inside `inferenceMode`.
public var isInferenceModeEnabled: Bool { AutogradState.current.inferenceMode }

/// Runs `body` with anomaly detection: operations remember where they were called, and a
/// backward pass that produces a NaN or an infinity throws `AutogradError.anomaly` naming the
/// backward node and that place (`torch.autograd.detect_anomaly()`). Slow; for debugging.
@discardableResult
public func detectAnomaly<R>(_ body: () throws -> R) rethrows -> R {
    try AutogradState.with({ $0.anomalyDetection = true }, body)
}

/// Runs `body` — a throwing function built from operations that cannot throw — and throws the
/// first refusal one of them reported (see `refuse`) instead of stopping.
func throwingRefusals<R>(_ body: () throws -> R) throws -> R {
    let state = AutogradState.current
    let saved = (state.collectsRefusals, state.refusal)
    (state.collectsRefusals, state.refusal) = (true, nil)
    defer { (state.collectsRefusals, state.refusal) = saved }
    let result = try body()
    if let refusal = state.refusal { throw refusal }
    return result
}

/// Refuses an operation while it is recorded: the error is thrown by the enclosing
/// `throwingRefusals`, or, from an operator that cannot throw, stops with its message
/// (naming the caller's line when `line` is not 0).
func refuse(_ error: AutogradError, operation: String, file: StaticString, line: UInt) {
    let state = AutogradState.current
    if state.collectsRefusals {
        if state.refusal == nil { state.refusal = error }
        return
    }
    stop(error, operation: operation, file: file, line: line)
}

/// Stops with `error`'s message, for misuse found where nothing can throw (operators,
/// subscript assignments), naming the caller's line when `line` is not 0.
func stop(_ error: any Error, operation: String, file: StaticString, line: UInt) -> Never {
    let site = line == 0 ? CallSite(file: #fileID, line: #line) : CallSite(file: file, line: line)
    let text = "\(error)"
    guard let fix = text.firstRange(of: ". Fix: ") else { fail(operation, text, fix: "see the error above", at: site) }
    fail(operation, String(text[..<fix.lowerBound]), fix: String(text[fix.upperBound...]), at: site)
}
