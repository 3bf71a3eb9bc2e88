// Reverse-mode transforms: grad, valueAndGrad and vjp, for functions of one, two or three
// trees. With several arguments, the gradient is taken with respect to the first (JAX's
// default `argnums=0`); the others are inputs held constant (data, labels, hyperparameters).
// Pack several differentiated values into one tree (an array, a dictionary, a struct) to get
// all their gradients at once.
//
// Transformed functions throw `TransformError` for misuse: a non-scalar output, an integer
// input, a value that escaped an earlier transform.

import FluxionKernels

/// The value of a scalar function and its reverse-mode gradient, flat.
func valueAndGradFlat(_ f: ([NDArray]) throws -> NDArray, at primals: [NDArray], transform: String,
                      site: CallSite) throws -> (NDArray, [NDArray]) {
    let (y, g, _) = try valueGradAndAuxFlat({ [try f($0)] }, at: primals, transform: transform, site: site)
    return (y, g)
}

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

// MARK: - grad

/// The gradient of a scalar-valued function: `grad(f)(x)` has the structure of `x`.
///
/// ```
/// ∇f(x) = (∂f/∂x₁, …, ∂f/∂xₙ)
/// ```
public func grad<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray,
                               file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> T {
    let site = CallSite(file: file, line: line)
    return { x in
        let (_, g) = try valueAndGradFlat({ try f(x.rebuilt(with: $0)) }, at: x.leaves, transform: "grad", site: site)
        return x.rebuilt(with: g)
    }
}

/// The gradient with respect to the first argument of a two-argument scalar function.
public func grad<T: ArrayTree, U>(_ f: @escaping (T, U) throws -> NDArray,
                                  file: StaticString = #fileID, line: UInt = #line) -> (T, U) throws -> T {
    let site = CallSite(file: file, line: line)
    return { x, u in
        let (_, g) = try valueAndGradFlat({ try f(x.rebuilt(with: $0), u) }, at: x.leaves, transform: "grad", site: site)
        return x.rebuilt(with: g)
    }
}

/// The gradient with respect to the first argument of a three-argument scalar function,
/// e.g. a loss of (parameters, inputs, targets).
public func grad<T: ArrayTree, U, V>(_ f: @escaping (T, U, V) throws -> NDArray,
                                     file: StaticString = #fileID, line: UInt = #line) -> (T, U, V) throws -> T {
    let site = CallSite(file: file, line: line)
    return { x, u, v in
        let (_, g) = try valueAndGradFlat({ try f(x.rebuilt(with: $0), u, v) }, at: x.leaves, transform: "grad", site: site)
        return x.rebuilt(with: g)
    }
}

