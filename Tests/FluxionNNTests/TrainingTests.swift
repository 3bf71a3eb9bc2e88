// Training end to end: linear regression to y = 2x + 1 by plain gradient descent (the seed's
// loop: backward, update under noGrad, zero the gradients) and a small MLP that learns XOR.

import Testing
import Fluxion
import FluxionNN

@Suite("Training")
struct TrainingTests {
    @Test("linear regression y = 2x + 1 by plain gradient descent reaches w ≈ 2, b ≈ 1")
    func linearRegression() throws {
        let model = Linear(1, 1, key: RandomKey(seed: 1))
        let x = Tensor(NDArray.linspace(-1, 1, count: 20).reshape([20, 1]))
        let y = 2 * x + 1
        var curve: [Double] = []
        for _ in 0..<200 {
            let loss = mseLoss(model(x), y)
            curve.append(loss.item())
            try loss.backward()
            try noGrad {
                for p in model.parameters() { try p.sub_(0.1 * p.grad!) }
            }
            model.zeroGrad()
        }
        print("linear regression, mse every 25 steps:", stride(from: 0, to: 200, by: 25).map { curve[$0] })
        let w = model.weight.item(), b = model.bias!.item()
        print("w = \(w), b = \(b)")
        #expect(Swift.abs(w - 2) < 1e-3 && Swift.abs(b - 1) < 1e-3)
        #expect(curve.last! < 1e-6 && zip(curve, curve.dropFirst()).allSatisfy { $1 <= $0 })
    }

    @Test("a small MLP learns XOR")
    func xor() throws {
        let model = Sequential(Linear(2, 8, key: RandomKey(seed: 2)), Tanh(), Linear(8, 1, key: RandomKey(seed: 3)))
        let x = Tensor(NDArray([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]))
        let y = Tensor(NDArray([[0.0], [1.0], [1.0], [0.0]]))
        let optimizer = Adam(model.parameters(), lr: 0.05)
        var curve: [Double] = []
        for _ in 0..<300 {
            optimizer.zeroGrad()
            let loss = binaryCrossEntropyWithLogits(model(x), y)
            curve.append(loss.item())
            try loss.backward()
            optimizer.step()
        }
        print("XOR, binary cross-entropy every 50 steps:", stride(from: 0, to: 300, by: 50).map { curve[$0] }, "final:", curve.last!)
        let predictions = try noGrad { sigmoid(model(x)) }.floats()
        print("XOR predictions:", predictions)
        #expect(zip(predictions, [0, 1, 1, 0] as [Float]).allSatisfy { Swift.abs($0 - $1) < 0.1 })
        #expect(curve.last! < 0.05)
    }
}
