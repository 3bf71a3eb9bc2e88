// The kernels' stop: a message that survives optimised builds (`precondition` drops its message
// under `-O`). The array layer checks what users pass before a kernel runs and names their
// call; a kernel stops on its own only where nothing could check ahead of it — an index whose
// value is only known inside a transform — or where an invariant of the library is broken.

/// Stops with "Fluxion: `message`", in every build configuration.
@usableFromInline
package func kernelFailure(_ message: String) -> Never {
    fatalError("Fluxion: \(message)")
}
