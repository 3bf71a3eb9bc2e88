// Helpers for the transform tests: seeded random data, central differences in float64, the
// adjoint identity ⟨u, J v⟩ = ⟨Jᵀu, v⟩, and `vmap` against the loop that defines it.
//
// Every check compares a transform with an independent computation: finite differences of the
// plain function, a loop over slices, or the other mode of differentiation. Helpers forward
// `sourceLocation`, so a failure points at the test that called them.
//
// Tolerances: central differences with step ε in float64 are accurate to about
// ε²·|f'''| (truncation) + 1e-16·|f|/ε (rounding); with ε = 1e-6 that is well inside rtol 1e-6,
// atol 1e-8 for the smooth, well-scaled functions of the primitive table. Comparisons between
// two derivative computations of the same quantity (forward against reverse, batched against
// looped) differ only by rounding and use `exactTolerance`.

import Foundation
import Testing
import Fluxion

// MARK: - Tolerances and case counts

/// Step and tolerances for a comparison against central differences.
struct DerivativeTolerance: Sendable {
    var eps: Double = 1e-6
    var rtol: Double = 1e-6
    var atol: Double = 1e-8
    /// Relative tolerance between two derivative computations of one quantity (forward against
    /// reverse): rounding only, at the precision of the computation.
    var exact: Double = 1e-9
}

/// Two computations of one quantity that differ only in rounding order (forward against reverse
/// mode, a batched kernel against a loop of small ones).
let exactTolerance = (rtol: 1e-9, atol: 1e-11)

/// How many random cases each property test draws per primitive: `FLUXION_PROPERTY_CASES`
/// (default 3: with the rows that cycle an axis per draw, every axis of a rank-3 array).
let propertyCases: Int = {
    if let text = ProcessInfo.processInfo.environment["FLUXION_PROPERTY_CASES"], let n = Int(text), n > 0 { return n }
    return 3
}()

// MARK: - Seeded random data

/// Test data from Fluxion's counter-based generator and a fixed seed: every run draws the same
/// cases. (Drawing data is not what these tests check; the array-level random tests do that.)
struct CaseRandom: Sendable {
    private var key: RandomKey
    /// Which draw of a property test this stream belongs to, for choices that should cycle
    /// deterministically (an axis per draw) rather than be left to chance.
    var draw = 0

    init(seed: UInt64, draw: Int = 0) {
        key = RandomKey(seed: seed)
        self.draw = draw
    }

    /// Cycles through 0..<count with the draw, starting at 0.
    func cycling(_ count: Int) -> Int { draw % count }

    /// A seed that depends on a name and a number only (Swift's `hashValue` changes per run).
    static func seed(_ name: String, _ draw: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h ^ (UInt64(draw) &* 0x9E37_79B9_7F4A_7C15)
    }

    mutating func nextKey() -> RandomKey {
        let (next, use) = key.split()
        key = next
        return use
    }

    mutating func doubles(_ n: Int, in range: ClosedRange<Double>) -> [Double] {
        guard n > 0 else { return [] }
        return NDArray.uniform([n], low: range.lowerBound, high: range.upperBound, key: nextKey(), dtype: .float64).doubles
    }

    mutating func double(in range: ClosedRange<Double>) -> Double { doubles(1, in: range)[0] }

    mutating func int(in range: ClosedRange<Int>) -> Int {
        let n = range.count
        return range.lowerBound + Swift.min(Int(double(in: 0...1) * Double(n)), n - 1)
    }

    mutating func bool() -> Bool { double(in: 0...1) < 0.5 }

    mutating func element<T>(_ choices: [T]) -> T { choices[int(in: 0...(choices.count - 1))] }

    mutating func shuffled<T>(_ items: [T]) -> [T] {
        var items = items
        for i in items.indices.reversed() where i > 0 { items.swapAt(i, int(in: 0...i)) }
        return items
    }

    /// A shape of rank in `ranks`: dimensions 1–4 (1–3 from rank 3 on), so arrays stay small.
    mutating func shape(ranks: ClosedRange<Int>) -> [Int] {
        let rank = int(in: ranks)
        return (0..<rank).map { _ in int(in: 1...(rank >= 3 ? 3 : 4)) }
    }

    /// `count` shapes that broadcast together: suffixes of one full shape (rank 0–3) with some
    /// dimensions replaced by 1.
    mutating func broadcastShapes(_ count: Int) -> [[Int]] {
        let full = shape(ranks: 0...3)
        return (0..<count).map { _ in
            let kept = int(in: 0...full.count)
            return full.suffix(kept).map { bool() && bool() ? 1 : $0 }
        }
    }

