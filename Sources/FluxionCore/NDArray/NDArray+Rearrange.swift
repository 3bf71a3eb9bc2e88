// Rearranging elements without arithmetic on them: flip, roll, the triangles (tril, triu),
// diagonals (diagonal, diag, diagEmbed, trace), tiling (repeat, tile, repeatInterleave),
// movedim and expandAs.
//
// Only flip is a primitive (strides are never negative, so a flip must copy). The rest are
// composites of views, concatenation, padding and selection, so every transform and every
// order of derivative comes from their parts:
//
// ```
// roll(x, s)          = concat(x[n−s ..< n], x[0 ..< n−s])        along each dim, s mod n
// tril(x, k)          = where(j − i ≤ k, x, 0)                     triu: j − i ≥ k
// diagonal(x, k)      = the L×L block at (max(0, −k), max(0, k)), flattened, every (L+1)-th
// diagEmbed(v, k)     = pad(where(I, v, 0)) by |k| rows and columns  I: the identity mask
// repeat(x, r)        = broadcast [1, n₀, 1, n₁, …] → [r₀, n₀, r₁, n₁, …], reshaped
// repeatInterleave    = broadcast […, n, 1, …] → […, n, r, …], reshaped
// ```
//
// Masks are constant bool arrays and `where` selects (rather than multiplying by 0 or 1), so an
// infinite or NaN element never leaks into positions it does not occupy, and the cotangent of
// a position that was dropped is exactly 0. Left out: `repeatInterleave` with per-element
// counts (its output shape depends on values, which a vmap cannot batch), and negative-stride
// views (NumPy's flip is a view; Fluxion's copies).

import FluxionKernels

extension NDArray {
    // MARK: - Flip

    /// The elements in reverse order along each of `dims` (`torch.flip`).
    ///
    /// ```
    /// y[…, i_d, …] = x[…, n_d − 1 − i_d, …]      for every d in dims
    /// ```
    ///
    /// Same shape and dtype; always a copy (NumPy's `flip` is a view with negative strides,
    /// which Fluxion's arrays do not have). Dimensions may be negative; naming one twice is an
    /// error, as in PyTorch. The derivative is the flip of the cotangent.
    public func flip(dims: [Int], file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let axes = dims.map { normalized($0, "flip", file: file, line: line) }
        guard Set(axes).count == axes.count else {
            fail("flip", "dimensions \(dims) name one dimension of shape \(describe(shape)) twice",
                 fix: "list each dimension once", file: file, line: line)
        }
        // Reversing a dimension of size 0 or 1 changes nothing.
        let moving = axes.filter { rank > 0 && shape[$0] > 1 }.sorted()
        if moving.isEmpty { return self }
        return bind(Flip(axes: moving), self)
    }

    /// The columns in reverse order: `flip(dims: [1])` (`torch.fliplr`); at least 2 dimensions.
    public func fliplr(file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard rank >= 2 else {
            fail("fliplr", "needs at least 2 dimensions, got shape \(describe(shape))",
                 fix: "use flip(dims: [0]) for a vector", file: file, line: line)
        }
        return flip(dims: [1], file: file, line: line)
    }

    /// The rows in reverse order: `flip(dims: [0])` (`torch.flipud`); at least 1 dimension.
    public func flipud(file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard rank >= 1 else {
            fail("flipud", "needs at least 1 dimension, got a 0-d array", fix: "flip a vector or a matrix", file: file, line: line)
        }
        return flip(dims: [0], file: file, line: line)
    }

    // MARK: - Roll

