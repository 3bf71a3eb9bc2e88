// Reverse-mode transforms: grad, valueAndGrad and vjp. Each is written once over flat lists
// of arrays (`valueGradAndAuxFlat`, `record`); the typed forms only flatten, call and rebuild:
//
// - functions of one tree: the gradient has the structure of the argument;
// - functions of two or three arguments: the first is differentiated by default (JAX's
//   `argnums=0`), the others held constant (data, labels, hyperparameters, of any type); or the
//   arguments `argnums:` selects (Argnums.swift), returning a tuple for several;
// - `hasAux:` functions return (value, auxiliary arrays); the auxiliary arrays leave the
//   transform as values of the enclosing level.
//
// Transformed functions throw `TransformError` for misuse: an output that is not 0-d, an
// integer input, a value that escaped an earlier transform.
//
// (Parameter packs could state the one-, two- and three-argument forms once, but Swift 6.3
// cannot infer the pack when the transformed function is applied at once — `grad(loss)(w, x, y)`,
// the commonest use — so each arity is a one-line form over the same core.)

import FluxionKernels

/// `f`'s first output (a scalar), its gradient, and its other outputs — auxiliary values,
/// recorded on the tape but not differentiated, and returned as values of the enclosing level,
/// so that an enclosing transform can differentiate or batch them like any other value.
func valueGradAndAuxFlat(_ f: ([NDArray]) throws -> [NDArray], at primals: [NDArray], transform: String,
                         site: CallSite) throws -> (value: NDArray, grad: [NDArray], aux: [NDArray]) {
    let recording = try record(f, at: primals, transform: transform, site: site)
    let y = recording.outputs[0]
    // A 0-d output only, as JAX and torch.func require: a one-element [1] or [1, 1] output is
    // usually a shape mistake, and its gradient would hide it.
    guard y.rank == 0 else {
        throw TransformError.nonScalarOutput(transform: transform, shape: y.shape, file: site.file, line: site.line)
    }
    let seed = NDArray.onesLike(y.dtype.isFloatingPoint ? y : y.to(.float32))
    let g = try recording.pullback([seed] + recording.outputs.dropFirst().map { _ in nil })
    return (y, g, Array(recording.outputs.dropFirst()))
}

/// The value and gradient of `f` at the leaves `primals`, flat.
func valueAndGradFlat(_ f: @escaping ([NDArray]) throws -> NDArray, at primals: [NDArray], transform: String,
                      site: CallSite) throws -> (NDArray, [NDArray]) {
    let (y, g, _) = try valueGradAndAuxFlat({ [try f($0)] }, at: primals, transform: transform, site: site)
    return (y, g)
}

// MARK: - grad

/// The gradient of a scalar-valued function: `grad(f)(x)` has the structure of `x`.
///
/// ```
/// ∇f(x) = (∂f/∂x₁, …, ∂f/∂xₙ)
/// ```
///
/// `f` must return a 0-d array (as in JAX and torch.func).
public func grad<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray,
                               file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> T {
    let site = CallSite(file: file, line: line)
    return { x in x.rebuilt(with: try valueAndGradFlat({ try f(x.rebuilt(with: $0)) }, at: x.leaves, transform: "grad", site: site).1) }
}