    /// Float64 values of `shape` in `range`.
    mutating func array(_ shape: [Int], in range: ClosedRange<Double>) -> NDArray {
        float64(doubles(shape.reduce(1, *), in: range), shape)
    }

    /// Float64 values of `shape` whose magnitudes lie in `magnitude`, signs random.
    mutating func array(_ shape: [Int], awayFromZero magnitude: ClosedRange<Double>) -> NDArray {
        let n = shape.reduce(1, *)
        let m = doubles(n, in: magnitude), s = doubles(n, in: 0...1)
        return float64(zip(m, s).map { $1 < 0.5 ? -$0 : $0 }, shape)
    }

    /// Float64 values of `shape` on the grid `offset + 0.3·k` (|k| ≤ 6) plus noise below 0.02:
    /// values from grids with offsets 0 and 0.15 differ by at least 0.11, so comparisons and
    /// extremes between them stay put under finite-difference steps.
    mutating func gridArray(_ shape: [Int], offset: Double) -> NDArray {
        let n = shape.reduce(1, *)
        let k = (0..<n).map { _ in Double(int(in: -6...6)) }, noise = doubles(n, in: -0.02...0.02)
        return float64(zip(k, noise).map { offset + 0.3 * $0 + $1 }, shape)
    }

    /// Float64 values of `shape`, all distinct by at least 0.1 (a shuffled grid plus noise).
    mutating func distinctArray(_ shape: [Int]) -> NDArray {
        let n = shape.reduce(1, *)
        let noise = doubles(n, in: -0.05...0.05)
        let values = shuffled((0..<n).map { 0.2 * Double($0) - 0.1 * Double(n) }).enumerated().map { $1 + noise[$0] }
        return float64(values, shape)
    }

    /// Values of `shape` at distance at least 0.1 from every integer and half-integer, so that
    /// floor, ceil and round are locally constant.
    mutating func awayFromRounding(_ shape: [Int]) -> NDArray {
        let n = shape.reduce(1, *)
        let whole = (0..<n).map { _ in Double(int(in: -3...2)) }
        let frac = doubles(n, in: 0.1...0.4), upper = doubles(n, in: 0...1)
        return float64((0..<n).map { whole[$0] + (upper[$0] < 0.5 ? frac[$0] : frac[$0] + 0.5) }, shape)
    }

    /// Int64 indices of `shape`, each in 0..<bound.
    mutating func indices(_ shape: [Int], below bound: Int) -> NDArray {
        let n = shape.reduce(1, *)
        return NDArray(shape: shape, scalars: (0..<n).map { _ in int(in: 0...(bound - 1)) })
    }
}

// MARK: - Small array utilities

/// A float64 array of `shape` holding `values`.
func float64(_ values: [Double], _ shape: [Int]) -> NDArray {
    NDArray(shape: shape, scalars: values, dtype: .float64)
}

/// Σ aᵢbᵢ over two arrays' elements (broadcasting is not applied: the shapes must agree).
func inner(_ a: NDArray, _ b: NDArray) -> Double {
    precondition(a.shape == b.shape, "inner: shapes \(a.shape) and \(b.shape) differ")
    return dotProduct(a.doubles, b.doubles)
}

/// Σₖ ⟨aₖ, bₖ⟩ over lists of arrays.
func inner(_ a: [NDArray], _ b: [NDArray]) -> Double {
    zip(a, b).reduce(0) { $0 + inner($1.0, $1.1) }
}

/// The same scale as `inner`, with absolute values: what rounding errors in `inner` scale with.
func innerScale(_ a: [NDArray], _ b: [NDArray]) -> Double {
    zip(a, b).reduce(0) { total, pair in total + zip(pair.0.doubles, pair.1.doubles).reduce(0) { $0 + Swift.abs($1.0 * $1.1) } }
}

/// `x + delta·direction` for float64 arrays of one shape.
func shifted(_ x: NDArray, _ direction: [Double], by delta: Double) -> NDArray {
    float64(zip(x.doubles, direction).map { $0 + delta * $1 }, x.shape)
}

/// `x` with element `index` increased by `delta`.
func shifted(_ x: NDArray, at index: Int, by delta: Double) -> NDArray {
    var values = x.doubles
    values[index] += delta
    return float64(values, x.shape)
}

