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
    let recording = try record({ [try f($0)] }, at: primals, transform: transform, site: site)
    let y = recording.outputs[0]
    // A 0-d output only, as JAX and torch.func require: a one-element [1] or [1, 1] output is
    // usually a shape mistake, and its gradient would hide it.
    guard y.rank == 0 else {
        throw TransformError.nonScalarOutput(transform: transform, shape: y.shape, file: site.file, line: site.line)
    }
    return (y, try recording.pullback([NDArray.onesLike(y.dtype.isFloatingPoint ? y : y.to(.float32))]))
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

/// The gradient of a function that also returns auxiliary data, which is passed through.
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

// MARK: - stopGradient

/// `x`, through which no derivative flows (JAX's `stop_gradient`, PyTorch's `detach`).
public func stopGradient(_ x: NDArray) -> NDArray { bind(StopGradient(), x) }
