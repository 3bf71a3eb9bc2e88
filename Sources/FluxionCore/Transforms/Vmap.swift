// vmap: a function of one example applied to a batch, by the batch interpreter rather than a
// loop. `inAxes` gives each argument's mapped axis (nil: shared by every example, e.g. model
// parameters), `outAxes` where the batch axis goes in the result. `chunkSize` runs the batch in
// pieces to bound memory; results do not depend on it (random draws included).
//
// `vmap(f)(x)` equals stacking `f` applied to each slice of x along its mapped axis, for any
// axis position, unmapped inputs, and batch size 0.

import FluxionKernels

/// The flat core: `f` over `inputs` mapped along `inAxes`; output k is batched along
/// `outAxis(k)`, or (nil) returned as it is, which it must be for every example alike.
func vmapFlat(_ f: ([NDArray]) throws -> [NDArray], _ inputs: [NDArray], inAxes: [Int?], outAxis: (Int) -> Int?,
              chunkSize: Int?, randomness: Randomness, fallback: BatchFallback, site: CallSite) throws -> [NDArray] {
    if let chunkSize, chunkSize < 1 {
        throw TransformError.invalidChunkSize(transform: "vmap", chunkSize: chunkSize, file: site.file, line: site.line)
    }
    var axes: [Int?] = []
    var sizes: [Int] = []
    for (x, axis) in zip(inputs, inAxes) {
        guard let axis else { axes.append(nil); continue }
        let a = axis < 0 ? axis + x.rank : axis
        guard a >= 0 && a < x.rank else {
            throw TransformError.axisOutOfRange(axis: axis, shape: x.shape, file: site.file, line: site.line)
        }
        axes.append(a)
        sizes.append(x.shape[a])
    }
    guard let total = sizes.first else { throw TransformError.nothingMapped(file: site.file, line: site.line) }
    guard sizes.allSatisfy({ $0 == total }) else {
        throw TransformError.mappedSizesDiffer(sizes: sizes, file: site.file, line: site.line)
    }
    let chunk = max(1, min(chunkSize ?? total, total))
    var pieces: [[NDArray]] = []
    var positions: [Int?] = []
    for start in stride(from: 0, to: max(total, 1), by: chunk) {
        let size = min(chunk, total - start)
        let slices = zip(inputs, axes).map { x, a in a.map { x.narrow(dim: $0, start: start, length: size) } ?? x }
        pieces.append(try withNewInterpreter({ BatchInterpreter(level: $0, size: size, randomness: randomness, fallback: fallback,
                                                   site: site, offset: start, total: total) }) { interpreter in
            let lifted = zip(slices, axes).map { x, a in a.map { interpreter.lift(x, axis: $0) } ?? x }
            return try f(lifted).enumerated().map { k, y in
                guard let axis = outAxis(k) else {
                    if positions.count <= k { positions.append(nil) }
                    return interpreter.unbatchedValue(y)
                }
                let rank = y.rank + 1
                let a = axis < 0 ? axis + rank : axis
                guard a >= 0 && a < rank else {
                    throw TransformError.axisOutOfRange(axis: axis, shape: y.shape, file: site.file, line: site.line)
                }
                if Shape.checkedExtent([total] + y.shape) == nil {
                    throw TransformError.resultTooLarge(transform: "vmap", shape: [total] + y.shape, file: site.file, line: site.line)
                }
                if positions.count <= k { positions.append(a) }
                return interpreter.unbatch(y, to: a)
            }
        })
    }
    guard pieces.count > 1 else { return pieces[0] }
    return pieces[0].indices.map { k in
        guard let a = positions[k] else { return pieces[0][k] }
        return concat(pieces.map { $0[k] }, dim: a)
    }
}

/// `vmapFlat` with every output batched along `outAxis`.
func vmapFlat(_ f: ([NDArray]) throws -> [NDArray], _ inputs: [NDArray], inAxes: [Int?], outAxis: Int,
              chunkSize: Int?, randomness: Randomness, fallback: BatchFallback, site: CallSite) throws -> [NDArray] {
    try vmapFlat(f, inputs, inAxes: inAxes, outAxis: { _ in outAxis }, chunkSize: chunkSize,
                 randomness: randomness, fallback: fallback, site: site)
}

/// `f` mapped over the first axis (or `inAxes`) of its argument.
public func vmap<A: ArrayTree, R: ArrayTree>(
    _ f: @escaping (A) throws -> R, inAxes: Int? = 0, outAxes: Int = 0, chunkSize: Int? = nil,
    randomness: Randomness = .error, fallback: BatchFallback = .loop,
    file: StaticString = #fileID, line: UInt = #line
) -> (A) throws -> R {
    let site = CallSite(file: file, line: line)
    return { a in
        let flat = Flattened(f, at: a)
        let leaves = flat.inputLeaves
        return flat.outputTree(try vmapFlat(flat.callAsFunction, leaves, inAxes: leaves.map { _ in inAxes }, outAxis: outAxes,
                                            chunkSize: chunkSize, randomness: randomness, fallback: fallback, site: site))
    }
}

/// `f` of two arguments mapped along `inAxes` (nil: the argument is shared by every example).
public func vmap<A: ArrayTree, B: ArrayTree, R: ArrayTree>(
    _ f: @escaping (A, B) throws -> R, inAxes: (Int?, Int?) = (0, 0), outAxes: Int = 0, chunkSize: Int? = nil,
    randomness: Randomness = .error, fallback: BatchFallback = .loop,
    file: StaticString = #fileID, line: UInt = #line
) -> (A, B) throws -> R {
    let site = CallSite(file: file, line: line)
    return { a, b in
        let flat = Flattened({ (p: TreePair<A, B>) in try f(p.first, p.second) }, at: TreePair(first: a, second: b))
        let axes = a.leaves.map { _ in inAxes.0 } + b.leaves.map { _ in inAxes.1 }
        return flat.outputTree(try vmapFlat(flat.callAsFunction, flat.inputLeaves, inAxes: axes, outAxis: outAxes,
                                            chunkSize: chunkSize, randomness: randomness, fallback: fallback, site: site))
    }
}

/// `f` of three arguments mapped along `inAxes`: per-sample gradients are
/// `vmap(grad(loss), inAxes: (nil, 0, 0))(parameters, inputs, targets)`.
public func vmap<A: ArrayTree, B: ArrayTree, C: ArrayTree, R: ArrayTree>(
    _ f: @escaping (A, B, C) throws -> R, inAxes: (Int?, Int?, Int?) = (0, 0, 0), outAxes: Int = 0, chunkSize: Int? = nil,
    randomness: Randomness = .error, fallback: BatchFallback = .loop,
    file: StaticString = #fileID, line: UInt = #line
) -> (A, B, C) throws -> R {
    let site = CallSite(file: file, line: line)
    return { a, b, c in
        let flat = Flattened({ (p: TreePair<A, TreePair<B, C>>) in try f(p.first, p.second.first, p.second.second) },
                             at: TreePair(first: a, second: TreePair(first: b, second: c)))
        let axes = a.leaves.map { _ in inAxes.0 } + b.leaves.map { _ in inAxes.1 } + c.leaves.map { _ in inAxes.2 }
        return flat.outputTree(try vmapFlat(flat.callAsFunction, flat.inputLeaves, inAxes: axes, outAxis: outAxes,
                                            chunkSize: chunkSize, randomness: randomness, fallback: fallback, site: site))
    }
}
