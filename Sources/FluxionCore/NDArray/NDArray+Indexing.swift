// Subscripts and integer indexing.
//
// `x[i, j]` takes integers (negative counts from the end), ranges of every Swift kind
// (`1..<3`, `2...`, `..<4`, `(-2)...`), strided ranges (`stride(from: 0, to: 6, by: 2)`),
// `.all`, `.newAxis` and `.ellipsis`, as NumPy basic indexing: integers remove their
// dimension, everything else keeps it, and the result is a view. Assigning through a subscript
// (`y[0..<2] = z`, with z broadcast to the region) gives `y` new storage and leaves every
// other array, including the one `y` was copied from, unchanged.
//
// `gather`, `indexSelect`, `scatterAdd` and `oneHot` index with int64 arrays.

import FluxionKernels

/// One entry of a subscript: an integer, a range with a step, `.newAxis` or `.ellipsis`.
public struct IndexItem: Sendable {
    enum Kind: Sendable {
        case at(Int)
        case range(start: Int?, end: Int?, step: Int)
        case newAxis
        case ellipsis
    }

    let kind: Kind

    /// The element at position `i` (negative counts from the end); removes the dimension.
    public static func at(_ i: Int) -> IndexItem { IndexItem(kind: .at(i)) }

    /// Elements `start, start + step, …` before `end` (nil bounds mean the whole dimension).
    public static func range(start: Int? = nil, end: Int? = nil, step: Int = 1) -> IndexItem {
        IndexItem(kind: .range(start: start, end: end, step: step))
    }

    /// Whether the item picks one position (and removes its dimension).
    public var isIndex: Bool {
        if case .at = kind { return true }
        return false
    }
}

/// Something usable in an array subscript.
public protocol ArrayIndex {
    var indexItem: IndexItem { get }
}

extension IndexItem: ArrayIndex { public var indexItem: IndexItem { self } }