/// Whether every element of every array is finite.
func allFinite(_ arrays: [NDArray]) -> Bool {
    arrays.allSatisfy { $0.doubles.allSatisfy(\.isFinite) }
}

// MARK: - Central differences

/// The numerical Jᵀu: for every element of every input, the central difference of ⟨u, f(x)⟩.
func numericalVJP(_ f: ([NDArray]) throws -> NDArray, at x: [NDArray], cotangent u: NDArray,
                  eps: Double) rethrows -> [NDArray] {
    try x.indices.map { k in
        let values = try (0..<x[k].count).map { i -> Double in
            var plus = x, minus = x
            plus[k] = shifted(x[k], at: i, by: eps)
            minus[k] = shifted(x[k], at: i, by: -eps)
            return (inner(u, try f(plus).to(.float64)) - inner(u, try f(minus).to(.float64))) / (2 * eps)
        }
        return float64(values, x[k].shape)
    }
}

/// The numerical J v: the central difference of f along the direction v.
func numericalJVP(_ f: ([NDArray]) throws -> NDArray, at x: [NDArray], tangents v: [NDArray],
                  eps: Double) rethrows -> NDArray {
    let plus = zip(x, v).map { shifted($0, $1.doubles, by: eps) }
    let minus = zip(x, v).map { shifted($0, $1.doubles, by: -eps) }
    let a = try f(plus).to(.float64), b = try f(minus).to(.float64)
    return float64(zip(a.doubles, b.doubles).map { ($0 - $1) / (2 * eps) }, a.shape)
}

/// The numerical J v of a list-valued function.
func numericalJVP(_ f: ([NDArray]) throws -> [NDArray], at x: [NDArray], tangents v: [NDArray],
                  eps: Double) rethrows -> [NDArray] {
    let plus = zip(x, v).map { shifted($0, $1.doubles, by: eps) }
    let minus = zip(x, v).map { shifted($0, $1.doubles, by: -eps) }
    return zip(try f(plus), try f(minus)).map { a, b in
        float64(zip(a.doubles, b.doubles).map { ($0 - $1) / (2 * eps) }, a.shape)
    }
}

/// The numerical Jacobian of a one-input function: shape `f(x).shape + x.shape`.
func numericalJacobian(_ f: (NDArray) throws -> NDArray, at x: NDArray, eps: Double) rethrows -> NDArray {
    let y = try f(x)
    var columns: [[Double]] = []
    for i in 0..<x.count {
        let a = try f(shifted(x, at: i, by: eps)).doubles, b = try f(shifted(x, at: i, by: -eps)).doubles
        columns.append(zip(a, b).map { ($0 - $1) / (2 * eps) })
    }
    // Row-major over (output element, input element).
    let values = (0..<y.count).flatMap { o in (0..<x.count).map { i in columns[i][o] } }
    return float64(values, y.shape + x.shape)
}

// MARK: - Checks

/// Expects two lists of arrays to agree elementwise (shapes included).
func expectClose(_ actual: [NDArray], _ expected: [NDArray], rtol: Double, atol: Double, _ label: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) arrays, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    for (k, (a, e)) in zip(actual, expected).enumerated() {
        guard a.shape == e.shape else {
            Issue.record("\(label), input \(k): shape \(a.shape), expected \(e.shape)", sourceLocation: sourceLocation)
            continue
        }
        expectClose(a.doubles, e.doubles, shape: a.shape, rtol: rtol, atol: atol,
                    label: "\(label), input \(k)", sourceLocation: sourceLocation)
    }
}

/// Expects two numbers to agree within `atol + rtol·scale`.
func expectClose(_ actual: Double, _ expected: Double, scale: Double, rtol: Double, atol: Double, _ label: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    let error = Swift.abs(actual - expected)
    if !(error <= atol + rtol * scale) {
        Issue.record("\(label): got \(actual), expected \(expected) (error \(error), allowed \(atol + rtol * scale))",
                     sourceLocation: sourceLocation)
    }
}

/// Reverse mode against central differences: the pullback of a random cotangent u equals the
/// numerical Jᵀu for every element of every input.
func checkVJP(_ f: @escaping ([NDArray]) throws -> NDArray, at x: [NDArray], cotangent u: NDArray,
              tolerance: DerivativeTolerance, _ label: String,
              sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (_, pullback) = try vjp(f, at: x)
    let ad = try pullback(u)
    let fd = try numericalVJP(f, at: x, cotangent: u, eps: tolerance.eps)
    expectClose(ad, fd, rtol: tolerance.rtol, atol: tolerance.atol, "\(label): vjp against central differences",
                sourceLocation: sourceLocation)
}