    /// The elements shifted cyclically by `shifts[i]` places along `dims[i]` (`torch.roll`):
    /// elements pushed off the end come back at the start. With no `dims`, the array is rolled
    /// as if flattened (one shift) and keeps its shape.
    ///
    /// ```
    /// y[…, (i + s) mod n, …] = x[…, i, …]
    /// ```
    ///
    /// Shifts may be negative or larger than the dimension. A composite of two slices and a
    /// concatenation per dimension, so its derivative is the roll by −s.
    public func roll(shifts: [Int], dims: [Int] = [], file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        if dims.isEmpty {
            guard shifts.count == 1 else {
                fail("roll", "\(shifts.count) shifts without dims; rolling the flattened array takes exactly one",
                     fix: "pass one shift, or one dimension per shift in dims", file: file, line: line)
            }
            return flatten(file: file, line: line).roll(shifts: shifts, dims: [0], file: file, line: line).reshape(shape)
        }
        guard shifts.count == dims.count else {
            fail("roll", "\(shifts.count) shifts for \(dims.count) dims \(dims)",
                 fix: "give one shift per dimension", file: file, line: line)
        }
        let axes = dims.map { normalized($0, "roll", file: file, line: line) }
        if rank == 0 { return self }
        var y = self
        for (shift, d) in zip(shifts, axes) {
            let n = shape[d]
            guard n > 0 else { continue }
            let s = (shift % n + n) % n
            if s == 0 { continue }
            y = concat([y.narrow(dim: d, start: n - s, length: s), y.narrow(dim: d, start: 0, length: n - s)], dim: d)
        }
        return y
    }

    /// The elements shifted cyclically by `shift` places along `dim`, or through the flattened
    /// array when `dim` is nil (`torch.roll` with one shift).
    public func roll(_ shift: Int, dim: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        roll(shifts: [shift], dims: dim.map { [$0] } ?? [], file: file, line: line)
    }

    // MARK: - Triangles

    /// The lower triangle of the matrices in the last two dimensions, zero above
    /// (`torch.tril`): element (i, j) is kept where j − i ≤ `diagonal`.
    ///
    /// `diagonal` 0 is the main diagonal, positive values reach above it, negative ones stop
    /// below it. Batched over leading dimensions; same shape and dtype. The cotangent of an
    /// element above the triangle is exactly 0.
    public func tril(diagonal: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        triangle("tril", diagonal, lower: true, file, line)
    }

    /// The upper triangle of the matrices in the last two dimensions, zero below
    /// (`torch.triu`): element (i, j) is kept where j − i ≥ `diagonal`.
    public func triu(diagonal: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        triangle("triu", diagonal, lower: false, file, line)
    }

    private func triangle(_ op: String, _ k: Int, lower: Bool, _ file: StaticString, _ line: UInt) -> NDArray {
        guard rank >= 2 else {
            fail(op, "needs a matrix or a batch of matrices (2 or more dimensions), got shape \(describe(shape))",
                 fix: "make the last two dimensions the matrix, e.g. x.unsqueeze(0)", file: file, line: line)
        }
        let (m, n) = (shape[rank - 2], shape[rank - 1])
        var keep: [Bool] = []
        keep.reserveCapacity(m * n)
        for i in 0..<m { for j in 0..<n { keep.append(lower ? j - i <= k : j - i >= k) } }
        return NDArray.where(NDArray(shape: [m, n], scalars: keep), self, NDArray.zeros([], dtype: dtype), file: file, line: line)
    }

    // MARK: - Diagonals

