// Making arrays: from Swift scalars, arrays and nested arrays, from literals, and the usual
// constant, range and identity constructors.
//
// Default dtypes follow PyTorch: Swift floating-point data becomes `float32` unless a dtype is
// given (pass `dtype: .float64` for double precision), integers become `int64`, booleans `bool`.

import FluxionKernels

extension NDArray {
    /// An array of `shape` holding `scalars` in row-major order.
    public init<T: Element>(shape: [Int], scalars: [T], dtype: DType? = nil,
                            file: StaticString = #fileID, line: UInt = #line) {
        checkShape(shape, "NDArray(shape:scalars:)", file: file, line: line)
        guard Shape.count(shape) == scalars.count else {
            fail("NDArray(shape:scalars:)", "shape \(describe(shape)) holds \(Shape.count(shape)) elements but \(scalars.count) were given",
                 fix: "pass as many scalars as the shape holds", file: file, line: line)
        }
        let base = StridedArray(contiguous: Storage.make(scalars), shape: shape)
        let target = dtype ?? NDArray.defaultDType(for: T.self)
        self.init(Conversion.convert(base, to: target))
    }

    /// The dtype Swift data of type `T` gets when none is given.
    static func defaultDType<T: Element>(for _: T.Type) -> DType {
        T.dtype == .float64 ? .float32 : T.dtype
    }

    /// A 0-d array.
    public init<T: Element>(_ scalar: T, dtype: DType? = nil) {
        self.init(shape: [], scalars: [scalar], dtype: dtype)
    }

    /// A 1-d array.
    public init<T: Element>(_ scalars: [T], dtype: DType? = nil) {
        self.init(shape: [scalars.count], scalars: scalars, dtype: dtype)
    }

    /// A 2-d array from rows of equal length.
    public init<T: Element>(_ rows: [[T]], dtype: DType? = nil, file: StaticString = #fileID, line: UInt = #line) {
        let width = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == width }) else {
            fail("NDArray(_:)", "rows have different lengths \(rows.map(\.count))",
                 fix: "make every row the same length", file: file, line: line)
        }
        self.init(shape: [rows.count, width], scalars: rows.flatMap { $0 }, dtype: dtype, file: file, line: line)
    }

    /// A 3-d array from matrices of equal shape.
    public init<T: Element>(_ planes: [[[T]]], dtype: DType? = nil, file: StaticString = #fileID, line: UInt = #line) {
        let parts = planes.map { NDArray($0, dtype: dtype, file: file, line: line) }
        guard let first = parts.first else {
            self.init(shape: [0, 0, 0], scalars: [T](), dtype: dtype)
            return
        }
        guard parts.allSatisfy({ $0.shape == first.shape }) else {
            fail("NDArray(_:)", "planes have different shapes \(parts.map { describe($0.shape) })",
                 fix: "make every plane the same shape", file: file, line: line)
        }
        self = stack(parts, dim: 0)
    }
}

// MARK: - Swift Int data (stored as int64)

extension NDArray {
    /// An array of `shape` holding Swift integers (int64 unless a dtype is given).
    public init(shape: [Int], scalars: [Int], dtype: DType? = nil, file: StaticString = #fileID, line: UInt = #line) {
        self.init(shape: shape, scalars: scalars.map { Int64($0) }, dtype: dtype, file: file, line: line)
    }

    /// A 0-d int64 array.
    public init(_ scalar: Int, dtype: DType? = nil) { self.init(Int64(scalar), dtype: dtype) }

    /// A 1-d int64 array.
    public init(_ scalars: [Int], dtype: DType? = nil) { self.init(scalars.map { Int64($0) }, dtype: dtype) }

    /// A 2-d int64 array.
    public init(_ rows: [[Int]], dtype: DType? = nil, file: StaticString = #fileID, line: UInt = #line) {
        self.init(rows.map { $0.map { Int64($0) } }, dtype: dtype, file: file, line: line)
    }

    /// A 3-d int64 array.
    public init(_ planes: [[[Int]]], dtype: DType? = nil, file: StaticString = #fileID, line: UInt = #line) {
        self.init(planes.map { $0.map { $0.map { Int64($0) } } }, dtype: dtype, file: file, line: line)
    }
}

// MARK: - Literals

