// The table of every primitive: how to exercise it through its public array function, on
// which input domain, and with which tolerance. The gradient checks, the Jacobian and Hessian
// checks and the vmap checks all run over this one table, and a test fails when a primitive
// declared in Sources/FluxionCore/Primitives is missing from it.
//
// Domains keep inputs away from the points where a primitive is not differentiable (kinks,
// jumps, ties, the edge of the domain) by much more than the finite-difference step, so the
// central differences are meaningful there. Each case draws its structure (shapes, axes,
// parameters) and its values from separate seeded streams, so that several examples of one
// structure can be drawn for vmap.

import Foundation
import Testing
import Fluxion

/// One drawn instance of a case: the arguments, which of them are differentiated, and the
/// function of all arguments that exercises the primitive.
struct PrimitiveInstance {
    var args: [NDArray]
    /// Positions of the float64 arguments that are differentiated (indices, masks are not).
    var wrt: [Int]
    var f: @Sendable ([NDArray]) throws -> NDArray

    /// f as a function of the differentiated arguments, the others held at their values.
    var differentiable: ([NDArray]) throws -> NDArray {
        let (args, wrt, f) = (args, wrt, f)
        return { xs in
            var all = args
            for (k, j) in wrt.enumerated() { all[j] = xs[k] }
            return try f(all)
        }
    }

    var primals: [NDArray] { wrt.map { args[$0] } }
}

/// A row of the primitive table.
struct PrimitiveCase: Sendable, CustomTestStringConvertible {
    enum Derivative: Sendable {
        /// Differentiable on the domain: every derivative check applies.
        case smooth
        /// Piecewise constant: every derivative is exactly zero, as central differences see.
        case zero
        /// Zero derivative by definition, whatever the values do (stopGradient).
        case stopped
        /// No inputs (random sampling): nothing to differentiate.
        case none
    }

    /// The primitive's type name in Sources/FluxionCore/Primitives.
    let primitive: String
    /// The input domain, for the reader.
    let domain: String
    let derivative: Derivative
    let tolerance: DerivativeTolerance
    /// Draws an instance: structure from the first stream, values from the second.
    let make: @Sendable (inout CaseRandom, inout CaseRandom) -> PrimitiveInstance

    var testDescription: String { primitive }

    init(_ primitive: String, _ domain: String, _ derivative: Derivative = .smooth,
         tolerance: DerivativeTolerance = DerivativeTolerance(),
         _ make: @escaping @Sendable (inout CaseRandom, inout CaseRandom) -> PrimitiveInstance) {
        self.primitive = primitive
        self.domain = domain
        self.derivative = derivative
        self.tolerance = tolerance
        self.make = make
    }

    /// `count` examples of one structure (draw `draw`), with different values.
    func examples(draw: Int, count: Int) -> [PrimitiveInstance] {
        let structure = CaseRandom(seed: CaseRandom.seed(primitive, draw), draw: draw)
        var values = CaseRandom(seed: CaseRandom.seed(primitive + "/values", draw))
        return (0..<count).map { _ in
            var s = structure
            return make(&s, &values)
        }
    }

    /// One instance of draw `draw`.
    func instance(draw: Int) -> PrimitiveInstance { examples(draw: draw, count: 1)[0] }
}

// MARK: - Building rows

/// A function of one float64 array on values drawn by `values` for a random shape.
private func unary(_ name: String, _ domain: String, _ derivative: PrimitiveCase.Derivative = .smooth,
                   tolerance: DerivativeTolerance = DerivativeTolerance(), ranks: ClosedRange<Int> = 0...3,
                   values: @escaping @Sendable (inout CaseRandom, [Int]) -> NDArray,
                   _ f: @escaping @Sendable (NDArray) -> NDArray) -> PrimitiveCase {
    PrimitiveCase(name, domain, derivative, tolerance: tolerance) { s, v in
        let shape = s.shape(ranks: ranks)
        return PrimitiveInstance(args: [values(&v, shape)], wrt: [0], f: { f($0[0]) })
    }
}

private func interval(_ range: ClosedRange<Double>) -> @Sendable (inout CaseRandom, [Int]) -> NDArray {
    { v, shape in v.array(shape, in: range) }
}

