// torch.func's tests of modules as functions of their parameters (pytorch/pytorch,
// test/functorch/test_eager_transforms.py: TestVmapOfGrad.test_per_sample_grads_embeddingnet
// with the functional_call mechanism, TestMakeFunctional.test_parameter_tying_grad and
// test_using_detach_functional_call), translated to `functionalCall`. References: the
// per-example loop upstream compares against, and closed forms computed in plain Swift.
//
// Not translated: `make_functional`, `make_functional_with_buffers` and
// `combine_state_for_ensemble` (deprecated upstream; `functionalCall` and `stackModuleState`
// are their counterparts, covered in FunctionalCallTests.swift), buffers, Dropout2d, and the
// MNIST network's convolutions (covered by the convolution tests).

import Testing
import Fluxion
import FluxionNN

/// Upstream's SampleNet: an embedding averaged over the words, two linear layers.
private final class SampleNet: Module, @unchecked Sendable {
    let emb: Embedding
    let fc1: Linear
    let fc2: Linear
    init(vocabulary: Int) {
        let keys = RandomKey(seed: 41).split(into: 3)
        emb = Embedding(vocabulary, 16, dtype: .float64, key: keys[0])
        fc1 = Linear(16, 16, dtype: .float64, key: keys[1])
        fc2 = Linear(16, 2, dtype: .float64, key: keys[2])
    }
    override func forward(_ x: Tensor) -> Tensor {
        let words = emb(x).transpose(-1, -2).mean(dim: -1)
        return fc2(relu(fc1(words)))
    }
}

/// Upstream's Foo of test_parameter_tying_grad: one linear layer applied twice with the same
/// weight and bias.
private final class TwiceLinear: Module, @unchecked Sendable {
    let linear = Linear(3, 3, dtype: .float64, key: RandomKey(seed: 42))
    override func forward(_ x: Tensor) -> Tensor { linear(linear(x)) }
}

@Suite("torch.func test_eager_transforms: functional_call")
struct PyTorchFunctionalCallTests {
    // TestVmapOfGrad.test_per_sample_grads_embeddingnet (functional_call): vmap of grad equals
    // the loop of grads, per parameter
    @Test func perSampleGradientsOfAnEmbeddingNetwork() throws {
        let (vocabulary, batch, words) = (50, 8, 5)
        let net = SampleNet(vocabulary: vocabulary)
        let data = Tensor(NDArray.randint(low: 0, high: vocabulary, [batch, words], key: RandomKey(seed: 43)))
        let targets = Tensor(NDArray.randint(low: 0, high: 2, [batch], key: RandomKey(seed: 44)))
        func computeLoss(_ weights: [String: Tensor], _ data: Tensor, _ target: Tensor) throws -> Tensor {
            crossEntropy(try functionalCall(net, parameters: weights, data), target)
        }
        let weights = net.stateDict()
        let result = try vmap(grad(computeLoss), inAxes: (nil, 0, 0))(weights, data, targets)
        #expect(Set(result.keys) == ["emb.weight", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        #expect(result["emb.weight"]!.shape == [batch, vocabulary, 16])
        for i in 0..<batch {
            let expected = try grad(computeLoss)(weights, data[i], targets[i])
            for (name, g) in expected {
                expectClose(result[name]![i].value, g.value.doubles, rtol: 1e-10, atol: 1e-12, "\(name), example \(i)")
            }
        }
    }

    // TestMakeFunctional.test_parameter_tying_grad: a parameter used twice gets both uses' gradient.
    // y = W(Wx + b) + b, L = Σ y: ∂L/∂W = Σ_rows (1·hᵀ + (Wᵀ1)·xᵀ), ∂L/∂b = Σ_rows (1 + Wᵀ1)
    @Test func tiedUsesAddUp() throws {
        let model = TwiceLinear()
        let xv = randomArray([2, 3], seed: 45).doubles
        let w = model.linear.weight.value.doubles
        let b = model.linear.bias!.value.doubles
        func loss(_ p: [String: Tensor], _ x: Tensor) throws -> Tensor { try functionalCall(model, parameters: p, x).sum() }
        let g = try grad(loss)(model.stateDict(), Tensor(NDArray(shape: [2, 3], scalars: xv, dtype: .float64)))
        let wT1 = (0..<3).map { j in (0..<3).reduce(0.0) { $0 + w[$1 * 3 + j] } }
        var gw = [Double](repeating: 0, count: 9), gb = [Double](repeating: 0, count: 3)
        for row in 0..<2 {
            let x = Array(xv[(row * 3)..<(row * 3 + 3)])
            let h = (0..<3).map { i in (0..<3).reduce(b[i]) { $0 + w[i * 3 + $1] * x[$1] } }
            for i in 0..<3 {
                for j in 0..<3 { gw[i * 3 + j] += h[j] + wT1[i] * x[j] }
                gb[i] += 1 + wT1[i]
            }
        }
        expectClose(g["linear.weight"]!.value, gw, rtol: 1e-5, atol: 1e-6, "weight")
        expectClose(g["linear.bias"]!.value, gb, rtol: 1e-5, atol: 1e-6, "bias")
    }

    // TestMakeFunctional.test_using_detach_functional_call: detached parameters give an output
    // without history; the module's own (requiring grad) give one with history
    @Test func detachedParametersGiveNoHistory() throws {
        let model = TwiceLinear()
        let x = Tensor(randomArray([3, 3], seed: 46))
        let detached = try functionalCall(model, parameters: model.stateDict().mapValues { $0.detach() }, x)
        #expect(detached.gradFn == nil)
        let attached = try functionalCall(model, parameters: Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor) }), x)
        #expect(attached.gradFn != nil)
    }
}
