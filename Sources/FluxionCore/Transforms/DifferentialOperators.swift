// Differential operators of a function with respect to its input, the terms of PINN losses:
// the Laplacian Δf = Σᵢ ∂²f/∂xᵢ², the Hessian's diagonal, the divergence of a vector field, and
// directional derivatives of any order (by `jet` along a line, Transforms/TaylorMode.swift).
//
// The Laplacian and the Hessian's diagonal come from one forward pass of the forward
// Laplacian (Interpreters/ForwardLaplacian.swift): no d×d Hessian per point and no d separate
// passes, where `hessian(f)(x).trace()` forms the whole Hessian by d reverse passes under a
// forward one. The divergence is the trace of the forward-mode Jacobian. Each operator is a
// function of one point; `batched: true` maps it over a leading axis of points (`vmap`), and
// all of them compose with `grad` (the loss's gradient with respect to the weights), `vmap`
// and `jit`, every rule being written with array operations.

import FluxionKernels

/// The flat core of the forward Laplacian along every input element: `f`'s outputs at
/// `primals`, their derivatives along each element (each [d] + output shape, d the total
/// element count of the inputs), and the sums of their second derivatives along them
/// (`summed`: output shape) or each ([d] + output shape).
func forwardLaplacianFlat(_ f: ([NDArray]) throws -> [NDArray], at primals: [NDArray], summed: Bool,
                          transform: String, site: CallSite) throws -> (outputs: [NDArray], jacobians: [NDArray], seconds: [NDArray]) {
    try checkDifferentiable(primals, transform, site)
    let counts = primals.map { $0.shape.reduce(1, *) }
    let d = counts.reduce(0, +)
    var offset = 0
    // Direction i moves element i of the inputs taken in order: the rows of the identity.
    let directions = zip(primals, counts).map { x, count -> NDArray? in
        defer { offset += count }
        return NDArray.eye(d, dtype: x.dtype).narrow(dim: 1, start: offset, length: count).reshape([d] + x.shape)
    }
    return try forwardLaplacianFlat(f, at: primals, directions: directions, count: d, summed: summed, transform: transform, site: site)
}

/// The forward Laplacian along given directions: input k moves along the `count` directions
/// stacked in `directions[k]` ([count] + its shape; nil: it stays put), starting with zero
/// second derivatives.
func forwardLaplacianFlat(_ f: ([NDArray]) throws -> [NDArray], at primals: [NDArray], directions: [NDArray?], count: Int,
                          summed: Bool, transform: String, site: CallSite) throws -> (outputs: [NDArray], jacobians: [NDArray], seconds: [NDArray]) {
    try withNewInterpreter({ ForwardLaplacianInterpreter(level: $0, transform: transform, directions: count, summed: summed) }) { interpreter in
        let seeded = zip(primals, directions).map { x, v in v.map { interpreter.lift(x, jacobian: $0, second: nil) } ?? x }
        let split = try f(seeded).map(interpreter.split)
        return (split.map(\.primal), split.map(\.jacobian), split.map(\.second))
    }
}

/// `pointOperator` of one point, or (`batched`) of each point along the first axis of its argument
/// (`vmap`, results batched along their first axis).
private func overPoints<R: ArrayTree>(_ batched: Bool, _ site: CallSite, _ pointOperator: @escaping (NDArray) throws -> R) -> (NDArray) throws -> R {
    guard batched else { return pointOperator }
    return { x in
        var structure: R?
        let leaves = try vmapFlat({ xs in
            let r = try pointOperator(xs[0])
            structure = r
            return r.leaves
        }, [x], inAxes: [0], outAxis: 0, chunkSize: nil, randomness: .error, fallback: .loop, site: site)
        return structure!.rebuilt(with: leaves)
    }
}

/// The Laplacian of `f` with respect to its argument, by the forward Laplacian:
///
/// ```
/// Δf(x) = Σᵢ ∂²f/∂xᵢ²     over every element xᵢ of x
/// ```
///
/// The result has `f(x)`'s shape (the Laplacian of each output element). With `batched`, `x`'s
/// first axis indexes points and the result holds each point's Laplacian (`vmap` of the
/// one-point operator). The cost is about that of d + 1 tangents through `f`, d the number of
/// elements of a point; `grad` of a loss built on it differentiates the whole pass.
public func laplacian(_ f: @escaping (NDArray) throws -> NDArray, batched: Bool = false,
                      file: StaticString = #fileID, line: UInt = #line) -> (NDArray) throws -> NDArray {
    let site = CallSite(file: file, line: line)
    return overPoints(batched, site) { x in
        try forwardLaplacianFlat({ [try f($0[0])] }, at: [x], summed: true, transform: "laplacian", site: site).seconds[0]
    }
}

/// The Laplacian of `f` over every element of every leaf of its argument (Δ in all of them
/// together).
public func laplacian<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray,
                                    file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> NDArray {
    let site = CallSite(file: file, line: line)
    return { x in
        try forwardLaplacianFlat({ [try f(x.rebuilt(with: $0))] }, at: x.leaves, summed: true, transform: "laplacian", site: site).seconds[0]
    }
}

