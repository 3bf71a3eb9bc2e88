// Jacobians and Hessians built from the other transforms, as JAX builds them:
//   jacrev  = vmap of the pullback over the rows of the identity (one backward pass per
//             output element, batched) — cheap for functions with few outputs;
//   jacfwd  = vmap of jvp over the columns of the identity — cheap for few inputs;
//   hessian = jacfwd(jacrev(f)), forward over reverse;
//   hvp     = jvp of grad, one Hessian-vector product without forming the Hessian.
// A Jacobian's shape is the output's shape followed by the input's.

import FluxionKernels

/// Throws unless a Jacobian of `shape` and the identity basis it is built from fit in arrays.
private func checkJacobian(_ transform: String, _ shape: [Int], basis n: Int, _ site: CallSite) throws {
    for candidate in [shape, [n, n]] where Shape.checkedExtent(candidate) == nil {
        throw TransformError.resultTooLarge(transform: transform, shape: candidate, file: site.file, line: site.line)
    }
}

/// The Jacobian ∂f/∂x by reverse mode; shape `f(x).shape + x.shape`.
public func jacrev(_ f: @escaping (NDArray) throws -> NDArray,
                   file: StaticString = #fileID, line: UInt = #line) -> (NDArray) throws -> NDArray {
    { x in
        let (y, pullback) = try vjp(f, at: x, file: file, line: line)
        let m = y.count
        try checkJacobian("jacrev", y.shape + x.shape, basis: m, CallSite(file: file, line: line))
        let basis = NDArray.eye(m, dtype: y.dtype.floatingOrDefault).reshape([m] + y.shape)
        let rows = try vmap(pullback, file: file, line: line)(basis)
        return rows.reshape(y.shape + x.shape)
    }
}

/// The Jacobian ∂f/∂x by forward mode; shape `f(x).shape + x.shape`.
public func jacfwd(_ f: @escaping (NDArray) throws -> NDArray,
                   file: StaticString = #fileID, line: UInt = #line) -> (NDArray) throws -> NDArray {
    { x in
        let n = x.count
        try checkJacobian("jacfwd", x.shape, basis: n, CallSite(file: file, line: line))
        let basis = NDArray.eye(n, dtype: x.dtype).reshape([n] + x.shape)
        let columns = try vmap({ (v: NDArray) in try jvp(f, at: x, tangents: v, file: file, line: line).tangent },
                               outAxes: -1, file: file, line: line)(basis)
        return columns.reshape(Array(columns.shape.dropLast()) + x.shape)
    }
}

/// The Hessian ∂²f/∂x² by forward over reverse; shape `f(x).shape + x.shape + x.shape`: the
/// Hessian of a scalar function, or one Hessian per output element (stacked in the output's
/// shape), as JAX's and torch.func's `hessian` give.
///
/// ```
/// H = jacfwd(jacrev(f))
/// ```
public func hessian(_ f: @escaping (NDArray) throws -> NDArray,
                    file: StaticString = #fileID, line: UInt = #line) -> (NDArray) throws -> NDArray {
    jacfwd(jacrev(f, file: file, line: line), file: file, line: line)
}

/// The Hessian-vector product ∂²f/∂x² · v of a scalar function, without forming the Hessian.
public func hvp(_ f: @escaping (NDArray) throws -> NDArray, at x: NDArray, v: NDArray,
                file: StaticString = #fileID, line: UInt = #line) throws -> NDArray {
    try jvp(grad(f, file: file, line: line), at: x, tangents: v, file: file, line: line).tangent
}