extension Int: ArrayIndex { public var indexItem: IndexItem { .at(self) } }
extension Range<Int>: ArrayIndex { public var indexItem: IndexItem { .range(start: lowerBound, end: upperBound, step: 1) } }
extension ClosedRange<Int>: ArrayIndex {
    public var indexItem: IndexItem { .range(start: lowerBound, end: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension PartialRangeFrom<Int>: ArrayIndex { public var indexItem: IndexItem { .range(start: lowerBound, end: nil, step: 1) } }
extension PartialRangeUpTo<Int>: ArrayIndex { public var indexItem: IndexItem { .range(start: nil, end: upperBound, step: 1) } }
extension PartialRangeThrough<Int>: ArrayIndex {
    public var indexItem: IndexItem { .range(start: nil, end: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension StrideTo<Int>: ArrayIndex {
    public var indexItem: IndexItem {
        // StrideTo keeps its bounds private; recover them from its elements.
        let elements = Array(self)
        guard let first = elements.first else { return .range(start: 0, end: 0, step: 1) }
        let step = elements.count > 1 ? elements[1] - first : 1
        return .range(start: first, end: first + step * (elements.count - 1) + 1, step: step)
    }
}

extension ArrayIndex where Self == IndexItem {
    /// Every element of a dimension.
    public static var all: IndexItem { .range() }
    /// A new dimension of size 1.
    public static var newAxis: IndexItem { IndexItem(kind: .newAxis) }
    /// As many `.all` as the dimensions not otherwise indexed.
    public static var ellipsis: IndexItem { IndexItem(kind: .ellipsis) }
    /// Elements `start, start + step, …` before `end`: `x[.range(step: 2)]`.
    public static func range(start: Int? = nil, end: Int? = nil, step: Int = 1) -> IndexItem {
        IndexItem(kind: .range(start: start, end: end, step: step))
    }
}

/// A subscript resolved against a shape: the region it selects and the result's shape.
struct ResolvedIndex {
    var slice: Slice
    /// The shape of the result: the region without integer-indexed dimensions, with new axes.
    var resultShape: [Int]
}

extension NDArray {
    func resolve(_ items: [IndexItem], file: StaticString, line: UInt) -> ResolvedIndex {
        let consumed = items.filter { if case .newAxis = $0.kind { false } else if case .ellipsis = $0.kind { false } else { true } }.count
        guard consumed <= rank, items.filter({ if case .ellipsis = $0.kind { true } else { false } }).count <= 1 else {
            fail("subscript", "\(consumed) indices for an array of shape \(describe(shape))",
                 fix: "use at most one index per dimension and at most one .ellipsis", file: file, line: line)
        }
        let hasEllipsis = items.contains { if case .ellipsis = $0.kind { true } else { false } }
        let rest = [IndexItem](repeating: .all, count: rank - consumed)
        var expanded: [IndexItem] = []
        for item in items {
            if case .ellipsis = item.kind { expanded += rest } else { expanded.append(item) }
        }
        if !hasEllipsis { expanded += rest }
        var starts: [Int] = [], counts: [Int] = [], steps: [Int] = [], result: [Int] = []
        var d = 0
        for item in expanded {
            switch item.kind {
            case .newAxis:
                result.append(1)
            case .ellipsis:
                break
            case .at(let i):
                let n = shape[d]
                guard i >= -n && i < n else {
                    fail("subscript", "index \(i) is out of range for dimension \(d) of size \(n) (shape \(describe(shape)))",
                         fix: "use an index in \(-n)..<\(n)", file: file, line: line)
                }
                starts.append(i < 0 ? i + n : i); counts.append(1); steps.append(1)
                d += 1
            case .range(let start, let end, let step):
                let n = shape[d]
                guard step > 0 else {
                    fail("subscript", "step \(step) must be positive", fix: "use a positive step", file: file, line: line)
                }
                func clampBound(_ b: Int?, _ fallback: Int) -> Int {
                    guard let b else { return fallback }
                    return Swift.min(Swift.max(b < 0 ? b + n : b, 0), n)
                }
                let s = clampBound(start, 0), e = Swift.max(clampBound(end, n), s)
                let c = (e - s + step - 1) / step
                starts.append(c > 0 ? s : 0); counts.append(c); steps.append(step)
                result.append(c)
                d += 1
            }
        }
        return ResolvedIndex(slice: Slice(starts: starts, counts: counts, steps: steps), resultShape: result)
    }

    /// The elements selected by NumPy-style basic indexing (a view).
    public subscript(_ indices: any ArrayIndex..., file file: StaticString = #fileID, line line: UInt = #line) -> NDArray {
        get { self[indices.map(\.indexItem), file, line] }
        set { self[indices.map(\.indexItem), file, line] = newValue }
    }

    /// The elements selected by a list of index items (a view); setting replaces them.
    public subscript(items items: [IndexItem], file file: StaticString = #fileID, line line: UInt = #line) -> NDArray {
        get { self[items, file, line] }
        set { self[items, file, line] = newValue }
    }

    subscript(_ items: [IndexItem], _ file: StaticString, _ line: UInt) -> NDArray {
        get {
            let r = resolve(items, file: file, line: line)
            return bind(r.slice, self).reshape(r.resultShape)
        }
        set {
            let r = resolve(items, file: file, line: line)
            let regionShape = r.slice.counts
            let noNewAxes = r.resultShape
            let value = newValue.to(dtype)
            guard Shape.broadcast(value.shape, noNewAxes) == noNewAxes else {
                fail("subscript assignment", "a value of shape \(describe(value.shape)) cannot fill a region of shape \(describe(noNewAxes))",
                     fix: "assign a value that broadcasts to \(describe(noNewAxes))", file: file, line: line)
            }
            let fitted = value.broadcast(to: noNewAxes).reshape(regionShape)
            self = bind(UpdateSlice(slice: r.slice), self, fitted)
        }
    }
}

// MARK: - Integer-array indexing

extension NDArray {
    func checkIndex(_ index: NDArray, _ op: String, _ file: StaticString, _ line: UInt) {
        guard index.dtype == .int64 else {
            fail(op, "indices must be int64, got \(index.dtype)", fix: "convert them with .to(.int64)", file: file, line: line)
        }
    }

    /// The first element of this int64 array outside `range`, when its values can be read
    /// (not inside `vmap`, where the kernel that reads them checks instead).
    package func firstIndex(outside range: Range<Int>) -> Int? {
        guard isConcrete else { return nil }
        return ints.first { !range.contains($0) }
    }

    /// Stops when a concrete index lies outside `0..<size`.
    func checkIndexRange(_ index: NDArray, _ op: String, size: Int, dim: Int, _ file: StaticString, _ line: UInt) {
        guard let bad = index.firstIndex(outside: 0..<size) else { return }
        fail(op, "index \(bad) is out of range for dimension \(dim) of size \(size) (shape \(describe(shape)))",
             fix: "use indices in 0..<\(size)", file: file, line: line)
    }

    /// `out[i][j] = x[index[i][j]][j]` along `dim`, as `torch.gather`; `index` is int64 of the
    /// same rank, no larger than this array outside `dim`.
    public func gather(dim: Int, index: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkIndex(index, "gather", file, line)
        let d = normalized(dim, "gather", file: file, line: line)
        guard index.rank == rank, index.shape.indices.allSatisfy({ $0 == d || index.shape[$0] <= shape[$0] }) else {
            fail("gather", "index of shape \(describe(index.shape)) does not fit input \(describe(shape)) along dimension \(d)",
                 fix: "give the index the input's rank and sizes no larger than the input's outside dimension \(d)", file: file, line: line)
        }
        checkIndexRange(index, "gather", size: shape[d], dim: d, file, line)
        return bind(Gather(dim: d), self, index)
    }

    /// This array plus `source` scattered along `dim` at `index` (as `torch.scatter_add`).
    public func scatterAdd(dim: Int, index: NDArray, source: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkIndex(index, "scatterAdd", file, line)
        let d = normalized(dim, "scatterAdd", file: file, line: line)
        guard index.rank == rank, index.shape.indices.allSatisfy({ $0 == d || index.shape[$0] <= shape[$0] }),
              source.shape == index.shape || Shape.broadcast(source.shape, index.shape) == index.shape else {
            fail("scatterAdd", "index \(describe(index.shape)) and source \(describe(source.shape)) do not fit input \(describe(shape))",
                 fix: "give index the input's rank, sizes no larger than the input's outside dimension \(d), and a source of the index's shape",
                 file: file, line: line)
        }
        checkIndexRange(index, "scatterAdd", size: shape[d], dim: d, file, line)
        return self + bind(ScatterAdd(dim: d, shape: shape), index, source.to(dtype).broadcast(to: index.shape))
    }

    /// The slices along `dim` at the positions in the 1-d int64 `index`, as `torch.index_select`.
    public func indexSelect(dim: Int, index: NDArray, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkIndex(index, "indexSelect", file, line)
        guard index.rank <= 1 else {
            fail("indexSelect", "index must be 1-d, got shape \(describe(index.shape))", fix: "flatten the index", file: file, line: line)
        }
        let d = normalized(dim, "indexSelect", file: file, line: line)
        checkIndexRange(index, "indexSelect", size: shape[d], dim: d, file, line)
        return bind(IndexSelect(dim: d), self, index.reshape([-1]))
    }
}

/// One-hot rows: `out[..., k] = 1` where `indices[...] == k`, as `torch.nn.functional.one_hot`.
public func oneHot(_ indices: NDArray, numClasses: Int, dtype: DType = .int64,
                   file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    guard indices.dtype == .int64 else {
        fail("oneHot", "indices must be int64, got \(indices.dtype)", fix: "convert them with .to(.int64)", file: file, line: line)
    }
    checkShape(indices.shape + [numClasses], "oneHot", from: [indices.shape], file: file, line: line)
    // Concrete indices are checked, as PyTorch does; indices inside a vmap are not readable.
    if let bad = indices.firstIndex(outside: 0..<numClasses) {
        fail("oneHot", "class \(bad) is outside 0..<\(numClasses)", fix: "pass numClasses larger than every index", file: file, line: line)
    }
    return (indices.unsqueeze(-1) .== NDArray.arange(numClasses)).to(dtype)
}
