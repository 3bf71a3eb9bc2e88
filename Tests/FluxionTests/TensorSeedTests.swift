// The code examples of the seed tutorials (PyTorch autograd), line by line in Swift, with the
// numbers, node names and printed forms the seeds show.

import Foundation
import Testing
import Fluxion

@Suite("Tensor: the seed tutorials' examples")
struct TensorSeedTests {
    @Test("y = x² + 3x at 2: x.grad is 7")
    func polynomialGradient() throws {
        let x = try Tensor([2.0], requiresGrad: true)
        let y = x ** 2 + 3 * x
        try y.backward()
        #expect(x.grad?.description == "tensor([7.])")
    }

    @Test("(x * 2).sum(): x.grad is [2., 2., 2.]")
    func sumOfScaled() throws {
        let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let y = (x * 2).sum()
        try y.backward()
        #expect(x.grad?.description == "tensor([2., 2., 2.])")
    }

    @Test("printing: requires_grad, grad_fn, nextFunctions, leaves")
    func printing() throws {
        let x = try Tensor(3.0, requiresGrad: true)
        #expect(x.description == "tensor(3., requires_grad=True)")
        #expect(x.requiresGrad)
        let y = try Tensor(2.0)
        #expect(!y.requiresGrad)
        try y.requiresGrad_(true)
        #expect(y.requiresGrad)
        let z = x * y
        #expect(z.requiresGrad)

        let a = try Tensor(2.0, requiresGrad: true), b = try Tensor(3.0, requiresGrad: true)
        let c = a ** 2 + b * 3
        #expect(c.description == "tensor(13., grad_fn=<AddBackward0>)")
        #expect(c.gradFn?.description == "<AddBackward0 object>")
        let next = try #require(c.gradFn?.nextFunctions)
        #expect(next.map { $0.node?.name } == ["PowBackward0", "MulBackward0"])
        #expect(next.map(\.index) == [0, 0])
        // A number exponent is a parameter of the node; a number factor is an input without history.
        #expect(next[0].node?.nextFunctions.map { $0.node?.name } == ["AccumulateGrad"])
        #expect(next[1].node?.nextFunctions.map { $0.node?.name } == ["AccumulateGrad", nil])
        try c.backward()
        #expect(a.grad?.description == "tensor(4.)")
        #expect(b.grad?.description == "tensor(3.)")
    }

    @Test("gradients accumulate: 4 then 8, then 4 after zero_()")
    func accumulation() throws {
        let x = try Tensor(2.0, requiresGrad: true)
        try (x ** 2).backward()
        #expect(x.grad?.item() == 4)
        try (x ** 2).backward()
        #expect(x.grad?.item() == 8)
        try x.grad?.zero_()
        try (x ** 2).backward()
        #expect(x.grad?.item() == 4)

        let w = try Tensor(3.0, requiresGrad: true)
        try (w * 2).backward()
        try (w * 3).backward()
        #expect(w.grad?.description == "tensor(5.)")
        try w.grad?.zero_()
        try (w * 4).backward()
        #expect(w.grad?.description == "tensor(4.)")
    }

    @Test("a non-scalar backward with gradient: the vector-Jacobian product")
    func vectorJacobianProduct() throws {
        let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let y = x ** 2
        // The seed calls backward on y twice; PowBackward0 saves x, so the first call must
        // retain the graph (PyTorch would refuse the second call just the same).
        try y.backward(gradient: Tensor.onesLike(y), retainGraph: true)
        #expect(x.grad?.description == "tensor([2., 4., 6.])")
        try x.grad?.zero_()
        try y.backward(gradient: try Tensor([1.0, 0.5, 2.0]))
        #expect(x.grad?.description == "tensor([ 2.,  2., 12.])")
        try x.grad?.zero_()
        try (x ** 2).sum().backward()
        #expect(x.grad?.description == "tensor([2., 4., 6.])")

        let m = try Tensor([[1.0, 2.0], [3.0, 4.0]], requiresGrad: true)
        try (m ** 2).backward(gradient: Tensor.onesLike(m))
        #expect(m.grad?.description == "tensor([[2., 4.],\n        [6., 8.]])")
    }

    @Test("noGrad records nothing; after it recording resumes")
    func noGradScope() throws {
        let x = try Tensor(3.0, requiresGrad: true)
        let y = noGrad { x ** 2 }
        #expect(!y.requiresGrad)
        #expect(y.gradFn == nil)
        let z = x ** 2
        #expect(z.requiresGrad)

        let predict = noGrad { (input: Tensor) in input * 2 }
        #expect(try !predict(x).requiresGrad)
        let inner = noGrad { enableGrad { x * 2 } }
        #expect(inner.requiresGrad)
        #expect(setGradEnabled(false) { isGradEnabled } == false)
        #expect(isGradEnabled)
    }

