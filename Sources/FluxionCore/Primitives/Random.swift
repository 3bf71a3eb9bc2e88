// Random sampling from an explicit key: the same key always gives the same values.

import FluxionKernels

// MARK: - Uniform

/// Uniform samples in [low, high).
public struct RandomUniform: Primitive {
    public let key: RandomKey
    public let shape: [Int]
    public let dtype: DType
    public let low: Double
    public let high: Double
    public var name: String { "uniform" }
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        [RandomKernels.uniform(key: key.words, shape: shape, dtype: dtype, low: low, high: high)]
    }
}

// MARK: - Normal

/// Standard normal samples.
public struct RandomNormal: Primitive {
    public let key: RandomKey
    public let shape: [Int]
    public let dtype: DType
    public var name: String { "normal" }
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        [RandomKernels.normal(key: key.words, shape: shape, dtype: dtype)]
    }
}
