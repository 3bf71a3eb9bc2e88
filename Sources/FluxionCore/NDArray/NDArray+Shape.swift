// Changing shape: reshape, flatten, squeeze/unsqueeze, transpose/permute, expand/broadcast,
// and joining and splitting: concat, stack, split, chunk, pad. Views wherever the layout allows.

import FluxionKernels

extension NDArray {
    // MARK: - Reshape

    /// The elements in row-major order with a new shape; one dimension may be −1 (inferred).
    /// A view for contiguous arrays, a copy otherwise.
    public func reshape(_ newShape: [Int], file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        var shape = newShape
        let inferred = shape.indices.filter { shape[$0] == -1 }
        guard inferred.count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
            fail("reshape", "shape \(describe(newShape)) may have one −1 and otherwise sizes of 0 or more",
                 fix: "give every dimension but one its size", file: file, line: line)
        }
        checkShape(shape.map { Swift.max($0, 0) }, "reshape", file: file, line: line)
        if let i = inferred.first {
            let known = shape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else {
                fail("reshape", "cannot infer the −1 in \(describe(newShape)) for \(count) elements of shape \(describe(self.shape))",
                     fix: "choose sizes whose product divides \(count)", file: file, line: line)
            }
            shape[i] = count / known
        }
        guard Shape.count(shape) == count else {
            fail("reshape", "shape \(describe(self.shape)) (\(count) elements) cannot become \(describe(newShape)) (\(Shape.count(shape)) elements)",
                 fix: "choose a shape with \(count) elements, or use -1 for one dimension", file: file, line: line)
        }
        if shape == self.shape { return self }
        return bind(Reshape(shape: shape), self)
    }

    /// Dimensions `startDim...endDim` merged into one.
    public func flatten(startDim: Int = 0, endDim: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        if rank == 0 { return reshape([1]) }
        let s = normalized(startDim, "flatten", file: file, line: line), e = normalized(endDim, "flatten", file: file, line: line)
        guard s <= e else { return self }
        return reshape(Array(shape[..<s]) + [shape[s...e].reduce(1, *)] + Array(shape[(e + 1)...]))
    }

    /// Without size-1 dimensions (only `dim`, when given and of size 1).
    public func squeeze(dim: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard let dim else { return reshape(shape.filter { $0 != 1 }) }
        let d = normalized(dim, "squeeze", file: file, line: line)
        guard rank > 0, shape[d] == 1 else { return self }
        var s = shape
        s.remove(at: d)
        return reshape(s)
    }

    /// Without dimension `dim` if its size is 1, as PyTorch's `squeeze(dim)`.
    public func squeeze(_ dim: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        squeeze(dim: dim, file: file, line: line)
    }

    /// A new size-1 dimension at position `dim` (negative counts from the end of the result).
    public func unsqueeze(_ dim: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard dim >= -(rank + 1) && dim <= rank else {
            fail("unsqueeze", "position \(dim) is out of range for shape \(describe(shape)) (valid: \(-(rank + 1))...\(rank))",
                 fix: "pick a position between \(-(rank + 1)) and \(rank)", file: file, line: line)
        }
        var s = shape
        s.insert(1, at: dim < 0 ? dim + rank + 1 : dim)
        return reshape(s)
    }

    // MARK: - Transpose

    /// Dimensions reordered: dimension i of the result is dimension `dims[i]` of this array.
    public func permute(_ dims: [Int], file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let p = dims.map { normalized($0, "permute", file: file, line: line) }
        guard p.count == rank, Set(p).count == rank else {
            fail("permute", "\(dims) is not a permutation of the \(rank) dimensions of shape \(describe(shape))",
                 fix: "list every dimension exactly once", file: file, line: line)
        }
        if p == Array(0..<rank) { return self }
        return bind(Transpose(permutation: p), self)
    }

    /// Dimensions `dim0` and `dim1` swapped.
    public func transpose(_ dim0: Int, _ dim1: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard rank > 0 else { return self }
        var p = Array(0..<rank)
        p.swapAt(normalized(dim0, "transpose", file: file, line: line), normalized(dim1, "transpose", file: file, line: line))
        return permute(p)
    }

    /// All dimensions reversed (the matrix transpose for 2-d arrays).
    public var T: NDArray { permute(Array((0..<rank).reversed())) }

    /// The last two dimensions swapped (a batch of matrices transposed).
    public var mT: NDArray {
        guard rank >= 2 else {
            fail("mT", "needs at least 2 dimensions, got shape \(describe(shape))", fix: "use .T or unsqueeze first", file: #fileID, line: #line)
        }
        return transpose(-2, -1)
    }

    // MARK: - Broadcast

    /// This array read as `shape` under NumPy broadcasting (a view: no copy).
    public func broadcast(to shape: [Int], file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkShape(shape, "broadcast", from: [self.shape], file: file, line: line)
        guard Shape.broadcast(self.shape, shape) == shape else {
            fail("broadcast", "shape \(describe(self.shape)) cannot broadcast to \(describe(shape))",
                 fix: "each dimension must equal the target's or be 1, and the target may add leading dimensions", file: file, line: line)
        }
        if shape == self.shape { return self }
        return bind(BroadcastTo(shape: shape), self)
    }

    /// As `broadcast(to:)`, where −1 keeps a dimension's size (PyTorch's `expand`).
    public func expand(_ shape: [Int], file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let lead = shape.count - rank
        let target = shape.enumerated().map { i, s in s == -1 && i >= lead ? self.shape[i - lead] : s }
        return broadcast(to: target, file: file, line: line)
    }

    // MARK: - Pad

    /// `value` added around the trailing dimensions: `padding[i] = (before, after)` applies to
    /// dimension `rank − padding.count + i`.
    public func pad(_ padding: [(Int, Int)], value: Double = 0, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard padding.count <= rank, padding.allSatisfy({ $0.0 >= 0 && $0.1 >= 0 }) else {
            fail("pad", "padding \(padding) does not fit shape \(describe(shape)) (at most one non-negative pair per dimension)",
                 fix: "give one (before, after) pair of non-negative sizes for each trailing dimension", file: file, line: line)
        }
        let lead = [(Int, Int)](repeating: (0, 0), count: rank - padding.count)
        let all = lead + padding
        let padded = zip(shape, all).map { checkedSum(checkedSum($0, $1.0, "pad", file: file, line: line), $1.1, "pad", file: file, line: line) }
        checkShape(padded, "pad", from: [shape], file: file, line: line)
        return bind(Pad(before: all.map(\.0), after: all.map(\.1), value: value), self)
    }
}

