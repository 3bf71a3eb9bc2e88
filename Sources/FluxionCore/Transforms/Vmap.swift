// vmap: a function of one example applied to a batch, by the batch interpreter rather than a
// loop. `inAxes` gives each argument's mapped axis (nil: shared by every example, e.g. model
// parameters), `outAxes` where the batch axis goes in the result. `chunkSize` runs the batch in
// pieces to bound memory; results do not depend on it (random draws included).
//
// `vmap(f)(x)` equals stacking `f` applied to each slice of x along its mapped axis, for any
// axis position, unmapped inputs, and batch size 0.

import FluxionKernels

/// The flat core: `f` over `inputs` mapped along `inAxes`, outputs batched along `outAxis`.
func vmapFlat(_ f: ([NDArray]) throws -> [NDArray], _ inputs: [NDArray], inAxes: [Int?], outAxis: Int,
              chunkSize: Int?, randomness: Randomness, fallback: BatchFallback, site: CallSite) throws -> [NDArray] {
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
    for start in stride(from: 0, to: max(total, 1), by: chunk) {
        let size = min(chunk, total - start)
        let slices = zip(inputs, axes).map { x, a in a.map { x.narrow(dim: $0, start: start, length: size) } ?? x }
        pieces.append(try withNewTrace({ BatchTrace(level: $0, size: size, randomness: randomness, fallback: fallback,
                                                   site: site, offset: start, total: total) }) { trace in
            let lifted = zip(slices, axes).map { x, a in a.map { trace.lift(x, axis: $0) } ?? x }
            return try f(lifted).map { y in
                let rank = y.rank + 1
                let a = outAxis < 0 ? outAxis + rank : outAxis
                guard a >= 0 && a < rank else {
                    throw TransformError.axisOutOfRange(axis: outAxis, shape: y.shape, file: site.file, line: site.line)
                }
                if Shape.checkedExtent([total] + y.shape) == nil {
                    throw TransformError.resultTooLarge(transform: "vmap", shape: [total] + y.shape, file: site.file, line: site.line)
                }
                return trace.unbatch(y, to: a)
            }
        })
    }
    guard pieces.count > 1 else { return pieces[0] }
    return pieces[0].indices.map { k in
        let y = pieces[0][k]
        let a = outAxis < 0 ? outAxis + y.rank : outAxis
        return concat(pieces.map { $0[k] }, dim: a)
    }
}

/// `f` mapped over the first axis (or `inAxes`) of its argument.
public func vmap<A: ArrayTree, R: ArrayTree>(
    _ f: @escaping (A) throws -> R, inAxes: Int? = 0, outAxes: Int = 0, chunkSize: Int? = nil,
    randomness: Randomness = .error, fallback: BatchFallback = .loop,
    file: StaticString = #fileID, line: UInt = #line
) -> (A) throws -> R {
    let site = CallSite(file: file, line: line)
    return { a in
        var shape: R?
        let leaves = a.leaves
        let out = try vmapFlat({ xs in
            let r = try f(a.rebuilt(with: xs))
            shape = r
            return r.leaves
        }, leaves, inAxes: leaves.map { _ in inAxes }, outAxis: outAxes, chunkSize: chunkSize,
           randomness: randomness, fallback: fallback, site: site)
        return shape!.rebuilt(with: out)
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
        var shape: R?
        let (la, lb) = (a.leaves, b.leaves)
        let axes = la.map { _ in inAxes.0 } + lb.map { _ in inAxes.1 }
        let out = try vmapFlat({ xs in
            let r = try f(a.rebuilt(with: Array(xs[..<la.count])), b.rebuilt(with: Array(xs[la.count...])))
            shape = r
            return r.leaves
        }, la + lb, inAxes: axes, outAxis: outAxes, chunkSize: chunkSize, randomness: randomness, fallback: fallback, site: site)
        return shape!.rebuilt(with: out)
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
        var shape: R?
        let (la, lb, lc) = (a.leaves, b.leaves, c.leaves)
        let axes = la.map { _ in inAxes.0 } + lb.map { _ in inAxes.1 } + lc.map { _ in inAxes.2 }
        let out = try vmapFlat({ xs in
            let r = try f(a.rebuilt(with: Array(xs[..<la.count])),
                          b.rebuilt(with: Array(xs[la.count..<(la.count + lb.count)])),
                          c.rebuilt(with: Array(xs[(la.count + lb.count)...])))
            shape = r
            return r.leaves
        }, la + lb + lc, inAxes: axes, outAxis: outAxes, chunkSize: chunkSize, randomness: randomness, fallback: fallback, site: site)
        return shape!.rebuilt(with: out)
    }
}
