// Shared helpers: a tolerance check that reports where and by how much arrays differ, and the
// plain-Swift references the tests compare against (row-major index arithmetic, NumPy
// broadcasting, strided reads, a triple-loop matrix product). None of them call Fluxion, so a
// test never checks the library against itself.

import Foundation
import Testing
import Fluxion

/// The differentiable dtypes every numeric test runs in.
let floatDTypes: [DType] = [.float32, .float64]

/// Default tolerances: a few units in the last place of float32 or float64 results computed from
/// the same (already rounded) inputs as the reference; exact for integers and booleans.
func tolerances(for dtype: DType) -> (rtol: Double, atol: Double) {
    switch dtype {
    case .float32: (1e-5, 1e-6)
    case .float64: (1e-12, 1e-13)
    default: (0, 0)
    }
}

/// Expects `a` to hold `expected` in row-major order, elementwise within `atol + rtol·|expected|`
/// (NaN matches NaN, an infinity matches the same infinity). On failure it reports the number of
/// mismatches, the first one, and the largest absolute and relative errors with their positions.
/// Tolerances default to `tolerances(for: a.dtype)`; `label` names the case in a loop.
func expectClose(_ a: NDArray, _ expected: [Double], rtol: Double? = nil, atol: Double? = nil, label: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    let defaults = tolerances(for: a.dtype)
    expectClose(a.doubles, expected, shape: a.shape, rtol: rtol ?? defaults.rtol, atol: atol ?? defaults.atol,
                label: "\(a.dtype) array" + (label.map { " (\($0))" } ?? ""), sourceLocation: sourceLocation)
}

/// `expectClose` for values computed in Swift (for example a reconstruction L·Lᵀ); `shape` only
/// labels positions in the report.
func expectClose(_ actual: [Double], _ expected: [Double], shape: [Int]? = nil, rtol: Double, atol: Double,
                 label: String = "values", sourceLocation: SourceLocation = #_sourceLocation) {
    let shape = shape ?? [actual.count]
    guard actual.count == expected.count else {
        Issue.record("\(label) of shape \(shape) has \(actual.count) elements, expected \(expected.count)",
                     sourceLocation: sourceLocation)
        return
    }
    var mismatches = 0
    var first: Int?
    var worstAbsolute = (error: 0.0, index: 0), worstRelative = (error: 0.0, index: 0)
    for i in actual.indices {
        let x = actual[i], y = expected[i]
        let error: Double, relative: Double, ok: Bool
        if x.isNaN || y.isNaN || x.isInfinite || y.isInfinite {
            ok = (x.isNaN && y.isNaN) || x == y
            error = ok ? 0 : .infinity
            relative = error
        } else {
            error = Swift.abs(x - y)
            relative = y == 0 ? (error == 0 ? 0 : .infinity) : error / Swift.abs(y)
            ok = error <= atol + rtol * Swift.abs(y)
        }
        if error > worstAbsolute.error { worstAbsolute = (error, i) }
        if relative > worstRelative.error { worstRelative = (relative, i) }
        if !ok {
            mismatches += 1
            if first == nil { first = i }
        }
    }
    guard let first else { return }
    func at(_ i: Int) -> String { "\(multiIndex(i, shape)) (got \(actual[i]), expected \(expected[i]))" }
    Issue.record("""
        \(mismatches) of \(actual.count) elements of the \(label) of shape \(shape) are outside rtol \(rtol), atol \(atol); \
        first at \(at(first)); largest absolute error \(worstAbsolute.error) at \(at(worstAbsolute.index)); \
        largest relative error \(worstRelative.error) at \(at(worstRelative.index))
        """, sourceLocation: sourceLocation)
}

// MARK: - Test data

/// Deterministic pseudo-random values in `range` from a 64-bit linear congruential generator
/// (independent of Fluxion's own random numbers).
func testValues(_ count: Int, in range: ClosedRange<Double> = -2...2, seed: UInt64 = 1) -> [Double] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x2545_F491_4F6C_DD1D
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let unit = Double(state >> 11) * 0x1p-53
        return range.lowerBound + (range.upperBound - range.lowerBound) * unit
    }
}

/// `values` as an array of `dtype` holds them (float32 rounds), so a reference computed from
/// them starts from exactly the library's inputs.
func stored(_ values: [Double], _ dtype: DType) -> [Double] {
    dtype == .float32 ? values.map { Double(Float($0)) } : values
}

/// An array of `shape` and `dtype` holding `values` (which must already be representable).
func array(_ values: [Double], _ shape: [Int], _ dtype: DType) -> NDArray {
    NDArray(shape: shape, scalars: values, dtype: dtype)
}