/// The gradient of a function that also returns auxiliary arrays (JAX's `has_aux`): `f` returns
/// (loss, aux) and `grad(hasAux: f)(x)` returns (∇loss, aux). The auxiliary arrays are not
/// differentiated by this `grad`, but they leave it as ordinary values: an enclosing `grad`,
/// `jvp` or `vmap` differentiates or batches them like any other result.
public func grad<T: ArrayTree, Aux: ArrayTree>(hasAux f: @escaping (T) throws -> (NDArray, Aux),
                                               file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> (T, Aux) {
    let transformed = valueAndGrad(hasAux: f, file: file, line: line)
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

/// The value and the gradient with respect to the first argument of a two-argument function.
public func valueAndGrad<T: ArrayTree, U>(_ f: @escaping (T, U) throws -> NDArray,
                                          file: StaticString = #fileID, line: UInt = #line) -> (T, U) throws -> (value: NDArray, grad: T) {
    let site = CallSite(file: file, line: line)
    return { x, u in
        let (y, g) = try valueAndGradFlat({ try f(x.rebuilt(with: $0), u) }, at: x.leaves, transform: "valueAndGrad", site: site)
        return (y, x.rebuilt(with: g))
    }
}

/// The value and the gradient with respect to the first argument of a three-argument function.
public func valueAndGrad<T: ArrayTree, U, V>(_ f: @escaping (T, U, V) throws -> NDArray,
                                             file: StaticString = #fileID, line: UInt = #line) -> (T, U, V) throws -> (value: NDArray, grad: T) {
    let site = CallSite(file: file, line: line)
    return { x, u, v in
        let (y, g) = try valueAndGradFlat({ try f(x.rebuilt(with: $0), u, v) }, at: x.leaves, transform: "valueAndGrad", site: site)
        return (y, x.rebuilt(with: g))
    }
}

/// The value, the gradient and the auxiliary arrays of a function returning (loss, aux)
/// (JAX's `value_and_grad(has_aux=True)`); see `grad(hasAux:)`.
public func valueAndGrad<T: ArrayTree, Aux: ArrayTree>(hasAux f: @escaping (T) throws -> (NDArray, Aux),
                                                       file: StaticString = #fileID, line: UInt = #line)
    -> (T) throws -> (value: NDArray, grad: T, aux: Aux) {
    let site = CallSite(file: file, line: line)
    return { x in
        var structure: Aux?
        let (y, g, aux) = try valueGradAndAuxFlat({ leaves in
            let (y, a) = try f(x.rebuilt(with: leaves))
            structure = a
            return [y] + a.leaves
        }, at: x.leaves, transform: "valueAndGrad", site: site)
        return (y, x.rebuilt(with: g), structure!.rebuilt(with: aux))
    }
}

// MARK: - vjp

/// The value of `f` at `x` and its pullback: the vector-Jacobian product u ↦ uᵀ·∂f/∂x, which
/// can be called any number of times (`u` has the structure of the output, the result that
/// of `x`).
public func vjp<T: ArrayTree, R: ArrayTree>(_ f: (T) throws -> R, at x: T,
                                            file: StaticString = #fileID, line: UInt = #line) throws -> (value: R, pullback: (R) throws -> T) {
    let site = CallSite(file: file, line: line)
    var shape: R?
    let recording = try record({ leaves in
        let y = try f(x.rebuilt(with: leaves))
        shape = y
        return y.leaves
    }, at: x.leaves, transform: "vjp", site: site)
    let value = shape!.rebuilt(with: recording.outputs)
    return (value, { u in x.rebuilt(with: try recording.pullback(u.leaves)) })
}

/// `vjp` of a function that also returns auxiliary arrays (JAX's `vjp(has_aux=True)`): the
/// value, the pullback of the value alone, and the auxiliary arrays as values of the enclosing
/// level.
public func vjp<T: ArrayTree, R: ArrayTree, Aux: ArrayTree>(hasAux f: (T) throws -> (R, Aux), at x: T,
                                                            file: StaticString = #fileID, line: UInt = #line)
    throws -> (value: R, pullback: (R) throws -> T, aux: Aux) {
    let site = CallSite(file: file, line: line)
    var structure: (R, Aux)?
    let recording = try record({ leaves in
        let (y, a) = try f(x.rebuilt(with: leaves))
        structure = (y, a)
        return y.leaves + a.leaves
    }, at: x.leaves, transform: "vjp", site: site)
    let (r, a) = structure!
    let n = r.leaves.count
    let value = r.rebuilt(with: Array(recording.outputs[..<n]))
    let aux = a.rebuilt(with: Array(recording.outputs[n...]))
    return (value, { u in
        guard u.leaves.count == n else {
            throw TransformError.cotangentShapeMismatch(transform: "vjp", expected: value.leaves.map(\.shape),
                                                        got: u.leaves.map(\.shape), file: site.file, line: site.line)
        }
        return x.rebuilt(with: try recording.pullback(u.leaves + aux.leaves.map { _ in nil }))
    }, aux)
}

// MARK: - stopGradient

/// `x`, through which no derivative flows (JAX's `stop_gradient`, PyTorch's `detach`).
public func stopGradient(_ x: NDArray) -> NDArray { bind(StopGradient(), x) }
