// Forward-mode transforms: jvp pushes a tangent through a function with dual numbers;
// linearize records the function once and returns its Jacobian as a reusable linear map,
// replaying the tape forward for each tangent without re-running the function. Both are
// written once over flat lists (`forwardMode`, `record`); the typed forms flatten and rebuild.

import FluxionKernels

/// The value of `f` at `x` and the Jacobian-vector product ∂f/∂x · v (`v` has the structure
/// and shapes of `x`, the tangent those of the output).
public func jvp<T: ArrayTree, R: ArrayTree>(_ f: (T) throws -> R, at x: T, tangents v: T,
                                            file: StaticString = #fileID, line: UInt = #line) throws -> (value: R, tangent: R) {
    let site = CallSite(file: file, line: line)
    return try withoutActuallyEscaping(f) { f in
        let flat = Flattened(f, at: x)
        let (outputs, tangents) = try forwardMode(flat.callAsFunction, at: flat.inputLeaves, tangents: v.leaves, transform: "jvp", site: site)
        return (flat.outputTree(outputs), flat.outputTree(tangents))
    }
}

/// `jvp` of a function that also returns auxiliary arrays (JAX's `jvp(has_aux=True)`): the
/// value, its tangent, and the auxiliary arrays as values of the enclosing level.
public func jvp<T: ArrayTree, R: ArrayTree, Aux: ArrayTree>(hasAux f: (T) throws -> (R, Aux), at x: T, tangents v: T,
                                                            file: StaticString = #fileID, line: UInt = #line)
    throws -> (value: R, tangent: R, aux: Aux) {
    let site = CallSite(file: file, line: line)
    return try withoutActuallyEscaping(f) { f in
        let flat = Flattened({ (x: T) in
            let (y, aux) = try f(x)
            return TreePair(first: y, second: aux)
        }, at: x)
        let (outputs, tangents) = try forwardMode(flat.callAsFunction, at: flat.inputLeaves, tangents: v.leaves, transform: "jvp", site: site)
        let (values, derivatives) = (flat.outputTree(outputs), flat.outputTree(tangents))
        return (values.first, derivatives.first, values.second)
    }
}

/// The value of `f` at `x` and the linear map v ↦ ∂f/∂x · v, reusable for any number of
/// tangents at the cost of one pass over the recorded operations each.
public func linearize<T: ArrayTree, R: ArrayTree>(_ f: (T) throws -> R, at x: T,
                                                  file: StaticString = #fileID, line: UInt = #line) throws -> (value: R, linear: (T) throws -> R) {
    let (value, linear, _) = try linearize(hasAux: { (x: T) in (try f(x), [NDArray]()) }, at: x, file: file, line: line)
    return (value, linear)
}

/// `linearize` of a function that also returns auxiliary arrays (JAX's
/// `linearize(has_aux=True)`): the value, the linear map of the value alone, and the auxiliary
/// arrays as values of the enclosing level.
public func linearize<T: ArrayTree, R: ArrayTree, Aux: ArrayTree>(hasAux f: (T) throws -> (R, Aux), at x: T,
                                                                  file: StaticString = #fileID, line: UInt = #line)
    throws -> (value: R, linear: (T) throws -> R, aux: Aux) {
    let site = CallSite(file: file, line: line)
    let (recording, structure) = try recordWithAux(f, at: x, transform: "linearize", site: site)
    let both = structure.rebuilt(with: recording.outputs)
    let primals = x.leaves
    let n = both.first.leaves.count
    return (both.first, { v in
        let tangents = v.leaves
        try checkTangents(tangents, for: primals, "linearize", site)
        let all = try recording.pushforward(zip(tangents, primals).map { $0.to($1.dtype) })
        return both.first.rebuilt(with: Array(all[..<n]))
    }, both.second)
}