// MARK: - Index arithmetic

func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for d in shape.indices.reversed() {
        strides[d] = s
        s *= shape[d]
    }
    return strides
}

/// The position of row-major element `flat` in an array of `shape`.
func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for d in shape.indices.reversed() where shape[d] > 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}

func flatIndex(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, rowMajorStrides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
}

/// The elements of a strided view of `data`, listed in row-major order of `shape`.
func stridedValues(_ data: [Double], shape: [Int], strides: [Int], offset: Int = 0) -> [Double] {
    (0..<elementCount(shape)).map { flat in
        data[offset + zip(multiIndex(flat, shape), strides).reduce(0) { $0 + $1.0 * $1.1 }]
    }
}

/// A row-major matrix transposed.
func transposed(_ data: [Double], rows: Int, cols: Int) -> [Double] {
    (0..<(rows * cols)).map { f in data[(f % rows) * cols + f / rows] }
}

// MARK: - Broadcasting, written out

/// NumPy's broadcast shape of `a` and `b`, or nil when they are incompatible.
func referenceBroadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: n - a.count) + a
    let pb = [Int](repeating: 1, count: n - b.count) + b
    var out: [Int] = []
    for (x, y) in zip(pa, pb) {
        if x == y { out.append(x) } else if x == 1 { out.append(y) } else if y == 1 { out.append(x) } else { return nil }
    }
    return out
}

/// `data` of shape `from` read at every position of the larger broadcast shape `to`.
func broadcastValues(_ data: [Double], from: [Int], to: [Int]) -> [Double] {
    let lead = to.count - from.count
    return (0..<elementCount(to)).map { flat in
        let index = multiIndex(flat, to)
        let source = from.indices.map { from[$0] == 1 ? 0 : index[lead + $0] }
        return data[flatIndex(source, from)]
    }
}

// MARK: - Matrix products, written out

/// C = A·B for row-major A [m×k] and B [k×n].
func naiveMatmul(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += a[i * k + p] * b[p * n + j] }
            c[i * n + j] = s
        }
    }
    return c
}

/// Σ aᵢ·bᵢ.
func dotProduct(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

/// PyTorch's `matmul` of row-major data: a 1-d left operand is a row, a 1-d right operand a
/// column (the added dimension dropped again), leading batch dimensions broadcast.
func referenceMatmul(_ a: [Double], _ aShape: [Int], _ b: [Double], _ bShape: [Int]) -> (shape: [Int], values: [Double]) {
    let sa = aShape.count == 1 ? [1] + aShape : aShape
    let sb = bShape.count == 1 ? bShape + [1] : bShape
    let m = sa[sa.count - 2], k = sa[sa.count - 1], n = sb[sb.count - 1]
    precondition(k == sb[sb.count - 2])
    let batch = referenceBroadcast(Array(sa.dropLast(2)), Array(sb.dropLast(2)))!
    let ab = broadcastValues(a, from: sa, to: batch + [m, k])
    let bb = broadcastValues(b, from: sb, to: batch + [k, n])
    var values: [Double] = []
    for t in 0..<elementCount(batch) {
        values += naiveMatmul(Array(ab[(t * m * k)..<((t + 1) * m * k)]), Array(bb[(t * k * n)..<((t + 1) * k * n)]), m: m, k: k, n: n)
    }
    var shape = batch
    if aShape.count > 1 { shape.append(m) }
    if bShape.count > 1 { shape.append(n) }
    return (shape, values)
}

// MARK: - Layouts

/// A [3, 4] array of `dtype` made four ways — contiguous, as a transpose, as a strided slice and
/// as a broadcast vector — with the values each holds in row-major order. `pool` needs at least
/// 24 values, already representable in `dtype`.
func layouts(_ pool: [Double], _ dtype: DType) -> [(name: String, array: NDArray, values: [Double])] {
    let contiguous = array(Array(pool[0..<12]), [3, 4], dtype)
    let transposed = array(Array(pool[0..<12]), [4, 3], dtype).T
    let strided = array(Array(pool[0..<24]), [3, 8], dtype)[.all, stride(from: 1, to: 8, by: 2)]
    let broadcast = array(Array(pool[0..<4]), [4], dtype).expand([3, 4])
    return [
        ("contiguous", contiguous, Array(pool[0..<12])),
        ("transposed", transposed, stridedValues(pool, shape: [3, 4], strides: [1, 3])),
        ("strided slice", strided, stridedValues(pool, shape: [3, 4], strides: [8, 2], offset: 1)),
        ("broadcast", broadcast, stridedValues(pool, shape: [3, 4], strides: [0, 1])),
    ]
}
