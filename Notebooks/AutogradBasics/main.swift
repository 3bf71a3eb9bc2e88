// Autograd basics: every code example of the four introductory PyTorch autograd tutorials,
// in order, translated line by line. Each prints what the tutorial prints (`tensor([7.])`,
// `<MulBackward0 object>`, `nil` where Python prints `None`) and checks it.
//
// Run: swift run -c release AutogradBasics
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Fluxion
import NotebookSupport

// MARK: - Tutorial 1: the autograd API in eight calls

// 1. requiresGrad: y = x² + 3x, so dy/dx = 2x + 3 = 7 at 2.
do {
    let x = try Tensor([2.0], requiresGrad: true)
    let y = x ** 2 + 3 * x
    try y.backward()
    print(x.grad!)
    check(x.grad!.description == "tensor([7.])", "dy/dx = 7")
}

// 2. backward() from a scalar reaches every leaf.
do {
    let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
    let y = (x * 2).sum()
    try y.backward()
    print(x.grad!)
    check(x.grad!.description == "tensor([2., 2., 2.])", "d(2x)/dx = 2")
}

// 3. noGrad: inference records nothing — as a scope, and as a function wrapper.
do {
    let weight = try Tensor([[0.5], [-0.25]], requiresGrad: true)
    let model = { (input: Tensor) in matmul(input, weight) }
    let input = try Tensor([[1.0, 2.0]])
    let output = noGrad { model(input) }
    let predict = noGrad(model)
    let predicted = try predict(Tensor.ones([3, 2]))
    check(!output.requiresGrad && !predicted.requiresGrad, "nothing recorded")
}

// 4. detach: same data, no history; needed before exporting the values.
do {
    let x = try Tensor([1.0, 2.0], requiresGrad: true)
    let y = x * 3
    let z = y.detach()
    let values = try y.detach().floats()
    print(z, values)
    check(!z.requiresGrad && values == [3, 6], "detached")
}

// 5. Autograd.grad to second order: d(x³)/dx = 12 and d²(x³)/dx² = 12 at 2.
do {
    let x = try Tensor(2.0, requiresGrad: true)
    let y = x ** 3
    let dydx = try Autograd.grad(outputs: y, inputs: x, createGraph: true)[0]!
    let d2y = try Autograd.grad(outputs: dydx, inputs: x)[0]!
    print(dydx, d2y)
    check(dydx.item() == 12 && d2y.item() == 12, "12 and 12")
}

// 6. grad and gradFn.
do {
    let x = try Tensor([1.0, 2.0], requiresGrad: true)
    let y = x * x
    print(y.gradFn!)
    try y.sum().backward()
    print(x.grad!)
    check(y.gradFn!.name == "MulBackward0" && x.grad!.description == "tensor([2., 4.])", "MulBackward0, [2, 4]")
}

// 7. enableGrad inside noGrad: only the head is tracked.
do {
    let data = try Tensor([[1.0, 2.0]])
    let head = try Tensor([[1.0], [1.0]], requiresGrad: true)
    let loss = try noGrad {
        let x = data * 2                                  // model.encode(data)
        return try enableGrad {
            try x.requiresGrad_(true)
            return matmul(x, head).sum()                  // head(x)
        }
    }
    check(loss.requiresGrad, "the head is tracked")
}

// 8. registerHook sees the gradient flowing into x: 2x.
do {
    var grads: [Tensor] = []
    let x = try Tensor.rand([3], key: RandomKey(seed: 0)).requiresGrad_()
    let y = (x ** 2).sum()
    try x.registerHook { g in grads.append(g.clone()); return nil }
    try y.backward()
    print(grads[0])
    check(grads[0].value.floats == (2 * x.detach()).value.floats, "the hook saw 2x")
}

// MARK: - Tutorial 2: requiresGrad, gradFn, backward, noGrad, detach, retainGraph

