// Elementwise functions of two points built from the primitives: linear interpolation (lerp)
// and the Euclidean length of a pair (hypot), written so that their values are exact where the
// naive formula rounds or overflows, while their derivatives stay those of the naive formula.
//
// ```
// lerp(a, b, w)  = a + w·(b − a)          for w < 0.5
//                = b − (b − a)·(1 − w)    for w ≥ 0.5     (PyTorch's split: w = 1 gives b exactly)
// hypot(a, b)    = m·√((a/m)² + (b/m)²),  m = max(|a|, |b|) held constant (no overflow in a²)
// ```
//
// Both branches of lerp are the same polynomial, so `where` between them changes rounding
// only. In hypot the scale m cancels exactly, so treating it as a constant (`stopGradient`)
// leaves the derivative a/hypot, b/hypot at every order. At a = b = 0 the root is taken of 1
// and 0 selected, as `norm` does, so the derivative there is 0 (PyTorch's is NaN).

import FluxionKernels

/// Stops, naming `op` and the shapes, unless `arrays` broadcast together.
func checkBroadcast(_ op: String, _ arrays: [NDArray], file: StaticString, line: UInt) {
    var shape: [Int]? = []
    for a in arrays { shape = shape.flatMap { Shape.broadcast($0, a.shape) } }
    if shape == nil {
        fail(op, "shapes \(arrays.map { describe($0.shape) }.joined(separator: ", ")) do not broadcast together",
             fix: "make trailing dimensions equal or 1, e.g. with unsqueeze", file: file, line: line)
    }
}

/// `start + weight·(end − start)` elementwise with broadcasting (`torch.lerp`), exactly `end`
/// at weight 1 (see the file's header).
public func lerp(_ start: NDArray, _ end: NDArray, weight: Double, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    checkBroadcast("lerp", [start, end], file: file, line: line)
    let delta = end - start
    return weight < 0.5 ? start + weight * delta : end - delta * (1 - weight)
}

/// `start + weight·(end − start)` elementwise with a broadcast weight array (`torch.lerp`).
///
/// ```
/// ∂/∂start = 1 − weight,   ∂/∂end = weight,   ∂/∂weight = end − start
/// ```
public func lerp(_ start: NDArray, _ end: NDArray, weight: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    checkBroadcast("lerp", [start, end, weight], file: file, line: line)
    let delta = end - start
    return NDArray.where(weight .< 0.5, start + weight * delta, end - delta * (1 - weight), file: file, line: line)
}

/// √(a² + b²) elementwise with broadcasting (`torch.hypot`), without overflow or underflow in
/// the squares; ∞ when either is infinite (even if the other is NaN), as C's `hypot`.
///
/// ```
/// ∂/∂a = a / hypot(a, b),   ∂/∂b = b / hypot(a, b)      (0 at a = b = 0)
/// ```
///
/// Integer operands give float32.
public func hypot(_ a: NDArray, _ b: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    checkBroadcast("hypot", [a, b], file: file, line: line)
    let dtype = DType.promoted(a.dtype, b.dtype).floatingOrDefault
    let (x, y) = (a.to(dtype), b.to(dtype))
    let infinite = x.isInf() .| y.isInf()
    let scale = stopGradient(maximum(abs(x), abs(y)))
    // A zero or infinite scale is replaced by 1 (the zero case is then exact; the infinite one
    // is selected away), so nothing divides by 0 or ∞.
    let safe = NDArray.where((scale .== 0) .| infinite, NDArray.onesLike(scale), scale)
    let (u, v) = (x / safe, y / safe)
    // √ has an infinite derivative at 0, which times the zero derivative of u² + v² there is NaN
    // in reverse mode: the root is taken of 1 instead and 0 selected (the derivative is then 0).
    let squares = u * u + v * v
    let zero = squares .== 0
    let r = NDArray.where(zero, NDArray.zerosLike(squares), safe * sqrt(NDArray.where(zero, NDArray.onesLike(squares), squares)))
    return NDArray.where(infinite, NDArray.full([], .infinity, dtype: dtype), r)
}

extension NDArray {
    /// `self + weight·(end − self)` (`torch.Tensor.lerp`).
    public func lerp(_ end: NDArray, weight: Double, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        FluxionCore.lerp(self, end, weight: weight, file: file, line: line)
    }

    /// `self + weight·(end − self)` with a weight array (`torch.Tensor.lerp`).
    public func lerp(_ end: NDArray, weight: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        FluxionCore.lerp(self, end, weight: weight, file: file, line: line)
    }

    /// √(self² + other²) (`torch.Tensor.hypot`).
    public func hypot(_ other: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        FluxionCore.hypot(self, other, file: file, line: line)
    }
}