private func awayFromZero(_ magnitude: ClosedRange<Double>) -> @Sendable (inout CaseRandom, [Int]) -> NDArray {
    { v, shape in v.array(shape, awayFromZero: magnitude) }
}

/// A function of two float64 arrays of random broadcasting shapes.
private func binary(_ name: String, _ domain: String, _ derivative: PrimitiveCase.Derivative = .smooth,
                    values: @escaping @Sendable (inout CaseRandom, [Int], [Int]) -> (NDArray, NDArray),
                    _ f: @escaping @Sendable (NDArray, NDArray) -> NDArray) -> PrimitiveCase {
    PrimitiveCase(name, domain, derivative) { s, v in
        let shapes = s.broadcastShapes(2)
        let (a, b) = values(&v, shapes[0], shapes[1])
        return PrimitiveInstance(args: [a, b], wrt: [0, 1], f: { f($0[0], $0[1]) })
    }
}

private func both(_ a: ClosedRange<Double>, _ b: ClosedRange<Double>) -> @Sendable (inout CaseRandom, [Int], [Int]) -> (NDArray, NDArray) {
    { v, sa, sb in (v.array(sa, in: a), v.array(sb, in: b)) }
}

/// Two operands on interleaved grids: every pair differs by more than 0.1.
private let separated: @Sendable (inout CaseRandom, [Int], [Int]) -> (NDArray, NDArray) = { v, sa, sb in
    (v.gridArray(sa, offset: 0), v.gridArray(sb, offset: 0.15))
}

/// The n×n identity in float64.
private func identity(_ n: Int) -> NDArray { NDArray.eye(n, dtype: .float64) }

/// A random subset of `0..<rank`, in random order.
private func someAxes(_ s: inout CaseRandom, rank: Int) -> [Int] {
    s.shuffled(Array(0..<rank)).prefix(s.int(in: 0...rank)).map { $0 }
}

// MARK: - The table

let primitiveTable: [PrimitiveCase] = unaryRows + binaryRows + reductionRows + shapeRows + indexingRows
    + linearAlgebraRows + randomRows + windowRows

private let unaryRows: [PrimitiveCase] = [
    unary("Neg", "[-2, 2]", values: interval(-2...2)) { -$0 },
    unary("Abs", "|x| in [0.1, 2]", values: awayFromZero(0.1...2)) { abs($0) },
    unary("Sign", "|x| in [0.1, 2]; zero derivative", .zero, values: awayFromZero(0.1...2)) { sign($0) },
    unary("Exp", "[-2, 2]", values: interval(-2...2)) { exp($0) },
    unary("Log", "[0.2, 3]", values: interval(0.2...3)) { log($0) },
    unary("Log1p", "[-0.8, 2]", values: interval(-0.8...2)) { log1p($0) },
    unary("Expm1", "[-2, 2]", values: interval(-2...2)) { expm1($0) },
    unary("Sqrt", "[0.2, 3]", values: interval(0.2...3)) { sqrt($0) },
    unary("Rsqrt", "[0.2, 3]", values: interval(0.2...3)) { rsqrt($0) },
    PrimitiveCase("PowScalar", "x in [0.2, 2], exponent in {0, 1, 2, 3, 0.5, -1.5}") { s, v in
        let shape = s.shape(ranks: 0...3)
        let p = s.element([0, 1, 2, 3, 0.5, -1.5])
        return PrimitiveInstance(args: [v.array(shape, in: 0.2...2)], wrt: [0], f: { $0[0] ** p })
    },
    unary("Sin", "[-3, 3]", values: interval(-3...3)) { sin($0) },
    unary("Cos", "[-3, 3]", values: interval(-3...3)) { cos($0) },
    unary("Tan", "[-1.2, 1.2]", values: interval(-1.2...1.2)) { tan($0) },
    unary("Asin", "[-0.85, 0.85]", values: interval(-0.85...0.85)) { asin($0) },
    unary("Acos", "[-0.85, 0.85]", values: interval(-0.85...0.85)) { acos($0) },
    unary("Atan", "[-2, 2]", values: interval(-2...2)) { atan($0) },
    unary("Sinh", "[-2, 2]", values: interval(-2...2)) { sinh($0) },
    unary("Cosh", "[-2, 2]", values: interval(-2...2)) { cosh($0) },
    unary("Tanh", "[-2, 2]", values: interval(-2...2)) { tanh($0) },
    unary("Sigmoid", "[-3, 3]", values: interval(-3...3)) { sigmoid($0) },
    unary("Relu", "|x| in [0.1, 2]", values: awayFromZero(0.1...2)) { relu($0) },
    unary("ReluSlope", "|x| in [0.1, 2]; zero derivative", .zero, values: awayFromZero(0.1...2)) { reluSlope($0) },
    unary("Softplus", "[-3, 3]", values: interval(-3...3)) { softplus($0) },
    unary("Erf", "[-2, 2]", values: interval(-2...2)) { erf($0) },
    unary("Floor", "at least 0.1 from integers and half-integers; zero derivative", .zero,
          values: { v, shape in v.awayFromRounding(shape) }) { floor($0) },
    unary("Ceil", "at least 0.1 from integers and half-integers; zero derivative", .zero,
          values: { v, shape in v.awayFromRounding(shape) }) { ceil($0) },
    unary("Round", "at least 0.1 from integers and half-integers; zero derivative", .zero,
          values: { v, shape in v.awayFromRounding(shape) }) { round($0) },
    unary("LogicalNot", "mask of |x| in [0.1, 2] > 0; zero derivative", .zero,
          values: awayFromZero(0.1...2)) { (.!($0 .> 0)).to(.float64) },
    // float64 → float32 → float64 is the identity up to float32 rounding: a wide step and
    // float32 tolerances.
    unary("Convert", "[-2, 2] through float32", tolerance: DerivativeTolerance(eps: 1e-2, rtol: 1e-4, atol: 1e-4, exact: 1e-6),
          values: interval(-2...2)) { $0.to(.float32).to(.float64) },
    unary("StopGradient", "[-2, 2]; zero derivative by definition", .stopped, values: interval(-2...2)) { stopGradient($0) },
]

