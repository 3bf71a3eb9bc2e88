// perSampleGradientNorms and clippedGradientSum against their definition: per-example
// gradients by vmap(grad) over functionalCall, their norms, and the explicitly clipped sum
// Σᵢ min(1, C/(‖gᵢ‖ + 10⁻⁶))·gᵢ. Every layer with a ghost rule is covered on each of its paths
// (vector and sequence inputs; the Gram form and the formed gradients), and so are models
// mixing ruled layers with parameters that take the vmap(grad) fallback. Tolerances: 1e-10
// relative in float64, 1e-5 in float32.

import Testing
import Fluxion
import FluxionNN

/// A module running `body` over child modules and its own parameters, for test models.
final class Composite: Module, @unchecked Sendable {
    let parts: [Module]
    @Parameter var scale: Tensor?
    let body: (Composite, Tensor) -> Tensor
    init(_ parts: [Module], scale: Tensor? = nil, _ body: @escaping (Composite, Tensor) -> Tensor) {
        self.parts = parts
        self.body = body
        self.scale = scale
    }
    override func forward(_ input: Tensor) -> Tensor { body(self, input) }
}

/// The norms and the clipped sum from per-example gradients formed by vmap(grad).
func explicitClipping(_ model: Module, _ x: Tensor, _ y: Tensor, loss: @escaping PerExampleLoss,
                      maxNorm: Double) throws -> (norms: [Double], sums: [String: [Double]]) {
    let f = { (p: [String: Tensor], x: Tensor, y: Tensor) throws -> Tensor in
        try loss(try functionalCall(model, parameters: p, x.unsqueeze(0)), y.unsqueeze(0)).sum()
    }
    let grads = try vmap(grad(f), inAxes: (nil, 0, 0))(model.stateDict(), x, y)
    let batch = x.shape[0]
    let rows = try grads.mapValues { g in
        let flat = try g.doubles()
        let width = flat.count / max(batch, 1)
        return (0..<batch).map { Array(flat[($0 * width)..<(($0 + 1) * width)]) }
    }
    let norms = (0..<batch).map { i in rows.values.reduce(0) { $0 + $1[i].reduce(0) { $0 + $1 * $1 } }.squareRoot() }
    let factors = norms.map { Swift.min(1, maxNorm / ($0 + 1e-6)) }
    let sums = rows.mapValues { r in
        (0..<(r.first?.count ?? 0)).map { k in (0..<batch).reduce(0) { $0 + factors[$1] * r[$1][k] } }
    }
    return (norms, sums)
}

/// Expects the ghost norms and clipped sum of `model` to equal explicit clipping.
/// The bound C is the median norm, so that some examples are clipped and some not.
func expectMatchesExplicitClipping(_ model: Module, _ x: Tensor, _ y: Tensor, loss: @escaping PerExampleLoss,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let rtol = model.parameters()[0].dtype == .float64 ? 1e-10 : 1e-5
    let unclipped = try explicitClipping(model, x, y, loss: loss, maxNorm: .infinity).norms.sorted()
    let maxNorm = (unclipped[unclipped.count / 2] + unclipped[(unclipped.count - 1) / 2]) / 2
    let expected = try explicitClipping(model, x, y, loss: loss, maxNorm: maxNorm)
    let norms = try perSampleGradientNorms(model, x, y, loss: loss, chunkSize: 3)
    expectClose(try norms.doubles(), expected.norms, rtol: rtol, atol: rtol * 1e-3, "norms", sourceLocation: sourceLocation)
    let clipped = try clippedGradientSum(model, x, y, loss: loss, maxNorm: maxNorm, chunkSize: 3)
    expectClose(try clipped.norms.doubles(), expected.norms, rtol: rtol, atol: rtol * 1e-3, "norms of the clipped sum",
                sourceLocation: sourceLocation)
    #expect(Set(clipped.gradients.keys) == Set(expected.sums.keys), sourceLocation: sourceLocation)
    for (name, sum) in expected.sums {
        expectClose(try clipped.gradients[name]?.doubles() ?? [], sum, rtol: rtol, atol: rtol * 1e-3, name, sourceLocation: sourceLocation)
    }
    // Some examples are clipped and some not, so the factors are exercised.
    #expect(expected.norms.contains { $0 > maxNorm } && expected.norms.contains { $0 < maxNorm },
            "maxNorm \(maxNorm) should split the norms \(expected.norms)", sourceLocation: sourceLocation)
}

