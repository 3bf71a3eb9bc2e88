// Jacobians and Hessians built from the other transforms, as JAX builds them:
//   jacrev  = vmap of the pullback over the rows of the identity (one backward pass per
//             output element, batched) — cheap for functions with few outputs;
//   jacfwd  = vmap of jvp over the columns of the identity — cheap for few inputs;
//   hessian = jacfwd(jacrev(f)), forward over reverse;
//   hvp     = jvp of grad, one Hessian-vector product without forming the Hessian.
//
// Shapes and structures. The block for an output y and an input leaf x has shape
// `y.shape + x.shape`. With one array output, the Jacobian has the structure of the input (a
// parameter dictionary gives a dictionary of blocks); with a tree of outputs it is one such
// input-structured Jacobian per output leaf, in the output's leaf order. `argnums:` selects
// the arguments differentiated (Argnums.swift); `hasAux:` returns auxiliary arrays alongside;
// `chunkSize:` runs the basis in pieces of that many rows or columns to bound memory
// (torch.func's `chunk_size`), with the same result.

import FluxionKernels

/// How a Jacobian is built.
enum JacobianMode {
    /// One pullback per output element.
    case reverse
    /// One pushforward per input element.
    case forward
}

/// The outputs of `f` at `primals` and the Jacobian blocks of its first `outputs.count −
/// auxiliaryCount()` outputs: `blocks[i][j]` = ∂outputs[i]/∂primals[j], of shape
/// `outputs[i].shape + primals[j].shape`. The other outputs (auxiliary; `auxiliaryCount` is
/// asked after `f` has run) are returned as values of the enclosing level.
func jacobianFlat(_ f: @escaping ([NDArray]) throws -> [NDArray], at primals: [NDArray], mode: JacobianMode,
                  auxiliaryCount: @escaping () -> Int = { 0 }, chunkSize: Int?, transform: String, site: CallSite)
    throws -> (outputs: [NDArray], blocks: [[NDArray]]) {
    // A silent clamp to 1 would hide a mistake and run one pass per row.
    if let chunkSize, chunkSize < 1 {
        throw TransformError.invalidChunkSize(transform: transform, chunkSize: chunkSize, file: site.file, line: site.line)
    }
    switch mode {
    case .reverse:
        let recording = try record(f, at: primals, transform: transform, site: site)
        let outputs = recording.outputs
        let auxiliary = auxiliaryCount()
        let differentiated = Array(outputs.dropLast(auxiliary))
        let m = differentiated.reduce(0) { $0 + $1.count }
        try checkJacobian(transform, outputs: differentiated, inputs: primals, basis: m, site)
        // One identity row per output element, split into the outputs' shapes: row r is the
        // cotangent that picks output element r.
        let basis = identityBasis(m, like: differentiated)
        let rows = try vmapFlat({ cotangents in
            try recording.pullback(cotangents + Array(repeating: nil, count: auxiliary))
        }, basis, inAxes: basis.map { _ in 0 }, outAxis: 0, chunkSize: chunkSize, randomness: .error, fallback: .loop, site: site)
        var start = 0
        let blocks = differentiated.map { y -> [NDArray] in
            defer { start += y.count }
            return zip(rows, primals).map { r, x in r.narrow(dim: 0, start: start, length: y.count).reshape(y.shape + x.shape) }
        }
        return (outputs, blocks)
    case .forward:
        try checkDifferentiable(primals, transform, site)
        let n = primals.reduce(0) { $0 + $1.count }
        try checkJacobian(transform, outputs: [], inputs: primals, basis: n, site)
        // One identity column per input element, split into the inputs' shapes; the vmapped
        // function returns the tangents (batched last) and the values (the same for every column).
        let basis = identityBasis(n, like: primals)
        var tangentCount = 0
        let results = try vmapFlat({ tangents in
            let (values, derivatives) = try forwardMode(f, at: primals, tangents: tangents, transform: transform, site: site)
            tangentCount = derivatives.count - auxiliaryCount()
            return Array(derivatives.prefix(tangentCount)) + values
        }, basis, inAxes: basis.map { _ in 0 }, outAxis: { $0 < tangentCount ? -1 : nil }, chunkSize: chunkSize,
           randomness: .error, fallback: .loop, site: site)
        let columns = results.prefix(tangentCount), outputs = Array(results.dropFirst(tangentCount))
        let blocks = columns.map { c -> [NDArray] in
            var start = 0
            return primals.map { x in
                defer { start += x.count }
                return c.narrow(dim: c.rank - 1, start: start, length: x.count).reshape(Array(c.shape.dropLast()) + x.shape)
            }
        }
        return (outputs, blocks)
    }
}

