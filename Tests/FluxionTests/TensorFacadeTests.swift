// The facade beyond the seeds' examples: custom functions under every transform and to second
// order, hooks, in-place operations, grad modes, transforms of tensor functions, memory, and
// one test per error the facade throws.

import Foundation
import Testing
import Fluxion

/// ReLU scaled by a number, with a hand-written backward (the seed's `ScaledReLU`).
enum ScaledReLU: Function {
    static func forward(_ ctx: FunctionContext, _ inputs: (Tensor, Double)) -> Tensor {
        let (x, alpha) = inputs
        ctx.saveForBackward(x)
        ctx.alpha = alpha
        return alpha * relu(x)
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let x = ctx.savedTensors[0]
        let alpha = ctx.alpha as! Double
        return [gradOutput * alpha * (x .> 0).to(gradOutput.dtype), nil]
    }
}

/// x³ with a backward written in tensor operations, so it can be differentiated again.
enum Cube: Function {
    static func forward(_ ctx: FunctionContext, _ x: Tensor) -> Tensor {
        ctx.saveForBackward(x)
        return x * x * x
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let x = ctx.savedTensors[0]
        return [gradOutput * 3 * x * x]
    }
}

/// A backward that returns one gradient too few.
enum Forgetful: Function {
    static func forward(_ ctx: FunctionContext, _ inputs: (Tensor, Tensor)) -> Tensor { inputs.0 * inputs.1 }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] { [gradOutput] }
}

@Suite("Tensor: custom functions")
struct CustomFunctionTests {
    @Test("ScaledReLU: the gradient is alpha where x > 0; the node is named after the type")
    func scaledReLU() throws {
        let x = try Tensor([-1.0, 0.5, 2.0, -0.25], requiresGrad: true)
        let out = try ScaledReLU.apply(x, 2.0)
        #expect(out.gradFn?.name == "ScaledReLUBackward")
        #expect(out.description == "tensor([0., 1., 4., 0.], grad_fn=<ScaledReLUBackward>)")
        try out.sum().backward()
        #expect(x.grad?.description == "tensor([0., 2., 2., 0.])")
    }

    @Test("ctx.needsInputGrad follows requiresGrad")
    func needsInputGrad() throws {
        enum Probe: Function {
            nonisolated(unsafe) static var seen: [Bool] = []
            static func forward(_ ctx: FunctionContext, _ inputs: (Tensor, Tensor, Double)) -> Tensor {
                seen = ctx.needsInputGrad
                return inputs.0 + inputs.1
            }
            static func backward(_ ctx: FunctionContext, _ g: Tensor) -> [Tensor?] { [g, g, nil] }
        }
        let a = try Tensor([1.0], requiresGrad: true), b = try Tensor([2.0])
        _ = try Probe.apply(a, b, 1.0)
        #expect(Probe.seen == [true, false, false])
    }

    @Test("a backward written with tensor operations supports double backward")
    func doubleBackward() throws {
        let x = try Tensor([2.0], dtype: .float64, requiresGrad: true)
        let y = try Cube.apply(x)
        let first = try #require(try Autograd.grad(outputs: [y], inputs: [x], createGraph: true)[0])
        #expect(first.item() == 12)
        let second = try #require(try Autograd.grad(outputs: [first], inputs: [x])[0])
        #expect(second.item() == 12)
    }

    @Test("a custom function works under grad, vmap and jacrev, using its own backward")
    func underTransforms() throws {
        let x = try Tensor([-1.0, 0.5, 2.0], dtype: .float64)
        // The custom backward (alpha where x > 0) is what grad sees.
        let g = try grad({ (t: Tensor) in try ScaledReLU.apply(t, 3.0).sum() })(x)
        expectClose(g.value, [0, 3, 3])
        let rows = Tensor(NDArray([[-1.0, 2.0], [3.0, -4.0]], dtype: .float64))
        let mapped = try vmap({ (t: Tensor) in try ScaledReLU.apply(t, 2.0) })(rows)
        expectClose(mapped.value, [0, 4, 6, 0])
        let jacobian = try jacrev({ (t: Tensor) in try Cube.apply(t) })(x)
        expectClose(jacobian.value, [3, 0, 0, 0, 0.75, 0, 0, 0, 12])
        let h = try hessian({ (t: Tensor) in try Cube.apply(t).sum() })(x)
        expectClose(h.value, [-6, 0, 0, 0, 3, 0, 0, 0, 12])
    }