/// An element of a nested array literal: a number, a boolean, or a list of elements.
public indirect enum NDArrayLiteral: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, Sendable {
    /// A floating-point number (makes the array float32 unless a dtype is given).
    case float(Double)
    /// An integer (an all-integer literal makes an int64 array).
    case int(Int64)
    /// A boolean (an all-boolean literal makes a bool array).
    case bool(Bool)
    /// A nested list: one more dimension; the lists of one level must have one length.
    case list([NDArrayLiteral])

    public init(floatLiteral value: Double) { self = .float(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: NDArrayLiteral...) { self = .list(elements) }

    /// The shape of a regular nesting, or nil when lists of one level differ in length.
    var shape: [Int]? {
        guard case .list(let items) = self else { return [] }
        guard let first = items.first?.shape else { return [0] }
        for item in items.dropFirst() where item.shape != first { return nil }
        return [items.count] + first
    }

    /// The leaves in row-major order.
    func leaves(into out: inout [NDArrayLiteral]) {
        if case .list(let items) = self { for item in items { item.leaves(into: &out) } } else { out.append(self) }
    }
}

extension NDArray: ExpressibleByArrayLiteral {
    /// A nested literal: `[[1, 2], [3, 4]]` is an int64 matrix, `[1, 2.5]` a float32 vector,
    /// `[true, false]` a bool vector (the dtype is the latest kind present).
    public init(arrayLiteral elements: NDArrayLiteral...) {
        self.init(literal: .list(elements))
    }

    /// The array a (nested) literal describes.
    public init(literal: NDArrayLiteral) {
        guard let shape = literal.shape else {
            fatalError("Fluxion: array literal: nested lists have different lengths. Fix: make every list at one level the same length")
        }
        var leaves: [NDArrayLiteral] = []
        literal.leaves(into: &leaves)
        if leaves.contains(where: { if case .float = $0 { true } else { false } }) {
            self.init(shape: shape, scalars: leaves.map { leaf -> Double in
                switch leaf {
                case .float(let v): v
                case .int(let v): Double(v)
                case .bool(let v): v ? 1 : 0
                case .list: 0
                }
            })
        } else if leaves.contains(where: { if case .int = $0 { true } else { false } }) || leaves.isEmpty {
            let values = leaves.map { leaf -> Int64 in
                if case .int(let v) = leaf { return v }
                if case .bool(let v) = leaf { return v ? 1 : 0 }
                return 0
            }
            self.init(shape: shape, scalars: values, dtype: leaves.isEmpty ? .float32 : .int64)
        } else {
            self.init(shape: shape, scalars: leaves.map { if case .bool(let v) = $0 { v } else { false } })
        }
    }
}

// MARK: - Constant, range and identity arrays

extension NDArray {
    /// An array of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32,
                            file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkShape(shape, "full", file: file, line: line)
        return NDArray(Copy.full(value, shape: shape, dtype: dtype))
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int], dtype: DType = .float32, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        full(shape, 0, dtype: dtype, file: file, line: line)
    }

    /// Ones of `shape`.
    public static func ones(_ shape: [Int], dtype: DType = .float32, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        full(shape, 1, dtype: dtype, file: file, line: line)
    }

    /// Zeros with the shape and dtype of `x`.
    public static func zerosLike(_ x: NDArray) -> NDArray { full(x.shape, 0, dtype: x.dtype) }

    /// Ones with the shape and dtype of `x`.
    public static func onesLike(_ x: NDArray) -> NDArray { full(x.shape, 1, dtype: x.dtype) }

    /// `value` with the shape and dtype of `x`.
    public static func fullLike(_ x: NDArray, _ value: Double) -> NDArray { full(x.shape, value, dtype: x.dtype) }

    /// `start, start + step, …` up to but excluding `end`: floating bounds give float32 unless
    /// a dtype is given, as `torch.arange(0.0, 3.0)` and `jnp.arange(3.0)` (integer bounds take the
    /// `Int` form, which gives int64).
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType? = nil,
                              file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        range(start, end, step: step, dtype: dtype ?? .float32, file: file, line: line)
    }

    /// `start, start + step, …` up to but excluding `end`, as int64 unless a dtype is given
    /// (`torch.arange(0, 3)`).
    public static func arange(_ start: Int = 0, _ end: Int, step: Int = 1, dtype: DType? = nil,
                              file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        range(Double(start), Double(end), step: Double(step), dtype: dtype ?? .int64, file: file, line: line)
    }

    private static func range(_ start: Double, _ end: Double, step: Double, dtype: DType,
                              file: StaticString, line: UInt) -> NDArray {
        guard step != 0 else {
            fail("arange", "step is 0", fix: "use a non-zero step", file: file, line: line)
        }
        let steps = ((end - start) / step).rounded(.up)
        guard steps.isFinite, steps < Double(Shape.maxCount) else {
            fail("arange", "the range from \(start) to \(end) in steps of \(step) has \(steps) elements, more than an array can hold",
                 fix: "use finite bounds and a larger step", file: file, line: line)
        }
        let count = Swift.max(0, Int(steps))
        let values = (0..<count).map { start + Double($0) * step }
        return NDArray(shape: [count], scalars: values, dtype: dtype)
    }

    /// `0, 1, …, end − 1`: float32 for a floating `end` (`jnp.arange(3.0)`), unless a dtype is
    /// given.
    public static func arange(_ end: Double, dtype: DType? = nil, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        arange(0, end, dtype: dtype, file: file, line: line)
    }

    /// `0, 1, …, end − 1` as int64 unless a dtype is given (`torch.arange(3)`).
    public static func arange(_ end: Int, dtype: DType? = nil, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        arange(0, end, dtype: dtype, file: file, line: line)
    }

    /// `count` evenly spaced values from `start` to `end` inclusive.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32,
                                file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkShape([count], "linspace", file: file, line: line)
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        let values = (0..<count).map { $0 == count - 1 && count > 1 ? end : start + Double($0) * step }
        return NDArray(shape: [count], scalars: values, dtype: dtype)
    }

    /// The `n×m` identity (ones on the main diagonal).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32,
                           file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        let m = m ?? n
        checkShape([n, m], "eye", file: file, line: line)
        return NDArray(Copy.identity(rows: n, columns: m, dtype: dtype))
    }
}
