// Sorting along a dimension: argsort, sort, topk, kthvalue and median.
//
// One primitive, `Argsort`, computes the permutation; every value returned here is this array
// gathered at it (`take_along_dim`), so derivatives are gather's: each sorted value's cotangent
// goes back to the element it came from, at every order, under every transform.
//
// ```
// indices = argsort(x)              x[indices] ascending along dim (descending on request)
// sort(x) = (gather(x, indices), indices)
// topk(x, k) = the first k of sort(x, descending: largest)
// kthvalue(x, k) = element k − 1 of sort(x)                      (k counts from 1)
// median(x, dim) = kthvalue(x, ⌊(n + 1)/2⌋, dim)                  (the lower median)
// ```
//
// The median of all elements shares its derivative evenly among the elements equal to it, as
// PyTorch's does (and as `max` does at a tie); along a dimension it goes to the one position
// returned, which at a tie may differ from PyTorch's choice.
//
// Order, as PyTorch sorts: NaN is larger than every number; equal elements keep their order,
// so ties resolve to the first occurrence (PyTorch leaves that unspecified unless `stable`).
// Derivatives at ties: the sorted values are continuous there, and the gradient goes to the
// element the permutation picked (PyTorch's convention too); central differences that cross a
// tie see the values swap places.

import FluxionKernels

extension NDArray {
    /// The int64 positions that sort this array along `dim` (`torch.argsort`): gathering at
    /// them along `dim` gives the sorted values. Same shape as this array.
    ///
    /// The sort is always stable (equal elements keep their order) and puts NaN last (first
    /// when `descending`); `stable` is accepted for PyTorch's signature. A 0-d array gives 0.
    public func argsort(dim: Int = -1, descending: Bool = false, stable: Bool = false,
                        file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let axis = normalized(dim, "argsort", file: file, line: line)
        if rank == 0 { return NDArray(Int64(0)) }
        return bind(Argsort(axis: axis, descending: descending), self)
    }

    /// The elements sorted along `dim` and the int64 positions they came from (`torch.sort`).
    ///
    /// ```
    /// values[…, i, …] = x[…, indices[…, i, …], …],   values ascending along dim
    /// ```
    ///
    /// Stable, NaN last (first when `descending`), as `argsort`. The derivative of `values`
    /// is that of a gather: each value's cotangent goes to the element it came from.
    public func sort(dim: Int = -1, descending: Bool = false, stable: Bool = false,
                     file: StaticString = #fileID, line: UInt = #line) -> (values: NDArray, indices: NDArray) {
        let indices = argsort(dim: dim, descending: descending, file: file, line: line)
        if rank == 0 { return (self, indices) }
        return (gather(dim: dim, index: indices, file: file, line: line), indices)
    }

    /// The `k` largest elements along `dim` (the smallest when `largest` is false) and their
    /// int64 positions (`torch.topk`): `dim` shrinks to size k.
    ///
    /// The values come in sorted order (descending for the largest) whatever `sorted` says —
    /// PyTorch leaves the order unspecified when it is false. Among equal values the first
    /// occurrences come first. Stops when k is negative or larger than the dimension.
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true,
                     file: StaticString = #fileID, line: UInt = #line) -> (values: NDArray, indices: NDArray) {
        let axis = normalized(dim, "topk", file: file, line: line)
        let n = rank == 0 ? 1 : shape[axis]
        guard k >= 0 && k <= n else {
            fail("topk", "k = \(k) is outside 0...\(n), the size of dimension \(axis) of shape \(describe(shape))",
                 fix: "choose k between 0 and \(n)", file: file, line: line)
        }
        if rank == 0 { return (self, NDArray(Int64(0))) }
        let indices = argsort(dim: axis, descending: largest).narrow(dim: axis, start: 0, length: k)
        return (gather(dim: axis, index: indices, file: file, line: line), indices)
    }

    /// The k-th smallest element along `dim` (k counts from 1) and its int64 position
    /// (`torch.kthvalue`); `dim` is removed unless `keepDim`.
    public func kthvalue(_ k: Int, dim: Int = -1, keepDim: Bool = false,
                         file: StaticString = #fileID, line: UInt = #line) -> (values: NDArray, indices: NDArray) {
        let axis = normalized(dim, "kthvalue", file: file, line: line)
        let n = rank == 0 ? 1 : shape[axis]
        guard k >= 1 && k <= n else {
            fail("kthvalue", "k = \(k) is outside 1...\(n), the size of dimension \(axis) of shape \(describe(shape))",
                 fix: "choose k between 1 and \(n) (k counts from 1)", file: file, line: line)
        }
        if rank == 0 { return (self, NDArray(Int64(0))) }
        let indices = argsort(dim: axis).narrow(dim: axis, start: k - 1, length: 1)
        let values = gather(dim: axis, index: indices, file: file, line: line)
        return keepDim ? (values, indices) : (values.squeeze(dim: axis), indices.squeeze(dim: axis))
    }

    /// The lower median of all elements, a 0-d array (`torch.median()`): of n elements the
    /// ⌊(n + 1)/2⌋-th smallest. Its derivative is shared evenly among the elements equal to it.
    public func median(file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard count > 0 else {
            fail("median", "the median of an empty array of shape \(describe(shape)) is undefined",
                 fix: "take the median of a non-empty array", file: file, line: line)
        }
        let m = stopGradient(reshape([-1]).kthvalue((count + 1) / 2, dim: 0, file: file, line: line).values)
        guard dtype.isFloatingPoint else { return m }
        // m in value; the mean of the elements equal to m in derivative.
        let ties = (self .== m).to(dtype)
        let shared = (self * ties).sum() / ties.sum()
        return m + (shared - stopGradient(shared))
    }

    /// The lower median along `dim` and its int64 position (`torch.median(dim:)`): the
    /// ⌊(n + 1)/2⌋-th smallest; `dim` is removed unless `keepDim`.
    public func median(dim: Int, keepDim: Bool = false, file: StaticString = #fileID,
                       line: UInt = #line) -> (values: NDArray, indices: NDArray) {
        let axis = normalized(dim, "median", file: file, line: line)
        return kthvalue(((rank == 0 ? 1 : shape[axis]) + 1) / 2, dim: axis, keepDim: keepDim, file: file, line: line)
    }
}
