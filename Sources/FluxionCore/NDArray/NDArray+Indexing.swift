// Subscripts and integer indexing.
//
// `x[i, j]` takes integers (negative counts from the end), ranges of every Swift kind
// (`1..<3`, `2...`, `..<4`, `(-2)...`), strided ranges (`stride(from: 0, to: 6, by: 2)`),
// `.all`, `.newAxis` and `.ellipsis`, as NumPy basic indexing: integers remove their
// dimension, everything else keeps it, and the result is a view. Assigning through a subscript
// (`y[0..<2] = z`, with z broadcast to the region) gives `y` new storage and leaves every
// other array, including the one `y` was copied from, unchanged.
//
// `x[index]` with an array is NumPy's advanced indexing and gives a copy: an int64 array picks
// positions along the first dimension, a bool mask of the leading dimensions picks the elements
// where it is true. Assigning through it (`y[mask] = z`) is a functional update too: a select
// between the old values and the new ones, so that the overwritten elements get no derivative
// and the assigned values get the derivative of their positions.
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
    /// What this value selects along one dimension.
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

// MARK: - Advanced indexing with an array

extension NDArray {
    /// The elements an int64 or bool array selects (a copy, as NumPy's and PyTorch's advanced
    /// indexing):
    ///
    /// - int64 `index`: the slices `self[index[...]]` along the first dimension, negative
    ///   positions counting from the end; the result's shape is `index.shape + shape[1...]`.
    /// - bool `index` (a mask of the first `k` dimensions' shape): the elements, or slices,
    ///   where the mask is true, in row-major order; the result's shape is
    ///   `[trueCount] + shape[k...]`. The count depends on the mask's values, so the mask must
    ///   be concrete (not a value `vmap` or another transform traces).
    ///
    /// Setting replaces the selected elements with `newValue` broadcast to the selection's
    /// shape (a value that broadcasts to one selected slice fills them all); the result has new
    /// storage. An int64 index must not repeat a position when it is set.
    public subscript(_ index: NDArray, file file: StaticString = #fileID, line line: UInt = #line) -> NDArray {
        get {
            if index.dtype == .bool {
                let (rows, positions) = maskedRows(index, file, line)
                return rows.indexSelect(dim: 0, index: positions, file: file, line: line)
            }
            let positions = indexPositions(index, "subscript", file, line)
            return indexSelect(dim: 0, index: positions.reshape([-1]), file: file, line: line)
                .reshape(index.shape + shape.dropFirst(), file: file, line: line)
        }
        set {
            let value = newValue.to(dtype)
            if index.dtype == .bool {
                checkLeadingMask(index, file, line)
                let rest = Array(shape[index.rank...])
                if Shape.broadcast(value.shape, rest) == rest {
                    // One value for every selected slice: a select, which needs no positions.
                    let mask = index.reshape(index.shape + rest.map { _ in 1 })
                    self = NDArray.where(mask, value.broadcast(to: rest), self, file: file, line: line)
                    return
                }
                var (rows, positions) = maskedRows(index, file, line)
                rows.put(positions, value.broadcast(to: [positions.count] + rest, file: file, line: line), file, line)
                self = rows.reshape(shape, file: file, line: line)
                return
            }
            let positions = indexPositions(index, "subscript assignment", file, line)
            put(positions.reshape([-1]), value.broadcast(to: index.shape + shape.dropFirst(), file: file, line: line), file, line)
        }
    }

    /// Stops unless `mask` is a bool array of this array's leading dimensions' shape.
    private func checkLeadingMask(_ mask: NDArray, _ file: StaticString, _ line: UInt) {
        guard mask.rank <= rank, Array(shape.prefix(mask.rank)) == mask.shape else {
            fail("subscript", "a mask of shape \(describe(mask.shape)) does not match the leading dimensions of an array of shape \(describe(shape))",
                 fix: "index with a mask of shape \(describe(Array(shape.prefix(Swift.max(mask.rank, 1))))), or use maskedFill or NDArray.where for a mask that broadcasts",
                 file: file, line: line)
        }
    }

    /// This array with the mask's dimensions flattened into one, and the int64 positions of
    /// the mask's true elements along it.
    private func maskedRows(_ mask: NDArray, _ file: StaticString, _ line: UInt) -> (NDArray, NDArray) {
        checkLeadingMask(mask, file, line)
        guard mask.isConcrete else {
            fail("subscript", "a bool mask that a transform traces selects a number of elements that depends on its values",
                 fix: "use NDArray.where(mask, x, y) or maskedFill, which keep the shape", file: file, line: line)
        }
        let positions = mask.bools.enumerated().compactMap { $1 ? $0 : nil }
        let rows = reshape([Shape.count(mask.shape)] + shape[mask.rank...], file: file, line: line)
        return (rows, NDArray(positions))
    }

    /// The int64 `index` with negative positions counted from the end of the first dimension,
    /// after checking its dtype and range.
    private func indexPositions(_ index: NDArray, _ op: String, _ file: StaticString, _ line: UInt) -> NDArray {
        guard index.dtype == .int64 else {
            fail(op, "an array index must be int64 (positions) or bool (a mask), got \(index.dtype)",
                 fix: "convert it with .to(.int64), or compare to make a mask (x .> 0)", file: file, line: line)
        }
        guard rank > 0 else {
            fail(op, "a 0-d array cannot be indexed with an array", fix: "index an array of at least one dimension", file: file, line: line)
        }
        let n = shape[0]
        if let bad = index.firstIndex(outside: -n..<n) {
            fail(op, "index \(bad) is out of range for dimension 0 of size \(n) (shape \(describe(shape)))",
                 fix: "use indices in \(-n)..<\(n)", file: file, line: line)
        }
        guard index.isConcrete else { return index }
        return NDArray(shape: index.shape, scalars: index.ints.map { $0 < 0 ? $0 + n : $0 })
    }

    /// Replaces the slices at `positions` (1-d int64, in range) along the first dimension with
    /// the slices of `value` (of shape `[positions.count] + shape[1...]`).
    private mutating func put(_ positions: NDArray, _ value: NDArray, _ file: StaticString, _ line: UInt) {
        let rows = positions.count
        let slices = value.reshape([rows] + shape.dropFirst(), file: file, line: line)
        if positions.isConcrete, Set(positions.ints).count < rows {
            fail("subscript assignment", "an index that repeats a position assigns it more than once",
                 fix: "use positions without repeats, or add at repeated positions with scatterAdd", file: file, line: line)
        }
        // Which slices are replaced, and the new slices placed at their positions.
        let hit = bind(IndexAdd(dim: 0, shape: [shape[0]]), positions, NDArray.ones([rows], dtype: dtype.floatingOrDefault)) .> 0
        let placed = bind(IndexAdd(dim: 0, shape: shape), positions, slices)
        self = NDArray.where(hit.reshape([shape[0]] + shape.dropFirst().map { _ in 1 }), placed, self, file: file, line: line)
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
