// The seed's exercises on controlling the graph, with a 3-layer MLP: a validation pass under
// noGrad records nothing; a backward hook on the first Linear prints the gradient's L2 norm
// once per backward (a positive number); detaching layer two's output starves layer one.

import Testing
import Fluxion
import FluxionNN

/// A 3-layer MLP whose second layer's output can be detached.
final class ThreeLayerMLP: Module, @unchecked Sendable {
    let layer1 = Linear(8, 16, key: RandomKey(seed: 21))
    let layer2 = Linear(16, 16, key: RandomKey(seed: 22))
    let layer3 = Linear(16, 4, key: RandomKey(seed: 23))
    var detachSecond = false

    override func forward(_ x: Tensor) -> Tensor {
        let h1 = relu(layer1(x))
        var h2 = relu(layer2(h1))
        if detachSecond { h2 = h2.detach() }
        return layer3(h2)
    }
}

@Suite("Seed exercises: noGrad, hooks, detach with a 3-layer MLP")
struct SeedExerciseTests {
    let x = Tensor.randn([32, 8], key: RandomKey(seed: 24))
    let labels = Tensor((NDArray.uniform([32], low: 0, high: 4, key: RandomKey(seed: 25))).to(.int64))

    @Test("a training step, then a validation pass under noGrad that records nothing")
    func validationRecordsNothing() throws {
        let model = ThreeLayerMLP()
        let optimizer = SGD(model.parameters(), lr: 0.1)
        let loss = crossEntropy(model(x), labels)
        try loss.backward()
        optimizer.step()
        optimizer.zeroGrad()

        let log = Recorder()
        for layer in [model.layer1, model.layer2, model.layer3] {
            layer.registerForwardHook { _, _, output in
                log.events.append(output.requiresGrad || output.gradFn != nil ? "recorded" : "not recorded")
                return nil
            }
        }
        model.eval()
        let validation = noGrad { crossEntropy(model(x), labels) }
        #expect(!validation.requiresGrad && validation.gradFn == nil)
        #expect(log.events == ["not recorded", "not recorded", "not recorded"])
        #expect(throws: AutogradError.self) { try validation.backward() }
        #expect(model.parameters().allSatisfy { $0.grad == nil })
    }

    @Test("a backward hook on the first Linear prints the gradient's L2 norm once per backward")
    func hookPrintsNorm() throws {
        let model = ThreeLayerMLP()
        let optimizer = SGD(model.parameters(), lr: 0.1)
        let log = Recorder()
        model.layer1.registerFullBackwardHook { _, _, gradOutput in
            let norm = gradOutput.norm().item()
            print("layer1 gradient L2 norm: \(norm)")
            log.events.append("\(norm)")
            return nil
        }
        for step in 1...3 {
            optimizer.zeroGrad()
            try crossEntropy(model(x), labels).backward()
            optimizer.step()
            #expect(log.events.count == step)
        }
        #expect(log.events.compactMap(Double.init).allSatisfy { $0 > 0 })
    }

    @Test("detaching layer two's output leaves layer one (and two) without gradient")
    func detachStarvesLayerOne() throws {
        let model = ThreeLayerMLP()
        model.detachSecond = true
        let log = Recorder()
        model.layer1.registerFullBackwardHook { _, _, gradOutput in
            log.events.append("\(gradOutput.norm().item())")
            return nil
        }
        try crossEntropy(model(x), labels).backward()
        let norm = model.layer1.weight.grad.map { $0.norm().item() } ?? 0
        print("layer1 weight gradient L2 norm after detach: \(norm)")
        #expect(norm == 0)
        #expect(model.layer1.weight.grad == nil && model.layer2.weight.grad == nil)
        #expect(log.events.isEmpty)
        #expect(model.layer3.weight.grad.map { $0.norm().item() > 0 } == true)
    }
}
