// How errors found inside an operation travel. An operation cannot throw (operators, and
// `bind` under every transform, return values), so an error it finds — a tracer used after its
// transform returned, a custom rule that threw or returned the wrong shapes, random sampling
// inside a strict vmap — is reported: the operation computes on stand-in zeros, and the
// innermost scope that catches reports (a transform, a backward sweep, a custom function's
// call) throws it when it ends.
//
// Each scope keeps its own: an error reported inside a scope is thrown by that scope and by no
// other (an inner transform that ends cleanly does not throw an enclosing one's error, and an
// error is never left behind for a later, unrelated transform); the first error reported in a
// scope wins, and is thrown even when the body throws another error meanwhile (the reported one
// happened first and is usually its cause). Outside every scope, a report stops the program
// with its message.

/// Runs `body` (a transform, a sweep over a recorded tape, a custom function) and throws the
/// first error that operations reported meanwhile.
package func throwingReported<R>(_ body: () throws -> R) throws -> R {
    let state = ThreadState.current
    let enclosing = state.pendingError
    state.pendingError = nil
    state.catchers += 1
    defer { state.catchers -= 1 }
    let result: R
    do {
        result = try body()
    } catch {
        let reported = state.pendingError
        state.pendingError = enclosing
        throw reported ?? error
    }
    let reported = state.pendingError
    state.pendingError = enclosing
    if let reported { throw reported }
    return result
}

/// Records an error found inside an operation, for the innermost scope that catches reports.
func report(_ error: any Error) {
    let state = ThreadState.current
    guard state.catchers > 0 else { fatalError("Fluxion: \(error)") }
    if state.pendingError == nil { state.pendingError = error }
}
