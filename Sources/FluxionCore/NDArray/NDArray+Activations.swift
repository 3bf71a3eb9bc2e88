// Activation functions and normalised exponentials built from the primitives, so every
// transform and every order of derivative applies to them:
//
// ```
// softmax(x)ᵢ    = exp(xᵢ − m) / Σⱼ exp(xⱼ − m)
// logSoftmax(x)ᵢ = (xᵢ − m) − log Σⱼ exp(xⱼ − m)            m = max x (held constant)
// gelu(x)        = x · Φ(x) = x/2 · (1 + erf(x/√2))           (tanh approximation on request)
// silu(x)        = x · σ(x)
// logSigmoid(x)  = −softplus(−x)
// elu(x)         = x for x > 0, α·(eˣ − 1) otherwise (celu: α·(e^{x/α} − 1); selu: λ·elu with
//                  Klambauer et al.'s α, λ)
// hardtanh(x)    = clamp(x, lo, hi), its derivative 0 at the bounds as PyTorch's
//                  (relu6 = hardtanh(x, 0, 6); hardsigmoid = relu6(x + 3)/6)
// softsign(x)    = x / (1 + |x|);   mish(x) = x · tanh(softplus(x))
// ```
//
// Stability: the maximum is subtracted before exponentiating, so large logits neither overflow
// nor lose the small probabilities (logSoftmax of [1000, 0] is [0, −1000], not [0, −inf]).
// Because the shift cancels exactly, it goes through `stopGradient`: derivatives do not flow
// through the max, which would cost a reduction's backward and split ties for nothing. A
// slice that is all −∞ gives NaN, as in PyTorch.

import FluxionKernels

extension NDArray {
    /// The largest element along `dim` (already normalized), kept, as a constant for the
    /// derivatives; 0 for an empty dimension, whose softmax is empty.
    fileprivate func stableShift(_ dim: Int) -> NDArray {
        if shape[dim] == 0 {
            var kept = shape
            kept[dim] = 1
            return NDArray.zeros(kept, dtype: dtype)
        }
        return stopGradient(self.max(dim: dim, keepDim: true))
    }

    fileprivate var floating: NDArray { dtype.isFloatingPoint ? self : to(.float32) }
}

/// Exponentials normalised to sum to 1 along `dim` (`torch.softmax`).
///
/// ```
/// softmax(x)ᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x)
/// ```
public func softmax(_ x: NDArray, dim: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let x = x.floating
    let d = x.normalized(dim, "softmax", file: file, line: line)
    let e = exp(x - x.stableShift(d))
    return e / e.sum(dim: d, keepDim: true)
}

/// The logarithm of `softmax` along `dim`, computed without forming the softmax
/// (`torch.log_softmax`): exact for logits far apart, where log(softmax) gives −inf.
///
/// ```
/// logSoftmax(x)ᵢ = (xᵢ − m) − log Σⱼ exp(xⱼ − m),   m = max x
/// ```
public func logSoftmax(_ x: NDArray, dim: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let x = x.floating
    let d = x.normalized(dim, "logSoftmax", file: file, line: line)
    let shifted = x - x.stableShift(d)
    return shifted - log(exp(shifted).sum(dim: d, keepDim: true))
}

/// The Gaussian error linear unit x·Φ(x) (`torch.nn.functional.gelu`); with `approximate`,
/// the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
public func gelu(_ x: NDArray, approximate: Bool = false) -> NDArray {
    let x = x.floating
    if approximate {
        let inner = (2.0 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + tanh(inner))
    }
    return 0.5 * x * (1 + erf(x * (0.5).squareRoot()))
}

/// The sigmoid linear unit (swish) x·σ(x) (`torch.nn.functional.silu`).
public func silu(_ x: NDArray) -> NDArray {
    let x = x.floating
    return x * sigmoid(x)
}

/// log σ(x) = −softplus(−x), finite for every x (`torch.nn.functional.logsigmoid`).
public func logSigmoid(_ x: NDArray) -> NDArray { -softplus(-x.floating) }

