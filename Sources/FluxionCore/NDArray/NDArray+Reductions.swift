// Reductions: sum, mean, prod, max, min over any set of dimensions (`keepDim` keeps them with
// size 1), argmax/argmin along one, cumulative sums, and the composites logSumExp, var, std
// and norm. Dimensions may be negative (counted from the end).
//
// Stability: logSumExp subtracts the maximum first (a row that is all −∞ gives −∞, not NaN,
// and one holding +∞ gives +∞); var uses the two-pass formula mean((x − mean)²) with Bessel's
// correction by default, as `torch.var`.

import FluxionKernels

extension NDArray {
    /// `dim` made non-negative, or a clear stop when it is out of range.
    func normalized(_ dim: Int, _ op: String, file: StaticString, line: UInt) -> Int {
        let r = Swift.max(rank, 1)
        guard dim >= -r && dim < r else {
            fail(op, "dimension \(dim) is out of range for an array of shape \(describe(shape)) (valid: \(-r)...\(r - 1))",
                 fix: "pick a dimension between \(-r) and \(r - 1)", file: file, line: line)
        }
        return dim < 0 ? dim + r : dim
    }

    /// Dimensions normalized, sorted and deduplicated; nil means all.
    func normalized(_ dims: [Int]?, _ op: String, file: StaticString, line: UInt) -> [Int] {
        guard let dims else { return Array(0..<rank) }
        if rank == 0 { return [] }
        return Array(Set(dims.map { normalized($0, op, file: file, line: line) })).sorted()
    }

    /// The result of a reduction over `axes`, reshaped to keep them if asked.
    func keeping(_ reduced: NDArray, _ axes: [Int], _ keepDim: Bool) -> NDArray {
        guard keepDim else { return reduced }
        var shape = self.shape
        for a in axes { shape[a] = 1 }
        return reduced.reshape(shape)
    }

    // MARK: - Sum, mean, product

    /// The sum over `dims` (all when nil). Integer and bool arrays sum to int64.
    public func sum(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let axes = normalized(dims, "sum", file: file, line: line)
        let x = dtype.isFloatingPoint ? self : to(.int64)
        return keeping(bind(ReduceSum(axes: axes), x), axes, keepDim)
    }

    /// The sum over `dim` (all elements when nil).
    public func sum(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        sum(dims: dim.map { [$0] }, keepDim: keepDim, file: file, line: line)
    }

    /// The mean over `dims` (all when nil); integer arrays give float32.
    public func mean(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let axes = normalized(dims, "mean", file: file, line: line)
        let n = axes.reduce(1) { $0 * shape[$1] }
        let x = dtype.isFloatingPoint ? self : to(.float32)
        return x.sum(dims: axes, keepDim: keepDim, file: file, line: line) / Double(n)
    }

    /// The mean over `dim` (all elements when nil).
    public func mean(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        mean(dims: dim.map { [$0] }, keepDim: keepDim, file: file, line: line)
    }

    /// The product over `dim` (all elements when nil).
    public func prod(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let axes = normalized(dim.map { [$0] }, "prod", file: file, line: line)
        let x = dtype.isFloatingPoint ? self : to(.int64)
        return keeping(bind(ReduceProd(axes: axes), x), axes, keepDim)
    }

    // MARK: - Extremes

    func extreme(_ largest: Bool, _ dims: [Int]?, _ keepDim: Bool, _ file: StaticString, _ line: UInt, named name: String? = nil) -> NDArray {
        let op = name ?? (largest ? "max" : "min")
        let axes = normalized(dims, op, file: file, line: line)
        for a in axes where shape[a] == 0 {
            fail(op, "cannot reduce the empty dimension \(a) of shape \(describe(shape))",
                 fix: "reduce a non-empty dimension", file: file, line: line)
        }
        let x = dtype == .bool ? to(.int64) : self
        let r = largest ? bind(ReduceMax(axes: axes), x) : bind(ReduceMin(axes: axes), x)
        return keeping(r, axes, keepDim).to(dtype)
    }

