// Running products, running log-sum-exps and differences along a dimension: cumprod,
// logcumsumexp (with its step, logaddexp) and diff, composites of slices, padding and
// elementwise functions (cumsum is a primitive, in NDArray+Reductions.swift).
//
// cumprod and logcumsumexp are Hillis–Steele scans: ⌈log₂ n⌉ steps, each combining the running
// values with themselves shifted 2ᵏ places (the operation's identity shifted in):
//
// ```
// y⁽⁰⁾ = x,   y⁽ᵏ⁺¹⁾[i] = y⁽ᵏ⁾[i] ⊕ y⁽ᵏ⁾[i − 2ᵏ]   (identity where i < 2ᵏ),   result = y⁽ᵏ⁾ once 2ᵏ ≥ n
// ⊕ = ·  (identity 1) for cumprod,   ⊕ = logaddexp (identity −∞) for logcumsumexp
// ```
//
// cumprod only multiplies, so derivatives of every order are exact where elements are 0; the
// shortcut y/x divides by them (PyTorch's cumprod gradient special-cases zeros for that
// reason). logaddexp(a, b) = hi + softplus(lo − hi) with hi, lo the larger and smaller of the
// pair: an identity for either choice, so choosing by comparison changes rounding only and
// every derivative is exact, ties included; a pair of equal infinities is handled apart
// (−∞ − −∞ would be NaN). The scans associate differently from a left-to-right loop, which
// changes rounding only; they cost O(n log n) operations instead of n.

import FluxionKernels

extension NDArray {
    /// Running products along `dim` (`torch.cumprod`); integer and bool arrays give int64.
    ///
    /// ```
    /// y[…, i, …] = Π_{j ≤ i} x[…, j, …]
    /// ```
    ///
    /// Exact derivatives of every order, also where elements are 0 (see the file's header).
    public func cumprod(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let axis = normalized(dim, "cumprod", file: file, line: line)
        return (dtype.isFloatingPoint ? self : to(.int64)).scan(axis: axis, identity: 1, *)
    }

    /// The inclusive scan of `combine` along `axis` (an associative operation whose identity
    /// is `identity`), in ⌈log₂ n⌉ steps of whole-array operations (Hillis and Steele): each
    /// step combines every element with the one `shift` places before it, the first `shift`
    /// with the identity. Built from differentiable operations, so every order of derivative
    /// follows.
    private func scan(axis: Int, identity: Double, _ combine: (NDArray, NDArray) -> NDArray) -> NDArray {
        var y = self
        if rank == 0 { return y }
        let n = shape[axis]
        var shift = 1
        while shift < n {
            // y shifted `shift` places along the axis, with the identity coming in at the start.
            let padding = [(shift, 0)] + [(Int, Int)](repeating: (0, 0), count: rank - axis - 1)
            y = combine(y, y.narrow(dim: axis, start: 0, length: n - shift).pad(padding, value: identity))
            shift *= 2
        }
        return y
    }

    /// log Σ_{j ≤ i} exp(x[j]) along `dim`, computed stably (`torch.logcumsumexp`); integer
    /// arrays give float32.
    ///
    /// ```
    /// y[…, i, …] = log Σ_{j ≤ i} exp(x[…, j, …])
    /// ```
    ///
    /// Never overflows or loses the small terms (each step is a `logaddexp`); −∞ elements
    /// contribute nothing, +∞ makes the rest +∞, NaN propagates.
    public func logcumsumexp(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let axis = normalized(dim, "logcumsumexp", file: file, line: line)
        return (dtype.isFloatingPoint ? self : to(.float32)).scan(axis: axis, identity: -.infinity, { FluxionCore.logaddexp($0, $1) })
    }

    /// The `n`-th forward difference along `dim` (`torch.diff` without prepend/append); the
    /// dimension shrinks by n (to no less than 0). Bool arrays give the exclusive or of
    /// neighbours, as PyTorch.
    ///
    /// ```
    /// y[…, i, …] = x[…, i + 1, …] − x[…, i, …]       applied n times
    /// ```
    public func diff(n: Int = 1, dim: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard rank >= 1, n >= 0 else {
            fail("diff", "needs at least 1 dimension and n ≥ 0, got shape \(describe(shape)) and n = \(n)",
                 fix: "difference a vector or higher, a non-negative number of times", file: file, line: line)
        }
        let axis = normalized(dim, "diff", file: file, line: line)
        var y = self
        for _ in 0..<n {
            let m = y.shape[axis]
            if m == 0 { break }
            let (next, previous) = (y.narrow(dim: axis, start: 1, length: m - 1), y.narrow(dim: axis, start: 0, length: m - 1))
            y = dtype == .bool ? next .!= previous : next - previous
        }
        return y
    }
}

/// log(exp(a) + exp(b)) elementwise with broadcasting, without overflow (`torch.logaddexp`);
/// integer operands give float32.
///
/// ```
/// logaddexp(a, b) = hi + softplus(lo − hi),   hi = max(a, b), lo = min(a, b)
/// ∂/∂a = σ(a − b),   ∂/∂b = σ(b − a)
/// ```
///
/// Exact derivatives of every order, ties included; logaddexp(−∞, −∞) = −∞ and
/// logaddexp(+∞, +∞) = +∞, as PyTorch.
public func logaddexp(_ a: NDArray, _ b: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard Shape.broadcast(a.shape, b.shape) != nil else {
        fail("logaddexp", "shapes \(describe(a.shape)) and \(describe(b.shape)) do not broadcast",
             fix: "make trailing dimensions equal or 1, e.g. with unsqueeze", file: file, line: line)
    }
    let dtype = DType.promoted(a.dtype, b.dtype).floatingOrDefault
    let (x, y) = (a.to(dtype), b.to(dtype))
    let first = x .>= y
    let (hi, lo) = (NDArray.where(first, x, y), NDArray.where(first, y, x))
    // With hi infinite, lo − hi is NaN (equal infinities) or −∞; either way the sum is hi, and
    // −∞ as the softplus argument gives that without a NaN in any derivative.
    let gap = NDArray.where(hi.isInf(), NDArray.full([], -.infinity, dtype: dtype), lo - hi)
    return hi + softplus(gap)
}
