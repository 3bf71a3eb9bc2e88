// The inputs of workloads W1–W8, generated so that the peer scripts (Benchmarks/peers/common.py)
// reproduce them bit for bit before rounding: every array comes from its own numbered stream.
//
//   value i of stream s (i = 0, 1, …):  z = s + (i + 1)·0x9E3779B97F4A7C15 (mod 2⁶⁴), then
//     z = (z ⊕ z≫30)·0xBF58476D1CE4E5B9;  z = (z ⊕ z≫27)·0x94D049BB133111EB;  z = z ⊕ z≫31
//   (SplitMix64 indexed by position), uniform u_i = (z ≫ 11)·2⁻⁵³ in [0, 1);
//   normal pair j from u_{2j}, u_{2j+1} by Box–Muller in float64:
//     r = √(−2 ln(1 − u_{2j})),  n_{2j} = r cos(2π u_{2j+1}),  n_{2j+1} = r sin(2π u_{2j+1}).
//
// Scaling (1/√fan_in, ranges) happens in float64, then values are rounded to the workload's
// dtype once. An array of shape [B, …] is the first B rows of its stream, so every batch size
// sees the same leading examples. The library's own Threefry generator is not used because
// the peers would have to reimplement it; this one is ten lines in either language.

import Fluxion
import Foundation

enum Stream {
    /// The i-th 64-bit output of stream `seed`.
    @inline(__always) static func bits(_ seed: UInt64, _ i: Int) -> UInt64 {
        var z = seed &+ (UInt64(i) &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) static func unit(_ seed: UInt64, _ i: Int) -> Double {
        Double(bits(seed, i) >> 11) * 0x1p-53
    }

    /// `count` uniform values in [low, high).
    static func uniform(_ count: Int, seed: UInt64, low: Double = 0, high: Double = 1) -> [Double] {
        (0..<count).map { low + (high - low) * unit(seed, $0) }
    }

    /// `count` standard normal values.
    static func normal(_ count: Int, seed: UInt64) -> [Double] {
        (0..<count).map { k in
            let j = k / 2
            let r = (-2 * Foundation.log(1 - unit(seed, 2 * j))).squareRoot()
            let angle = 2 * Double.pi * unit(seed, 2 * j + 1)
            return k % 2 == 0 ? r * Foundation.cos(angle) : r * Foundation.sin(angle)
        }
    }
}

/// N(0, 1)·`scale` samples of `shape` from stream `seed`.
func streamNormal(_ shape: [Int], seed: UInt64, scale: Double = 1, dtype: DType = .float32) -> NDArray {
    NDArray(shape: shape, scalars: Stream.normal(shape.reduce(1, *), seed: seed).map { $0 * scale }, dtype: dtype)
}

/// U[low, high) samples of `shape` from stream `seed`.
func streamUniform(_ shape: [Int], seed: UInt64, low: Double = 0, high: Double = 1, dtype: DType = .float32) -> NDArray {
    NDArray(shape: shape, scalars: Stream.uniform(shape.reduce(1, *), seed: seed, low: low, high: high), dtype: dtype)
}

/// A layer's weight, N(0, 1)/√fan_in, stored [fan_in, fan_out] so that a layer is `x·W + b`.
func streamWeight(_ fanIn: Int, _ fanOut: Int, seed: UInt64, dtype: DType = .float32) -> NDArray {
    streamNormal([fanIn, fanOut], seed: seed, scale: 1 / Double(fanIn).squareRoot(), dtype: dtype)
}

/// Class labels in 0..<classes: ⌊10·u⌋ for `classes` = 10.
func streamLabels(_ count: Int, classes: Int, seed: UInt64) -> NDArray {
    NDArray(Stream.uniform(count, seed: seed).map { Int(Double(classes) * $0) })
}

/// Σ x² over every leaf of a tree, accumulated in float64: the checksum of a gradient.
func sumOfSquares<T: ArrayTree>(_ tree: T) -> Double {
    tree.leaves.reduce(0) { total, x in
        let d = x.to(.float64)
        return total + (d * d).sum().item()
    }
}