/// Forward mode against central differences along a random direction.
func checkJVP(_ f: @escaping ([NDArray]) throws -> NDArray, at x: [NDArray], tangents v: [NDArray],
              tolerance: DerivativeTolerance, _ label: String,
              sourceLocation: SourceLocation = #_sourceLocation) throws {
    let ad = try jvp(f, at: x, tangents: v).tangent
    let fd = try numericalJVP(f, at: x, tangents: v, eps: tolerance.eps)
    expectClose([ad], [fd], rtol: tolerance.rtol, atol: tolerance.atol, "\(label): jvp against central differences",
                sourceLocation: sourceLocation)
}

/// Forward mode against reverse mode: ⟨u, J v⟩ = ⟨Jᵀu, v⟩ to rounding.
func checkAdjoint(_ f: @escaping ([NDArray]) throws -> NDArray, at x: [NDArray], cotangent u: NDArray,
                  tangents v: [NDArray], rtol: Double = exactTolerance.rtol, _ label: String,
                  sourceLocation: SourceLocation = #_sourceLocation) throws {
    let jv = try jvp(f, at: x, tangents: v).tangent
    let jtu = try vjp(f, at: x).pullback(u)
    let lhs = inner(u, jv), rhs = inner(jtu, v)
    let scale = innerScale([u], [jv]) + innerScale(jtu, v)
    expectClose(lhs, rhs, scale: scale, rtol: rtol, atol: exactTolerance.atol,
                "\(label): ⟨u, J v⟩ against ⟨Jᵀu, v⟩", sourceLocation: sourceLocation)
}

/// The scalar g(x) = ⟨u, f(x)⟩ + ½⟨c, f(x)²⟩, whose gradient Jᵀ(u + c·f) depends on x through
/// both the Jacobian and the cotangent, so that differentiating it exercises every part of a
/// vjp rule (also for linear f).
func quadraticReadout(_ f: @escaping ([NDArray]) throws -> NDArray, _ u: NDArray, _ c: NDArray) -> ([NDArray]) throws -> NDArray {
    { x in
        let y = try f(x)
        return (u * y).sum() + 0.5 * (c * y * y).sum()
    }
}

/// Second derivatives of g = `quadraticReadout(f, u, c)` four ways, each against an independent
/// computation: forward over reverse (H v) and reverse over reverse (Hᵀw) against central
/// differences of the reverse-mode gradient; forward over forward (⟨w, H v⟩) and reverse over
/// forward (H v) against the forward-over-reverse result.
func checkSecondOrder(_ f: @escaping ([NDArray]) throws -> NDArray, at x: [NDArray], u: NDArray, c: NDArray,
                      v: [NDArray], w: [NDArray], tolerance: DerivativeTolerance, _ label: String,
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
    let g = quadraticReadout(f, u, c)
    let gradient = grad(g)

    // Forward over reverse: H v against the central difference of the gradient along v.
    let hv = try jvp(gradient, at: x, tangents: v).tangent
    let hvFD = try numericalJVP(gradient, at: x, tangents: v, eps: tolerance.eps)
    expectClose(hv, hvFD, rtol: tolerance.rtol, atol: tolerance.atol, "\(label): jvp of grad against differences of grad",
                sourceLocation: sourceLocation)

    // Reverse over reverse: ∇⟨w, ∇g⟩ = Hᵀw against central differences of ⟨w, ∇g⟩.
    let contracted: ([NDArray]) throws -> NDArray = { x in
        try zip(w, gradient(x)).reduce(NDArray(0.0, dtype: .float64)) { $0 + ($1.0 * $1.1).sum() }
    }
    let htw = try grad(contracted)(x)
    let one = NDArray(1.0, dtype: .float64)
    let htwFD = try numericalVJP(contracted, at: x, cotangent: one, eps: tolerance.eps)
    expectClose(htw, htwFD, rtol: tolerance.rtol, atol: tolerance.atol, "\(label): grad of grad against differences of grad",
                sourceLocation: sourceLocation)

    // Forward over forward: ⟨w, H v⟩ from two nested jvps against forward over reverse.
    let directional: ([NDArray]) throws -> NDArray = { x in try jvp(g, at: x, tangents: v).tangent }
    let whv = try jvp(directional, at: x, tangents: w).tangent.item()
    expectClose(whv, inner(w, hv), scale: innerScale(w, hv), rtol: tolerance.exact, atol: exactTolerance.atol,
                "\(label): jvp of jvp against jvp of grad", sourceLocation: sourceLocation)

    // Reverse over forward: ∇⟨∇g, v⟩ = H v against forward over reverse.
    let hvReverse = try grad(directional)(x)
    expectClose(hvReverse, hv, rtol: tolerance.exact, atol: exactTolerance.atol,
                "\(label): grad of jvp against jvp of grad", sourceLocation: sourceLocation)
}