    @Test("detach shares storage and has no history; scalars need detach")
    func detaching() throws {
        let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let y = x ** 2 + x * 3
        let d = y.detach()
        #expect(!d.requiresGrad)
        #expect(d.gradFn == nil)
        #expect(d.value.sharesStorage(with: y.value))
        #expect(throws: AutogradError.self) { _ = try y.floats() }
        #expect(try d.floats() == [4, 10, 18])

        var losses: [Double] = []
        for _ in 0..<3 {
            let loss = (x ** 2).sum()
            losses.append(loss.detach().item())
            try loss.backward()
            try x.grad?.zero_()
        }
        #expect(losses == [14, 14, 14])
    }

    @Test("retainGraph: three backward passes, then the freed graph throws")
    func retainingTheGraph() throws {
        let x = try Tensor(2.0, requiresGrad: true)
        let y = x ** 3
        try y.backward(retainGraph: true)
        #expect(x.grad?.description == "tensor(12.)")
        try x.grad?.zero_()
        try y.backward(retainGraph: true)
        #expect(x.grad?.description == "tensor(12.)")
        try x.grad?.zero_()
        try y.backward()
        #expect(x.grad?.description == "tensor(12.)")
        #expect {
            try y.backward()
        } throws: { error in
            guard case AutogradError.graphFreed(let node, _, _) = error else { return false }
            return node == "PowBackward0" && "\(error)".contains("retainGraph: true")
        }