    /// The diagonal at `offset` of the matrices spanned by dimensions `dim1` (rows) and `dim2`
    /// (columns), as `torch.diagonal`: both dimensions are removed and the diagonal appended as
    /// the last one.
    ///
    /// ```
    /// y[…, i] = x[…, i, i + offset]      offset ≥ 0 (above the main diagonal)
    /// y[…, i] = x[…, i − offset, i]      offset < 0 (below)
    /// ```
    ///
    /// The diagonal's length is min(rows, columns − offset) for offset ≥ 0 and
    /// min(rows + offset, columns) below, or 0 when the offset leaves the matrix. Unlike
    /// PyTorch's (a view), it is a strided slice of the block holding the diagonal, copied when
    /// the dimensions are not adjacent and innermost. The cotangent goes to the diagonal; every
    /// other element gets exactly 0.
    public func diagonal(offset: Int = 0, dim1: Int = 0, dim2: Int = 1, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard rank >= 2 else {
            fail("diagonal", "needs at least 2 dimensions, got shape \(describe(shape))",
                 fix: "use diag() to build a matrix from a vector", file: file, line: line)
        }
        let (d1, d2) = (normalized(dim1, "diagonal", file: file, line: line), normalized(dim2, "diagonal", file: file, line: line))
        guard d1 != d2 else {
            fail("diagonal", "dim1 and dim2 both name dimension \(d1) of shape \(describe(shape))",
                 fix: "pick two different dimensions", file: file, line: line)
        }
        let rest = (0..<rank).filter { $0 != d1 && $0 != d2 }
        let (rows, columns) = (shape[d1], shape[d2])
        let (row, column) = offset >= 0 ? (0, offset) : (-offset, 0)
        let length = Swift.max(0, Swift.min(rows - row, columns - column))
        // The L×L block whose main diagonal is the one asked for, then every (L + 1)-th element
        // of its rows laid end to end.
        let block = permute(rest + [d1, d2], file: file, line: line)
            .narrow(dim: -2, start: Swift.min(row, rows), length: length)
            .narrow(dim: -1, start: Swift.min(column, columns), length: length)
        let flat = block.reshape(rest.map { shape[$0] } + [length * length])
        return flat[items: [.ellipsis, .range(start: 0, end: nil, step: length + 1)], file: file, line: line]
    }

    /// `torch.diag`: for a vector, the square matrix with the vector on diagonal `offset` and
    /// zeros elsewhere (size n + |offset|); for a matrix, its diagonal at `offset` as a vector.
    public func diag(offset: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        switch rank {
        case 1: return diagEmbed(offset: offset, dim1: 0, dim2: 1, file: file, line: line)
        case 2: return diagonal(offset: offset, dim1: 0, dim2: 1, file: file, line: line)
        default:
            fail("diag", "takes a vector (to build a matrix) or a matrix (to read a diagonal), got shape \(describe(shape))",
                 fix: "for batches use diagEmbed(offset:dim1:dim2:) or diagonal(offset:dim1:dim2:)", file: file, line: line)
        }
    }

    /// Matrices with the last dimension of this array on their diagonal at `offset`, zeros
    /// elsewhere (`torch.diag_embed`): the last dimension (size n) is replaced by two
    /// dimensions of size n + |offset|, placed at `dim1` (rows) and `dim2` (columns) of the
    /// result (negative values count from the end of the result).
    ///
    /// ```
    /// y[…, i, i + offset] = x[…, i]      (offset < 0: y[…, i − offset, i] = x[…, i])
    /// ```
    public func diagEmbed(offset: Int = 0, dim1: Int = -2, dim2: Int = -1,
                          file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard rank >= 1 else {
            fail("diagEmbed", "needs at least 1 dimension, got a 0-d array", fix: "unsqueeze it to a vector first", file: file, line: line)
        }
        let r = rank + 1
        func outer(_ d: Int) -> Int {
            guard d >= -r && d < r else {
                fail("diagEmbed", "dimension \(d) is out of range for the result's \(r) dimensions (valid: \(-r)...\(r - 1))",
                     fix: "pick dimensions of the result, which has one more dimension than the input", file: file, line: line)
            }
            return d < 0 ? d + r : d
        }
        let (d1, d2) = (outer(dim1), outer(dim2))
        guard d1 != d2 else {
            fail("diagEmbed", "dim1 and dim2 both name dimension \(d1) of the result",
                 fix: "pick two different dimensions", file: file, line: line)
        }
        let n = shape[rank - 1], k = Swift.abs(offset)
        // x[…, i] on the main diagonal of […, n, n], then |offset| rows and columns of zeros
        // that move it off the main diagonal.
        var y = NDArray.where(NDArray.eye(n, dtype: .bool), unsqueeze(-1), NDArray.zeros([], dtype: dtype), file: file, line: line)
        if k > 0 { y = y.pad(offset > 0 ? [(0, k), (k, 0)] : [(k, 0), (0, k)]) }
        // Rows to d1, columns to d2, the leading dimensions to the others in order.
        var permutation = [Int](repeating: 0, count: r)
        var next = 0
        for d in 0..<r {
            if d == d1 { permutation[d] = r - 2 } else if d == d2 { permutation[d] = r - 1 } else { permutation[d] = next; next += 1 }
        }
        return y.permute(permutation)
    }