/// The rows of the n×n identity, in the dtype of `arrays` (float32 when they are integers),
/// split into one array per element of `arrays`: `[n] + arrays[k].shape` each.
private func identityBasis(_ n: Int, like arrays: [NDArray]) -> [NDArray] {
    let dtype = arrays.first?.dtype.floatingOrDefault ?? .float32
    let eye = NDArray.eye(n, dtype: dtype)
    var start = 0
    return arrays.map { a in
        defer { start += a.count }
        return eye.narrow(dim: 1, start: start, length: a.count).reshape([n] + a.shape)
    }
}

/// Throws unless every block and the identity basis fit in arrays.
private func checkJacobian(_ transform: String, outputs: [NDArray], inputs: [NDArray], basis n: Int, _ site: CallSite) throws {
    var shapes = [[n, n]]
    for y in outputs { for x in inputs { shapes.append(y.shape + x.shape) } }
    for shape in shapes where Shape.checkedExtent(shape) == nil {
        throw TransformError.resultTooLarge(transform: transform, shape: shape, file: site.file, line: site.line)
    }
}

// MARK: - jacrev and jacfwd

/// The typed Jacobians share one body: a Jacobian of an array output over the arguments
/// `select` picks, built in `mode`.
private func jacobian<Args, Result>(_ f: @escaping (Args) throws -> NDArray, leaves: @escaping (Args) -> [NDArray],
                                    substituting: @escaping (Args, [NDArray]) -> Args, result: @escaping (Args, [NDArray]) -> Result,
                                    mode: JacobianMode, chunkSize: Int?, transform: String, site: CallSite) -> (Args) throws -> Result {
    { args in
        let (_, blocks) = try jacobianFlat({ [try f(substituting(args, $0))] }, at: leaves(args), mode: mode,
                                           chunkSize: chunkSize, transform: transform, site: site)
        return result(args, blocks[0])
    }
}

/// The Jacobian of an array-valued function of one tree, in `mode`: the input's structure.
private func jacobian<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray, mode: JacobianMode, chunkSize: Int?,
                                    transform: String, site: CallSite) -> (T) throws -> T {
    jacobian(f, leaves: { $0.leaves }, substituting: { $0.rebuilt(with: $1) }, result: { $0.rebuilt(with: $1) },
             mode: mode, chunkSize: chunkSize, transform: transform, site: site)
}

/// The Jacobians of a tree-valued function of one tree: one per output leaf.
private func jacobians<T: ArrayTree, R: ArrayTree>(_ f: @escaping (T) throws -> R, mode: JacobianMode, chunkSize: Int?,
                                                   transform: String, site: CallSite) -> (T) throws -> [T] {
    { x in
        let flat = Flattened(f, at: x)
        let (_, blocks) = try jacobianFlat(flat.callAsFunction, at: flat.inputLeaves, mode: mode, chunkSize: chunkSize,
                                           transform: transform, site: site)
        return blocks.map(x.rebuilt(with:))
    }
}

/// The Jacobian of an array-valued function that also returns auxiliary arrays.
private func jacobian<T: ArrayTree, Aux: ArrayTree>(hasAux f: @escaping (T) throws -> (NDArray, Aux), mode: JacobianMode,
                                                    chunkSize: Int?, transform: String, site: CallSite) -> (T) throws -> (T, Aux) {
    { x in
        let flat = Flattened({ (x: T) in
            let (y, aux) = try f(x)
            return TreePair(first: y, second: aux)
        }, at: x)
        let (outputs, blocks) = try jacobianFlat(flat.callAsFunction, at: flat.inputLeaves, mode: mode,
                                                 auxiliaryCount: { flat.output!.second.leaves.count },
                                                 chunkSize: chunkSize, transform: transform, site: site)
        return (x.rebuilt(with: blocks[0]), flat.outputTree(outputs).second)
    }
}

