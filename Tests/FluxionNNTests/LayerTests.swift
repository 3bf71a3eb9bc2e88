// Each layer's forward against hand-computed values, and its gradients (input and parameters)
// against central differences in float64.

import Foundation
import Testing
import Fluxion
import FluxionNN

/// A float64 tensor from rows.
func rows(_ values: [[Double]]) -> Tensor { Tensor(NDArray(values, dtype: .float64)) }

@Suite("Layers: forward values and gradient checks")
struct LayerTests {
    @Test("Linear: x·Wᵀ + b, one AddmmBackward0 node, any leading shape")
    func linear() throws {
        let layer = Linear(2, 3, dtype: .float64)
        layer.weight = rows([[1, 2], [3, 4], [5, 6]])
        layer.bias = Tensor(NDArray([0.5, -1, 2], dtype: .float64))
        #expect(layer.weight.requiresGrad && layer.bias!.requiresGrad)
        let y = layer(rows([[1, -1], [2, 0.5]]))
        expectClose(y, [-0.5, -2, 1, 3.5, 7, 15])
        #expect(y.gradFn?.name == "AddmmBackward0")
        #expect(y.gradFn?.nextFunctions.map { $0.node?.name } == [nil, "AccumulateGrad", "AccumulateGrad"])
        // A vector and a [2, 1, 2] batch take the same path.
        expectClose(layer(Tensor(NDArray([2, 0.5], dtype: .float64))), [3.5, 7, 15])
        let batched = layer(Tensor(NDArray(shape: [2, 1, 2], scalars: [1, -1, 2, 0.5], dtype: .float64)))
        #expect(batched.shape == [2, 1, 3])
        expectClose(batched, [-0.5, -2, 1, 3.5, 7, 15])
        let noBias = Linear(2, 3, bias: false, dtype: .float64)
        #expect(noBias.bias == nil && noBias.parameters().count == 1)
        #expect(noBias(rows([[1, 1]])).gradFn?.name == "MmBackward0")

        try gradcheck(Linear(3, 2, dtype: .float64, key: RandomKey(seed: 1)), randomArray([4, 3], seed: 2))
        try gradcheck(Linear(3, 2, bias: false, dtype: .float64, key: RandomKey(seed: 1)), randomArray([3], seed: 3))
        try gradcheck(Linear(3, 2, dtype: .float64, key: RandomKey(seed: 1)), randomArray([2, 2, 3], seed: 4))
    }

    @Test("Linear starts U(−1/√in, 1/√in), as PyTorch, and a key fixes it")
    func linearInitialization() throws {
        let layer = Linear(100, 50, key: RandomKey(seed: 7))
        let w = try layer.weight.detach().doubles(), b = try layer.bias!.detach().doubles()
        let bound = 1 / 10.0
        #expect(w.allSatisfy { Swift.abs($0) <= bound } && b.allSatisfy { Swift.abs($0) <= bound })
        #expect(w.max()! > 0.09 && w.min()! < -0.09)
        let mean = w.reduce(0, +) / Double(w.count), variance = w.reduce(0) { $0 + $1 * $1 } / Double(w.count)
        #expect(Swift.abs(mean) < 0.005 && Swift.abs(variance - bound * bound / 3) < 0.0003)
        #expect(try Linear(100, 50, key: RandomKey(seed: 7)).weight.detach().floats() == layer.weight.detach().floats())
        #expect(try Linear(100, 50, key: RandomKey(seed: 8)).weight.detach().floats() != layer.weight.detach().floats())
    }