    @Test("a backward with the wrong number of gradients throws")
    func wrongCount() throws {
        let a = try Tensor([1.0], requiresGrad: true), b = try Tensor([2.0], requiresGrad: true)
        let y = try Forgetful.apply(a, b)
        #expect(throws: AutogradError.wrongGradientCount(function: "Forgetful", expected: 2, got: 1)) {
            try y.backward()
        }
    }
}

@Suite("Tensor: autograd behaviour")
struct TensorBehaviourTests {
    @Test("createGraph: a gradient penalty differentiates through the gradient")
    func gradientPenalty() throws {
        // f(x) = Σ x³; ∇f = 3x²; penalty = Σ (3x²)²; d penalty/dx = 2·3x²·6x = 36x³.
        let x = try Tensor([1.0, -0.5, 2.0], dtype: .float64, requiresGrad: true)
        let f = (x ** 3).sum()
        let g = try #require(try Autograd.grad(outputs: [f], inputs: [x], createGraph: true)[0])
        let penalty = (g ** 2).sum()
        try penalty.backward()
        expectClose(try #require(x.grad).value, [36, -4.5, 288])
    }

    @Test("backward(createGraph:) leaves a grad with history; its backward gives second derivatives")
    func backwardCreateGraph() throws {
        let x = try Tensor(3.0, dtype: .float64, requiresGrad: true)
        try (x ** 4).backward(createGraph: true)
        let g = try #require(x.grad)
        #expect(g.requiresGrad && g.item() == 108)
        let gg = try #require(try Autograd.grad(outputs: [g], inputs: [x])[0])
        #expect(gg.item() == 108)
    }

    @Test("backward(inputs:) accumulates only into the given tensors")
    func restrictedInputs() throws {
        let a = try Tensor(2.0, requiresGrad: true), b = try Tensor(5.0, requiresGrad: true)
        try (a * b).backward(inputs: [a])
        #expect(a.grad?.item() == 5)
        #expect(b.grad == nil)
    }

    @Test("Autograd.grad leaves .grad untouched; allowUnused gives nil")
    func functionalGrad() throws {
        let a = try Tensor(2.0, requiresGrad: true), unused = try Tensor(1.0, requiresGrad: true)
        let y = a * a
        let grads = try Autograd.grad(outputs: [y], inputs: [a, unused], allowUnused: true)
        #expect(grads[0]?.item() == 4)
        #expect(grads[1] == nil)
        #expect(a.grad == nil)
    }

    @Test("in-place updates: refused on a leaf that requires grad, recorded otherwise, never corrupting")
    func inPlace() throws {
        let w = try Tensor([1.0, 2.0], requiresGrad: true)
        #expect(throws: AutogradError.self) { try w.add_(1) }
        try noGrad { try w.add_(1) }
        #expect(w.value.floats == [2, 3])
        #expect(w.version == 1 && w.isLeaf && w.requiresGrad)

        let y = w * 2
        let z = y * y           // saves y
        try y.mul_(100)          // rebinds y; z's graph keeps the value it saved
        #expect(y.gradFn?.name == "MulBackward0")
        try z.sum().backward(retainGraph: true)
        #expect(w.grad?.floats(noGradCheck: ()) == [16, 24])
        try y.sum().backward()
        #expect(w.grad?.floats(noGradCheck: ()) == [216, 224])
    }

    @Test("inferenceMode: nothing recorded, and its tensors cannot join a graph")
    func inference() throws {
        let w = try Tensor([1.0, 2.0], requiresGrad: true)
        let made = inferenceMode { w * 2 }
        #expect(!made.requiresGrad && made.isInference)
        #expect(throws: AutogradError.self) { try made.requiresGrad_() }
        // A product would save the inference tensor: refused when it is recorded, not at
        // backward (PyTorch); `*` stops (TensorFidelityTests), throwing forms throw.
        let y = w * 1
        #expect(throws: AutogradError.inferenceTensorInGraph(node: "MulBackward0")) { try y.mul_(made) }
    }

    @Test("detectAnomaly names the node and the line of the forward call")
    func anomaly() throws {
        let x = try Tensor([0.0, 1.0], requiresGrad: true)
        try detectAnomaly {
            let y = sqrt(x).sum()                        // the forward line reported
            do {
                try y.backward()
                Issue.record("the anomaly went unnoticed")
            } catch let AutogradError.anomaly(node, _, value, forward) {
                #expect(node == "SqrtBackward0")
                #expect(value == "inf")
                #expect(forward.hasSuffix("TensorFacadeTests.swift:\(#line - 7)"))
            }
        }
        // Without detection the same backward just produces the infinity.
        let y = sqrt(x).sum()
        try y.backward()
        #expect(x.grad?.value.doubles.first?.isInfinite == true)
    }

    @Test("transforms take functions of tensors; a tensor that requires grad stays in the graph")
    func transformsOverTensors() throws {
        let f = { (t: Tensor) in (sin(t) * t).sum() }
        let x = try Tensor([0.5, 1.0], dtype: .float64)
        let g = try grad(f)(x)
        let expected = x.value.doubles.map { Foundation.sin($0) + $0 * Foundation.cos($0) }
        expectClose(g.value, expected)
        expectClose(try jacfwd({ (t: Tensor) in t * t })(x).value, [1, 0, 0, 2])

        // backward through a transformed function: d/dx Σ ∂f/∂x = Σ (2cos x − x sin x).
        let w = try Tensor([0.5, 1.0], dtype: .float64, requiresGrad: true)
        let gw = try grad(f)(w)
        #expect(gw.requiresGrad)
        try gw.sum().backward()
        expectClose(try #require(w.grad).value, w.value.doubles.map { 2 * Foundation.cos($0) - $0 * Foundation.sin($0) })
    }

    @Test("after backward without retainGraph, 1,000 training steps keep the live tape constant")
    func memory() throws {
        let w = try Tensor(NDArray.normal([8, 4], key: RandomKey(seed: 1)), requiresGrad: true)
        let x = Tensor(NDArray.normal([16, 8], key: RandomKey(seed: 2)))
        func step() throws {
            let loss = (tanh(matmul(x, w)) ** 2).mean()
            try loss.backward()
            try noGrad { try w.sub_(0.01 * w.grad!) }
            w.grad = nil
        }
        for _ in 0..<10 { try step() }
        let before = Autograd.liveTapeEntries
        for _ in 0..<1_000 { try step() }
        // Other tests may run at the same time; entries of this loop would add thousands.
        #expect(Autograd.liveTapeEntries - before < 50)
        let recorded = Autograd.liveTapeEntries
        _ = noGrad { tanh(matmul(x, w)).sum() }
        #expect(Autograd.liveTapeEntries - recorded < 50)
    }

    @Test("noGrad records no tape entry at all")
    func noGradRecordsNothing() throws {
        let w = try Tensor(NDArray.ones([64, 64]), requiresGrad: true)
        let y = noGrad { (0..<100).reduce(w) { acc, _ in tanh(acc) } }
        #expect(y.gradFn == nil && !y.requiresGrad)
    }
}

@Suite("Tensor: errors")
struct TensorErrorTests {
    @Test("requiresGrad on an integer tensor")
    func integerRequiresGrad() {
        #expect(throws: AutogradError.self) { try Tensor(NDArray([1, 2]), requiresGrad: true) }
    }

    @Test("switching requiresGrad off on a non-leaf")
    func nonLeafRequiresGrad() throws {
        let y = try Tensor([1.0], requiresGrad: true) * 2
        #expect(throws: AutogradError.self) { try y.requiresGrad_(false) }
    }

    @Test("backward of a non-scalar without gradient")
    func implicitGradient() throws {
        let y = try Tensor([1.0, 2.0], requiresGrad: true) * 2
        #expect {
            try y.backward()
        } throws: { "\($0)".contains("grad can be implicitly created only for scalar outputs") }
    }

    @Test("a gradient of the wrong shape")
    func gradientShape() throws {
        let y = try Tensor([1.0, 2.0], requiresGrad: true) * 2
        #expect(throws: AutogradError.self) { try y.backward(gradient: Tensor.ones([3])) }
    }

    @Test("backward from a tensor without history")
    func noHistory() throws {
        #expect(throws: AutogradError.self) { try Tensor([1.0]).sum().backward() }
    }

    @Test("Autograd.grad from values a transform traces names the transform")
    func backwardInsideTransform() throws {
        let penalty = { (w: Tensor) throws -> Tensor in
            let x = try Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
            let g = try Autograd.grad(outputs: (sin(x * w)).sum(), inputs: x, createGraph: true)[0]!
            return (g * g).sum()
        }
        #expect {
            _ = try grad(penalty)(try Tensor([0.5, 1.5], dtype: .float64))
        } throws: { "\($0)".contains("grad is tracing") && "\($0)".contains("TensorFacadeTests.swift") }
        // A hook on such a value says the same.
        #expect {
            _ = try grad({ (w: Tensor) in try (w * w).registerHook { _ in nil }; return w.sum() })(try Tensor([1.0]))
        } throws: { "\($0)".contains("grad is tracing") }
        // Outside a transform the same function is differentiated by backward:
        // Σ w² cos²(xw) has derivative 2w cos(xw) (cos(xw) − xw sin(xw)).
        let w = try Tensor([0.5, 1.5], dtype: .float64, requiresGrad: true)
        try penalty(w).backward()
        let expected = zip([1.0, 2.0], [0.5, 1.5]).map { x, w in
            2 * w * Foundation.cos(x * w) * (Foundation.cos(x * w) - x * w * Foundation.sin(x * w))
        }
        expectClose(try #require(w.grad).value, expected)
    }