private let binaryRows: [PrimitiveCase] = [
    binary("Add", "[-2, 2]², broadcasting", values: both(-2...2, -2...2)) { $0 + $1 },
    binary("Sub", "[-2, 2]², broadcasting", values: both(-2...2, -2...2)) { $0 - $1 },
    binary("Mul", "[-2, 2]², broadcasting", values: both(-2...2, -2...2)) { $0 * $1 },
    binary("MulStrongZero", "[-2, 2]², broadcasting", values: both(-2...2, -2...2)) { mulStrongZero($0, $1) },
    binary("Div", "a in [-2, 2], |b| in [0.5, 2], broadcasting", values: { v, sa, sb in
        (v.array(sa, in: -2...2), v.array(sb, awayFromZero: 0.5...2))
    }) { $0 / $1 },
    binary("Pow", "a in [0.3, 2], b in [-2, 2], broadcasting", values: both(0.3...2, -2...2)) { $0 ** $1 },
    binary("Maximum", "|a - b| > 0.1, broadcasting", values: separated) { maximum($0, $1) },
    binary("Minimum", "|a - b| > 0.1, broadcasting", values: separated) { minimum($0, $1) },
    binary("Atan2", "y in [-2, 2], |x| in [0.3, 2], broadcasting", values: { v, sa, sb in
        (v.array(sa, in: -2...2), v.array(sb, awayFromZero: 0.3...2))
    }) { atan2($0, $1) },
    binary("LogicalAnd", "masks of |x| in [0.1, 2] > 0; zero derivative", .zero, values: { v, sa, sb in
        (v.array(sa, awayFromZero: 0.1...2), v.array(sb, awayFromZero: 0.1...2))
    }) { (($0 .> 0) .& ($1 .> 0)).to(.float64) },
    binary("LogicalOr", "masks of |x| in [0.1, 2] > 0; zero derivative", .zero, values: { v, sa, sb in
        (v.array(sa, awayFromZero: 0.1...2), v.array(sb, awayFromZero: 0.1...2))
    }) { (($0 .> 0) .| ($1 .> 0)).to(.float64) },
    PrimitiveCase("Compare", "|a - b| > 0.1, each comparison, broadcasting; zero derivative", .zero) { s, v in
        let shapes = s.broadcastShapes(2)
        let comparison = s.int(in: 0...5)
        let (a, b) = separated(&v, shapes[0], shapes[1])
        return PrimitiveInstance(args: [a, b], wrt: [0, 1], f: { x in
            let (a, b) = (x[0], x[1])
            let mask = switch comparison {
            case 0: a .< b
            case 1: a .<= b
            case 2: a .> b
            case 3: a .>= b
            case 4: a .== b
            default: a .!= b
            }
            return mask.to(.float64) * 2
        })
    },
    PrimitiveCase("Clamp", "x, lo, hi on interleaved grids (no ties), array or number bounds, either may be absent, broadcasting") { s, v in
        let shapes = s.broadcastShapes(3)
        let (lower, upper, numbers) = (s.bool(), s.bool(), s.bool())
        let x = v.gridArray(shapes[0], offset: 0)
        if numbers {
            let (lo, hi) = (s.element([-1.05, -0.45, 0.15]), s.element([0.45, 1.05, 1.65]))
            return PrimitiveInstance(args: [x], wrt: [0], f: { $0[0].clamp(min: lower ? lo : nil, max: upper ? hi : nil) })
        }
        let lo = v.gridArray(shapes[1], offset: 0.1), hi = v.gridArray(shapes[2], offset: 0.2)
        return PrimitiveInstance(args: [x, lo, hi], wrt: [0, 1, 2], f: { a in
            a[0].clamp(min: lower ? a[1] : nil, max: upper || !lower ? a[2] : nil)
        })
    },
    PrimitiveCase("Select", "bool condition, branches in [-2, 2], all three broadcasting") { s, v in
        let shapes = s.broadcastShapes(3)
        let condition = v.array(shapes[0], in: -1...1) .> 0
        return PrimitiveInstance(args: [condition, v.array(shapes[1], in: -2...2), v.array(shapes[2], in: -2...2)],
                                 wrt: [1, 2], f: { NDArray.where($0[0], $0[1], $0[2]) })
    },
]