    /// The sum of the main diagonal of a matrix, square or not (`torch.trace`); integer matrices
    /// give int64.
    public func trace(file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard rank == 2 else {
            fail("trace", "needs a matrix, got shape \(describe(shape))",
                 fix: "for a batch of matrices use x.diagonal(dim1: -2, dim2: -1).sum(dim: -1)", file: file, line: line)
        }
        return diagonal(file: file, line: line).sum()
    }

    // MARK: - Tiling

    /// This array tiled `repeats[d]` times along each dimension (`torch.Tensor.repeat`).
    /// With more counts than dimensions, the array first gets leading dimensions of size 1.
    ///
    /// ```
    /// y[i₀, i₁, …] = x[i₀ mod n₀, i₁ mod n₁, …]      y.shape[d] = repeats[d] · n_d
    /// ```
    ///
    /// Needs at least one count per dimension, as PyTorch (`tile` pads short counts with 1s).
    /// The derivative sums the cotangent over the copies.
    public func `repeat`(_ repeats: [Int], file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard repeats.count >= rank, repeats.allSatisfy({ $0 >= 0 }) else {
            fail("repeat", "counts \(repeats) do not fit shape \(describe(shape)) (one count of 0 or more per dimension, at least \(rank))",
                 fix: "give a non-negative count for every dimension, or use tile(_:), which pads the counts with 1s", file: file, line: line)
        }
        let sizes = [Int](repeating: 1, count: repeats.count - rank) + shape
        // [n₀, n₁, …] → [1, n₀, 1, n₁, …] → [r₀, n₀, r₁, n₁, …] → [r₀n₀, r₁n₁, …]
        let spread = reshape(sizes.flatMap { [1, $0] })
        let copies = spread.broadcast(to: zip(repeats, sizes).flatMap { [$0, $1] })
        return copies.reshape(zip(repeats, sizes).map { $0 * $1 })
    }

    /// This array tiled `reps[d]` times along each dimension (`torch.tile`, NumPy's `tile`):
    /// as `repeat`, except that fewer counts than dimensions are padded with leading 1s.
    public func tile(_ reps: [Int], file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        `repeat`([Int](repeating: 1, count: Swift.max(0, rank - reps.count)) + reps, file: file, line: line)
    }

    /// Each element repeated `repeats` times in a row along `dim` (`torch.repeat_interleave`
    /// with an integer count); of the flattened array when `dim` is nil.
    ///
    /// ```
    /// y[…, i, …] = x[…, ⌊i / repeats⌋, …]      y.shape[dim] = repeats · n
    /// ```
    public func repeatInterleave(_ repeats: Int, dim: Int? = nil, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard repeats >= 0 else {
            fail("repeatInterleave", "repeats \(repeats) must be 0 or more", fix: "pass a non-negative count", file: file, line: line)
        }
        guard let dim, rank > 0 else { return flatten(file: file, line: line).repeatInterleave(repeats, dim: 0, file: file, line: line) }
        let d = normalized(dim, "repeatInterleave", file: file, line: line)
        var copies = shape, result = shape
        copies.insert(repeats, at: d + 1)
        result[d] *= repeats
        return unsqueeze(d + 1).broadcast(to: copies).reshape(result)
    }

    // MARK: - Moving dimensions

    /// Dimension `source` moved to position `destination`, the others keeping their order
    /// (`torch.movedim`); a view.
    public func movedim(source: Int, destination: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let (s, d) = (normalized(source, "movedim", file: file, line: line), normalized(destination, "movedim", file: file, line: line))
        if rank == 0 { return self }
        var order = Array(0..<rank)
        order.remove(at: s)
        order.insert(s, at: d)
        return permute(order, file: file, line: line)
    }

    /// This array broadcast to `other`'s shape (`torch.Tensor.expand_as`); a view.
    public func expandAs(_ other: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        broadcast(to: other.shape, file: file, line: line)
    }
}