private func labels(_ batch: Int, classes: Int, seed: UInt64) -> Tensor {
    Tensor.randint(high: classes, [batch], key: RandomKey(seed: seed))
}

private func classification(_ o: Tensor, _ t: Tensor) -> Tensor { crossEntropy(o, t, reduction: .none) }
/// Squared error summed over everything but the example axis.
private func squaredError(_ o: Tensor, _ t: Tensor) -> Tensor {
    let d = o - t
    return (d * d).reshape([o.shape[0], -1]).sum(dim: 1)
}

@Suite("Ghost clipping: per-example norms and clipped sums equal vmap(grad) then clipping")
struct GhostClippingTests {
    @Test("Linear on vectors, float64 and float32")
    func linearVectors() throws {
        for dtype in [DType.float64, .float32] {
            let keys = RandomKey(seed: 1).split(into: 3)
            let model = Sequential(Linear(5, 6, dtype: dtype, key: keys[0]), Tanh(), Linear(6, 3, dtype: dtype, key: keys[1]))
            let x = Tensor.randn([7, 5], key: keys[2], dtype: dtype) * 2
            try expectMatchesExplicitClipping(model, x, labels(7, classes: 3, seed: 2), loss: classification)
        }
    }

    @Test("Linear on sequences: the Gram form (T² ≤ in·out) and formed gradients (T² > in·out)")
    func linearSequences() throws {
        let keys = RandomKey(seed: 3).split(into: 4)
        // T = 6: 36 ≤ 4·10 takes the Gram form for the first layer, 36 > 2·4 forms the second's.
        let model = Sequential(Linear(4, 10, dtype: .float64, key: keys[0]), Tanh(), Linear(10, 2, dtype: .float64, key: keys[1]))
        let x = Tensor.randn([5, 6, 4], key: keys[2], dtype: .float64)
        let y = Tensor.randn([5, 6, 2], key: keys[3], dtype: .float64)
        try expectMatchesExplicitClipping(model, x, y, loss: squaredError)
    }

    @Test("Conv2d: formed gradients (many positions) and the Gram form (few, strided), with and without bias")
    func conv2d() throws {
        let keys = RandomKey(seed: 4).split(into: 4)
        let first = Conv2d(2, 3, kernelSize: 3, padding: 1, dtype: .float64, key: keys[0])
        let second = Conv2d(3, 4, kernelSize: 3, stride: 2, padding: 1, bias: false, dtype: .float64, key: keys[1])
        let head = Linear(36, 3, dtype: .float64, key: keys[2])
        let model = Composite([first, second, head]) { m, x in
            m.parts[2](tanh(m.parts[1](tanh(m.parts[0](x)))).flatten(startDim: 1))
        }
        let x = Tensor.randn([6, 2, 6, 6], key: keys[3], dtype: .float64)
        try expectMatchesExplicitClipping(model, x, labels(6, classes: 3, seed: 5), loss: classification)
    }

    @Test("Embedding with repeated indices within an example")
    func embedding() throws {
        let keys = RandomKey(seed: 6).split(into: 3)
        let table = Embedding(5, 4, dtype: .float64, key: keys[0])
        let head = Linear(4, 3, dtype: .float64, key: keys[1])
        let model = Composite([table, head]) { m, x in m.parts[1](m.parts[0](x).sum(dim: 1)) }
        let x = Tensor.randint(high: 5, [8, 6], key: keys[2])    // 6 draws from 5 rows: repeats in every example
        try expectMatchesExplicitClipping(model, x, labels(8, classes: 3, seed: 7), loss: classification)
    }

    @Test("LayerNorm over one and two dimensions, with and without bias")
    func layerNorm() throws {
        let keys = RandomKey(seed: 8).split(into: 4)
        let first = LayerNorm([3, 4], dtype: .float64)
        let second = LayerNorm(4, bias: false, dtype: .float64)
        // Non-trivial affine values, so that the weight's gradient is not the bias's.
        try first.loadStateDict(["weight": Tensor.randn([3, 4], key: keys[0], dtype: .float64),
                                 "bias": Tensor.randn([3, 4], key: keys[1], dtype: .float64)])
        let head = Linear(4, 4, dtype: .float64, key: keys[2])
        let model = Composite([first, head, second]) { m, x in m.parts[2](tanh(m.parts[1](m.parts[0](x)))) }
        let x = Tensor.randn([5, 3, 4], key: keys[3], dtype: .float64)
        try expectMatchesExplicitClipping(model, x, Tensor.randn([5, 3, 4], key: RandomKey(seed: 9), dtype: .float64),
                                          loss: squaredError)
    }

