// `jet`: Taylor-mode automatic differentiation (JAX's `jax.experimental.jet`). Given the first K
// derivatives of a curve through the inputs, it returns those of the function along it, in one
// forward pass (Interpreters/Jet.swift): higher-order derivatives without nesting first-order
// transforms, at a cost that grows with K² rather than 2ᴷ. `directionalDerivative` is its
// special case along a line. Written once over flat lists (`jetFlat`); the forms here flatten
// and rebuild.

import FluxionKernels

/// Propagates a truncated Taylor series through `f` (JAX's `jet`): the derivatives of
/// t ↦ f(x(t)) at t = 0 from those of x(t).
///
/// Coefficients are derivative-scaled, as in JAX: the series (x₁, …, x_K) around the primal x₀
/// stands for the curve
///
/// ```
/// x(t) = x₀ + x₁·t + x₂·t²/2! + … + x_K·tᴷ/K!       xₖ = dᵏx/dtᵏ at t = 0
/// ```
///
/// and the result holds f(x₀) and yₖ = dᵏ/dtᵏ f(x(t)) at t = 0, k = 1…K. Along a line
/// (series [v, 0, …, 0]) yₖ is the k-th directional derivative Dᵏf(x₀)[v, …, v]; with x₁ = 1
/// and the rest 0 for a scalar, yₖ = f⁽ᵏ⁾(x₀). Composition holds term by term: the series
/// `jet` returns for g can be passed on to f, giving the series of f∘g.
///
/// - Parameters:
///   - f: the function, of one array.
///   - primal: x₀ (floating point).
///   - series: x₁ … x_K, each of `primal`'s shape (converted to its dtype); K ≥ 0, any order.
///   - file: the caller's file, named in error messages (default: the call site).
///   - line: the caller's line, named in error messages (default: the call site).
/// - Returns: f(x₀) and y₁ … y_K, each of f(x₀)'s shape (zeros where f does not depend on x).
/// - Throws: `TransformError.tangentShapeMismatch` when a coefficient's shape differs from the
///   primal's, `.nonDifferentiableInput` for an integer primal, and what `f` throws.
///
/// The cost is one pass of f carrying K + 1 values, each nonlinearity computing about K²/2
/// products; coefficients that are zero are never multiplied. Composes with `grad`, `vmap` and
/// `jit`, in both orders. A primitive without a Taylor rule of its own (see
/// `Primitive.taylor`) takes its coefficients from its jvp rule, and says so once.
public func jet(_ f: (NDArray) throws -> NDArray, primal: NDArray, series: [NDArray],
                file: StaticString = #fileID, line: UInt = #line) throws -> (value: NDArray, series: [NDArray]) {
    try jet({ (x: NDArray) in try f(x) }, primals: primal, series: series, file: file, line: line)
}

/// `jet` of a function of a tree of arrays: each series term is a tree of `primals`' structure
/// and shapes (leaf k of term j is coefficient j + 1 of leaf k's curve), and the result's
/// value and terms have the output's structure.
///
/// ```
/// x(t) = primals + Σₖ series[k − 1]·tᵏ/k!      (leaf by leaf)
/// result.series[k − 1] = dᵏ/dtᵏ f(x(t)) at t = 0
/// ```
public func jet<T: ArrayTree, R: ArrayTree>(_ f: (T) throws -> R, primals: T, series: [T],
                                            file: StaticString = #fileID, line: UInt = #line) throws -> (value: R, series: [R]) {
    let site = CallSite(file: file, line: line)
    return try withoutActuallyEscaping(f) { f in
        let flat = Flattened(f, at: primals)
        let leaves = flat.inputLeaves
        try checkDifferentiable(leaves, "jet", site)
        var perLeaf = leaves.map { _ in [NDArray?]() }
        for term in series {
            let coefficients = term.leaves
            try checkTangents(coefficients, for: leaves, "jet", site)
            for (i, c) in coefficients.enumerated() { perLeaf[i].append(c) }
        }
        let (outputs, coefficients) = try jetFlat(flat.callAsFunction, at: leaves, series: perLeaf, order: series.count,
                                                  transform: "jet", site: site)
        let terms = series.indices.map { k in
            flat.outputTree(zip(coefficients, outputs).map { s, y in s[k] ?? NDArray.zeros(y.shape, dtype: y.dtype.floatingOrDefault) })
        }
        return (flat.outputTree(outputs), terms)
    }
}
