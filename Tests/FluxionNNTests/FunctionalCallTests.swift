// functionalCall: modules as functions of their parameters, under grad, vmap, jacrev and
// hessian; per-sample gradients against a loop of backward passes; ensembles by
// stackModuleState; errors; and substitution that is private to the calling thread.

import Dispatch
import Testing
import Fluxion
import FluxionNN

/// A small classifier for the per-sample tests.
func classifier(_ seed: UInt64, dtype: DType = .float32) -> Sequential {
    let keys = RandomKey(seed: seed).split(into: 2)
    return Sequential(Linear(4, 8, dtype: dtype, key: keys[0]), Tanh(), Linear(8, 3, dtype: dtype, key: keys[1]))
}

@Suite("functionalCall: modules as functions of their parameters")
struct FunctionalCallTests {
    @Test("with the module's own values it equals calling the module; substitutes replace them")
    func substitution() throws {
        let model = classifier(1)
        let x = Tensor.randn([5, 4], key: RandomKey(seed: 2))
        let own = try functionalCall(model, parameters: model.stateDict(), x)
        #expect(try own.floats() == model(x).detach().floats())
        var zeroed = model.stateDict()
        zeroed["2.weight"] = Tensor.zeros([3, 8])
        let out = try functionalCall(model, parameters: zeroed, x)
        #expect(try out.floats() == Array(repeating: model.stateDict()["2.bias"]!.floats(), count: 5).flatMap { $0 })
        // Partial trees keep the module's own values for the rest; the module is unchanged after.
        let partial = try functionalCall(model, parameters: ["2.weight": Tensor.zeros([3, 8])], x)
        #expect(try partial.detach().floats() == out.floats())
        #expect(try model(x).detach().floats() == own.floats())
        // Arrays in, an array out.
        let arrays = try functionalCall(model, parameters: model.stateDict().mapValues(\.value), x.value)
        #expect(arrays.floats == (try own.floats()))
    }