    /// The largest element over `dims` (all when nil).
    public func max(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        extreme(true, dims, keepDim, file, line)
    }

    /// The largest element over `dim` (all elements when nil).
    public func max(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        extreme(true, dim.map { [$0] }, keepDim, file, line)
    }

    /// The largest element over `dims` (all when nil), the derivative shared evenly at a tie
    /// (`torch.amax`; the same as `max(dims:)`).
    public func amax(dims: [Int]? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        extreme(true, dims, keepDim, file, line, named: "amax")
    }

    /// The smallest element over `dims` (all when nil), the derivative shared evenly at a tie
    /// (`torch.amin`; the same as `min(dims:)`).
    public func amin(dims: [Int]? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        extreme(false, dims, keepDim, file, line, named: "amin")
    }

    /// The smallest element over `dims` (all when nil).
    public func min(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        extreme(false, dims, keepDim, file, line)
    }

    /// The smallest element over `dim` (all elements when nil).
    public func min(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        extreme(false, dim.map { [$0] }, keepDim, file, line)
    }

    func argExtreme(_ largest: Bool, _ dim: Int?, _ keepDim: Bool, _ file: StaticString, _ line: UInt) -> NDArray {
        let op = largest ? "argmax" : "argmin"
        guard let dim else {
            guard count > 0 else { fail(op, "the array is empty", fix: "pass a non-empty array", file: file, line: line) }
            return reshape([-1]).argExtreme(largest, 0, false, file, line)
        }
        let axis = normalized(dim, op, file: file, line: line)
        if rank == 0 { return NDArray(Int64(0)) }
        guard shape[axis] > 0 else {
            fail(op, "dimension \(axis) of shape \(describe(shape)) is empty", fix: "reduce a non-empty dimension", file: file, line: line)
        }
        return keeping(bind(ArgExtreme(axis: axis, largest: largest), self), [axis], keepDim)
    }

    /// The int64 index of the largest element along `dim` (of the flattened array when nil);
    /// the first one on ties.
    public func argmax(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        argExtreme(true, dim, keepDim, file, line)
    }

    /// The int64 index of the smallest element along `dim` (of the flattened array when nil).
    public func argmin(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        argExtreme(false, dim, keepDim, file, line)
    }

    // MARK: - Cumulative sum

    /// Running sums along `dim`; integer and bool arrays give int64.
    public func cumsum(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        if rank == 0 { return self }
        let axis = normalized(dim, "cumsum", file: file, line: line)
        return bind(CumSum(axis: axis), dtype.isFloatingPoint ? self : to(.int64))
    }

    // MARK: - Masks

    /// Whether any element over `dim` (all elements when nil) is nonzero; false when empty.
    public func any(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        to(.bool).sum(dim: dim, keepDim: keepDim, file: file, line: line) .> 0
    }

    /// Whether every element over `dim` (all elements when nil) is nonzero; true when empty.
    public func all(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        (.!to(.bool)).sum(dim: dim, keepDim: keepDim, file: file, line: line) .== 0
    }

    // MARK: - Composites