    @Test("a second backward through a freed graph")
    func freedGraph() throws {
        let x = try Tensor(2.0, requiresGrad: true)
        let y = sin(x)
        try y.backward()
        #expect(throws: AutogradError.graphFreed(node: "SinBackward0", file: "FluxionTests/TensorFacadeTests.swift", line: #line)) {
            try y.backward()
        }
    }

    @Test("a second pass through a gradient's graph (made by createGraph) after a pass freed it")
    func freedRecordedGraph() throws {
        let w = try Tensor([1.0, -2.0], dtype: .float64, requiresGrad: true)
        let d1 = try #require(try Autograd.grad(outputs: (w ** 3).sum(), inputs: [w], createGraph: true)[0])
        let second = try #require(try Autograd.grad(outputs: d1.sum(), inputs: [w])[0])
        expectClose(second.value, [6, -12])
        #expect(throws: AutogradError.self) { try Autograd.grad(outputs: d1.sum(), inputs: [w]) }
        // With retainGraph the recorded graph stays usable, as the forward graph does.
        let w2 = try Tensor([1.0, -2.0], dtype: .float64, requiresGrad: true)
        let e1 = try #require(try Autograd.grad(outputs: (w2 ** 3).sum(), inputs: [w2], createGraph: true)[0])
        _ = try Autograd.grad(outputs: e1.sum(), inputs: [w2], retainGraph: true)
        expectClose(try #require(try Autograd.grad(outputs: e1.sum(), inputs: [w2])[0]).value, [6, -12])
    }

    @Test("Autograd.grad with an unused input or one that does not require grad")
    func gradInputs() throws {
        let a = try Tensor(2.0, requiresGrad: true), b = try Tensor(1.0, requiresGrad: true)
        #expect(throws: AutogradError.self) { try Autograd.grad(outputs: [a * a], inputs: [b]) }
        #expect(throws: AutogradError.self) { try Autograd.grad(outputs: [a * a], inputs: [try Tensor(1.0)]) }
    }

    @Test("hooks and retainGrad on a tensor that does not require grad")
    func hookOnConstant() throws {
        let c = try Tensor([1.0])
        #expect(throws: AutogradError.self) { try c.registerHook { _ in nil } }
        #expect(throws: AutogradError.self) { try c.retainGrad() }
    }
}