private let reductionRows: [PrimitiveCase] = [
    PrimitiveCase("ReduceSum", "[-2, 2], any set of axes, keepDim either way") { s, v in
        let shape = s.shape(ranks: 0...3)
        let axes: [Int]? = s.bool() ? nil : someAxes(&s, rank: shape.count)
        let keepDim = s.bool()
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: { $0[0].sum(dims: axes, keepDim: keepDim) })
    },
    // A product is a polynomial: smooth everywhere, so exact zeros (none, one or several per
    // slice) are part of the domain.
    PrimitiveCase("ReduceProd", "[-1.5, 1.5] with about a third of the elements exactly 0, one axis or all") { s, v in
        let shape = s.shape(ranks: 0...3)
        let dim: Int? = shape.isEmpty || s.bool() ? nil : s.int(in: -shape.count...(shape.count - 1))
        let keepDim = s.bool()
        let values = v.array(shape, in: -1.5...1.5), keep = v.array(shape, in: 0...1) .> 0.33
        return PrimitiveInstance(args: [NDArray.where(keep, values, 0)], wrt: [0],
                                 f: { $0[0].prod(dim: dim, keepDim: keepDim) })
    },
    PrimitiveCase("ReduceMax", "distinct values (gaps > 0.1), any set of axes") { s, v in
        let shape = s.shape(ranks: 0...3)
        let axes: [Int]? = s.bool() ? nil : someAxes(&s, rank: shape.count)
        let keepDim = s.bool()
        return PrimitiveInstance(args: [v.distinctArray(shape)], wrt: [0], f: { $0[0].max(dims: axes, keepDim: keepDim) })
    },
    PrimitiveCase("ReduceMin", "distinct values (gaps > 0.1), any set of axes") { s, v in
        let shape = s.shape(ranks: 0...3)
        let axes: [Int]? = s.bool() ? nil : someAxes(&s, rank: shape.count)
        let keepDim = s.bool()
        return PrimitiveInstance(args: [v.distinctArray(shape)], wrt: [0], f: { $0[0].min(dims: axes, keepDim: keepDim) })
    },
    PrimitiveCase("ArgExtreme", "distinct values, argmax or argmin along one axis; zero derivative", .zero) { s, v in
        let shape = s.shape(ranks: 1...3)
        let dim = s.int(in: -shape.count...(shape.count - 1))
        let largest = s.bool(), keepDim = s.bool()
        return PrimitiveInstance(args: [v.distinctArray(shape)], wrt: [0], f: { x in
            (largest ? x[0].argmax(dim: dim, keepDim: keepDim) : x[0].argmin(dim: dim, keepDim: keepDim)).to(.float64)
        })
    },
    PrimitiveCase("CumSum", "[-2, 2], each axis in turn, negative or not") { s, v in
        let shape = s.shape(ranks: 1...3)
        let dim = s.cycling(shape.count) - (s.bool() ? shape.count : 0)
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: { $0[0].cumsum(dim: dim) })
    },
    PrimitiveCase("Argsort", "distinct values, argsort along each axis in turn, ascending or descending; zero derivative", .zero) { s, v in
        let shape = s.shape(ranks: 1...3)
        let dim = s.cycling(shape.count) - (s.bool() ? shape.count : 0)
        let descending = s.bool()
        return PrimitiveInstance(args: [v.distinctArray(shape)], wrt: [0], f: { $0[0].argsort(dim: dim, descending: descending).to(.float64) })
    },
]