    @Test("a model mixing ruled layers with a parameter of its own and a layer called twice (the fallback)")
    func mixed() throws {
        let keys = RandomKey(seed: 10).split(into: 5)
        let shared = Linear(4, 4, dtype: .float64, key: keys[0])
        let norm = LayerNorm(4, dtype: .float64)
        let head = Linear(4, 3, dtype: .float64, key: keys[1])
        let model = Composite([shared, norm, head], scale: Tensor.randn([4], key: keys[2], dtype: .float64)) { m, x in
            let h = tanh(m.parts[0](x)) * m.scale!
            return m.parts[2](m.parts[1](tanh(m.parts[0](h))))
        }
        let x = Tensor.randn([7, 4], key: keys[3], dtype: .float64)
        try expectMatchesExplicitClipping(model, x, labels(7, classes: 3, seed: 11), loss: classification)
    }

    @Test("with parameters substituted as functionalCall takes them, the results are those of a module holding them")
    func substitutedParameters() throws {
        func build(_ seed: UInt64) -> Composite {
            let keys = RandomKey(seed: seed).split(into: 3)
            let parts: [Module] = [Linear(4, 5, dtype: .float64, key: keys[0]), Linear(5, 3, dtype: .float64, key: keys[1])]
            return Composite(parts, scale: Tensor.randn([5], key: keys[2], dtype: .float64)) { m, x in
                m.parts[1](tanh(m.parts[0](x)) * m.scale!)
            }
        }
        let (model, other) = (build(15), build(16))
        let x = Tensor.randn([6, 4], key: RandomKey(seed: 17), dtype: .float64) * 2
        let y = labels(6, classes: 3, seed: 18)
        let expected = try clippedGradientSum(other, x, y, loss: classification, maxNorm: 1)
        let substituted = try clippedGradientSum(model, parameters: other.stateDict(), x, y, loss: classification, maxNorm: 1)
        expectClose(try substituted.norms.doubles(), try expected.norms.doubles(), rtol: 1e-12, atol: 0, "norms")
        #expect(try perSampleGradientNorms(model, parameters: other.stateDict(), x, y, loss: classification).doubles()
                == (try substituted.norms.doubles()))
        for (name, g) in expected.gradients {
            expectClose(try substituted.gradients[name]?.doubles() ?? [], try g.doubles(), rtol: 1e-12, atol: 0, name)
        }
        // The module's own parameters are untouched and not what was used.
        #expect(try perSampleGradientNorms(model, x, y, loss: classification).doubles() != (try expected.norms.doubles()))
    }

    @Test("a weight tied between two layers takes the fallback, so its norm counts both uses")
    func tiedWeights() throws {
        let keys = RandomKey(seed: 30).split(into: 4)
        let first = Linear(4, 4, dtype: .float64, key: keys[0])
        let second = Linear(4, 4, dtype: .float64, key: keys[1])
        second.weight = first.weight
        let model = Sequential(first, Tanh(), second, Tanh(), Linear(4, 3, dtype: .float64, key: keys[2]))
        let x = Tensor.randn([6, 4], key: keys[3], dtype: .float64)
        try expectMatchesExplicitClipping(model, x, labels(6, classes: 3, seed: 31), loss: classification)
    }

    @Test("a loss that reads its values cannot be staged, and gives the same results run eagerly")
    func lossReadingValues() throws {
        let keys = RandomKey(seed: 40).split(into: 3)
        let model = Sequential(Linear(3, 5, dtype: .float64, key: keys[0]), Tanh(), Linear(5, 2, dtype: .float64, key: keys[1]))
        let x = Tensor.randn([5, 3], key: keys[2], dtype: .float64)
        let y = labels(5, classes: 2, seed: 41)
        let plain = { (o: Tensor, t: Tensor) in classification(o, t) * 3 }
        // Reads the targets (Swift control flow on an array's values).
        let reading = { (o: Tensor, t: Tensor) throws -> Tensor in
            classification(o, t) * (t.value.doubles.allSatisfy { $0 < 2 } ? 3 : 0)
        }
        let expected = try clippedGradientSum(model, x, y, loss: plain, maxNorm: 0.3)
        let read = try clippedGradientSum(model, x, y, loss: reading, maxNorm: 0.3)
        expectClose(try read.norms.doubles(), try expected.norms.doubles(), rtol: 1e-12, atol: 0, "norms")
        for (name, g) in expected.gradients {
            expectClose(try read.gradients[name]?.doubles() ?? [], try g.doubles(), rtol: 1e-12, atol: 0, name)
        }
    }

    @Test("under jit, norms and clipped sums stage into one program and equal the eager ones, batch after batch",
          arguments: [false, true])
    func underJit(mixed: Bool) throws {
        let keys = RandomKey(seed: 20).split(into: 7)
        let model = Composite([Embedding(10, 4, dtype: .float64, key: keys[0]), Linear(4, 3, dtype: .float64, key: keys[1])],
                              scale: mixed ? Tensor.randn([4], key: keys[2], dtype: .float64) : nil) { m, x in
            let h = tanh(m.parts[0](x)).mean(dim: 1)
            return m.parts[1](m.scale.map { h * $0 } ?? h)
        }
        let staged = jit { (p: [String: Tensor], x: Tensor, y: Tensor) throws -> [String: Tensor] in
            let clipped = try clippedGradientSum(model, parameters: p, x, y, loss: classification, maxNorm: 0.5)
            return clipped.gradients.merging(["norms": clipped.norms, "ghost": try perSampleGradientNorms(model, parameters: p, x, y,
                                                                                                          loss: classification)]) { a, _ in a }
        }
        for (k, seed) in [(3, 22), (5, 23)] {
            let x = Tensor.randint(high: 10, [6, 3], key: keys[k])
            let y = labels(6, classes: 3, seed: UInt64(seed))
            let eager = try clippedGradientSum(model, x, y, loss: classification, maxNorm: 0.5)
            let result = try staged(model.stateDict(), x, y)
            expectClose(try result["norms"]?.doubles() ?? [], try eager.norms.doubles(), rtol: 1e-12, atol: 1e-15, "norms")
            expectClose(try result["ghost"]?.doubles() ?? [], try eager.norms.doubles(), rtol: 1e-12, atol: 1e-15, "perSampleGradientNorms")
            #expect(Set(eager.gradients.keys) == Set(result.keys).subtracting(["norms", "ghost"]))
            for (name, g) in eager.gradients {
                expectClose(try result[name]?.doubles() ?? [], try g.doubles(), rtol: 1e-12, atol: 1e-15, name)
            }
            #expect(try eager.factors.doubles().contains { $0 < 1 }, "some examples should be clipped")
        }
        try expectMatchesExplicitClipping(model, Tensor.randint(high: 10, [6, 3], key: keys[6]), labels(6, classes: 3, seed: 24),
                                          loss: classification)
    }

    @Test("what was found for one batch is confirmed on the next: a layer called twice after once takes the fallback")
    func remembersAndConfirms() throws {
        let keys = RandomKey(seed: 60).split(into: 4)
        final class Switch: @unchecked Sendable { var twice = false }
        let state = Switch()
        let model = Composite([Linear(4, 4, dtype: .float64, key: keys[0]), Linear(4, 3, dtype: .float64, key: keys[1])]) { m, x in
            let h = tanh(m.parts[0](x))
            return m.parts[1](state.twice ? tanh(m.parts[0](h)) : h)
        }
        let x = Tensor.randn([6, 4], key: keys[2], dtype: .float64), y = labels(6, classes: 3, seed: 61)
        for twice in [false, false, true, true, false] {
            state.twice = twice
            try expectMatchesExplicitClipping(model, x, y, loss: classification)
        }
    }

    @Test("a model with no ghost rule at all takes the fallback for everything")
    func unruled() throws {
        let model = Composite([], scale: Tensor.randn([3], key: RandomKey(seed: 12), dtype: .float64)) { m, x in x * m.scale! }
        let x = Tensor.randn([5, 3], key: RandomKey(seed: 13), dtype: .float64)
        try expectMatchesExplicitClipping(model, x, labels(5, classes: 3, seed: 14), loss: classification)
    }
}
