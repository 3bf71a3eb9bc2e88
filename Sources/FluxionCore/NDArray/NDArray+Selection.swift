// Elementwise selection: clamping to bounds (numbers or broadcast arrays), masked fill, and the
// masks that find NaN and infinite elements. All are composites of comparisons and `where`.
//
// Clamping is written with `where`, not with `maximum`/`minimum`, for its derivative at the
// bounds. PyTorch passes the gradient to x where lo ≤ x ≤ hi, bounds included (clamp(x, min: 0)
// at x = 0 has derivative 1), and gives a bound array the gradient only where that bound is the
// value selected (x strictly outside); `maximum` would split a tie in half.
//
// ```
// clamp(x, lo, hi) = where(y > hi, hi, y),   y = where(x < lo, lo, x)
// ∂/∂x  = 1 where lo ≤ x ≤ hi, else 0
// ∂/∂lo = 1 where x < lo ≤ hi, else 0
// ∂/∂hi = 1 where x > hi, or where lo > hi (every element is then hi), else 0
// ```
//
// This is PyTorch's rule, except for a NaN x (its gradient here is 1, PyTorch's 0; the value
// is NaN either way) and for lo = hi with x < lo (the gradient goes to lo here, to neither
// bound in PyTorch).

import FluxionKernels

extension NDArray {
    // MARK: - Clamp

    /// Each element limited to [min, max] (`torch.clamp`); either bound may be omitted.
    ///
    /// ```
    /// clamp(x) = min(max(x, min), max)      ∂/∂x = 1 where min ≤ x ≤ max (bounds included), else 0
    /// ```
    ///
    /// As PyTorch: with min > max every element becomes max; NaN stays NaN; an integer array
    /// with a fractional bound gives float32.
    public func clamp(min: Double? = nil, max: Double? = nil) -> NDArray {
        var y = self
        if let min { y = NDArray.where(y .< min, y.scalarLike(min), y) }
        if let max { y = NDArray.where(y .> max, y.scalarLike(max), y) }
        return y
    }

    /// Each element limited by bound arrays that broadcast with it (`torch.clamp` with tensor
    /// bounds); either may be omitted. The result has the broadcast shape and promoted dtype.
    ///
    /// ```
    /// ∂/∂x = 1 where min ≤ x ≤ max;  ∂/∂min = 1 where x < min ≤ max;  ∂/∂max = 1 where x > max or min > max
    /// ```
    ///
    /// Each bound's gradient is summed over the elements it was broadcast to.
    public func clamp(min: NDArray? = nil, max: NDArray? = nil, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkBounds("clamp", [min, max], file, line)
        var y = self
        if let min { y = NDArray.where(y .< min, min, y, file: file, line: line) }
        if let max { y = NDArray.where(y .> max, max, y, file: file, line: line) }
        return y
    }

    /// Each element raised to at least `min` (`torch.clamp_min`); derivative 1 where x ≥ min.
    public func clampMin(_ min: Double) -> NDArray { clamp(min: min) }

    /// Each element raised to at least the broadcast `min` (`torch.clamp_min` with a tensor).
    public func clampMin(_ min: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkBounds("clampMin", [min], file, line)
        return NDArray.where(self .< min, min, self, file: file, line: line)
    }

    /// Each element lowered to at most `max` (`torch.clamp_max`); derivative 1 where x ≤ max.
    public func clampMax(_ max: Double) -> NDArray { clamp(max: max) }

    /// Each element lowered to at most the broadcast `max` (`torch.clamp_max` with a tensor).
    public func clampMax(_ max: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkBounds("clampMax", [max], file, line)
        return NDArray.where(self .> max, max, self, file: file, line: line)
    }

    /// `clamp(min:max:)` (`torch.clip`, its alias).
    public func clip(min: Double? = nil, max: Double? = nil) -> NDArray { clamp(min: min, max: max) }

    /// `clamp(min:max:)` with bound arrays (`torch.clip`).
    public func clip(min: NDArray? = nil, max: NDArray? = nil, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        clamp(min: min, max: max, file: file, line: line)
    }

    private func checkBounds(_ op: String, _ bounds: [NDArray?], _ file: StaticString, _ line: UInt) {
        for bound in bounds.compactMap({ $0 }) where Shape.broadcast(shape, bound.shape) == nil {
            fail(op, "a bound of shape \(describe(bound.shape)) does not broadcast with the input's shape \(describe(shape))",
                 fix: "give the bound a shape that broadcasts with \(describe(shape)), e.g. one value per column as [1, n]",
                 file: file, line: line)
        }
    }

    // MARK: - Masked fill

    /// `value` where `mask` is true, this array elsewhere (`torch.Tensor.masked_fill`).
    ///
    /// `mask` is bool and broadcasts to this array's shape; the result has this array's shape
    /// and dtype. The cotangent of a filled element is exactly 0.
    public func maskedFill(_ mask: NDArray, value: Double, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkMask(mask, file, line)
        return NDArray.where(mask, NDArray.full([], value, dtype: dtype), self, file: file, line: line)
    }

    /// `value` (converted to this array's dtype, broadcast to its shape) where `mask` is true,
    /// this array elsewhere (`torch.Tensor.masked_fill` with a tensor value; PyTorch requires a
    /// 0-d value, Fluxion any that broadcasts). `value`'s gradient is the sum of the cotangent
    /// over the filled elements.
    public func maskedFill(_ mask: NDArray, value: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkMask(mask, file, line)
        guard Shape.broadcast(value.shape, shape) == shape else {
            fail("maskedFill", "a value of shape \(describe(value.shape)) cannot fill an array of shape \(describe(shape))",
                 fix: "pass a 0-d value, or one that broadcasts to \(describe(shape))", file: file, line: line)
        }
        return NDArray.where(mask, value.to(dtype), self, file: file, line: line)
    }

    private func checkMask(_ mask: NDArray, _ file: StaticString, _ line: UInt) {
        guard mask.dtype == .bool else {
            fail("maskedFill", "the mask must be bool, got \(mask.dtype)",
                 fix: "compare to make a mask (x .> 0), or convert one with .to(.bool)", file: file, line: line)
        }
        guard Shape.broadcast(mask.shape, shape) == shape else {
            fail("maskedFill", "a mask of shape \(describe(mask.shape)) does not broadcast to the array's shape \(describe(shape))",
                 fix: "give the mask a shape that broadcasts to \(describe(shape))", file: file, line: line)
        }
    }

    // MARK: - NaN and infinity masks

    /// True where an element is NaN (`torch.isnan`); false everywhere for integer and bool arrays.
    public func isNaN() -> NDArray { dtype.isFloatingPoint ? self .!= self : NDArray.full(shape, 0, dtype: .bool) }

    /// True where an element is +∞ or −∞ (`torch.isinf`).
    public func isInf() -> NDArray {
        dtype.isFloatingPoint ? FluxionCore.abs(self) .== Double.infinity : NDArray.full(shape, 0, dtype: .bool)
    }

    /// True where an element is neither NaN nor infinite (`torch.isfinite`).
    public func isFinite() -> NDArray { .!(isNaN() .| isInf()) }
}