do {
    let x = try Tensor(3.0, requiresGrad: true)
    print(x)
    print(x.requiresGrad)
    let y = try Tensor(2.0)
    print(y.requiresGrad)
    try y.requiresGrad_(true)
    print(y.requiresGrad)
    let z = x * y
    print(z.requiresGrad)
    check(x.description == "tensor(3., requires_grad=True)" && z.requiresGrad, "requiresGrad propagates")
}

do {
    let x = try Tensor(2.0, requiresGrad: true)
    let y = try Tensor(3.0, requiresGrad: true)
    let z = x ** 2 + y * 3
    print(z)
    print(z.gradFn!)
    print(describe(z.gradFn!.nextFunctions))
    check(z.description == "tensor(13., grad_fn=<AddBackward0>)", "z = 13")
    check(describe(z.gradFn!.nextFunctions) == "((<PowBackward0 object>, 0), (<MulBackward0 object>, 0))", "next functions")

    try z.backward()
    print(x.grad!)
    print(y.grad!)
    check(x.grad!.description == "tensor(4.)" && y.grad!.description == "tensor(3.)", "dz/dx = 4, dz/dy = 3")
}

// Gradients accumulate.
do {
    let x = try Tensor(2.0, requiresGrad: true)
    var loss = x ** 2
    try loss.backward()
    print(x.grad!)
    loss = x ** 2
    try loss.backward()
    print(x.grad!)
    check(x.grad!.item() == 8, "4 + 4 = 8")
    try x.grad!.zero_()
    loss = x ** 2
    try loss.backward()
    print(x.grad!)
    check(x.grad!.item() == 4, "4 after zero_()")
}

// A non-scalar output needs a gradient: the vector-Jacobian product.
do {
    let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
    let y = x ** 2
    // The tutorial calls backward on y twice; PowBackward0 saves x, so keep the graph.
    try y.backward(gradient: Tensor.onesLike(y), retainGraph: true)
    print(x.grad!)
    check(x.grad!.description == "tensor([2., 4., 6.])", "2x")
    try x.grad!.zero_()
    try y.backward(gradient: Tensor([1.0, 0.5, 2.0]))
    print(x.grad!)
    check(x.grad!.description == "tensor([ 2.,  2., 12.])", "2x · weights")
    try x.grad!.zero_()
    let loss = (x ** 2).sum()
    try loss.backward()
    print(x.grad!)
    check(x.grad!.description == "tensor([2., 4., 6.])", "the same by summing first")
}

// noGrad, as a scope and as a function.
do {
    let x = try Tensor(3.0, requiresGrad: true)
    let y = noGrad { x ** 2 }
    print(y.requiresGrad)
    print(describe(y.gradFn))
    let z = x ** 2
    print(z.requiresGrad)
    check(!y.requiresGrad && y.gradFn == nil && z.requiresGrad, "noGrad")

    let weight = try Tensor(NDArray.normal([10, 1], key: RandomKey(seed: 1))).requiresGrad_()
    let bias = try Tensor.zeros([1]).requiresGrad_()
    let predict = noGrad { (input: Tensor) in matmul(input, weight) + bias }
    let output = try predict(Tensor.randn([5, 10], key: RandomKey(seed: 2)))
    print(output.requiresGrad)
    check(!output.requiresGrad, "the decorated function records nothing")
}

// detach, and logging losses without keeping graphs.
do {
    let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
    let y = x ** 2 + x * 3
    let yDetached = y.detach()
    print(yDetached.requiresGrad)
    print(describe(yDetached.gradFn))
    do {
        _ = try y.floats()
    } catch {
        print("y.floats():", error)
    }
    print(try yDetached.floats())
    var losses: [Double] = []
    for _ in 0..<3 {
        let loss = (x ** 2).sum()
        losses.append(loss.detach().item())
        try loss.backward()
        try x.grad!.zero_()
    }
    print(losses)
    check(losses == [14, 14, 14], "[14.0, 14.0, 14.0]")
}