/// The gradient with respect to the arguments `argnums` selects (`.first`, `.second`, `.both`)
/// of a two-argument scalar function.
public func grad<A, B, Selected>(_ f: @escaping (A, B) throws -> NDArray, argnums: Argnums2<A, B, Selected>,
                                 file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> Selected {
    let transformed = valueAndGrad(f, argnums: argnums, transform: "grad", site: CallSite(file: file, line: line))
    return { try transformed($0, $1).grad }
}

/// The gradient with respect to the first argument of a two-argument scalar function.
public func grad<A: ArrayTree, B>(_ f: @escaping (A, B) throws -> NDArray,
                                  file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> A {
    grad(f, argnums: .first, file: file, line: line)
}

/// The gradient with respect to the arguments `argnums` selects of a three-argument scalar
/// function, e.g. a loss of (parameters, inputs, targets).
public func grad<A, B, C, Selected>(_ f: @escaping (A, B, C) throws -> NDArray, argnums: Argnums3<A, B, C, Selected>,
                                    file: StaticString = #fileID, line: UInt = #line) -> (A, B, C) throws -> Selected {
    let transformed = valueAndGrad(f, argnums: argnums, transform: "grad", site: CallSite(file: file, line: line))
    return { try transformed($0, $1, $2).grad }
}

/// The gradient with respect to the first argument of a three-argument scalar function, e.g. a
/// loss of (parameters, inputs, targets).
public func grad<A: ArrayTree, B, C>(_ f: @escaping (A, B, C) throws -> NDArray,
                                     file: StaticString = #fileID, line: UInt = #line) -> (A, B, C) throws -> A {
    grad(f, argnums: .first, file: file, line: line)
}

/// The gradient of a function that also returns auxiliary arrays (JAX's `has_aux`): `f` returns
/// (loss, aux) and `grad(hasAux: f)(x)` returns (∇loss, aux). The auxiliary arrays are not
/// differentiated by this `grad`, but they leave it as ordinary values: an enclosing `grad`,
/// `jvp` or `vmap` differentiates or batches them like any other result.
public func grad<T: ArrayTree, Aux: ArrayTree>(hasAux f: @escaping (T) throws -> (NDArray, Aux),
                                               file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> (T, Aux) {
    let transformed = valueAndGrad(hasAux: f, transform: "grad", site: CallSite(file: file, line: line))
    return { x in
        let (_, g, aux) = try transformed(x)
        return (g, aux)
    }
}

/// The gradient of a function that also returns auxiliary data of any other type, passed
/// through unchanged (auxiliary arrays should be an `ArrayTree`, so that they leave the
/// transform as values enclosing transforms can use).
public func grad<T: ArrayTree, Aux>(hasAux f: @escaping (T) throws -> (NDArray, Aux),
                                    file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> (T, Aux) {
    let site = CallSite(file: file, line: line)
    return { x in
        var aux: Aux?
        let (_, g) = try valueAndGradFlat({ leaves in
            let (y, a) = try f(x.rebuilt(with: leaves))
            aux = a
            return y
        }, at: x.leaves, transform: "grad", site: site)
        return (x.rebuilt(with: g), aux!)
    }
}

// MARK: - valueAndGrad

/// The value and the gradient of a scalar-valued function, from one evaluation.
public func valueAndGrad<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray,
                                       file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> (value: NDArray, grad: T) {
    let site = CallSite(file: file, line: line)
    return { x in
        let (y, g) = try valueAndGradFlat({ try f(x.rebuilt(with: $0)) }, at: x.leaves, transform: "valueAndGrad", site: site)
        return (y, x.rebuilt(with: g))
    }
}

/// The value and the gradient with respect to the arguments `argnums` selects of a
/// two-argument function.
public func valueAndGrad<A, B, Selected>(_ f: @escaping (A, B) throws -> NDArray, argnums: Argnums2<A, B, Selected>,
                                         file: StaticString = #fileID, line: UInt = #line)
    -> (A, B) throws -> (value: NDArray, grad: Selected) {
    valueAndGrad(f, argnums: argnums, transform: "valueAndGrad", site: CallSite(file: file, line: line))
}

/// The value and the gradient with respect to the first argument of a two-argument function.
public func valueAndGrad<A: ArrayTree, B>(_ f: @escaping (A, B) throws -> NDArray,
                                          file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> (value: NDArray, grad: A) {
    valueAndGrad(f, argnums: .first, file: file, line: line)
}

/// The value and the gradient with respect to the arguments `argnums` selects of a
/// three-argument function.
public func valueAndGrad<A, B, C, Selected>(_ f: @escaping (A, B, C) throws -> NDArray, argnums: Argnums3<A, B, C, Selected>,
                                            file: StaticString = #fileID, line: UInt = #line)
    -> (A, B, C) throws -> (value: NDArray, grad: Selected) {
    valueAndGrad(f, argnums: argnums, transform: "valueAndGrad", site: CallSite(file: file, line: line))
}

/// The value and the gradient with respect to the first argument of a three-argument function.
public func valueAndGrad<A: ArrayTree, B, C>(_ f: @escaping (A, B, C) throws -> NDArray,
                                             file: StaticString = #fileID, line: UInt = #line) -> (A, B, C) throws -> (value: NDArray, grad: A) {
    valueAndGrad(f, argnums: .first, file: file, line: line)
}

/// The value, the gradient and the auxiliary arrays of a function returning (loss, aux)
/// (JAX's `value_and_grad(has_aux=True)`); see `grad(hasAux:)`.
public func valueAndGrad<T: ArrayTree, Aux: ArrayTree>(hasAux f: @escaping (T) throws -> (NDArray, Aux),
                                                       file: StaticString = #fileID, line: UInt = #line)
    -> (T) throws -> (value: NDArray, grad: T, aux: Aux) {
    valueAndGrad(hasAux: f, transform: "valueAndGrad", site: CallSite(file: file, line: line))
}

/// The core of the argnums forms: the selected arguments' leaves are the primals.
func valueAndGrad<A, B, Selected>(_ f: @escaping (A, B) throws -> NDArray, argnums s: Argnums2<A, B, Selected>,
                                  transform: String, site: CallSite) -> (A, B) throws -> (value: NDArray, grad: Selected) {
    { a, b in
        let (y, g) = try valueAndGradFlat({ leaves in
            let (a, b) = s.substituting(a, b, leaves)
            return try f(a, b)
        }, at: s.leaves(a, b), transform: transform, site: site)
        return (y, s.result(a, b, g))
    }
}

func valueAndGrad<A, B, C, Selected>(_ f: @escaping (A, B, C) throws -> NDArray, argnums s: Argnums3<A, B, C, Selected>,
                                     transform: String, site: CallSite) -> (A, B, C) throws -> (value: NDArray, grad: Selected) {
    { a, b, c in
        let (y, g) = try valueAndGradFlat({ leaves in
            let (a, b, c) = s.substituting(a, b, c, leaves)
            return try f(a, b, c)
        }, at: s.leaves(a, b, c), transform: transform, site: site)
        return (y, s.result(a, b, c, g))
    }
}

func valueAndGrad<T: ArrayTree, Aux: ArrayTree>(hasAux f: @escaping (T) throws -> (NDArray, Aux), transform: String,
                                                site: CallSite) -> (T) throws -> (value: NDArray, grad: T, aux: Aux) {
    { x in
        let flat = Flattened({ (x: T) in
            let (y, aux) = try f(x)
            return TreePair(first: y, second: aux)
        }, at: x)
        let (y, g, aux) = try valueGradAndAuxFlat(flat.callAsFunction, at: flat.inputLeaves, transform: transform, site: site)
        return (y, flat.inputTree(g), flat.outputTree([y] + aux).second)
    }
}

// MARK: - vjp

/// The value of `f` at `x` and its pullback: the vector-Jacobian product u ↦ uᵀ·∂f/∂x, which
/// can be called any number of times (`u` has the structure and shapes of the output, the
/// result those of `x`).
public func vjp<T: ArrayTree, R: ArrayTree>(_ f: (T) throws -> R, at x: T,
                                            file: StaticString = #fileID, line: UInt = #line) throws -> (value: R, pullback: (R) throws -> T) {
    let site = CallSite(file: file, line: line)
    let recording = try withoutActuallyEscaping(f) { f in
        let flat = Flattened(f, at: x)
        return (try record(flat.callAsFunction, at: flat.inputLeaves, transform: "vjp", site: site), flat.output!)
    }
    return (recording.1.rebuilt(with: recording.0.outputs), { u in x.rebuilt(with: try recording.0.pullback(u.leaves)) })
}

/// `vjp` of a function that also returns auxiliary arrays (JAX's `vjp(has_aux=True)`): the
/// value, the pullback of the value alone, and the auxiliary arrays as values of the enclosing
/// level.
public func vjp<T: ArrayTree, R: ArrayTree, Aux: ArrayTree>(hasAux f: (T) throws -> (R, Aux), at x: T,
                                                            file: StaticString = #fileID, line: UInt = #line)
    throws -> (value: R, pullback: (R) throws -> T, aux: Aux) {
    let site = CallSite(file: file, line: line)
    let (recording, structure) = try recordWithAux(f, at: x, transform: "vjp", site: site)
    let both = structure.rebuilt(with: recording.outputs)
    let n = both.first.leaves.count
    return (both.first, { u in
        guard u.leaves.count == n else {
            throw TransformError.cotangentShapeMismatch(transform: "vjp", expected: both.first.leaves.map(\.shape),
                                                        got: u.leaves.map(\.shape), file: site.file, line: site.line)
        }
        return x.rebuilt(with: try recording.pullback(u.leaves + both.second.leaves.map { _ in nil }))
    }, both.second)
}

// MARK: - stopGradient

/// `x`, through which no derivative flows (JAX's `stop_gradient`, PyTorch's `detach`).
public func stopGradient(_ x: NDArray) -> NDArray { bind(StopGradient(), x) }
