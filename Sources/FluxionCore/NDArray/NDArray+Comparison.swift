// Closeness and the comparison operators that arrays do not have. Elementwise comparisons are
// spelled with a dot — `.<`, `.<=`, `.>`, `.>=`, `.==`, `.!=` — as for Swift's SIMD types, and
// give bool masks (NDArray+Elementwise.swift); the undotted operators, which Swift reserves
// for whole values, are declared unavailable with a message saying so, so that `x < y` stops
// the build with the fix instead of a `Comparable` error.

import FluxionKernels

extension NDArray {
    /// Where |a − b| ≤ atol + rtol·|b| elementwise, as a bool mask (`torch.isclose`): equal
    /// infinities are close, NaN is close to NaN only with `equalNaN`.
    public static func isClose(_ a: NDArray, _ b: NDArray, rtol: Double = 1e-5, atol: Double = 1e-8,
                               equalNaN: Bool = false) -> NDArray {
        let (x, y) = (a.dtype.isFloatingPoint ? a : a.to(.float64), b.dtype.isFloatingPoint ? b : b.to(.float64))
        var close = (x .== y) .| (FluxionCore.abs(x - y) .<= atol + rtol * FluxionCore.abs(y))
        if equalNaN { close = close .| (x.isNaN() .& y.isNaN()) }
        return close
    }

    /// Whether every element of `a` is close to `b`'s (`torch.allclose`); see `isClose`.
    public static func allClose(_ a: NDArray, _ b: NDArray, rtol: Double = 1e-5, atol: Double = 1e-8,
                                equalNaN: Bool = false) -> Bool {
        isClose(a, b, rtol: rtol, atol: atol, equalNaN: equalNaN).all().item() != 0
    }

    private static let elementwiseComparison =
        "arrays compare elementwise with .<, .<=, .>, .>= (bool masks, e.g. NDArray.where(a .< b, a, b)); use .all()/.any() for one answer"

    @available(*, unavailable, message: "arrays compare elementwise with .<, .<=, .>, .>= (bool masks, e.g. NDArray.where(a .< b, a, b)); use .all()/.any() for one answer")
    public static func < (a: NDArray, b: NDArray) -> Bool { fatalError(elementwiseComparison) }
    @available(*, unavailable, message: "arrays compare elementwise with .<, .<=, .>, .>= (bool masks, e.g. NDArray.where(a .< b, a, b)); use .all()/.any() for one answer")
    public static func <= (a: NDArray, b: NDArray) -> Bool { fatalError(elementwiseComparison) }
    @available(*, unavailable, message: "arrays compare elementwise with .<, .<=, .>, .>= (bool masks, e.g. NDArray.where(a .< b, a, b)); use .all()/.any() for one answer")
    public static func > (a: NDArray, b: NDArray) -> Bool { fatalError(elementwiseComparison) }
    @available(*, unavailable, message: "arrays compare elementwise with .<, .<=, .>, .>= (bool masks, e.g. NDArray.where(a .< b, a, b)); use .all()/.any() for one answer")
    public static func >= (a: NDArray, b: NDArray) -> Bool { fatalError(elementwiseComparison) }
    @available(*, unavailable, message: "an array compares elementwise with .<, .<=, .>, .>= (x .< 0.5 is a bool mask); use .all()/.any() or .item() for one answer")
    public static func < (a: NDArray, b: Double) -> Bool { fatalError(elementwiseComparison) }
    @available(*, unavailable, message: "an array compares elementwise with .<, .<=, .>, .>= (x .> 0.5 is a bool mask); use .all()/.any() or .item() for one answer")
    public static func > (a: NDArray, b: Double) -> Bool { fatalError(elementwiseComparison) }
    @available(*, unavailable, message: "arrays compare elementwise with .== and .!= (bool masks); NDArray.allClose(a, b) compares whole arrays")
    public static func == (a: NDArray, b: NDArray) -> Bool { fatalError(elementwiseComparison) }
}

// MARK: - Products

/// The dot product of the flattened arrays (`torch.vdot`, `jnp.vdot`; real arrays, so no
/// conjugate): Σᵢ aᵢ·bᵢ.
public func vdot(_ a: NDArray, _ b: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard a.count == b.count else {
        fail("vdot", "arrays of \(a.count) and \(b.count) elements (shapes \(describe(a.shape)) and \(describe(b.shape)))",
             fix: "pass arrays with the same number of elements", file: file, line: line)
    }
    return dot(a.reshape([-1]), b.reshape([-1]), file: file, line: line)
}

/// The tensor contraction of `a`'s last `dims` dimensions with `b`'s first `dims`
/// (`torch.tensordot(a, b, dims=n)`): shape `a.shape[..<(a.rank − n)] + b.shape[n...]`.
public func tensordot(_ a: NDArray, _ b: NDArray, dims: Int = 2, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard dims >= 0, dims <= a.rank, dims <= b.rank else {
        fail("tensordot", "cannot contract \(dims) dimensions of shapes \(describe(a.shape)) and \(describe(b.shape))",
             fix: "pass dims between 0 and the smaller rank", file: file, line: line)
    }
    return tensordot(a, b, axes: (Array((a.rank - dims)..<a.rank), Array(0..<dims)), file: file, line: line)
}

/// The tensor contraction of `a`'s dimensions `axes.0` with `b`'s `axes.1`, pairwise
/// (`torch.tensordot(a, b, dims=(axes_a, axes_b))`): the result has `a`'s other dimensions, then
/// `b`'s, in order.
public func tensordot(_ a: NDArray, _ b: NDArray, axes: ([Int], [Int]), file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let ra = axes.0.map { a.normalized($0, "tensordot", file: file, line: line) }
    let rb = axes.1.map { b.normalized($0, "tensordot", file: file, line: line) }
    guard ra.count == rb.count, Set(ra).count == ra.count, Set(rb).count == rb.count,
          zip(ra, rb).allSatisfy({ a.shape[$0] == b.shape[$1] }) else {
        fail("tensordot", "dimensions \(axes.0) of \(describe(a.shape)) and \(axes.1) of \(describe(b.shape)) do not pair up",
             fix: "list as many distinct dimensions of each, of equal sizes pairwise", file: file, line: line)
    }
    let keptA = (0..<a.rank).filter { !ra.contains($0) }, keptB = (0..<b.rank).filter { !rb.contains($0) }
    let k = Shape.count(ra.map { a.shape[$0] })
    let left = a.permute(keptA + ra).reshape([Shape.count(keptA.map { a.shape[$0] }), k])
    let right = b.permute(rb + keptB).reshape([k, Shape.count(keptB.map { b.shape[$0] })])
    return matmul(left, right, file: file, line: line).reshape(keptA.map { a.shape[$0] } + keptB.map { b.shape[$0] })
}
