// Elementwise selection: clamping to bounds (numbers or broadcast arrays), masked fill, and the
// masks that find NaN and infinite elements. Masked fill is `where`; clamping is its own
// primitive (`Clamp`, Binary.swift) because PyTorch's derivative at the bounds is not that of
// any composition of `maximum`, `minimum` and `where`: with number bounds an element at a
// bound gets no derivative, with array bounds the element and the bound share it.

import FluxionKernels

extension NDArray {
    // MARK: - Clamp

    /// Each element limited to [min, max] (`torch.clamp`); either bound may be omitted.
    ///
    /// ```
    /// clamp(x) = min(max(x, min), max)      ∂/∂x = 1 where min < x < max, else 0
    /// ```
    ///
    /// As PyTorch: with min > max every element becomes max; NaN stays NaN; an integer array
    /// with a fractional bound gives float32.
    public func clamp(min: Double? = nil, max: Double? = nil) -> NDArray {
        var x = self
        if !dtype.isFloatingPoint, [min, max].contains(where: { $0.map { $0 != $0.rounded() } ?? false }) { x = to(.float32) }
        let bounds = [min, max].compactMap { $0.map(x.scalarLike) }
        guard !bounds.isEmpty else { return self }
        return bind(Clamp(hasLower: min != nil, hasUpper: max != nil, numberBounds: true), [x] + bounds)[0]
    }

    /// Each element limited by bound arrays that broadcast with it (`torch.clamp` with tensor
    /// bounds); either may be omitted. The result has the broadcast shape and promoted dtype.
    ///
    /// ```
    /// ∂/∂x = 1 where min < x < max, ½ where x equals a bound;  ∂/∂min = 1 where x < min, ½ at the tie;
    /// ∂/∂max = 1 where x > max, ½ at the tie;  where min > max, max takes the whole derivative
    /// ```
    ///
    /// Each bound's gradient is summed over the elements it was broadcast to.
    public func clamp(min: NDArray? = nil, max: NDArray? = nil, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkBounds("clamp", [min, max], file, line)
        let given = [self, min, max].compactMap { $0 }
        guard given.count > 1 else { return self }
        let dtype = given.dropFirst().reduce(self.dtype) { DType.promoted($0, $1.dtype) }
        return bind(Clamp(hasLower: min != nil, hasUpper: max != nil, numberBounds: false), given.map { $0.to(dtype) })[0]
    }

    /// Each element raised to at least `min` (`torch.clamp_min`); derivative 1 where x > min.
    public func clampMin(_ min: Double) -> NDArray { clamp(min: min) }

    /// Each element raised to at least the broadcast `min` (`torch.clamp_min` with a tensor).
    public func clampMin(_ min: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        clamp(min: min, max: nil, file: file, line: line)
    }

    /// Each element lowered to at most `max` (`torch.clamp_max`); derivative 1 where x < max.
    public func clampMax(_ max: Double) -> NDArray { clamp(max: max) }

    /// Each element lowered to at most the broadcast `max` (`torch.clamp_max` with a tensor).
    public func clampMax(_ max: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        clamp(min: nil, max: max, file: file, line: line)
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
