// Loss functions (`torch.nn.functional`), on arrays and on tensors. Each tensor loss is its
// array loss recorded as one graph node with PyTorch's name (`MseLossBackward0`, …), except
// `crossEntropy`, which is `nllLoss(logSoftmax(x))` as in PyTorch, two nodes.
//
// ```
// mse       (x − y)²
// l1        |x − y|                                   (derivative 0 at x = y, as PyTorch)
// nll       −x[class]                                 (x: log-probabilities)
// crossEntropy  −logSoftmax(x)[class] = logΣexp(x) − x[class]
// bceWithLogits (1 − y)·x + softplus(−x)·(1 + (p − 1)·y)   (p: posWeight, default 1)
// ```
//
// Stability: cross-entropy never forms probabilities (logSoftmax subtracts the maximum), and
// the logistic loss uses softplus, log(1 + eˣ) computed as max(x, 0) + log1p(e^−|x|), so
// neither overflows or loses precision for large logits.
//
// Shapes follow PyTorch: class scores are `[N, C]` (or `[N, C, d…]` with targets `[N, d…]`), and
// a single example `[C]` with a 0-d target works too (as inside `vmap`). Class weights,
// ignored indices and label smoothing are left out.

import Fluxion
import FluxionCore

/// How a loss combines its per-element values.
public enum Reduction: Sendable {
    /// One loss per element (or example), unreduced.
    case none
    /// The mean (for a weighted `nllLoss`, the weighted mean).
    case mean
    /// The sum.
    case sum
}

extension NDArray {
    fileprivate func reduced(_ reduction: Reduction) -> NDArray {
        switch reduction {
        case .none: self
        case .mean: mean()
        case .sum: sum()
        }
    }
}

// MARK: - Regression

/// The squared error (x − y)², reduced (`mse_loss`).
public func mseLoss(_ input: NDArray, _ target: NDArray, reduction: Reduction = .mean) -> NDArray {
    let d = input - target
    return (d * d).reduced(reduction)
}

/// The squared error on tensors, as one node (`MseLossBackward0`).
public func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    Tensor.composite("MseLossBackward0", [input, target]) { mseLoss($0[0], $0[1], reduction: reduction) }
}

/// The absolute error |x − y|, reduced (`l1_loss`).
public func l1Loss(_ input: NDArray, _ target: NDArray, reduction: Reduction = .mean) -> NDArray {
    abs(input - target).reduced(reduction)
}

/// The absolute error on tensors, as one node (`L1LossBackward0`; its derivative is 0 where
/// x = y).
public func l1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    Tensor.composite("L1LossBackward0", [input, target]) { l1Loss($0[0], $0[1], reduction: reduction) }
}

// MARK: - Classification

/// The dimension holding the classes: 1, or 0 for a single example.
private func classDim(_ input: NDArray) -> Int { input.rank >= 2 ? 1 : 0 }

/// The negative log-likelihood −x[n, target[n]] of log-probabilities `input` `[N, C]` at the
/// int64 class indices `target` `[N]`, reduced (`nll_loss`).
public func nllLoss(_ input: NDArray, _ target: NDArray, reduction: Reduction = .mean,
                    file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    negativeLogLikelihood(input, target, reduction: reduction, operation: "nllLoss", file: file, line: line)
}

/// `nllLoss`, its misuse named as `operation` (the loss the user called).
private func negativeLogLikelihood(_ input: NDArray, _ target: NDArray, reduction: Reduction, operation: String,
                                   file: StaticString, line: UInt) -> NDArray {
    guard target.dtype == .int64 else {
        fail(operation, "targets must be int64 class indices, got \(target.dtype)", fix: "convert them with .to(.int64)", file: file, line: line)
    }
    let d = classDim(input)
    var expected = input.shape
    expected.remove(at: d)
    guard target.shape == expected else {
        fail(operation, "targets of shape \(describe(target.shape)) do not fit scores of shape \(describe(input.shape)) (expected \(describe(expected)))",
             fix: "give one class index per example", file: file, line: line)
    }
    let classes = input.shape[d]
    // Labels inside vmap are not readable here; the gather kernel checks those.
    if let bad = target.firstIndex(outside: 0..<classes) {
        fail(operation, "class index \(bad) is out of range for \(classes) classes (scores of shape \(describe(input.shape)))",
             fix: "use class indices in 0..<\(classes), or give the scores one column per class", file: file, line: line)
    }
    let picked = input.gather(dim: d, index: target.unsqueeze(d), file: file, line: line).squeeze(dim: d)
    return (-picked).reduced(reduction)
}

