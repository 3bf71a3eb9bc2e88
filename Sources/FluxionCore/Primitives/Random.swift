// Random sampling from explicit keys (JAX's key arrays): a key is an int64 array `[2]` holding
// the two 32-bit words of a Threefry key, and the same key always gives the same values. Keys
// are ordinary inputs of the draw, so under `vmap` a batched key is a batch of draws (one per
// key), and a program that draws takes its keys as inputs. Samples have no derivatives.
//
// What a draw does inside a `vmap` whose keys are not batched (a key closed over from outside)
// is the vmap's `randomness` setting; the draw functions apply it before binding
// (`keyFollowingVmaps`, Batch.swift).

import FluxionKernels

/// A primitive that draws samples of `shape` for each key of its one input, an int64 key
/// array `[..., 2]`; its output is `[...] + shape`.
public protocol RandomPrimitive: UnaryPrimitive, PiecewiseConstant {
    /// The samples' shape for one key.
    var shape: [Int] { get }
}

extension RandomPrimitive {
    /// One batch of draws, with the batch of keys first.
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Uniform

/// Uniform samples in [low, high).
public struct RandomUniform: RandomPrimitive {
    public let shape: [Int]
    /// The samples' dtype (floating).
    public let dtype: DType
    /// The lower bound, included.
    public let low: Double
    /// The upper bound, excluded.
    public let high: Double
    public var name: String { "uniform" }
    public func evaluate(_ keys: StridedArray) -> StridedArray {
        RandomKernels.perKey(keys, shape: shape, dtype: dtype) {
            RandomKernels.uniform(key: $0, shape: shape, dtype: dtype, low: low, high: high)
        }
    }
}

// MARK: - Normal

/// Standard normal samples.
public struct RandomNormal: RandomPrimitive {
    public let shape: [Int]
    /// The samples' dtype (floating).
    public let dtype: DType
    public var name: String { "normal" }
    public func evaluate(_ keys: StridedArray) -> StridedArray {
        RandomKernels.perKey(keys, shape: shape, dtype: dtype) { RandomKernels.normal(key: $0, shape: shape, dtype: dtype) }
    }
}

// MARK: - Split

/// `count` new keys from each key: `[..., 2]` → `[..., count, 2]` (`jax.random.split`).
public struct RandomSplit: UnaryPrimitive, PiecewiseConstant {
    /// The number of keys made from each key.
    public let count: Int
    public var name: String { "splitKeys" }
    public func evaluate(_ keys: StridedArray) -> StridedArray { RandomKernels.split(keys: keys, count: count) }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Output types (for staging)

extension RandomUniform {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        [ArrayType(shape: Array(inputs[0].shape.dropLast()) + shape, dtype: dtype)]
    }
}

extension RandomNormal {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        [ArrayType(shape: Array(inputs[0].shape.dropLast()) + shape, dtype: dtype)]
    }
}

extension RandomSplit {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        [ArrayType(shape: Array(inputs[0].shape.dropLast()) + [count, 2], dtype: .int64)]
    }
}
