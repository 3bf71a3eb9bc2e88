// Losses: hand-computed values for each reduction, stability at extreme logits, PyTorch's node
// names, and gradients against central differences in float64.

import Foundation
import Testing
import Fluxion
import FluxionNN

/// A float64 tensor from values.
func vector(_ values: [Double]) -> Tensor { Tensor(NDArray(values, dtype: .float64)) }

@Suite("Losses: values, reductions, stability, gradients")
struct LossTests {
    @Test("mseLoss and l1Loss with none, mean and sum")
    func regression() throws {
        let x = vector([1, 2, 3]), y = vector([1, 0, 5])
        expectClose(mseLoss(x, y, reduction: .none), [0, 4, 4])
        expectClose(mseLoss(x, y), [8.0 / 3])
        expectClose(mseLoss(x, y, reduction: .sum), [8])
        expectClose(l1Loss(x, y, reduction: .none), [0, 2, 2])
        expectClose(l1Loss(x, y), [4.0 / 3])
        expectClose(l1Loss(x, y, reduction: .sum), [4])
        #expect(mseLoss(try Tensor([1.0], requiresGrad: true), Tensor.zeros([1])).gradFn?.name == "MseLossBackward0")
        #expect(l1Loss(try Tensor([1.0], requiresGrad: true), Tensor.zeros([1])).gradFn?.name == "L1LossBackward0")

        let a = randomArray([3, 4], seed: 1), b = randomArray([3, 4], seed: 2)
        for reduction in [Reduction.none, .mean, .sum] {
            try gradcheck({ mseLoss($0[0], $0[1], reduction: reduction) }, [a, b], "mse \(reduction)")
            try gradcheck({ l1Loss($0[0], $0[1], reduction: reduction) }, [a, b], "l1 \(reduction)")
        }
        // At x = y the L1 derivative is 0, as PyTorch's sign(0).
        let same = try Tensor([1.0, 2.0], requiresGrad: true)
        try l1Loss(same, Tensor(NDArray([1.0, 3.0]))).backward()
        #expect(try same.grad?.floats() == [0, -0.5])
    }

    @Test("crossEntropy: log Σ exp − the target's logit; nllLoss picks −log p")
    func classification() throws {
        let logits = rows([[1, 2, 3], [1, 1, 1]]), labels = Tensor(NDArray([2, 0]))
        let first = 3 + Foundation.log(1 + Foundation.exp(-1.0) + Foundation.exp(-2.0)) - 3, second = Foundation.log(3.0)
        expectClose(crossEntropy(logits, labels, reduction: .none), [first, second], rtol: 1e-12)
        expectClose(crossEntropy(logits, labels), [(first + second) / 2], rtol: 1e-12)
        expectClose(crossEntropy(logits, labels, reduction: .sum), [first + second], rtol: 1e-12)
        // One example: [C] scores and a 0-d label (as inside vmap).
        expectClose(crossEntropy(vector([1, 2, 3]), Tensor(NDArray(2))), [first], rtol: 1e-12)
        // Probability targets.
        expectClose(crossEntropy(logits, rows([[0, 0, 1], [1, 0, 0]])), [(first + second) / 2], rtol: 1e-12)

        let logProbabilities = rows([[-0.5, -1.2], [-2.0, -0.1]])
        expectClose(nllLoss(logProbabilities, Tensor(NDArray([1, 0]))), [1.6])
        expectClose(nllLoss(logProbabilities, Tensor(NDArray([1, 0])), reduction: .none), [1.2, 2.0])

        let scores = try Tensor(NDArray([[1.0, 2.0]]), requiresGrad: true)
        let loss = crossEntropy(scores, Tensor(NDArray([0])))
        #expect(loss.gradFn?.name == "NllLossBackward0")
        #expect(loss.gradFn?.nextFunctions.map { $0.node?.name } == ["LogSoftmaxBackward0"])
        // ∂/∂logits = softmax − onehot.
        try loss.backward()
        let p = 1 / (1 + Foundation.exp(1.0))
        expectClose(scores.grad, [p - 1, 1 - p], rtol: 1e-6)

        // Sequence-shaped scores [N, C, T] with targets [N, T].
        let sequence = randomArray([2, 3, 4], seed: 3)
        let targets = NDArray([[0, 2, 1, 1], [2, 2, 0, 1]])
        let perPosition = crossEntropy(sequence, targets, reduction: .none)
        #expect(perPosition.shape == [2, 4])
        let lsm = logSoftmax(sequence, dim: 1)
        expectClose(perPosition, (0..<8).map { k in -lsm[k / 4, targets.ints[k], k % 4].item() }, rtol: 1e-12)

        let scoresData = randomArray([4, 5], in: -3...3, seed: 4)
        let classes = Tensor(NDArray([4, 0, 2, 2]))
        for reduction in [Reduction.none, .mean, .sum] {
            try gradcheck({ crossEntropy($0[0], classes, reduction: reduction) }, [scoresData], "crossEntropy \(reduction)")
            try gradcheck({ nllLoss(logSoftmax($0[0], dim: 1), classes, reduction: reduction) }, [scoresData], "nll \(reduction)")
        }
        let soft = softmax(randomArray([4, 5], seed: 5), dim: 1)
        try gradcheck({ crossEntropy($0[0], $0[1]) }, [scoresData, soft], "crossEntropy with probabilities")
    }