    @Test("misuse throws: unknown names, wrong shapes, missing names when strict")
    func errors() throws {
        let model = classifier(1)
        let x = Tensor.zeros([1, 4])
        #expect(throws: ModuleError.unexpectedParameters(module: "Sequential", names: ["1.weight"],
                                                         known: ["0.weight", "0.bias", "2.weight", "2.bias"])) {
            try functionalCall(model, parameters: ["1.weight": Tensor.zeros([1])], x)
        }
        #expect(throws: ModuleError.shapeMismatch(name: "0.bias", expected: [8], got: [3])) {
            try functionalCall(model, parameters: ["0.bias": Tensor.zeros([3])], x)
        }
        #expect(throws: ModuleError.missingParameters(module: "Sequential", names: ["0.weight", "2.weight", "2.bias"])) {
            try functionalCall(model, parameters: ["0.bias": Tensor.zeros([8])], x, strict: true)
        }
        let error = ModuleError.unexpectedParameters(module: "Sequential", names: ["x"], known: ["0.weight"])
        #expect(error.description.contains("Fix: use the names namedParameters() gives"))
    }

    @Test("grad of a loss built on functionalCall equals backward's gradients")
    func gradOfParameters() throws {
        let model = classifier(3, dtype: .float64)
        let x = Tensor(randomArray([6, 4], seed: 4)), y = Tensor(NDArray([0, 2, 1, 1, 0, 2]))
        func loss(_ p: [String: Tensor], _ x: Tensor, _ y: Tensor) throws -> Tensor {
            crossEntropy(try functionalCall(model, parameters: p, x), y)
        }
        let g = try grad(loss)(model.stateDict(), x, y)
        try crossEntropy(model(x), y).backward()
        for (name, p) in model.namedParameters() {
            expectClose(g[name]?.value ?? NDArray(0.0), p.grad!.value.doubles, rtol: 1e-12, atol: 1e-14, name)
        }
        // The same over arrays, with the array functions.
        func arrayLoss(_ p: [String: NDArray], _ x: NDArray, _ y: NDArray) throws -> NDArray {
            crossEntropy(try functionalCall(model, parameters: p, x), y)
        }
        let ga = try FluxionCore.grad(arrayLoss)(model.stateDict().mapValues(\.value), x.value, y.value)
        expectClose(ga["0.weight"]!, model.parameters()[0].grad!.value.doubles, rtol: 1e-12, atol: 1e-14)
    }

    @Test("per-sample gradients: vmap(grad(loss), inAxes: (nil, 0, 0)) equals a loop of backward() to 1e-5")
    func perSampleGradients() throws {
        let model = classifier(5)
        let x = Tensor.randn([16, 4], key: RandomKey(seed: 6))
        let y = Tensor(NDArray.uniform([16], low: 0, high: 3, key: RandomKey(seed: 7)).to(.int64))
        func loss(_ p: [String: Tensor], _ x: Tensor, _ y: Tensor) throws -> Tensor {
            crossEntropy(try functionalCall(model, parameters: p, x.unsqueeze(0)), y.unsqueeze(0))
        }
        let perSample = try vmap(grad(loss), inAxes: (nil, 0, 0))(model.stateDict(), x, y)
        #expect(perSample["0.weight"]?.shape == [16, 8, 4])
        #expect(perSample["2.bias"]?.shape == [16, 3])
        for i in 0..<16 {
            model.zeroGrad()
            try crossEntropy(model(x[i].unsqueeze(0)), y[i].unsqueeze(0)).backward()
            for (name, p) in model.namedParameters() {
                expectClose(perSample[name]![i].value, p.grad!.value.doubles, rtol: 1e-5, atol: 1e-5, "\(name), example \(i)")
            }
        }
        // Without the unsqueeze: one example as a vector, its label 0-d.
        func single(_ p: [String: Tensor], _ x: Tensor, _ y: Tensor) throws -> Tensor {
            crossEntropy(try functionalCall(model, parameters: p, x), y)
        }
        let direct = try vmap(grad(single), inAxes: (nil, 0, 0))(model.stateDict(), x, y)
        expectClose(direct["0.weight"]!.value, perSample["0.weight"]!.value.doubles, rtol: 1e-6, atol: 1e-7)
    }

    @Test("jacrev and hessian with respect to one parameter")
    func jacobianAndHessian() throws {
        let layer = Linear(3, 2, dtype: .float64, key: RandomKey(seed: 8))
        let x = Tensor(randomArray([3], seed: 9))
        let weight = layer.weight.detach()
        // ∂(W·x + b)/∂W[i, j] = δᵢₖ·xⱼ.
        let jacobian = try jacrev({ (w: Tensor) in try! functionalCall(layer, parameters: ["weight": w], x) })(weight)
        #expect(jacobian.shape == [2, 2, 3])
        let xs = x.value.doubles
        expectClose(jacobian, (0..<2).flatMap { k in (0..<2).flatMap { i in (0..<3).map { j in i == k ? xs[j] : 0 } } }, rtol: 1e-12)
        // ½‖W·x + b‖² has Hessian δᵢₖ·xⱼxₗ in W.
        let h = try hessian({ (w: Tensor) in
            let y = try! functionalCall(layer, parameters: ["weight": w], x)
            return 0.5 * (y * y).sum()
        })(weight)
        #expect(h.shape == [2, 3, 2, 3])
        expectClose(h, (0..<2).flatMap { i in (0..<3).flatMap { j in (0..<2).flatMap { k in (0..<3).map { l in i == k ? xs[j] * xs[l] : 0 } } } },
                    rtol: 1e-12, atol: 1e-14)
    }

    @Test("an ensemble: stackModuleState and vmap over the models equal a loop over them")
    func ensemble() throws {
        let models = (0..<4).map { classifier(UInt64(10 + $0)) }
        let stacked = try stackModuleState(models)
        #expect(stacked["0.weight"]?.shape == [4, 8, 4])
        #expect(stacked.values.allSatisfy { !$0.requiresGrad })
        let x = Tensor.randn([5, 4], key: RandomKey(seed: 20))
        let outputs = try vmap({ (p: [String: Tensor], x: Tensor) in try functionalCall(models[0], parameters: p, x) },
                               inAxes: (0, nil))(stacked, x)
        #expect(outputs.shape == [4, 5, 3])
        for (i, model) in models.enumerated() {
            expectClose(outputs[i].value, try model(x).detach().doubles(), rtol: 1e-5, atol: 1e-6, "model \(i)")
        }
        #expect(throws: ModuleError.self) { try stackModuleState([classifier(1), Sequential(Linear(4, 3))]) }
        #expect(throws: ModuleError.self) { try stackModuleState([]) }
    }

    @Test("tied weights: substituting one name substitutes every use of the tensor")
    func tiedWeights() throws {
        let a = Linear(2, 2, bias: false), b = Linear(2, 2, bias: false)
        b.weight = a.weight
        let model = Sequential(a, b)
        #expect(model.namedParameters().map(\.name) == ["0.weight"])
        let identity = Tensor.eye(2)
        let x = Tensor(NDArray([[1.0, 2.0]]))
        #expect(try functionalCall(model, parameters: ["0.weight": identity * 2], x).floats() == [4, 8])
    }

    @Test("facade tensors as substitutes: backward reaches them (MAML's inner step)")
    func facadeSubstitutes() throws {
        let model = classifier(30, dtype: .float64)
        let x = Tensor(randomArray([4, 4], seed: 31)), y = Tensor(NDArray([0, 1, 2, 0]))
        let params = model.parameters()
        let inner = crossEntropy(model(x), y)
        let grads = try Autograd.grad(outputs: [inner], inputs: params, createGraph: true)
        var fast: [String: Tensor] = [:]
        for ((name, p), g) in zip(model.namedParameters(), grads) { fast[name] = p - 0.1 * g! }
        let outer = crossEntropy(try functionalCall(model, parameters: fast, x), y)
        try outer.backward()
        #expect(params.allSatisfy { $0.grad != nil })
        // Against central differences of the two-step loss in one weight element.
        let eps = 1e-6
        func twoStep(_ delta: Double) throws -> Double {
            let shiftedState = model.stateDict().mapValues { $0.value }
            var state = shiftedState
            state["2.bias"] = shifted(shiftedState["2.bias"]!, at: 1, by: delta)
            let p = try state.mapValues { try Tensor($0, requiresGrad: true) }
            let l = crossEntropy(try functionalCall(model, parameters: p, x), y)
            let names = model.namedParameters().map(\.name)
            let g = try Autograd.grad(outputs: [l], inputs: names.map { p[$0]! })
            var step: [String: Tensor] = [:]
            for (name, gi) in zip(names, g) { step[name] = Tensor(p[name]!.value - 0.1 * gi!.value) }
            return noGrad { crossEntropy(try! functionalCall(model, parameters: step, x), y) }.item()
        }
        let numeric = (try twoStep(eps) - twoStep(-eps)) / (2 * eps)
        expectClose([model.parameters()[3].grad!.value.doubles[1]], [numeric], rtol: 1e-6, atol: 1e-8, "∂/∂(2.bias)[1]")
    }

    @Test("a whole training step — forward, gradient, SGD update — is one jitted function of parameters and batch")
    func jittedTrainingStep() throws {
        let model = classifier(50, dtype: .float64)
        let x = randomArray([8, 4], seed: 51).to(.float64), target = randomArray([8, 3], seed: 52).to(.float64)
        nonisolated(unsafe) var stagings = 0
        let update = { (p: [String: NDArray], x: NDArray, target: NDArray) -> [String: NDArray] in
            stagings += 1
            let g = try grad({ (p: [String: NDArray]) in
                let r = try functionalCall(model, parameters: p, x) - target
                return (r * r).mean()
            })(p)
            return p.merging(g) { w, dw in w - 0.1 * dw }
        }
        let step = jit(update)
        var staged = model.stateDict().mapValues(\.value), unstaged = staged
        for _ in 0..<5 {
            staged = try step(staged, x, target)
            unstaged = try update(unstaged, x, target)
        }
        // Staged once (the first call), the unstaged update ran five times.
        #expect(stagings == 6)
        for name in unstaged.keys.sorted() {
            expectClose(staged[name]!, unstaged[name]!.doubles, rtol: 1e-12, atol: 1e-14, name)
        }
        // The module's own parameters are untouched.
        #expect(model.stateDict()["0.bias"]!.value.doubles != staged["0.bias"]!.doubles)
    }

    @Test("substitution is private to the calling thread")
    func threads() throws {
        let model = classifier(40)
        let x = Tensor.randn([3, 4], key: RandomKey(seed: 41))
        let expectedOwn = try model(x).detach().floats()
        let variants = (0..<4).map { k in model.stateDict().mapValues { Tensor($0.value * Double(k + 2)) } }
        let expected = try variants.map { try functionalCall(model, parameters: $0, x).floats() }
        let failures = Recorder()
        let lock = NSLockLike()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for _ in 0..<50 {
                let ok: Bool
                if t % 2 == 0 {
                    ok = (try? functionalCall(model, parameters: variants[t / 2], x).floats()) == expected[t / 2]
                } else {
                    ok = (try? model(x).detach().floats()) == expectedOwn
                }
                if !ok { lock.run { failures.events.append("thread \(t)") } }
            }
        }
        #expect(failures.events.isEmpty)
    }
}

/// A tiny lock for the thread test.
final class NSLockLike: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 1)
    func run(_ body: () -> Void) {
        semaphore.wait()
        body()
        semaphore.signal()
    }
}
