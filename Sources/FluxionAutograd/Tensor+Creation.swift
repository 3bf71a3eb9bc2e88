// Making tensors: PyTorch's factory functions, each the `NDArray` constructor of the same name
// wrapped in a tensor that does not require grad (chain `.requiresGrad_()` for one that does,
// as `torch.zeros(3).requires_grad_()`).

import FluxionCore

extension Tensor: ExpressibleByArrayLiteral {
    /// A nested literal, with NDArray's literal dtypes (`[1.0, 2.0]` is float32).
    public convenience init(arrayLiteral elements: NDArrayLiteral...) {
        self.init(NDArray.init(literal: .list(elements)))
    }
}

extension Tensor {
    /// A tensor of zeros of `shape` (`torch.zeros`), not requiring grad.
    public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor { Tensor(NDArray.zeros(shape, dtype: dtype)) }
    /// A tensor of ones of `shape` (`torch.ones`), not requiring grad.
    public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor { Tensor(NDArray.ones(shape, dtype: dtype)) }
    /// A tensor of `shape` with every element `value` (`torch.full`).
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) -> Tensor {
        Tensor(NDArray.full(shape, value, dtype: dtype))
    }
    /// Zeros of `x`'s shape and dtype, without history.
    public static func zerosLike(_ x: Tensor) -> Tensor { Tensor(NDArray.zerosLike(x.value)) }
    /// Ones of `x`'s shape and dtype, without history.
    public static func onesLike(_ x: Tensor) -> Tensor { Tensor(NDArray.onesLike(x.value)) }
    /// `torch.arange` with floating bounds: float32 unless a dtype is given.
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType? = nil) -> Tensor {
        Tensor(NDArray.arange(start, end, step: step, dtype: dtype))
    }
    /// `torch.arange` with integer bounds: int64 unless a dtype is given.
    public static func arange(_ start: Int = 0, _ end: Int, step: Int = 1, dtype: DType? = nil) -> Tensor {
        Tensor(NDArray.arange(start, end, step: step, dtype: dtype))
    }
    /// Random integers in `low..<high` (`torch.randint`), from `key` or the default generator.
    public static func randint(low: Int = 0, high: Int, _ shape: [Int], key: RandomKey? = nil) -> Tensor {
        Tensor(NDArray.randint(low: low, high: high, shape, key: key))
    }
    /// `count` evenly spaced values from `start` to `end`, both included (`torch.linspace`).
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32) -> Tensor {
        Tensor(NDArray.linspace(start, end, count: count, dtype: dtype))
    }
    /// The n × m identity matrix (m defaults to n; `torch.eye`).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) -> Tensor { Tensor(NDArray.eye(n, m, dtype: dtype)) }

    /// Standard normal samples (`torch.randn`), from `key` or the default generator.
    public static func randn(_ shape: [Int], key: RandomKey? = nil, dtype: DType = .float32) -> Tensor {
        Tensor(NDArray.normal(shape, key: key, dtype: dtype))
    }

    /// Uniform samples in [0, 1) (`torch.rand`), from `key` or the default generator.
    public static func rand(_ shape: [Int], key: RandomKey? = nil, dtype: DType = .float32) -> Tensor {
        Tensor(NDArray.uniform(shape, key: key, dtype: dtype))
    }

    /// A copy recorded in the graph (`CloneBackward0`).
    public func clone() -> Tensor { unary("CloneBackward0") { $0 + $0.scalarLike(0) } }
}