    @Test("activations: hand values and gradients")
    func activations() throws {
        let x = Tensor(NDArray([-2, -0.5, 0.5, 1, 30], dtype: .float64))
        expectClose(ReLU()(x), [0, 0, 0.5, 1, 30])
        expectClose(Tanh()(x), [-0.9640275800758169, -0.46211715726000974, 0.46211715726000974, 0.7615941559557649, 1])
        expectClose(Sigmoid()(x), [0.11920292202211755, 0.3775406687981454, 0.6224593312018546, 0.7310585786300049, 1])
        expectClose(Softplus()(x), [0.12692801104297252, 0.47407698418010663, 0.9740769841801067, 1.3132616875182228, 30])
        expectClose(Softplus(beta: 2)(x), [0.009074963958904869, 0.15663084375911143, 0.6566308437591114, 1.0634640055214863, 30])
        expectClose(GELU()(x), [-0.04550026389635842, -0.15426876936299344, 0.34573123063700656, 0.8413447460685429, 30])
        expectClose(GELU(approximate: true)(x), [-0.04540230591222494, -0.15428599017485606, 0.34571400982514394, 0.8411919906082768, 30])
        expectClose(SiLU()(x), [-0.2384058440442351, -0.18877033439907268, 0.3112296656009273, 0.7310585786300049, 30])
        expectClose(LeakyReLU(negativeSlope: 0.1)(x), [-0.2, -0.05, 0.5, 1, 30])
        #expect(GELU()(try Tensor([1.0], requiresGrad: true)).gradFn?.name == "GeluBackward0")
        #expect(SiLU()(try Tensor([1.0], requiresGrad: true)).gradFn?.name == "SiluBackward0")

        let input = NDArray([-2, -0.7, -0.3, 0.4, 1.1, 2.5], dtype: .float64)
        for layer in [ReLU(), Tanh(), Sigmoid(), Softplus(), Softplus(beta: 2, threshold: 3), GELU(), GELU(approximate: true),
                      SiLU(), LeakyReLU(), Identity()] as [Module] {
            try gradcheck(layer, input)
        }
    }

    @Test("softmax and logSoftmax: rows sum to one; stable for large logits; gradients")
    func softmaxes() throws {
        let x = rows([[1, 2, 3], [1000, 0, -1000]])
        let e = [Foundation.exp(-2.0), Foundation.exp(-1.0), 1].map { $0 / (1 + Foundation.exp(-1.0) + Foundation.exp(-2.0)) }
        expectClose(Softmax(dim: 1)(x), e + [1, 0, 0])
        let lse = 3 + Foundation.log(1 + Foundation.exp(-1.0) + Foundation.exp(-2.0))
        expectClose(LogSoftmax(dim: 1)(x), [1 - lse, 2 - lse, 3 - lse, 0, -1000, -2000])
        expectClose(Softmax(dim: 0)(rows([[0], [0]])), [0.5, 0.5])
        #expect(softmax(try Tensor([1.0, 2.0], requiresGrad: true), dim: 0).gradFn?.name == "SoftmaxBackward0")
        #expect(logSoftmax(try Tensor([1.0, 2.0], requiresGrad: true), dim: 0).gradFn?.name == "LogSoftmaxBackward0")
        let input = randomArray([3, 4], in: -2...2, seed: 5)
        try gradcheck({ softmax($0[0], dim: 1) }, [input], "softmax")
        try gradcheck({ logSoftmax($0[0], dim: 0) }, [input], "logSoftmax")
        // Second derivatives through the transforms, against the first derivative's differences.
        let f = { (v: NDArray) in logSoftmax(v, dim: 0)[1] }
        let h = try hessian(f)(NDArray([0.3, -0.2, 1.1], dtype: .float64))
        let p = softmax(NDArray([0.3, -0.2, 1.1], dtype: .float64), dim: 0).doubles
        // ∂²/∂xᵢ∂xⱼ of −logΣexp = −(diag(p) − ppᵀ).
        var expected: [Double] = []
        for i in 0..<3 {
            for j in 0..<3 { expected.append(p[i] * p[j] - (i == j ? p[i] : 0)) }
        }
        expectClose(h, expected, rtol: 1e-10, atol: 1e-12)
    }

    @Test("Dropout: identity in eval; in training zeros with probability p, survivors scaled by 1/(1 − p)")
    func dropout() throws {
        let layer = Dropout(p: 0.25, key: RandomKey(seed: 3))
        let x = Tensor.ones([100, 100])
        let y = try layer(x).floats()
        let zeros = y.filter { $0 == 0 }.count
        #expect(y.allSatisfy { $0 == 0 || Swift.abs($0 - 4.0 / 3.0) < 1e-6 })
        #expect(zeros > 2300 && zeros < 2700)
        #expect(try layer(x).floats() != y)  // each call draws a new mask
        #expect(try Dropout(p: 0.25, key: RandomKey(seed: 3))(x).floats() == y)  // the key fixes the stream
        layer.eval()
        #expect(layer(x) === x)
        #expect(Dropout(p: 0)(x) === x)
        #expect(try Dropout(p: 1)(x).floats().allSatisfy { $0 == 0 })

        // The mask multiplies the gradient too.
        let input = try Tensor(NDArray.ones([50], dtype: .float64), requiresGrad: true)
        let train = Dropout(p: 0.5, key: RandomKey(seed: 4))
        let out = train(input)
        #expect(out.gradFn?.name == "NativeDropoutBackward0")
        try out.sum().backward()
        #expect(try input.grad!.doubles() == out.detach().doubles())

        // Under vmap, the vmap's randomness setting decides: a mask per example, or an error.
        let perExample = Dropout(p: 0.5, key: RandomKey(seed: 5))
        let masks = try vmap({ (row: Tensor) in perExample(row) }, randomness: .different)(Tensor.ones([4, 64]))
        let maskRows = try (0..<4).map { try masks[$0].floats() }
        #expect(Set(maskRows.map { $0.map { $0 == 0 } }).count == 4)
        #expect(throws: TransformError.self) { _ = try vmap({ (row: Tensor) in perExample(row) })(Tensor.ones([4, 64])) }
    }