    /// log Σ exp(x) over `dims`, computed stably.
    public func logSumExp(dims: [Int]?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let x = dtype.isFloatingPoint ? self : to(.float32)
        let axes = x.normalized(dims, "logSumExp", file: file, line: line)
        let kept = x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] }
        // An empty slice sums to 0, whose log is −∞ (its maximum is undefined).
        if axes.contains(where: { x.shape[$0] == 0 }) {
            let shape = keepDim ? x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] } : kept
            return NDArray.full(shape, -.infinity, dtype: x.dtype)
        }
        // A shift of ±∞ (a slice that is all −∞ or holds +∞) would give NaN; such slices shift
        // by 0 instead, as PyTorch does.
        let m = x.max(dims: axes, keepDim: true, file: file, line: line)
        let shift = NDArray.where(FluxionCore.abs(m) .== Double.infinity, NDArray.zerosLike(m), m)
        let s = FluxionCore.log(FluxionCore.exp(x - shift).sum(dims: axes, keepDim: true)) + shift
        return keepDim ? s : s.reshape(kept)
    }

    /// log Σ exp(x) over `dim` (all elements when nil).
    public func logSumExp(dim: Int? = nil, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        logSumExp(dims: dim.map { [$0] }, keepDim: keepDim, file: file, line: line)
    }

    /// The variance over `dims` with `correction` subtracted from the count (1: unbiased).
    public func variance(dims: [Int]?, correction: Int = 1, keepDim: Bool = false,
                         file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let x = dtype.isFloatingPoint ? self : to(.float32)
        let axes = x.normalized(dims, "var", file: file, line: line)
        let n = axes.reduce(1) { $0 * shape[$1] }
        let centered = x - x.mean(dims: axes, keepDim: true)
        return (centered * centered).sum(dims: axes, keepDim: keepDim) / Double(Swift.max(n - correction, 0))
    }

    /// The variance over `dim` (all elements when nil), unbiased by default as `torch.var`.
    public func `var`(dim: Int? = nil, correction: Int = 1, keepDim: Bool = false,
                      file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        variance(dims: dim.map { [$0] }, correction: correction, keepDim: keepDim, file: file, line: line)
    }

    /// The standard deviation over `dim` (all elements when nil), unbiased by default. Its
    /// derivative where every element is equal (σ = 0) is 0, as PyTorch's, not the NaN of
    /// differentiating √ at 0.
    public func std(dim: Int? = nil, correction: Int = 1, keepDim: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let v = variance(dims: dim.map { [$0] }, correction: correction, keepDim: keepDim, file: file, line: line)
        let nonzero = v .!= 0
        let root = FluxionCore.sqrt(NDArray.where(nonzero, v, NDArray.onesLike(v)))
        return NDArray.where(nonzero, root, NDArray.zerosLike(v))
    }

    /// The p-norm over `dims` (all when nil): (Σ |x|ᵖ)^(1/p); p = ∞ gives max |x|. Its
    /// gradient at the zero vector is 0.
    public func norm(p: Double = 2, dims: [Int]? = nil, keepDim: Bool = false,
                     file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let x = dtype.isFloatingPoint ? self : to(.float32)
        let dims = x.normalized(dims, "norm", file: file, line: line)
        if p == .infinity {
            if let empty = dims.first(where: { shape[$0] == 0 }) {
                fail("norm", "the ∞-norm of the empty dimension \(empty) of shape \(describe(shape)) is undefined (a maximum of nothing)",
                     fix: "use p: 2 or p: 1 (which are 0 there), or reduce a non-empty dimension", file: file, line: line)
            }
            return FluxionCore.abs(x).max(dims: dims, keepDim: keepDim, file: file, line: line)
        }
        if p == 1 { return FluxionCore.abs(x).sum(dims: dims, keepDim: keepDim, file: file, line: line) }
        // The root of a zero sum has an infinite derivative; taking it of 1 instead and then
        // selecting 0 keeps the gradient at the zero vector finite (0), as PyTorch's.
        let total = (p == 2 ? x * x : FluxionCore.pow(FluxionCore.abs(x), p)).sum(dims: dims, keepDim: keepDim, file: file, line: line)
        // NaN counts as nonzero, so that a NaN element gives a NaN norm.
        let nonzero = total .!= 0
        let safe = NDArray.where(nonzero, total, NDArray.onesLike(total))
        let root = p == 2 ? FluxionCore.sqrt(safe) : FluxionCore.pow(safe, 1 / p)
        return NDArray.where(nonzero, root, NDArray.zerosLike(total))
    }

    /// The p-norm over `dim` (all elements when nil).
    public func norm(p: Double = 2, dim: Int?, keepDim: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        norm(p: p, dims: dim.map { [$0] }, keepDim: keepDim, file: file, line: line)
    }
}