// retainGraph: the graph survives until a backward without it.
do {
    let x = try Tensor(2.0, requiresGrad: true)
    let y = x ** 3
    try y.backward(retainGraph: true)
    print(x.grad!)
    try x.grad!.zero_()
    try y.backward(retainGraph: true)
    print(x.grad!)
    try x.grad!.zero_()
    try y.backward()
    print(x.grad!)
    check(x.grad!.item() == 12, "12 three times")
    do {
        try y.backward()
        check(false, "a freed graph must refuse a second backward")
    } catch {
        print("y.backward():", error)
    }
}

// Training by hand: y = 2x + 1 with noise, learned by gradient descent.
do {
    let (keyX, keyNoise) = RandomKey(seed: 42).split()
    let X = Tensor.randn([100, 1], key: keyX)
    let yTrue = 2 * X + 1 + 0.1 * Tensor.randn([100, 1], key: keyNoise)
    let w = try Tensor.zeros([1]).requiresGrad_()
    let b = try Tensor.zeros([1]).requiresGrad_()
    let lr = 0.1
    for epoch in 0..<50 {
        let yPred = X * w + b
        let loss = (yPred - yTrue).pow(2).mean()
        try loss.backward()
        try noGrad {
            try w.sub_(lr * w.grad!)
            try b.sub_(lr * b.grad!)
        }
        try w.grad!.zero_()
        try b.grad!.zero_()
        if (epoch + 1) % 10 == 0 {
            print("Epoch \(epoch + 1): loss = \(String(format: "%.4f", loss.item())), w = \(String(format: "%.4f", w.item())), b = \(String(format: "%.4f", b.item()))")
        }
    }
    check(abs(w.item() - 2) < 0.05 && abs(b.item() - 1) < 0.05, "w ≈ 2, b ≈ 1")
}

// MARK: - Tutorial 3: leaves, gradFn, backward, retainGrad, createGraph

do {
    let x = try Tensor([1.0, 2.0])
    print(x.requiresGrad)
    let x2 = try Tensor([1.0, 2.0], requiresGrad: true)
    print(x2.requiresGrad)
    check(!x.requiresGrad && x2.requiresGrad, "requiresGrad is off by default")

    let y = x2.detach()
    print(y.requiresGrad)
    let z2 = noGrad { x2 * 2 }
    print(z2.requiresGrad)

    let z3 = x2 * 3 + 1
    print(z3.gradFn!)
    let out = z3.sum()
    try out.backward()
    print(x2.grad!)
    check(x2.grad!.description == "tensor([3., 3.])", "[3., 3.]")
}

do {
    let x = try Tensor([[1.0, 2.0], [3.0, 4.0]], requiresGrad: true)
    let y = x ** 2
    let gradOutput = Tensor.onesLike(y)
    try y.backward(gradient: gradOutput)
    print(x.grad!)
    check(x.grad!.description == "tensor([[2., 4.],\n        [6., 8.]])", "2x")
}

do {
    let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
    let y = x * 2
    try y.sum().backward(retainGraph: true)
    print(x.grad!)
    try y.sum().backward()
    print(x.grad!)
    check(x.grad!.description == "tensor([4., 4., 4.])", "accumulated twice")
}

do {
    let a = try Tensor([2.0], requiresGrad: true)
    let b = a * 3
    let loss = b.sum()
    try loss.backward()
    print(describe(b.grad))
    check(b.grad == nil, "a non-leaf has no .grad")
}

do {
    let x = try Tensor([2.0], requiresGrad: true)
    let y = x * 3
    try y.retainGrad()
    let z = y ** 2
    try z.backward()
    print("x.grad:", x.grad!)
    print("y.grad:", y.grad!)
    check(x.grad!.description == "tensor([36.])" && y.grad!.description == "tensor([12.])", "36 and 12")
}

do {
    let x = try Tensor([2.0], requiresGrad: true)
    let y = x ** 3
    let dydx = try Autograd.grad(outputs: [y], inputs: [x], createGraph: true)[0]!
    print("dy/dx:", dydx)
    let d2ydx2 = try Autograd.grad(outputs: [dydx], inputs: [x])[0]!
    print("d²y/dx²:", d2ydx2)
    check(dydx.description == "tensor([12.], grad_fn=<MulBackward0>)" && d2ydx2.description == "tensor([12.])", "12, 12")
}