private let shapeRows: [PrimitiveCase] = [
    PrimitiveCase("Reshape", "[-2, 2], contiguous or transposed input") { s, v in
        let shape = s.shape(ranks: 0...3)
        let transposed = s.bool()
        let n = shape.reduce(1, *)
        let target: [Int] = s.element([[n], [1, n], [n, 1], shape.reversed(), [-1]])
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: { x in
            (transposed ? x[0].T : x[0]).reshape(target)
        })
    },
    PrimitiveCase("BroadcastTo", "[-2, 2], size-1 and new leading dimensions") { s, v in
        let target = s.shape(ranks: 1...3)
        let kept = s.int(in: 0...target.count)
        let shape = target.suffix(kept).map { s.bool() ? 1 : $0 }
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: { $0[0].broadcast(to: target) })
    },
    // A 3-cycle (which is not its own inverse) followed by any permutation, so that the
    // inverse permutation in the rules is exercised on every draw.
    PrimitiveCase("Transpose", "[-2, 2], rank 3: a 3-cycle, then any permutation") { s, v in
        let shape = s.shape(ranks: 3...3)
        let cycle = s.element([[1, 2, 0], [2, 0, 1]]), permutation = s.shuffled([0, 1, 2])
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: { $0[0].permute(cycle).permute(permutation) })
    },
    PrimitiveCase("Slice", "[-2, 2], integer, range and strided subscripts") { s, v in
        let shape = s.shape(ranks: 1...3)
        let items: [IndexItem] = shape.map { n in
            switch s.int(in: 0...2) {
            case 0: return .at(s.int(in: -n...(n - 1)))
            case 1: return .range(start: s.int(in: 0...(n - 1)), end: nil, step: 1)
            default: return .range(start: s.int(in: 0...(n - 1)), end: n, step: s.int(in: 1...2))
            }
        }
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: { $0[0][items: items] })
    },
    PrimitiveCase("UpdateSlice", "[-2, 2], subscript assignment of a broadcast value") { s, v in
        let shape = s.shape(ranks: 1...3)
        // Each item with the size it leaves in the region (integer items drop their dimension).
        let parts: [(IndexItem, Int?)] = shape.map { n in
            if s.bool() { return (.at(s.int(in: 0...(n - 1))), nil) }
            let start = s.int(in: 0...(n - 1)), step = s.int(in: 1...2)
            return (.range(start: start, end: n, step: step), (n - start + step - 1) / step)
        }
        let items = parts.map(\.0), region = parts.compactMap(\.1)
        // The value's leading dimension is sometimes 1, so that it broadcasts over the region.
        let valueShape = region.isEmpty || s.bool() ? region : [1] + region.dropFirst()
        return PrimitiveInstance(args: [v.array(shape, in: -2...2), v.array(valueShape, in: -2...2)], wrt: [0, 1], f: { x in
            var y = x[0]
            y[items: items] = x[1]
            return y
        })
    },
    PrimitiveCase("Pad", "[-2, 2], padding of 0–2 per trailing dimension, a constant value") { s, v in
        let shape = s.shape(ranks: 1...3)
        let padding = (0..<s.int(in: 1...shape.count)).map { _ in (s.int(in: 0...2), s.int(in: 0...2)) }
        let value = s.double(in: -1...1)
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: { $0[0].pad(padding, value: value) })
    },
    PrimitiveCase("Concat", "[-2, 2], two arrays along each axis in turn") { s, v in
        let shape = s.shape(ranks: 1...3)
        let dim = s.cycling(shape.count)
        var other = shape
        other[dim] = s.int(in: 1...3)
        let negative = s.bool()
        return PrimitiveInstance(args: [v.array(shape, in: -2...2), v.array(other, in: -2...2)], wrt: [0, 1], f: { x in
            concat([x[0], x[1]], dim: negative ? dim - shape.count : dim)
        })
    },
    PrimitiveCase("Flip", "[-2, 2], rank 1–3 with sizes 2–4, a non-empty set of axes, negative or not") { s, v in
        let shape = s.shape(ranks: 1...3).map { Swift.max($0, 2) }
        let chosen = s.shuffled(Array(0..<shape.count)).prefix(s.int(in: 1...shape.count))
        let axes = chosen.map { s.bool() ? $0 - shape.count : $0 }
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: { $0[0].flip(dims: axes) })
    },
]