    @Test("crossEntropy is exact for logits far apart")
    func crossEntropyStability() throws {
        let far = try Tensor(NDArray([[1000.0, 0.0], [-1000.0, 1000.0]]), requiresGrad: true)
        let loss = crossEntropy(far, Tensor(NDArray([1, 1])), reduction: .none)
        expectClose(loss, [1000, 0])
        try loss.sum().backward()
        expectClose(far.grad, [1, -1, 0, 0])
    }

    @Test("binaryCrossEntropyWithLogits: softplus(x) − x·y; positive weight; stable at ±100")
    func logistic() throws {
        let x = vector([0, 2, -1]), y = vector([1, 0, 0.5])
        let expected = [Foundation.log(2.0), Foundation.log(1 + Foundation.exp(2.0)), Foundation.log(1 + Foundation.exp(-1.0)) + 0.5]
        expectClose(binaryCrossEntropyWithLogits(x, y, reduction: .none), expected, rtol: 1e-12)
        expectClose(binaryCrossEntropyWithLogits(x, y), [expected.reduce(0, +) / 3], rtol: 1e-12)
        expectClose(binaryCrossEntropyWithLogits(x, y, posWeight: vector([2]), reduction: .none),
                    [2 * Foundation.log(2.0), expected[1], 0.5 * -1 + 1.5 * Foundation.log(1 + Foundation.exp(1.0))], rtol: 1e-12)
        expectClose(binaryCrossEntropyWithLogits(vector([100, -100, 100]), vector([0, 1, 1]), reduction: .none), [100, 100, 0])
        let logits = try Tensor(NDArray([3.0]), requiresGrad: true)
        let loss = binaryCrossEntropyWithLogits(logits, Tensor(NDArray([1.0])))
        #expect(loss.gradFn?.name == "BinaryCrossEntropyWithLogitsBackward0")
        try loss.backward()
        expectClose(logits.grad, [1 / (1 + Foundation.exp(3.0)) * -1], rtol: 1e-6)

        let a = randomArray([3, 2], in: -3...3, seed: 6), t = randomArray([3, 2], in: 0...1, seed: 7)
        for reduction in [Reduction.none, .mean, .sum] {
            try gradcheck({ binaryCrossEntropyWithLogits($0[0], $0[1], reduction: reduction) }, [a, t], "bce \(reduction)")
        }
        try gradcheck({ binaryCrossEntropyWithLogits($0[0], $0[1], posWeight: $0[2]) }, [a, t, randomArray([2], in: 0.5...3, seed: 8)],
                      "bce with posWeight")
    }
}