/// The negative log-likelihood on tensors, as one node (`NllLossBackward0`).
public func nllLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean,
                    file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let labels = target.value
    return Tensor.composite("NllLossBackward0", [input]) { nllLoss($0[0], labels, reduction: reduction, file: file, line: line) }
}

/// The cross-entropy of class scores (logits) `input` `[N, C]` against int64 class indices
/// `target` `[N]` (`cross_entropy`), or against class probabilities of the input's shape:
///
/// ```
/// loss[n] = log Σ_c exp(input[n, c]) − input[n, target[n]]
/// ```
public func crossEntropy(_ input: NDArray, _ target: NDArray, reduction: Reduction = .mean,
                         file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let logProbabilities = logSoftmax(input, dim: classDim(input), file: file, line: line)
    if target.dtype.isFloatingPoint {
        return probabilityCrossEntropy(logProbabilities, target, reduction: reduction, file: file, line: line)
    }
    return negativeLogLikelihood(logProbabilities, target, reduction: reduction, operation: "crossEntropy", file: file, line: line)
}

/// The cross-entropy on tensors: `nllLoss(logSoftmax(input))`, two nodes as in PyTorch
/// (`NllLossBackward0` over `LogSoftmaxBackward0`).
public func crossEntropy(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean,
                         file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let logProbabilities = logSoftmax(input, dim: classDim(input.value), file: file, line: line)
    if target.dtype.isFloatingPoint {
        return Tensor.composite("CrossEntropyBackward0", [logProbabilities, target]) {
            probabilityCrossEntropy($0[0], $0[1], reduction: reduction, file: file, line: line)
        }
    }
    return nllLoss(logProbabilities, target, reduction: reduction, file: file, line: line)
}

/// −Σ_c p[c]·log q[c] per example, reduced over examples.
private func probabilityCrossEntropy(_ logProbabilities: NDArray, _ target: NDArray, reduction: Reduction,
                                     file: StaticString, line: UInt) -> NDArray {
    guard target.shape == logProbabilities.shape else {
        fail("crossEntropy", "probability targets of shape \(describe(target.shape)) differ from scores of shape \(describe(logProbabilities.shape))",
             fix: "pass int64 class indices, or probabilities of the scores' shape", file: file, line: line)
    }
    return (-(target * logProbabilities).sum(dim: classDim(logProbabilities))).reduced(reduction)
}

/// The logistic loss of logits `input` against targets in [0, 1] of the same shape
/// (`binary_cross_entropy_with_logits`), with an optional weight `posWeight` on the positive
/// term (broadcast over the last dimension, as PyTorch's):
///
/// ```
/// loss = (1 − y)·x + (1 + (posWeight − 1)·y)·softplus(−x)
/// ```
public func binaryCrossEntropyWithLogits(_ input: NDArray, _ target: NDArray, posWeight: NDArray? = nil,
                                         reduction: Reduction = .mean) -> NDArray {
    let negativeLogSigmoid = softplus(-input)
    let weighted = posWeight.map { (1 + ($0 - 1) * target) * negativeLogSigmoid } ?? negativeLogSigmoid
    return ((1 - target) * input + weighted).reduced(reduction)
}

/// The logistic loss on tensors, as one node (`BinaryCrossEntropyWithLogitsBackward0`).
public func binaryCrossEntropyWithLogits(_ input: Tensor, _ target: Tensor, posWeight: Tensor? = nil,
                                         reduction: Reduction = .mean) -> Tensor {
    Tensor.composite("BinaryCrossEntropyWithLogitsBackward0", [input, target, posWeight]) { xs in
        binaryCrossEntropyWithLogits(xs[0], xs[1], posWeight: posWeight == nil ? nil : xs[2], reduction: reduction)
    }
}