// MARK: - Tutorial 4: leaves and non-leaves, the graph, the two doors to gradients

do {
    let x = try Tensor([1.0, 2.0, 3.0])
    print(x.requiresGrad)
    let w = try Tensor([0.5, 0.5, 0.5], requiresGrad: true)
    print(w.requiresGrad)
    try x.requiresGrad_(true)
    check(x.requiresGrad && w.requiresGrad, "requiresGrad_ on a leaf")
}

do {
    let w = try Tensor([1.0, 2.0], requiresGrad: true)
    let b = try Tensor([0.1], requiresGrad: true)
    let y = w.sum() + b
    print(w.isLeaf)
    print(y.isLeaf)
    print(y.gradFn!)
    check(w.isLeaf && !y.isLeaf && y.gradFn!.name == "AddBackward0", "leaves and non-leaves")
}

do {
    let x = try Tensor(2.0, requiresGrad: true)
    let w = try Tensor(3.0, requiresGrad: true)
    let b = try Tensor(1.0, requiresGrad: true)
    let y = x * w
    let z = y + b
    print(y, z)
    check(y.item() == 6 && z.item() == 7, "6 and 7")
}

do {
    let x = try Tensor(2.0, requiresGrad: true)
    let w = try Tensor(3.0, requiresGrad: true)
    let b = try Tensor(1.0, requiresGrad: true)
    let z = x * w + b
    try z.backward()
    print(x.grad!)
    print(w.grad!)
    print(b.grad!)
    check(x.grad!.item() == 3 && w.grad!.item() == 2 && b.grad!.item() == 1, "3, 2, 1")
}

do {
    let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
    let y = x ** 2
    let gradOutput = try Tensor([1.0, 1.0, 1.0])
    try y.backward(gradient: gradOutput)
    print(x.grad!)
    check(x.grad!.description == "tensor([2., 4., 6.])", "2x")
}

do {
    let x = try Tensor(2.0, requiresGrad: true)
    let y = x ** 3
    let gradX = try Autograd.grad(outputs: y, inputs: x)[0]!
    print(gradX)
    print(describe(x.grad))
    check(gradX.item() == 12 && x.grad == nil, "returned, not accumulated")
}

do {
    let x = try Tensor(2.0, requiresGrad: true)
    let y = x ** 2
    try y.backward(retainGraph: true)
    print(x.grad!)
    try x.grad!.zero_()
    try y.backward()
    print(x.grad!)
    check(x.grad!.item() == 4, "4 twice")
}

do {
    let x = try Tensor(2.0, requiresGrad: true)
    let y = x ** 3
    let dydx = try Autograd.grad(outputs: y, inputs: x, createGraph: true)[0]!
    print(dydx)
    let d2ydx2 = try Autograd.grad(outputs: dydx, inputs: x)[0]!
    print(d2ydx2)
    check(dydx.item() == 12 && d2ydx2.item() == 12, "12 and 12")
}

do {
    let x = try Tensor(3.0, requiresGrad: true)
    let y1 = x * 2
    try y1.backward()
    print(x.grad!)
    let y2 = x * 3
    try y2.backward()
    print(x.grad!)
    check(x.grad!.item() == 5, "2 + 3 = 5")
    try x.grad!.zero_()
    let y3 = x * 4
    try y3.backward()
    print(x.grad!)
    check(x.grad!.item() == 4, "4 after zero_()")
}

do {
    let x = try Tensor(3.0, requiresGrad: true)
    let y = noGrad { x * 2 }
    let inference = noGrad { (data: Tensor) in data * 2 }
    let detached = x.detach()
    let inferred = try inference(x)
    check(!y.requiresGrad && !inferred.requiresGrad && !detached.requiresGrad, "three ways to stop tracking")
}

print("AutogradBasics complete.")