extension Tensor {
    /// The elements of a gradient (which never requires grad here).
    fileprivate func floats(noGradCheck: Void) -> [Float] { value.floats }
}

@Suite("Tensor: node names")
struct NodeNameTests {
    /// Each elementwise operation and its node's name in PyTorch 2.15 (`type(y.grad_fn).__name__`
    /// for a float64 `x` and `y` that require grad).
    static let elementwise: [(String, @Sendable (Tensor, Tensor) -> Tensor, String)] = [
        ("abs", { x, _ in abs(x) }, "AbsBackward0"), ("sign", { x, _ in sign(x) }, "SignBackward0"),
        ("exp", { x, _ in exp(x) }, "ExpBackward0"), ("log", { x, _ in log(x) }, "LogBackward0"),
        ("log1p", { x, _ in log1p(x) }, "Log1PBackward0"), ("expm1", { x, _ in expm1(x) }, "Expm1Backward0"),
        ("sqrt", { x, _ in sqrt(x) }, "SqrtBackward0"), ("rsqrt", { x, _ in rsqrt(x) }, "RsqrtBackward0"),
        ("sin", { x, _ in sin(x) }, "SinBackward0"), ("cos", { x, _ in cos(x) }, "CosBackward0"),
        ("tan", { x, _ in tan(x) }, "TanBackward0"), ("asin", { x, _ in asin(x) }, "AsinBackward0"),
        ("acos", { x, _ in acos(x) }, "AcosBackward0"), ("atan", { x, _ in atan(x) }, "AtanBackward0"),
        ("sinh", { x, _ in sinh(x) }, "SinhBackward0"), ("cosh", { x, _ in cosh(x) }, "CoshBackward0"),
        ("tanh", { x, _ in tanh(x) }, "TanhBackward0"), ("sigmoid", { x, _ in sigmoid(x) }, "SigmoidBackward0"),
        ("relu", { x, _ in relu(x) }, "ReluBackward0"), ("softplus", { x, _ in softplus(x) }, "SoftplusBackward0"),
        ("erf", { x, _ in erf(x) }, "ErfBackward0"), ("floor", { x, _ in floor(x) }, "FloorBackward0"),
        ("ceil", { x, _ in ceil(x) }, "CeilBackward0"), ("round", { x, _ in round(x) }, "RoundBackward0"),
        ("-x", { x, _ in -x }, "NegBackward0"), ("to(.float32)", { x, _ in x.to(.float32) }, "ToCopyBackward0"),
        ("x + y", { $0 + $1 }, "AddBackward0"), ("x - y", { $0 - $1 }, "SubBackward0"),
        ("x * y", { $0 * $1 }, "MulBackward0"), ("x / y", { $0 / $1 }, "DivBackward0"),
        ("maximum", { maximum($0, $1) }, "MaximumBackward0"), ("minimum", { minimum($0, $1) }, "MinimumBackward0"),
        ("atan2", { atan2($0, $1) }, "Atan2Backward0"),
        ("x + 2", { x, _ in x + 2 }, "AddBackward0"), ("2 + x", { x, _ in 2 + x }, "AddBackward0"),
        ("x - 2", { x, _ in x - 2 }, "SubBackward0"), ("2 - x", { x, _ in 2 - x }, "RsubBackward1"),
        ("x * 2", { x, _ in x * 2 }, "MulBackward0"), ("2 * x", { x, _ in 2 * x }, "MulBackward0"),
        ("x / 2", { x, _ in x / 2 }, "DivBackward0"), ("2 / x", { x, _ in 2 / x }, "MulBackward0"),
        ("x ** 2", { x, _ in x ** 2 }, "PowBackward0"), ("x ** y", { $0 ** $1 }, "PowBackward1"),
        ("2 ** x", { x, _ in 2 ** x }, "PowBackward2"),
    ]