private let indexingRows: [PrimitiveCase] = [
    PrimitiveCase("Gather", "[-2, 2], rank 2–3, int64 index (repeats allowed) along each axis in turn") { s, v in
        let shape = s.shape(ranks: 2...3)
        let dim = s.cycling(shape.count)
        let indexShape = shape.indices.map { $0 == dim ? s.int(in: 1...4) : s.int(in: 1...shape[$0]) }
        return PrimitiveInstance(args: [v.array(shape, in: -2...2), v.indices(indexShape, below: shape[dim])], wrt: [0],
                                 f: { $0[0].gather(dim: dim, index: $0[1]) })
    },
    PrimitiveCase("ScatterAdd", "[-2, 2], rank 2–3, int64 index (repeats allowed) along each axis in turn") { s, v in
        let shape = s.shape(ranks: 2...3)
        let dim = s.cycling(shape.count)
        let indexShape = shape.indices.map { $0 == dim ? s.int(in: 1...4) : s.int(in: 1...shape[$0]) }
        return PrimitiveInstance(args: [v.array(shape, in: -2...2), v.indices(indexShape, below: shape[dim]),
                                        v.array(indexShape, in: -2...2)],
                                 wrt: [0, 2], f: { $0[0].scatterAdd(dim: dim, index: $0[1], source: $0[2]) })
    },
    PrimitiveCase("IndexSelect", "[-2, 2], rank 2–3, 1-d int64 index (repeats allowed) along each axis in turn") { s, v in
        let shape = s.shape(ranks: 2...3)
        let dim = s.cycling(shape.count)
        let k = s.int(in: 1...4)
        return PrimitiveInstance(args: [v.array(shape, in: -2...2), v.indices([k], below: shape[dim])], wrt: [0],
                                 f: { $0[0].indexSelect(dim: dim, index: $0[1]) })
    },
    // IndexAdd is the transpose of IndexSelect: reached through the pullback of indexSelect,
    // as a function of the cotangent (and of the index, for vmap).
    PrimitiveCase("IndexAdd", "cotangent in [-2, 2], rank 2–3, 1-d int64 index (repeats allowed) along each axis in turn, through the vjp of indexSelect") { s, v in
        let shape = s.shape(ranks: 2...3)
        let dim = s.cycling(shape.count)
        let k = s.int(in: 1...4)
        var selected = shape
        selected[dim] = k
        let zeros = NDArray.zeros(shape, dtype: .float64)
        return PrimitiveInstance(args: [v.indices([k], below: shape[dim]), v.array(selected, in: -2...2)], wrt: [1], f: { x in
            let index = x[0]
            return try vjp({ (a: NDArray) in a.indexSelect(dim: dim, index: index) }, at: zeros).pullback(x[1])
        })
    },
]

