// A user's function seen the way the checks see it: a map from a list of float64 arrays (the
// floating-point leaves of the input tree, promoted to float64) to a list of arrays (the
// floating-point leaves of the output tree). Integer and bool input leaves are held at their
// values; integer and bool outputs (indices, masks) have no derivative and are left out.
//
// Promotion is how float32 code is checked in float64: Fluxion's arithmetic promotes to the
// wider operand, so a function written for float32 inputs usually computes in float64 when
// given float64 inputs, and central differences then resolve its derivatives to ~1e-10. A
// function whose outputs stay float32 (it converts explicitly) is checked at float32
// precision with tolerances to match.

import Fluxion

/// A function between flat lists of arrays, with its value at the check point.
struct FlatFunction {
    /// The differentiated inputs, float64.
    let primals: [NDArray]
    /// The function of the differentiated inputs, returning its floating-point outputs.
    let apply: ([NDArray]) throws -> [NDArray]
    /// The outputs at `primals`.
    let outputs: [NDArray]
    /// float32 when any output is float32 although the inputs are float64.
    let precision: DType

    /// `f` at `x`, flattened; throws what `f` throws at `x`.
    init<T: ArrayTree, R: ArrayTree>(_ f: @escaping (T) throws -> R, at x: T) throws {
        let leaves = x.leaves
        let wrt = leaves.indices.filter { leaves[$0].dtype.isFloatingPoint }
        let all: ([NDArray]) throws -> [NDArray] = { xs in
            var inputs = leaves
            for (k, j) in wrt.enumerated() { inputs[j] = xs[k] }
            return try f(x.rebuilt(with: inputs)).leaves
        }
        let primals = wrt.map { leaves[$0].to(.float64) }
        let everything = try all(primals)
        let kept = everything.indices.filter { everything[$0].dtype.isFloatingPoint }
        self.init(primals: primals, outputs: kept.map { everything[$0] }, apply: { xs in
            let ys = try all(xs)
            return kept.map { ys[$0] }
        })
    }

    init(primals: [NDArray], outputs: [NDArray], apply: @escaping ([NDArray]) throws -> [NDArray]) {
        self.primals = primals
        self.outputs = outputs
        self.apply = apply
        precision = outputs.contains { $0.dtype == .float32 } ? .float32 : .float64
    }

    /// `apply` evaluated at `primals` again (the outputs may be recomputed by a transform).
    init(_ apply: @escaping ([NDArray]) throws -> [NDArray], at primals: [NDArray]) throws {
        self.init(primals: primals, outputs: try apply(primals), apply: apply)
    }

    var inputShapes: [[Int]] { primals.map(\.shape) }
    var outputShapes: [[Int]] { outputs.map(\.shape) }
    var inputCount: Int { primals.reduce(0) { $0 + $1.count } }
    var outputCount: Int { outputs.reduce(0) { $0 + $1.count } }

    /// The function of one flat float64 vector (the inputs' elements concatenated) returning
    /// one flat vector (the outputs' elements concatenated): what `jacfwd`, `jacrev` and
    /// `hessian` take. Built from array operations, so every transform passes through.
    var vectorized: (NDArray) throws -> NDArray {
        let (shapes, apply) = (inputShapes, self.apply)
        return { z in
            var offset = 0
            let xs = shapes.map { shape -> NDArray in
                let n = shape.reduce(1, *)
                defer { offset += n }
                return z.narrow(dim: 0, start: offset, length: n).reshape(shape)
            }
            let ys = try apply(xs).map { $0.reshape([$0.count]) }
            return ys.count == 1 ? ys[0] : concat(ys, dim: 0)
        }
    }

    /// The inputs' elements concatenated into one float64 vector.
    var flatPrimals: NDArray { vector(primals.flatMap(\.doubles)) }
}

// MARK: - Array helpers

/// A float64 array of `shape` holding `values`.
func float64(_ values: [Double], _ shape: [Int]) -> NDArray {
    NDArray(shape: shape, scalars: values, dtype: .float64)
}

/// A 1-d float64 array.
func vector(_ values: [Double]) -> NDArray { float64(values, [values.count]) }

/// The multi-index of row-major element `flat` in an array of `shape`.
func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for d in shape.indices.reversed() where shape[d] > 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}

/// Positions of the elements of a list of arrays, in concatenated row-major order.
func positions(_ shapes: [[Int]]) -> [ArrayPosition] {
    shapes.enumerated().flatMap { leaf, shape in
        (0..<shape.reduce(1, *)).map { ArrayPosition(leaf: leaf, element: multiIndex($0, shape)) }
    }
}

/// All elements of a list of arrays as doubles, concatenated.
func flatValues(_ arrays: [NDArray]) -> [Double] { arrays.flatMap(\.doubles) }

/// Splits concatenated values back into arrays of `shapes` (float64).
func unflatten(_ values: [Double], _ shapes: [[Int]]) -> [NDArray] {
    var offset = 0
    return shapes.map { shape in
        let n = shape.reduce(1, *)
        defer { offset += n }
        return float64(Array(values[offset..<(offset + n)]), shape)
    }
}

/// A small deterministic generator (SplitMix64) for the checks' random directions: seeded,
/// independent of Fluxion's own random numbers, so a check never tests the library with itself.
struct SplitMix: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(next() >> 11) * 0x1p-53
    }

    /// Float64 arrays of `shapes` with entries uniform in [-1, 1), kept away from 0 (|v| ≥ 0.1)
    /// so that no entry of a direction silently switches a derivative off.
    mutating func directions(_ shapes: [[Int]]) -> [NDArray] {
        shapes.map { shape in
            float64((0..<shape.reduce(1, *)).map { _ in
                let m = uniform(0.1, 1)
                return next() & 1 == 0 ? m : -m
            }, shape)
        }
    }
}