        // A graph that saved nothing (a multiplication by a number saves it; a sum does not)
        // can be swept twice, as in PyTorch.
        let v = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let w = v * 2
        try w.sum().backward(retainGraph: true)
        #expect(v.grad?.description == "tensor([2., 2., 2.])")
        try w.sum().backward()
        #expect(v.grad?.description == "tensor([4., 4., 4.])")
    }

    @Test("x * 3 + 1 has AddBackward0; its backward gives [3., 3.]")
    func scaledPlusOne() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        #expect(x.requiresGrad)
        #expect(!x.detach().requiresGrad)
        #expect(!noGrad { x * 2 }.requiresGrad)
        let z = x * 3 + 1
        #expect(z.gradFn?.name == "AddBackward0")
        try z.sum().backward()
        #expect(x.grad?.description == "tensor([3., 3.])")
    }

    @Test("the .grad of a non-leaf is nil; retainGrad keeps it")
    func nonLeafGradients() throws {
        let a = try Tensor([2.0], requiresGrad: true)
        let b = a * 3
        try b.sum().backward()
        #expect(b.grad == nil)
        #expect(!b.isLeaf && a.isLeaf)

        let x = try Tensor([2.0], requiresGrad: true)
        let y = x * 3
        try y.retainGrad()
        #expect(y.retainsGrad)
        let z = y ** 2
        try z.backward()
        #expect(x.grad?.description == "tensor([36.])")
        #expect(y.grad?.description == "tensor([12.])")
    }

    @Test("Autograd.grad with createGraph: 12, grad_fn MulBackward0, then 12")
    func higherOrder() throws {
        let x = try Tensor([2.0], requiresGrad: true)
        let y = x ** 3
        let dydx = try #require(try Autograd.grad(outputs: [y], inputs: [x], createGraph: true)[0])
        #expect(dydx.description == "tensor([12.], grad_fn=<MulBackward0>)")
        let d2 = try #require(try Autograd.grad(outputs: [dydx], inputs: [x])[0])
        #expect(d2.description == "tensor([12.])")
        #expect(x.grad == nil)

        let s = try Tensor(2.0, requiresGrad: true)
        let cube = s ** 3
        let first = try #require(try Autograd.grad(outputs: cube, inputs: s, createGraph: true)[0])
        let second = try #require(try Autograd.grad(outputs: first, inputs: s)[0])
        #expect(first.item() == 12 && second.item() == 12)
    }

    @Test("z = x·w + b: the gradients are w, x and 1")
    func linearNeuron() throws {
        let x = try Tensor(2.0, requiresGrad: true), w = try Tensor(3.0, requiresGrad: true), b = try Tensor(1.0, requiresGrad: true)
        let z = x * w + b
        #expect(z.item() == 7)
        try z.backward()
        #expect(x.grad?.description == "tensor(3.)")
        #expect(w.grad?.description == "tensor(2.)")
        #expect(b.grad?.description == "tensor(1.)")
        // torch.autograd.grad(z, [x, w, b]): one output, a list of inputs.
        let z2 = x * w + b
        let grads = try Autograd.grad(outputs: z2, inputs: [x, w, b]).map { $0?.item() }
        #expect(grads == [3, 2, 1])

        let leafW = try Tensor([1.0, 2.0], requiresGrad: true), leafB = try Tensor([0.1], requiresGrad: true)
        let sum = leafW.sum() + leafB
        #expect(leafW.isLeaf && !sum.isLeaf)
        #expect(sum.gradFn?.name == "AddBackward0")
    }

    @Test("a hook sees the gradient")
    func hooks() throws {
        var grads: [Tensor] = []
        let x = try Tensor([0.5, -1.0, 2.0], requiresGrad: true)
        let y = (x ** 2).sum()
        try x.registerHook { g in grads.append(g.clone()); return nil }
        try y.backward()
        #expect(grads.count == 1)
        #expect(grads.first?.description == "tensor([ 1., -2.,  4.])")
        #expect(x.grad?.description == "tensor([ 1., -2.,  4.])")
    }

    @Test("a hook's result replaces the gradient; remove() unregisters it")
    func replacingHooks() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 3
        let handle = try y.registerHook { g in g * 10 }
        try y.sum().backward(retainGraph: true)
        #expect(x.grad?.description == "tensor([30., 30.])")
        handle.remove()
        try x.grad?.zero_()
        try y.sum().backward()
        #expect(x.grad?.description == "tensor([3., 3.])")
    }

    @Test("the sigmoid neuron's gradFn chain")
    func sigmoidNeuron() throws {
        let w = try Tensor([1.5], requiresGrad: true), b = try Tensor([0.3], requiresGrad: true)
        let x = try Tensor([2.0])
        let z = x * w + b
        let a = sigmoid(z)
        let loss = (a - 1.0) ** 2
        #expect(w.gradFn == nil)
        #expect(z.gradFn?.name == "AddBackward0")
        #expect(a.gradFn?.name == "SigmoidBackward0")
        #expect(loss.gradFn?.name == "PowBackward0")
        try loss.backward()
        // d/dw (σ(2w + b) − 1)² = 2(σ − 1)·σ(1 − σ)·2
        let s = 1 / (1 + Foundation.exp(-(2 * 1.5 + 0.3)))
        let expected = 2 * (s - 1) * s * (1 - s) * 2
        #expect(Swift.abs(try #require(w.grad).item() - expected) < 1e-6)
    }

    @Test("enableGrad inside noGrad tracks only that part")
    func partialFreeze() throws {
        let data = try Tensor([1.0, 2.0])
        let head = try Tensor([0.5, 0.5], requiresGrad: true)
        let loss = try noGrad {
            let encoded = data * 2
            return try enableGrad {
                try encoded.requiresGrad_(true)
                return (encoded * head).sum()
            }
        }
        #expect(loss.requiresGrad)
        try loss.backward()
        #expect(head.grad?.description == "tensor([2., 4.])")
    }

    @Test("the linear regression of y = 2x + 1 learns w ≈ 2, b ≈ 1")
    func linearRegression() throws {
        let key = RandomKey(seed: 42)
        let (k1, k2) = key.split()
        let X = Tensor.randn([100, 1], key: k1)
        let yTrue = 2 * X + 1 + 0.1 * Tensor.randn([100, 1], key: k2)
        let w = try Tensor.zeros([1]).requiresGrad_()
        let b = try Tensor.zeros([1]).requiresGrad_()
        let lr = 0.1
        for _ in 0..<50 {
            let yPred = X * w + b
            let loss = (yPred - yTrue).pow(2).mean()
            try loss.backward()
            try noGrad {
                try w.sub_(lr * w.grad!)
                try b.sub_(lr * b.grad!)
            }
            try w.grad?.zero_()
            try b.grad?.zero_()
        }
        #expect(Swift.abs(w.item() - 2) < 0.05)
        #expect(Swift.abs(b.item() - 1) < 0.05)
    }

    @Test("closed forms: (x³ − 2x).sum() and sigmoid(x).sum()")
    func closedForms() throws {
        let x = try Tensor(NDArray.normal([8], key: RandomKey(seed: 7)), requiresGrad: true)
        try (x ** 3 - 2 * x).sum().backward()
        let analytic = 3 * x.detach() ** 2 - 2
        expectClose(try #require(x.grad).value, analytic.value.doubles)

        try x.grad?.zero_()
        try sigmoid(x).sum().backward()
        let s = sigmoid(x.detach())
        expectClose(try #require(x.grad).value, (s * (1 - s)).value.doubles)
    }
}