    @Test("every elementwise operation's node has PyTorch's name")
    func elementwiseNames() throws {
        let x = try Tensor([0.5, 0.25], dtype: .float64, requiresGrad: true)
        let y = try Tensor([0.3, 0.7], dtype: .float64, requiresGrad: true)
        for (operation, f, expected) in Self.elementwise {
            #expect(f(x, y).gradFn?.name == expected, "\(operation)")
        }
    }
}

@Suite("Tensor: einsum")
struct TensorEinsumTests {
    @Test("einsum of three tensors: the gradients of Σ a·(b·c)")
    func threeOperands() throws {
        let a = try Tensor(NDArray.normal([2, 3], key: RandomKey(seed: 1), dtype: .float64), requiresGrad: true)
        let b = try Tensor(NDArray.normal([3, 4], key: RandomKey(seed: 2), dtype: .float64), requiresGrad: true)
        let c = try Tensor(NDArray.normal([4], key: RandomKey(seed: 3), dtype: .float64), requiresGrad: true)
        let y = einsum("ij,jk,k->i", a, b, c)
        let bc = matmul(b.value, c.value)
        #expect(NDArray.allClose(y.value, matmul(a.value, bc), rtol: 1e-12, atol: 1e-12))
        try y.sum().backward()
        // ∂Σ/∂a = 1 ⊗ (b c), ∂Σ/∂b = (aᵀ1) ⊗ c, ∂Σ/∂c = bᵀ(aᵀ1).
        let aT1 = a.value.sum(dim: 0)
        #expect(NDArray.allClose(try #require(a.grad).value, outer(NDArray.ones([2], dtype: .float64), bc), rtol: 1e-12, atol: 1e-12))
        #expect(NDArray.allClose(try #require(b.grad).value, outer(aT1, c.value), rtol: 1e-12, atol: 1e-12))
        #expect(NDArray.allClose(try #require(c.grad).value, matmul(b.value.T, aT1), rtol: 1e-12, atol: 1e-12))
    }
}