/// `f(x)`, its gradient and its Laplacian from one forward pass (what a PINN residual such as
/// −Δu + c·∇u·b needs): the gradient has shape `f(x).shape + x.shape`, the Laplacian
/// `f(x).shape`. With `batched`, each over the points along `x`'s first axis.
public func valueGradientAndLaplacian(_ f: @escaping (NDArray) throws -> NDArray, batched: Bool = false,
                                      file: StaticString = #fileID, line: UInt = #line)
    -> (NDArray) throws -> (value: NDArray, gradient: NDArray, laplacian: NDArray) {
    let site = CallSite(file: file, line: line)
    let one = { (x: NDArray) throws -> TreePair<NDArray, TreePair<NDArray, NDArray>> in
        let (outputs, jacobians, seconds) = try forwardLaplacianFlat({ [try f($0[0])] }, at: [x], summed: true,
                                                                     transform: "valueGradientAndLaplacian", site: site)
        return TreePair(first: outputs[0], second: TreePair(first: directionsLast(jacobians[0], inputShape: x.shape), second: seconds[0]))
    }
    let pointwise = overPoints(batched, site, one)
    return { x in
        let r = try pointwise(x)
        return (r.first, r.second.first, r.second.second)
    }
}

/// The diagonal of `f`'s Hessian with respect to its argument, by the forward Laplacian
/// without the sum:
///
/// ```
/// result[…, i] = ∂²f/∂xᵢ²     shape f(x).shape + x.shape
/// ```
///
/// With `batched`, each point's along `x`'s first axis.
public func hessianDiagonal(_ f: @escaping (NDArray) throws -> NDArray, batched: Bool = false,
                            file: StaticString = #fileID, line: UInt = #line) -> (NDArray) throws -> NDArray {
    let site = CallSite(file: file, line: line)
    return overPoints(batched, site) { x in
        let seconds = try forwardLaplacianFlat({ [try f($0[0])] }, at: [x], summed: false, transform: "hessianDiagonal", site: site).seconds[0]
        return directionsLast(seconds, inputShape: x.shape)
    }
}

/// The diagonal of `f`'s Hessian over the leaves of a tree: the tree's structure, leaf k
/// holding ∂²f/∂xₖ² elementwise with shape `f(x).shape + leaf.shape`.
public func hessianDiagonal<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray,
                                          file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> T {
    let site = CallSite(file: file, line: line)
    return { x in
        let leaves = x.leaves
        let seconds = try forwardLaplacianFlat({ [try f(x.rebuilt(with: $0))] }, at: leaves, summed: false,
                                               transform: "hessianDiagonal", site: site).seconds[0]
        var offset = 0
        return x.rebuilt(with: leaves.map { leaf in
            let count = leaf.shape.reduce(1, *)
            defer { offset += count }
            return directionsLast(seconds.narrow(dim: 0, start: offset, length: count), inputShape: leaf.shape)
        })
    }
}

/// The divergence of a vector field `f` (an output of its input's shape):
///
/// ```
/// ∇·f(x) = Σᵢ ∂fᵢ/∂xᵢ      a scalar
/// ```
///
/// as the trace of the forward-mode Jacobian (d tangents through `f`, batched). With
/// `batched`, each point's along `x`'s first axis (`f` maps one point).
public func divergence(_ f: @escaping (NDArray) throws -> NDArray, batched: Bool = false,
                       file: StaticString = #fileID, line: UInt = #line) -> (NDArray) throws -> NDArray {
    let site = CallSite(file: file, line: line)
    return overPoints(batched, site) { x in
        let (outputs, blocks) = try jacobianFlat({ [try f($0[0])] }, at: [x], mode: .forward, chunkSize: nil,
                                                 transform: "divergence", site: site)
        guard outputs[0].shape == x.shape else {
            throw TransformError.notAVectorField(transform: "divergence", input: x.shape, output: outputs[0].shape,
                                                 file: site.file, line: site.line)
        }
        let d = x.shape.reduce(1, *)
        // blocks[0][0] is ∂f/∂x, shape x.shape + x.shape; the divergence is its trace.
        return blocks[0][0].reshape([d, d]).diagonal().sum()
    }
}

/// The k-th derivative of `f` along `v` at `x`:
///
/// ```
/// dᵏ/dtᵏ f(x + t·v) at t = 0      f(x)'s shape
/// ```
///
/// (order 1 is `jvp`'s tangent, order 2 vᵀ∇²f v, order 0 f(x)). Computed by `jet` along the
/// line, series [v, 0, …, 0]: one forward pass whose coefficients past the first start as
/// symbolic zeros, so the cost grows with the order about as k² products per nonlinearity (and
/// linearly for the linear layers), where nested forward mode doubles with each order. For
/// order 2 along many directions, `laplacian` and `hessianDiagonal` are the one-pass forms.
public func directionalDerivative(_ f: @escaping (NDArray) throws -> NDArray, at x: NDArray, along v: NDArray, order: Int,
                                  file: StaticString = #fileID, line: UInt = #line) throws -> NDArray {
    let site = CallSite(file: file, line: line)
    guard order >= 0 else {
        throw TransformError.negativeOrder(transform: "directionalDerivative", order: order, file: site.file, line: site.line)
    }
    guard v.shape == x.shape else {
        throw TransformError.tangentShapeMismatch(transform: "directionalDerivative", expected: [x.shape], got: [v.shape],
                                                  file: site.file, line: site.line)
    }
    try checkDifferentiable([x], "directionalDerivative", site)
    let alongLine = order == 0 ? [] : [v] + [NDArray?](repeating: nil, count: order - 1)
    let (outputs, series) = try jetFlat({ [try f($0[0])] }, at: [x], series: [alongLine], order: order,
                                        transform: "directionalDerivative", site: site)
    guard order > 0 else { return outputs[0] }
    return series[0][order - 1] ?? NDArray.zeros(outputs[0].shape, dtype: outputs[0].dtype.floatingOrDefault)
}

/// [d] + output shape with d the elements of an input of `inputShape` → output shape + input
/// shape (the Jacobian's order: output first).
private func directionsLast(_ x: NDArray, inputShape: [Int]) -> NDArray {
    let d = x.shape[0]
    let outputShape = Array(x.shape.dropFirst())
    return x.reshape([d, outputShape.reduce(1, *)]).mT.reshape(outputShape + inputShape)
}