private let linearAlgebraRows: [PrimitiveCase] = [
    PrimitiveCase("MatMul", "[-2, 2], vectors, matrices and broadcast batches") { s, v in
        let (m, k, n) = (s.int(in: 1...4), s.int(in: 1...4), s.int(in: 1...4))
        let shapes: ([Int], [Int]) = s.element([
            ([m, k], [k, n]), ([k], [k, n]), ([m, k], [k]), ([k], [k]),
            ([2, m, k], [k, n]), ([m, k], [2, k, n]), ([2, 1, m, k], [3, k, n]),
        ])
        return PrimitiveInstance(args: [v.array(shapes.0, in: -2...2), v.array(shapes.1, in: -2...2)], wrt: [0, 1],
                                 f: { matmul($0[0], $0[1]) })
    },
    PrimitiveCase("Cholesky", "cholesky(a·aᵀ + n·I), a in [-1, 1], n ≤ 3, optionally batched") { s, v in
        let n = s.int(in: 1...3)
        let shape = (s.bool() ? [2] : []) + [n, n]
        return PrimitiveInstance(args: [v.array(shape, in: -1...1)], wrt: [0], f: { x in
            cholesky(matmul(x[0], x[0].mT) + Double(n) * identity(n))
        })
    },
    PrimitiveCase("TriangularSolve", "a in [-1, 1] + 3·I (either triangle, transposed, unit diagonal), b in [-2, 2]") { s, v in
        let n = s.int(in: 1...3)
        let batch: [Int] = s.bool() ? [2] : []
        let bShape: [Int] = s.element([[n], [n, s.int(in: 1...3)], batch + [n, 2]])
        let (upper, transpose, unit) = (s.bool(), s.bool(), s.bool())
        let a = v.array(batch + [n, n], in: -1...1) + 3 * identity(n)
        return PrimitiveInstance(args: [a, v.array(bShape, in: -2...2)], wrt: [0, 1], f: { x in
            triangularSolve(x[0], x[1], upper: upper, transpose: transpose, unitDiagonal: unit)
        })
    },
    PrimitiveCase("Solve", "a in [-1, 1] + 3·I, b in [-2, 2], vector or matrix right-hand sides, batches") { s, v in
        let n = s.int(in: 1...3)
        let batch: [Int] = s.bool() ? [2] : []
        let bShape: [Int] = s.element([[n], [n, s.int(in: 1...3)], batch + [n, 2]])
        let a = v.array(batch + [n, n], in: -1...1) + 3 * identity(n)
        return PrimitiveInstance(args: [a, v.array(bShape, in: -2...2)], wrt: [0, 1], f: { solve($0[0], $0[1]) })
    },
    PrimitiveCase("Slogdet", "log|det| of a in [-1, 1] ± 2.5·I (either sign of det), optionally batched") { s, v in
        let n = s.int(in: 1...3)
        let shape = (s.bool() ? [2] : []) + [n, n]
        let sign = s.bool() ? 1.0 : -1.0
        return PrimitiveInstance(args: [v.array(shape, in: -1...1) + sign * 2.5 * identity(n)], wrt: [0],
                                 f: { slogdet($0[0]).logAbsDet })
    },
    PrimitiveCase("Eigh", "eigh((a + aᵀ)/2), a = diag(0, 2, 4) + noise in [-0.3, 0.3] (eigenvalue gaps > 0.2); values and sign-fixed vectors") { s, v in
        let n = s.int(in: 2...3)
        let batch: [Int] = s.bool() ? [2] : []
        let spread = float64((0..<n).map { 2 * Double($0) }, [n]) * identity(n)
        return PrimitiveInstance(args: [v.array(batch + [n, n], in: -0.3...0.3) + spread], wrt: [0], f: { x in
            let (w, vectors) = eigh((x[0] + x[0].mT) * 0.5)
            // Eigenvectors are defined up to sign: fix it by the first row (sign has zero
            // derivative, so the result is smooth where that row has no zeros).
            let fixed = vectors * sign(vectors[items: [.ellipsis, .range(start: 0, end: 1)]])
            return concat([w, fixed.flatten(startDim: -2)], dim: -1)
        })
    },
]

private let randomRows: [PrimitiveCase] = [
    PrimitiveCase("RandomUniform", "an int64 key array; no derivative", .none) { s, _ in
        let key = s.nextKey().array
        return PrimitiveInstance(args: [key], wrt: [], f: { NDArray.uniform([2, 3], low: -1, high: 2, key: $0[0], dtype: .float64) })
    },
    PrimitiveCase("RandomNormal", "an int64 key array; no derivative", .none) { s, _ in
        let key = s.nextKey().array
        return PrimitiveInstance(args: [key], wrt: [], f: { NDArray.normal([2, 3], key: $0[0], dtype: .float64) })
    },
    PrimitiveCase("RandomSplit", "an int64 key array split in two, each key drawing 3 normals; no derivative", .none) { s, _ in
        let key = s.nextKey().array
        return PrimitiveInstance(args: [key], wrt: [], f: { NDArray.normal([3], key: splitKeys($0[0], into: 2), dtype: .float64) })
    },
]

