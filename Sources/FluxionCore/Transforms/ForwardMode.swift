// Forward-mode transforms: jvp pushes a tangent through a function with dual numbers;
// linearize records the function once and returns its Jacobian as a reusable linear map,
// replaying the tape forward for each tangent without re-running the function.

import FluxionKernels

/// The value of `f` at `x` and the Jacobian-vector product ∂f/∂x · v (`v` has the structure
/// of `x`, the tangent that of the output).
public func jvp<T: ArrayTree, R: ArrayTree>(_ f: (T) throws -> R, at x: T, tangents v: T,
                                            file: StaticString = #fileID, line: UInt = #line) throws -> (value: R, tangent: R) {
    let site = CallSite(file: file, line: line)
    var shape: R?
    let (outputs, tangents) = try forwardMode({ leaves in
        let y = try f(x.rebuilt(with: leaves))
        shape = y
        return y.leaves
    }, at: x.leaves, tangents: v.leaves, transform: "jvp", site: site)
    return (shape!.rebuilt(with: outputs), shape!.rebuilt(with: tangents))
}

/// `jvp` of a function that also returns auxiliary arrays (JAX's `jvp(has_aux=True)`): the
/// value, its tangent, and the auxiliary arrays as values of the enclosing level.
public func jvp<T: ArrayTree, R: ArrayTree, Aux: ArrayTree>(hasAux f: (T) throws -> (R, Aux), at x: T, tangents v: T,
                                                            file: StaticString = #fileID, line: UInt = #line)
    throws -> (value: R, tangent: R, aux: Aux) {
    let site = CallSite(file: file, line: line)
    var structure: (R, Aux)?
    let (outputs, tangents) = try forwardMode({ leaves in
        let (y, a) = try f(x.rebuilt(with: leaves))
        structure = (y, a)
        return y.leaves + a.leaves
    }, at: x.leaves, tangents: v.leaves, transform: "jvp", site: site)
    let (r, a) = structure!
    let n = r.leaves.count
    return (r.rebuilt(with: Array(outputs[..<n])), r.rebuilt(with: Array(tangents[..<n])), a.rebuilt(with: Array(outputs[n...])))
}

/// The value of `f` at `x` and the linear map v ↦ ∂f/∂x · v, reusable for any number of
/// tangents at the cost of one pass over the recorded operations each.
public func linearize<T: ArrayTree, R: ArrayTree>(_ f: (T) throws -> R, at x: T,
                                                  file: StaticString = #fileID, line: UInt = #line) throws -> (value: R, linear: (T) throws -> R) {
    let site = CallSite(file: file, line: line)
    var shape: R?
    let recording = try record({ leaves in
        let y = try f(x.rebuilt(with: leaves))
        shape = y
        return y.leaves
    }, at: x.leaves, transform: "linearize", site: site)
    let value = shape!.rebuilt(with: recording.outputs)
    let primals = x.leaves
    return (value, { v in
        let tangents = v.leaves
        try checkTangents(tangents, for: primals, "linearize", site)
        return value.rebuilt(with: try recording.pushforward(zip(tangents, primals).map { $0.to($1.dtype) }))
    })
}