// MARK: - vmap against its loop

/// `f` mapped with `vmap` over `args` (one to three arrays) along `inAxes`.
func vmapped(_ f: @escaping ([NDArray]) throws -> NDArray, _ args: [NDArray], inAxes: [Int?], outAxes: Int,
             chunkSize: Int? = nil) throws -> NDArray {
    switch args.count {
    case 1:
        return try vmap({ (a: NDArray) in try f([a]) }, inAxes: inAxes[0], outAxes: outAxes, chunkSize: chunkSize,
                        fallback: .error)(args[0])
    case 2:
        return try vmap({ (a: NDArray, b: NDArray) in try f([a, b]) }, inAxes: (inAxes[0], inAxes[1]), outAxes: outAxes,
                        chunkSize: chunkSize, fallback: .error)(args[0], args[1])
    case 3:
        return try vmap({ (a: NDArray, b: NDArray, c: NDArray) in try f([a, b, c]) }, inAxes: (inAxes[0], inAxes[1], inAxes[2]),
                        outAxes: outAxes, chunkSize: chunkSize, fallback: .error)(args[0], args[1], args[2])
    default:
        preconditionFailure("vmapped takes one to three arguments, got \(args.count)")
    }
}

/// `vmap(f)` against its definition: for examples `examples[i]` (each a list of arguments of
/// one shape), the arguments mapped along `inAxes` (nil: example 0's argument, shared) give
/// the stack of f over the examples along `outAxes`. Strict about batching rules
/// (`fallback: .error`), so a primitive without one fails here.
func checkVmapMatchesLoop(_ f: @escaping ([NDArray]) throws -> NDArray, examples: [[NDArray]], inAxes: [Int?],
                          outAxes: Int, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let arity = examples[0].count
    let batched = (0..<arity).map { j -> NDArray in
        guard let axis = inAxes[j] else { return examples[0][j] }
        return stack(examples.map { $0[j] }, dim: axis)
    }
    let looped = try examples.map { example in
        try f((0..<arity).map { j in inAxes[j] == nil ? examples[0][j] : example[j] })
    }
    let expected = stack(looped, dim: outAxes)
    let actual = try vmapped(f, batched, inAxes: inAxes, outAxes: outAxes)
    guard actual.shape == expected.shape, actual.dtype == expected.dtype else {
        Issue.record("\(label): vmap gave \(actual.dtype) \(actual.shape), the loop \(expected.dtype) \(expected.shape)",
                     sourceLocation: sourceLocation)
        return
    }
    expectClose(actual.doubles, expected.doubles, shape: actual.shape, rtol: exactTolerance.rtol, atol: exactTolerance.atol,
                label: "\(label): vmap against a loop", sourceLocation: sourceLocation)
}

/// `vmap(f)` over a mapped axis of size 0: an empty result whose other dimensions are those of
/// f's output for one example.
func checkVmapEmptyBatch(_ f: @escaping ([NDArray]) throws -> NDArray, example: [NDArray], _ label: String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
    let one = try f(example)
    let empty = example.map { x in NDArray.zeros([0] + x.shape, dtype: x.dtype) }
    let y = try vmapped(f, empty, inAxes: example.map { _ in 0 }, outAxes: 0)
    #expect(y.shape == [0] + one.shape, "\(label): vmap over 0 examples gave shape \(y.shape)", sourceLocation: sourceLocation)
    #expect(y.dtype == one.dtype, "\(label): vmap over 0 examples gave dtype \(y.dtype)", sourceLocation: sourceLocation)
}

/// The batch axis positions an argument of `rank` dimensions can be mapped along, with the
/// one to use for `position` 0 (first), 1 (second) and 2 (last).
func batchAxis(_ position: Int, rank: Int) -> Int {
    switch position {
    case 1: rank >= 1 ? 1 : 0
    case 2: -1
    default: 0
    }
}
