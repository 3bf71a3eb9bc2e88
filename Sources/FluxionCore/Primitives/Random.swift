// Random sampling from an explicit key: the same key always gives the same values. Samples
// have no inputs and so no derivatives; under `vmap` the batch interpreter decides, by its
// `randomness` setting, whether each batch element gets the same samples or its own.

import FluxionKernels

/// A primitive that draws samples of `shape` from `key`.
public protocol RandomPrimitive: Primitive {
    var key: RandomKey { get }
    var shape: [Int] { get }
    /// The same draw with another key and shape.
    func with(key: RandomKey, shape: [Int]) -> Self
}

extension RandomPrimitive {
    public func jvp(_ primals: [NDArray], _ tangents: [NDArray?], outputs: [NDArray]) -> [NDArray?] { [nil] }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] { [] }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        (bind(self, []), [nil])
    }
}

// MARK: - Uniform

/// Uniform samples in [low, high).
public struct RandomUniform: RandomPrimitive {
    public let key: RandomKey
    public let shape: [Int]
    public let dtype: DType
    public let low: Double
    public let high: Double
    public var name: String { "uniform" }
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        [RandomKernels.uniform(key: key.words, shape: shape, dtype: dtype, low: low, high: high)]
    }
    public func with(key: RandomKey, shape: [Int]) -> RandomUniform {
        RandomUniform(key: key, shape: shape, dtype: dtype, low: low, high: high)
    }
}

// MARK: - Normal

/// Standard normal samples.
public struct RandomNormal: RandomPrimitive {
    public let key: RandomKey
    public let shape: [Int]
    public let dtype: DType
    public var name: String { "normal" }
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        [RandomKernels.normal(key: key.words, shape: shape, dtype: dtype)]
    }
    public func with(key: RandomKey, shape: [Int]) -> RandomNormal {
        RandomNormal(key: key, shape: shape, dtype: dtype)
    }
}