// MARK: - Joining and splitting

/// The arrays joined along `dim`; they must agree in every other dimension.
public func concat(_ arrays: [NDArray], dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard let first = arrays.first else {
        fail("concat", "no arrays were given", fix: "pass at least one array", file: file, line: line)
    }
    let d = first.normalized(dim, "concat", file: file, line: line)
    let dtype = arrays.dropFirst().reduce(first.dtype) { DType.promoted($0, $1.dtype) }
    for a in arrays where a.rank != first.rank || a.shape.indices.contains(where: { $0 != d && a.shape[$0] != first.shape[$0] }) {
        fail("concat", "shapes \(arrays.map { describe($0.shape) }.joined(separator: ", ")) differ outside dimension \(d)",
             fix: "make every array's shape equal except along the joined dimension", file: file, line: line)
    }
    var joined = first.shape
    joined[d] = arrays.dropFirst().reduce(first.shape[d]) { checkedSum($0, $1.shape[d], "concat", file: file, line: line) }
    checkShape(joined, "concat", from: arrays.map(\.shape), file: file, line: line)
    if arrays.count == 1 { return first.to(dtype) }
    return bind(Concat(axis: d), arrays.map { $0.to(dtype) })[0]
}

/// The arrays (of one shape) stacked along a new dimension `dim`.
public func stack(_ arrays: [NDArray], dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard let first = arrays.first else {
        fail("stack", "no arrays were given", fix: "pass at least one array", file: file, line: line)
    }
    for a in arrays where a.shape != first.shape {
        fail("stack", "shapes \(arrays.map { describe($0.shape) }.joined(separator: ", ")) differ",
             fix: "stack arrays of one shape (use concat to join along an existing dimension)", file: file, line: line)
    }
    return concat(arrays.map { $0.unsqueeze(dim, file: file, line: line) }, dim: dim, file: file, line: line)
}

extension NDArray {
    /// Consecutive pieces along `dim` of the given sizes (which must add up to its size).
    public func split(sizes: [Int], dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> [NDArray] {
        let d = normalized(dim, "split", file: file, line: line)
        guard sizes.reduce(0, +) == shape[d], sizes.allSatisfy({ $0 >= 0 }) else {
            fail("split", "sizes \(sizes) do not add up to dimension \(d) of shape \(describe(shape))",
                 fix: "give sizes that sum to \(shape[d])", file: file, line: line)
        }
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return narrow(dim: d, start: start, length: size)
        }
    }

    /// Pieces of `size` along `dim` (the last may be smaller), as `torch.split` with an int.
    public func split(size: Int, dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> [NDArray] {
        guard size > 0 else { fail("split", "size \(size) must be positive", fix: "pass a positive size", file: file, line: line) }
        let d = normalized(dim, "split", file: file, line: line)
        let n = shape[d]
        let sizes = stride(from: 0, to: n, by: size).map { Swift.min(size, n - $0) }
        return split(sizes: sizes.isEmpty ? [0] : sizes, dim: d)
    }

    /// `chunks` pieces of near-equal size along `dim`, as `torch.chunk`.
    public func chunk(_ chunks: Int, dim: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> [NDArray] {
        guard chunks > 0 else { fail("chunk", "chunks \(chunks) must be positive", fix: "pass a positive count", file: file, line: line) }
        let d = normalized(dim, "chunk", file: file, line: line)
        return split(size: Swift.max(1, (shape[d] + chunks - 1) / chunks), dim: d)
    }

    /// `length` elements along `dim` from `start` (a view).
    public func narrow(dim: Int, start: Int, length: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let d = normalized(dim, "narrow", file: file, line: line)
        guard rank > 0, start >= 0, length >= 0, start + length <= shape[d] else {
            fail("narrow", "elements \(start)..<\(start + length) do not lie within dimension \(d) of shape \(describe(shape))",
                 fix: "choose a start and length within the dimension's size", file: file, line: line)
        }
        var starts = [Int](repeating: 0, count: rank), counts = shape
        starts[d] = start
        counts[d] = length
        return bind(Slice(starts: starts, counts: counts, steps: [Int](repeating: 1, count: rank)), self)
    }
}