/// max(x, 0) + slope·min(x, 0) (`torch.nn.functional.leaky_relu`).
public func leakyRelu(_ x: NDArray, negativeSlope: Double = 0.01) -> NDArray {
    let x = x.floating
    return NDArray.where(x .> 0, x, x * negativeSlope)
}

/// The exponential linear unit (`torch.nn.functional.elu`):
///
/// ```
/// elu(x) = x               x > 0
///        = α·(eˣ − 1)      x ≤ 0         (derivative α at 0, as PyTorch's)
/// ```
public func elu(_ x: NDArray, alpha: Double = 1) -> NDArray {
    let x = x.floating
    return NDArray.where(x .> 0, x, alpha * expm1(x))
}

/// The scaled exponential linear unit λ·elu(x, α) with α ≈ 1.6733 and λ ≈ 1.0507
/// (`torch.nn.functional.selu`; Klambauer et al. 2017).
public func selu(_ x: NDArray) -> NDArray {
    1.0507009873554804934193349852946 * elu(x, alpha: 1.6732632423543772848170429916717)
}

/// The continuously differentiable exponential linear unit (`torch.nn.functional.celu`):
/// max(0, x) + min(0, α·(e^{x/α} − 1)), α ≠ 0.
public func celu(_ x: NDArray, alpha: Double = 1) -> NDArray {
    let x = x.floating
    return NDArray.where(x .> 0, x, alpha * expm1(x / alpha))
}

/// x clamped to [`minValue`, `maxValue`] (`torch.nn.functional.hardtanh`). Unlike `clamp`, the
/// derivative is 0 at the bounds themselves, as PyTorch's: 1 only strictly inside.
public func hardtanh(_ x: NDArray, minValue: Double = -1, maxValue: Double = 1) -> NDArray {
    let x = x.floating
    let below = x .<= minValue, above = x .>= maxValue
    return NDArray.where(below, x.scalarLike(minValue), NDArray.where(above, x.scalarLike(maxValue), x))
}

/// min(max(x, 0), 6) (`torch.nn.functional.relu6`), with hardtanh's derivative: 0 at 0 and 6.
public func relu6(_ x: NDArray) -> NDArray { hardtanh(x, minValue: 0, maxValue: 6) }

/// relu6(x + 3) / 6 (`torch.nn.functional.hardsigmoid`): derivative 1/6 strictly between −3 and 3.
public func hardsigmoid(_ x: NDArray) -> NDArray { relu6(x.floating + 3) / 6 }

/// x / (1 + |x|) (`torch.nn.functional.softsign`).
public func softsign(_ x: NDArray) -> NDArray {
    let x = x.floating
    return x / (1 + abs(x))
}

/// x·tanh(softplus(x)) (`torch.nn.functional.mish`; Misra 2019).
public func mish(_ x: NDArray) -> NDArray {
    let x = x.floating
    return x * tanh(softplus(x))
}

extension NDArray {
    /// x·Φ(x), Φ the standard normal distribution function; with `approximate`, PyTorch's tanh form.
    public func gelu(approximate: Bool = false) -> NDArray { FluxionCore.gelu(self, approximate: approximate) }
    /// x·σ(x) (the swish).
    public func silu() -> NDArray { FluxionCore.silu(self) }
    /// log σ(x) = −softplus(−x), computed without overflow.
    public func logSigmoid() -> NDArray { FluxionCore.logSigmoid(self) }
    /// max(x, 0) + `negativeSlope`·min(x, 0).
    public func leakyRelu(negativeSlope: Double = 0.01) -> NDArray { FluxionCore.leakyRelu(self, negativeSlope: negativeSlope) }
    /// Softmax along `dim`: e^(xᵢ) / Σⱼ e^(xⱼ), computed stably (see the free function).
    public func softmax(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        FluxionCore.softmax(self, dim: dim, file: file, line: line)
    }
    /// Log-softmax along `dim`: xᵢ − log Σⱼ e^(xⱼ), computed stably (see the free function).
    public func logSoftmax(dim: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        FluxionCore.logSoftmax(self, dim: dim, file: file, line: line)
    }
}