    @Test("Flatten merges all but the batch dimension")
    func flatten() throws {
        let x = Tensor(NDArray.arange(0, 24).reshape([2, 3, 4]))
        #expect(Flatten()(x).shape == [2, 12])
        #expect(Flatten(startDim: 0, endDim: 1)(x).shape == [6, 4])
        #expect(try Flatten()(x).floats() == x.floats())
        try gradcheck(Flatten(), randomArray([2, 3, 2], seed: 6))
    }

    @Test("Embedding: rows by index, any index shape; gradients sum over repeated indices")
    func embedding() throws {
        let table = Embedding(3, 2, dtype: .float64)
        table.weight = rows([[0, 1], [2, 3], [4, 5]])
        let out = table(Tensor(NDArray([[2, 0], [1, 1]])))
        #expect(out.shape == [2, 2, 2])
        expectClose(out, [4, 5, 0, 1, 2, 3, 2, 3])
        #expect(out.gradFn?.name == "EmbeddingBackward0")
        try out.sum().backward()
        expectClose(table.weight.grad, [1, 1, 2, 2, 1, 1])
        // Gradient check of the table: indices have no derivative.
        let e = Embedding(4, 3, dtype: .float64, key: RandomKey(seed: 5))
        e.zeroGrad()
        let indices = NDArray([[3, 1, 1], [0, 2, 3]])
        let y = e(Tensor(indices))
        let u = randomArray(y.shape, seed: 7)
        try (y * Tensor(u)).sum().backward()
        var expected = [Double](repeating: 0, count: 12)
        for (k, i) in indices.ints.enumerated() {
            for d in 0..<3 { expected[i * 3 + d] += u.doubles[k * 3 + d] }
        }
        expectClose(e.weight.grad, expected, rtol: 1e-12, atol: 1e-12)
    }

    @Test("LayerNorm: per-row mean 0 and variance 1 (biased), then scale and shift")
    func layerNorm() throws {
        let norm = LayerNorm(3, dtype: .float64)
        let s = 1 / (2.0 / 3 + 1e-5).squareRoot()
        expectClose(norm(rows([[1, 2, 3], [2, 2, 2]])), [-s, 0, s, 0, 0, 0], rtol: 1e-12)
        norm.weight = Tensor(NDArray([1, 2, 3], dtype: .float64))
        norm.bias = Tensor(NDArray([0, 1, 0], dtype: .float64))
        let y = norm(rows([[1, 2, 3]]))
        expectClose(y, [-s, 1, 3 * s], rtol: 1e-12)
        #expect(y.gradFn?.name == "NativeLayerNormBackward0")
        #expect(LayerNorm(3, elementwiseAffine: false).parameters().isEmpty)
        #expect(LayerNorm([2, 3])(Tensor.randn([4, 2, 3])).shape == [4, 2, 3])

        let affine = LayerNorm([2, 3], dtype: .float64)
        affine.weight = Tensor(randomArray([2, 3], in: 0.5...1.5, seed: 8))
        affine.bias = Tensor(randomArray([2, 3], seed: 9))
        try gradcheck(affine, randomArray([2, 2, 3], in: -2...2, seed: 10))
        try gradcheck(LayerNorm(4, elementwiseAffine: false, dtype: .float64), randomArray([3, 4], in: -2...2, seed: 11))
    }

    @Test("Sequential chains its layers; gradients through the chain")
    func sequential() throws {
        let model = Sequential(Linear(3, 4, dtype: .float64, key: RandomKey(seed: 1)), Tanh(),
                               Linear(4, 2, dtype: .float64, key: RandomKey(seed: 2)), SiLU())
        let x = Tensor(randomArray([5, 3], seed: 3))
        let (l0, l2) = (model[0] as! Linear, model[2] as! Linear)
        expectClose(model(x), silu(l2(tanh(l0(x)))).value.doubles, rtol: 0, atol: 0)
        try gradcheck(model, randomArray([5, 3], seed: 3))
    }
}