/// The Jacobian ∂f/∂x by reverse mode: for an array `x`, shape `f(x).shape + x.shape`; for a
/// tree, the tree's structure with one such block per leaf.
public func jacrev<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray, chunkSize: Int? = nil,
                                 file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> T {
    jacobian(f, mode: .reverse, chunkSize: chunkSize, transform: "jacrev", site: CallSite(file: file, line: line))
}

/// The Jacobians by reverse mode of a function with a tree of outputs: one input-structured
/// Jacobian per output leaf, in the output's leaf order.
public func jacrev<T: ArrayTree, R: ArrayTree>(_ f: @escaping (T) throws -> R, chunkSize: Int? = nil,
                                               file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> [T] {
    jacobians(f, mode: .reverse, chunkSize: chunkSize, transform: "jacrev", site: CallSite(file: file, line: line))
}

/// The Jacobian by reverse mode of a function that also returns auxiliary arrays (JAX's
/// `jacrev(has_aux=True)`).
public func jacrev<T: ArrayTree, Aux: ArrayTree>(hasAux f: @escaping (T) throws -> (NDArray, Aux), chunkSize: Int? = nil,
                                                 file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> (T, Aux) {
    jacobian(hasAux: f, mode: .reverse, chunkSize: chunkSize, transform: "jacrev", site: CallSite(file: file, line: line))
}

/// The Jacobian by reverse mode with respect to the arguments `argnums` selects.
public func jacrev<A, B, Selected>(_ f: @escaping (A, B) throws -> NDArray, argnums s: Argnums2<A, B, Selected>, chunkSize: Int? = nil,
                                   file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> Selected {
    let jac = jacobian({ (p: (A, B)) in try f(p.0, p.1) }, leaves: { s.leaves($0.0, $0.1) }, substituting: { s.substituting($0.0, $0.1, $1) },
                       result: { s.result($0.0, $0.1, $1) }, mode: .reverse, chunkSize: chunkSize, transform: "jacrev",
                       site: CallSite(file: file, line: line))
    return { try jac(($0, $1)) }
}

/// The Jacobian by reverse mode with respect to the first argument of two.
public func jacrev<A: ArrayTree, B>(_ f: @escaping (A, B) throws -> NDArray, chunkSize: Int? = nil,
                                    file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> A {
    jacrev(f, argnums: .first, chunkSize: chunkSize, file: file, line: line)
}

/// The Jacobian by reverse mode with respect to the arguments `argnums` selects of three.
public func jacrev<A, B, C, Selected>(_ f: @escaping (A, B, C) throws -> NDArray, argnums s: Argnums3<A, B, C, Selected>,
                                      chunkSize: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> (A, B, C) throws -> Selected {
    let jac = jacobian({ (p: (A, B, C)) in try f(p.0, p.1, p.2) }, leaves: { s.leaves($0.0, $0.1, $0.2) },
                       substituting: { s.substituting($0.0, $0.1, $0.2, $1) }, result: { s.result($0.0, $0.1, $0.2, $1) },
                       mode: .reverse, chunkSize: chunkSize, transform: "jacrev", site: CallSite(file: file, line: line))
    return { try jac(($0, $1, $2)) }
}

/// The Jacobian by reverse mode with respect to the first argument of three.
public func jacrev<A: ArrayTree, B, C>(_ f: @escaping (A, B, C) throws -> NDArray, chunkSize: Int? = nil,
                                       file: StaticString = #fileID, line: UInt = #line) -> (A, B, C) throws -> A {
    jacrev(f, argnums: .first, chunkSize: chunkSize, file: file, line: line)
}

/// The Jacobian ∂f/∂x by forward mode: for an array `x`, shape `f(x).shape + x.shape`; for a
/// tree, the tree's structure with one such block per leaf.
public func jacfwd<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray, chunkSize: Int? = nil,
                                 file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> T {
    jacobian(f, mode: .forward, chunkSize: chunkSize, transform: "jacfwd", site: CallSite(file: file, line: line))
}

/// The Jacobians by forward mode of a function with a tree of outputs: one input-structured
/// Jacobian per output leaf, in the output's leaf order.
public func jacfwd<T: ArrayTree, R: ArrayTree>(_ f: @escaping (T) throws -> R, chunkSize: Int? = nil,
                                               file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> [T] {
    jacobians(f, mode: .forward, chunkSize: chunkSize, transform: "jacfwd", site: CallSite(file: file, line: line))
}

/// The Jacobian by forward mode of a function that also returns auxiliary arrays (JAX's
/// `jacfwd(has_aux=True)`).
public func jacfwd<T: ArrayTree, Aux: ArrayTree>(hasAux f: @escaping (T) throws -> (NDArray, Aux), chunkSize: Int? = nil,
                                                 file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> (T, Aux) {
    jacobian(hasAux: f, mode: .forward, chunkSize: chunkSize, transform: "jacfwd", site: CallSite(file: file, line: line))
}

/// The Jacobian by forward mode with respect to the arguments `argnums` selects.
public func jacfwd<A, B, Selected>(_ f: @escaping (A, B) throws -> NDArray, argnums s: Argnums2<A, B, Selected>, chunkSize: Int? = nil,
                                   file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> Selected {
    let jac = jacobian({ (p: (A, B)) in try f(p.0, p.1) }, leaves: { s.leaves($0.0, $0.1) }, substituting: { s.substituting($0.0, $0.1, $1) },
                       result: { s.result($0.0, $0.1, $1) }, mode: .forward, chunkSize: chunkSize, transform: "jacfwd",
                       site: CallSite(file: file, line: line))
    return { try jac(($0, $1)) }
}

/// The Jacobian by forward mode with respect to the first argument of two.
public func jacfwd<A: ArrayTree, B>(_ f: @escaping (A, B) throws -> NDArray, chunkSize: Int? = nil,
                                    file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> A {
    jacfwd(f, argnums: .first, chunkSize: chunkSize, file: file, line: line)
}

/// The Jacobian by forward mode with respect to the arguments `argnums` selects of three.
public func jacfwd<A, B, C, Selected>(_ f: @escaping (A, B, C) throws -> NDArray, argnums s: Argnums3<A, B, C, Selected>,
                                      chunkSize: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> (A, B, C) throws -> Selected {
    let jac = jacobian({ (p: (A, B, C)) in try f(p.0, p.1, p.2) }, leaves: { s.leaves($0.0, $0.1, $0.2) },
                       substituting: { s.substituting($0.0, $0.1, $0.2, $1) }, result: { s.result($0.0, $0.1, $0.2, $1) },
                       mode: .forward, chunkSize: chunkSize, transform: "jacfwd", site: CallSite(file: file, line: line))
    return { try jac(($0, $1, $2)) }
}

/// The Jacobian by forward mode with respect to the first argument of three.
public func jacfwd<A: ArrayTree, B, C>(_ f: @escaping (A, B, C) throws -> NDArray, chunkSize: Int? = nil,
                                       file: StaticString = #fileID, line: UInt = #line) -> (A, B, C) throws -> A {
    jacfwd(f, argnums: .first, chunkSize: chunkSize, file: file, line: line)
}

// MARK: - hessian

/// The Hessian blocks of `f` at the leaves `primals`: `blocks[i][j]` = ∂²f/∂xᵢ∂xⱼ, of shape
/// `y.shape + xᵢ.shape + xⱼ.shape` — forward over reverse.
private func hessianFlat(_ f: @escaping ([NDArray]) throws -> NDArray, at primals: [NDArray], chunkSize: Int?,
                         site: CallSite) throws -> [[NDArray]] {
    try jacobianFlat({ leaves in
        try jacobianFlat({ [try f($0)] }, at: leaves, mode: .reverse, chunkSize: chunkSize, transform: "hessian", site: site).blocks[0]
    }, at: primals, mode: .forward, chunkSize: chunkSize, transform: "hessian", site: site).blocks
}

/// The Hessian ∂²f/∂x² of a function of an array, forward over reverse; shape
/// `f(x).shape + x.shape + x.shape`: the Hessian of a scalar function, or one Hessian per output
/// element (stacked in the output's shape), as JAX's and torch.func's `hessian` give.
///
/// ```
/// H = jacfwd(jacrev(f))
/// ```
public func hessian(_ f: @escaping (NDArray) throws -> NDArray, chunkSize: Int? = nil,
                    file: StaticString = #fileID, line: UInt = #line) -> (NDArray) throws -> NDArray {
    let site = CallSite(file: file, line: line)
    return { x in try hessianFlat({ try f($0[0]) }, at: [x], chunkSize: chunkSize, site: site)[0][0] }
}

/// The Hessian of a function of a tree: row i (∂/∂ of the i-th leaf of the gradient) for each
/// leaf, each with the tree's structure: `result[i]` holds ∂²f/∂xᵢ∂xⱼ at leaf j.
public func hessian<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray, chunkSize: Int? = nil,
                                  file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> [T] {
    let site = CallSite(file: file, line: line)
    return { x in try hessianFlat({ try f(x.rebuilt(with: $0)) }, at: x.leaves, chunkSize: chunkSize, site: site).map(x.rebuilt(with:)) }
}

/// The Hessian with respect to the arguments `argnums` selects: one row per selected leaf, each
/// with the selection's structure.
public func hessian<A, B, Selected>(_ f: @escaping (A, B) throws -> NDArray, argnums s: Argnums2<A, B, Selected>,
                                    chunkSize: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> [Selected] {
    let site = CallSite(file: file, line: line)
    return { a, b in
        try hessianFlat({ leaves in
            let (a, b) = s.substituting(a, b, leaves)
            return try f(a, b)
        }, at: s.leaves(a, b), chunkSize: chunkSize, site: site).map { s.result(a, b, $0) }
    }
}

/// The Hessian with respect to the one array argument `argnums` selects:
/// `f(…).shape + x.shape + x.shape`.
public func hessian<A, B>(_ f: @escaping (A, B) throws -> NDArray, argnums s: Argnums2<A, B, NDArray>, chunkSize: Int? = nil,
                          file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> NDArray {
    let rows = hessian(f, argnums: s, chunkSize: chunkSize, file: file, line: line) as (A, B) throws -> [NDArray]
    return { try rows($0, $1)[0] }
}

/// The Hessian with respect to the arguments `argnums` selects of three: one row per selected
/// leaf, each with the selection's structure.
public func hessian<A, B, C, Selected>(_ f: @escaping (A, B, C) throws -> NDArray, argnums s: Argnums3<A, B, C, Selected>,
                                       chunkSize: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> (A, B, C) throws -> [Selected] {
    let site = CallSite(file: file, line: line)
    return { a, b, c in
        try hessianFlat({ leaves in
            let (a, b, c) = s.substituting(a, b, c, leaves)
            return try f(a, b, c)
        }, at: s.leaves(a, b, c), chunkSize: chunkSize, site: site).map { s.result(a, b, c, $0) }
    }
}

/// The Hessian with respect to the one array argument `argnums` selects of three.
public func hessian<A, B, C>(_ f: @escaping (A, B, C) throws -> NDArray, argnums s: Argnums3<A, B, C, NDArray>, chunkSize: Int? = nil,
                             file: StaticString = #fileID, line: UInt = #line) -> (A, B, C) throws -> NDArray {
    let rows = hessian(f, argnums: s, chunkSize: chunkSize, file: file, line: line) as (A, B, C) throws -> [NDArray]
    return { try rows($0, $1, $2)[0] }
}

/// The Hessian-vector product ∂²f/∂x² · v of a scalar function, without forming the Hessian.
public func hvp<T: ArrayTree>(_ f: @escaping (T) throws -> NDArray, at x: T, v: T,
                              file: StaticString = #fileID, line: UInt = #line) throws -> T {
    try jvp(grad(f, file: file, line: line), at: x, tangents: v, file: file, line: line).tangent
}