/// A window geometry that fits an image of `height` × `width`: kernel 1–2, stride 1–2,
/// padding 0–1 and dilation 1–2 per dimension.
private func windowGeometry(_ s: inout CaseRandom, height: Int, width: Int)
    -> (kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)) {
    func pick(_ size: Int) -> (Int, Int, Int, Int) {
        let padding = s.int(in: 0...1), kernel = s.int(in: 1...2)
        let dilation = kernel > 1 && size + 2 * padding >= 3 && s.bool() ? 2 : 1
        return (kernel, s.int(in: 1...2), padding, dilation)
    }
    let (kh, sh, ph, dh) = pick(height), (kw, sw, pw, dw) = pick(width)
    return ((kh, kw), (sh, sw), (ph, pw), (dh, dw))
}

private let windowRows: [PrimitiveCase] = [
    PrimitiveCase("Im2Col", "[-2, 2], images [1–2, 1–2, 2–4, 2–4], random window geometry (unfold)") { s, v in
        let shape = [s.int(in: 1...2), s.int(in: 1...2), s.int(in: 2...4), s.int(in: 2...4)]
        let g = windowGeometry(&s, height: shape[2], width: shape[3])
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: {
            unfold($0[0], kernelSize: g.kernel, dilation: g.dilation, padding: g.padding, stride: g.stride)
        })
    },
    PrimitiveCase("Col2Im", "[-2, 2], the columns of such an image (fold)") { s, v in
        let (n, c, h, w) = (s.int(in: 1...2), s.int(in: 1...2), s.int(in: 2...4), s.int(in: 2...4))
        let g = windowGeometry(&s, height: h, width: w)
        let rows = (h + 2 * g.padding.0 - g.dilation.0 * (g.kernel.0 - 1) - 1) / g.stride.0 + 1
        let cols = (w + 2 * g.padding.1 - g.dilation.1 * (g.kernel.1 - 1) - 1) / g.stride.1 + 1
        let shape = [n, c * g.kernel.0 * g.kernel.1, rows * cols]
        return PrimitiveInstance(args: [v.array(shape, in: -2...2)], wrt: [0], f: {
            fold($0[0], outputSize: (h, w), kernelSize: g.kernel, dilation: g.dilation, padding: g.padding, stride: g.stride)
        })
    },
]

// MARK: - The primitives declared in the sources

/// The protocols a primitive conforms to (directly or through its family).
let primitiveProtocols: Set<String> = [
    "Primitive", "UnaryPrimitive", "BinaryPrimitive", "UnaryElementwise", "BinaryElementwise", "UnaryWithDerivative",
    "BinaryWithPartials", "AxesReduction",
    "ExtremeReduction", "LinearPrimitive", "PiecewiseConstant", "PiecewiseLinear", "Bilinear", "RandomPrimitive",
]

/// The package's Sources/FluxionCore directory, found from this file's location.
func fluxionCoreSources() -> URL {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // FluxionTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("Sources/FluxionCore")
}

/// Every `public struct Name: …` in `directory`'s Swift files, with the names it conforms to.
func declaredStructs(in directory: URL) throws -> [(name: String, conformances: Set<String>, file: String)] {
    let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        .filter { $0.pathExtension == "swift" }
    let declaration = #/public\s+struct\s+(\w+)\s*:\s*([^{]+)\{/#
    var found: [(String, Set<String>, String)] = []
    for file in files.sorted(by: { $0.path < $1.path }) {
        let text = try String(contentsOf: file, encoding: .utf8)
        for match in text.matches(of: declaration) {
            let conformances = Set(match.output.2.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            found.append((String(match.output.1), conformances, file.lastPathComponent))
        }
    }
    return found
}

/// The primitive types declared in Sources/FluxionCore/Primitives.
func declaredPrimitives() throws -> [String: String] {
    let directory = fluxionCoreSources().appendingPathComponent("Primitives")
    var primitives: [String: String] = [:]
    for s in try declaredStructs(in: directory) where !s.conformances.isDisjoint(with: primitiveProtocols) {
        primitives[s.name] = s.file
    }
    return primitives
}
