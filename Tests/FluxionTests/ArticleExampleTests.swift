// The Swift blocks of the documentation articles (Sources/Fluxion/Fluxion.docc) that need only
// Fluxion, verbatim — after the values a block assumes, where it assumes any — each followed by
// checks of what its comments say it prints or computes. ArticleSnippetTests keeps the articles
// and these tests in step.

import Foundation
import Testing
import Fluxion
import FluxionCheck

@Suite("The documentation articles' examples")
struct ArticleExampleTests {
    // MARK: - Getting started

    @Test("Getting started: a first gradient")
    func firstGradient() throws {
        let f = { (x: NDArray) in (x ** 2 + 3 * x).sum() }   // a function to a 0-d array
        let df = grad(f)                                     // its gradient, a function too
        print(try df(NDArray(2.0)))                          // tensor(7.)
        print(try df(NDArray([0.0, 1.0, 2.0])))              // tensor([3., 5., 7.])
        print(try grad(grad(f))(NDArray(2.0)))               // tensor(2.)
        let (value, gradient) = try valueAndGrad(f)(NDArray([1.0, 2.0]))
        print(value, gradient)                               // tensor(14.) tensor([5., 7.])

        #expect("\(try df(NDArray(2.0)))" == "tensor(7.)")
        #expect("\(try df(NDArray([0.0, 1.0, 2.0])))" == "tensor([3., 5., 7.])")
        #expect("\(try grad(grad(f))(NDArray(2.0)))" == "tensor(2.)")
        #expect("\(value) \(gradient)" == "tensor(14.) tensor([5., 7.])")
    }

    @Test("Getting started: a first backward")
    func firstBackward() throws {
        let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let y = (x * x).sum()
        print(y)                                             // tensor(14., grad_fn=<SumBackward0>)
        try y.backward()
        print(x.grad!)                                       // tensor([2., 4., 6.])
        print(x.isLeaf, y.isLeaf)                            // true false

        #expect("\(y)" == "tensor(14., grad_fn=<SumBackward0>)")
        #expect("\(x.grad!)" == "tensor([2., 4., 6.])")
        #expect(x.isLeaf && !y.isLeaf)
    }

    // MARK: - Transforms and how they compose

    @Test("Transforms: Jacobian shapes are the output's shape followed by the input's")
    func jacobianShapes() throws {
        let a = NDArray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype: .float64)
        let f = { (x: NDArray) in matmul(a, x.reshape([4])[0..<2]) * x.sum() }   // [2, 2] → [3]
        let x = NDArray([[1.0, 0.0], [0.0, 1.0]], dtype: .float64)
        print(try jacrev(f)(x).shape)                        // [3, 2, 2]
        print(try jacfwd(f)(x).shape)                        // [3, 2, 2]
        let h = try hessian({ (x: NDArray) in (x ** 3).sum() })(NDArray([1.0, 2.0]))
        print(h)                                             // diag(6x): [[6, 0], [0, 12]]

        #expect(try jacrev(f)(x).shape == [3, 2, 2])
        #expect(try jacfwd(f)(x).shape == [3, 2, 2])
        expectClose(try jacrev(f)(x), try jacfwd(f)(x), rtol: 1e-12, atol: 1e-12)
        // Entry [i, j, k] is ∂fᵢ/∂x_jk: against central differences, entry by entry.
        expectClose(try jacrev(f)(x), try centralDifferenceJacobian(f, at: x), rtol: 1e-6, atol: 1e-6)
        #expect(h.floats == [6, 0, 0, 12])
    }

    @Test("Transforms: several arguments, argnums and trees")
    func argnumsAndTrees() throws {
        func loss(_ w: NDArray, _ b: NDArray) -> NDArray { ((w * 2 + b) ** 2).sum() }
        let w = NDArray([1.0, -1.0]), b = NDArray([0.5, 0.5])
        print(try grad(loss)(w, b))                          // tensor([10., -6.]): ∂/∂w only
        let (dw, db) = try grad(loss, argnums: .both)(w, b)
        print(dw, db)                                        // tensor([10., -6.]) tensor([ 5., -3.])

        let parameters = ["w": w, "b": b]
        let g = try grad({ (p: [String: NDArray]) in loss(p["w"]!, p["b"]!) })(parameters)
        print(g["b"]!)                                       // tensor([ 5., -3.])

        #expect("\(try grad(loss)(w, b))" == "tensor([10., -6.])")
        #expect("\(dw) \(db)" == "tensor([10., -6.]) tensor([ 5., -3.])")
        #expect("\(g["b"]!)" == "tensor([ 5., -3.])" && "\(g["w"]!)" == "tensor([10., -6.])")
    }

    @Test("Transforms: auxiliary outputs")
    func auxiliaryOutputs() throws {
        let inputs = NDArray([[1.0, 2.0], [3.0, 4.0]]), targets = NDArray([1.0, 0.0])
        let lossAndPrediction = { (w: NDArray) in
            let prediction = matmul(inputs, w)
            return (((prediction - targets) ** 2).mean(), prediction)
        }
        let (gradient, prediction) = try grad(hasAux: lossAndPrediction)(NDArray([0.5, 0.0]))
        print(prediction)                                    // tensor([0.5000, 1.5000])
        print(gradient)                                      // tensor([4., 5.])

        #expect("\(prediction)" == "tensor([0.5000, 1.5000])")
        #expect(prediction.floats == [0.5, 1.5])
        #expect(gradient.floats == [4, 5])
    }

    @Test("Transforms: grad of vmap of jvp")
    func composing() throws {
        let u = { (x: NDArray) in sin(x) * x }                // elementwise, R³ → R³
        let basis = NDArray.eye(3, dtype: .float64)
        // vmap of jvp: the Jacobian one column per basis vector; its trace is Σᵢ ∂uᵢ/∂xᵢ.
        let traceOfJacobian = { (x: NDArray) in
            try vmap({ (v: NDArray) in try jvp(u, at: x, tangents: v).tangent })(basis).diagonal().sum()
        }
        let x0 = NDArray([0.0, 1.0, 2.0], dtype: .float64)
        // grad of vmap of jvp: ∂/∂xᵢ (sin xᵢ + xᵢ cos xᵢ) = 2 cos xᵢ − xᵢ sin xᵢ.
        print(try grad(traceOfJacobian)(x0))
        print(try jacfwd(jacrev({ (x: NDArray) in (x ** 3).sum() }))(x0))   // diag(6x)

        expectClose(try grad(traceOfJacobian)(x0), [0.0, 1.0, 2.0].map { 2 * Foundation.cos($0) - $0 * Foundation.sin($0) },
                    rtol: 1e-14, atol: 1e-14)
        #expect(try jacfwd(jacrev({ (x: NDArray) in (x ** 3).sum() }))(x0).doubles == [0, 0, 0, 0, 6, 0, 0, 0, 12])
    }

    @Test("Transforms: batching with a shared argument")
    func batching() throws {
        let weights = NDArray([[1.0, 0.0], [0.0, 2.0]])
        let apply = { (w: NDArray, x: NDArray) in matmul(w, x) }
        let batch = NDArray([[1.0, 1.0], [2.0, 3.0], [0.0, -1.0]])          // three examples
        print(try vmap(apply, inAxes: (nil, 0))(weights, batch))            // [3, 2]: one row each

        let mapped = try vmap(apply, inAxes: (nil, 0))(weights, batch)
        #expect(mapped.shape == [3, 2] && mapped.floats == [1, 2, 2, 6, 0, -2])
    }

    // MARK: - The Tensor facade for PyTorch users

    @Test("Tensor facade: hooks, retained graphs, Autograd.grad, noGrad")
    func facadeScript() throws {
        let w = try Tensor([1.0, -2.0], requiresGrad: true)
        let hook = try w.registerHook { g in g * 2 }        // doubles w's gradient
        let y = (w * w).sum()
        print(y.gradFn!.name)                               // SumBackward0
        try y.backward(retainGraph: true)
        print(w.grad!)                                      // tensor([ 4., -8.]): 2 · 2w
        hook.remove()
        w.grad = nil
        try y.backward()                                    // the retained graph, swept again
        print(w.grad!)                                      // tensor([ 2., -4.])

        let d1 = try Autograd.grad(outputs: (w ** 3).sum(), inputs: [w], createGraph: true)[0]!
        print(d1)                                           // 3w², with a grad_fn: differentiable again
        print(try Autograd.grad(outputs: d1.sum(), inputs: [w])[0]!)   // tensor([  6., -12.]): 6w
        let frozen = noGrad { w * 3 }
        print(frozen.requiresGrad)                          // false

        #expect(y.gradFn!.name == "SumBackward0")
        // The first backward again, through the hook.
        let v = try Tensor([1.0, -2.0], requiresGrad: true)
        try v.registerHook { g in g * 2 }
        try (v * v).sum().backward()
        #expect("\(v.grad!)" == "tensor([ 4., -8.])")
        #expect("\(w.grad!)" == "tensor([ 2., -4.])")
        #expect(try d1.detach().floats() == [3, 12] && "\(d1)".contains("grad_fn="))
        // d1's graph was swept (and freed) by the block's second Autograd.grad: check on a new one.
        let fresh = try Tensor([1.0, -2.0], requiresGrad: true)
        let e1 = try Autograd.grad(outputs: (fresh ** 3).sum(), inputs: [fresh], createGraph: true)[0]!
        #expect("\(try Autograd.grad(outputs: e1.sum(), inputs: [fresh])[0]!)" == "tensor([  6., -12.])")
        #expect(!frozen.requiresGrad)
    }

    // MARK: - Per-sample gradients

    @Test("Per-sample gradients over arrays, against a loop and the minibatch gradient")
    func perSampleGradients() throws {
        func loss(_ w: NDArray, _ x: NDArray, _ y: NDArray) -> NDArray {
            let prediction = (matmul(x, w)).sum()                // one example: x [3], w [3]
            return (prediction - y) ** 2
        }
        let w = NDArray([0.5, -1.0, 2.0])
        let xs = NDArray([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [2.0, 0.0, 1.0]])
        let ys = NDArray([1.0, 0.0, 1.0, 2.0])
        let perExample = try vmap(grad(loss), inAxes: (nil, 0, 0))(w, xs, ys)
        print(perExample.shape)                                  // [4, 3]: one gradient per example
        // The same by a loop, one example at a time:
        let looped = try stack((0..<4).map { i in try grad(loss)(w, xs[i], ys[i]) })
        print((perExample - looped).abs().max())                 // tensor(0.)
        // Their mean is the minibatch gradient:
        print(try grad({ (w: NDArray) in try vmap({ (x: NDArray, y: NDArray) in loss(w, x, y) })(xs, ys).mean() })(w))

        #expect(perExample.shape == [4, 3])
        #expect("\((perExample - looped).abs().max())" == "tensor(0.)")
        // Example 0: prediction 0.5, residual −0.5, gradient 2·(−0.5)·x = [−1, 0, 0].
        #expect(perExample[0].floats == [-1, 0, 0])
        let minibatch = try grad({ (w: NDArray) in try vmap({ (x: NDArray, y: NDArray) in loss(w, x, y) })(xs, ys).mean() })(w)
        expectClose(minibatch, perExample.mean(dim: 0), rtol: 1e-6, atol: 1e-6)
    }

    // MARK: - PINNs

    @Test("PINNs: the Laplacian, the Hessian's diagonal, and value, gradient and Laplacian")
    func laplacianExample() throws {
        let u = { (x: NDArray) in (sin(x) * x).sum() }          // u(x) = Σ xᵢ sin xᵢ
        let points = NDArray([[0.0, 1.0], [2.0, -1.0]], dtype: .float64)
        // Δu = Σ (2 cos xᵢ − xᵢ sin xᵢ), at each point:
        print(try laplacian(u, batched: true)(points))
        print(try hessianDiagonal(u)(points[0]))                 // [2, 2 cos 1 − sin 1]
        let (value, gradient, lap) = try valueGradientAndLaplacian(u, batched: true)(points)
        print(value.shape, gradient.shape, lap.shape)            // [2] [2, 2] [2]

        func second(_ x: Double) -> Double { 2 * Foundation.cos(x) - x * Foundation.sin(x) }
        expectClose(try laplacian(u, batched: true)(points), [second(0) + second(1), second(2) + second(-1)], rtol: 1e-14, atol: 1e-14)
        expectClose(try hessianDiagonal(u)(points[0]), [2, second(1)], rtol: 1e-14, atol: 1e-14)
        #expect(value.shape == [2] && gradient.shape == [2, 2] && lap.shape == [2])
        expectClose(lap, try laplacian(u, batched: true)(points), rtol: 1e-14, atol: 1e-14)
    }

    @Test("PINNs: a residual loss built on the Laplacian, differentiated and jitted")
    func residualLossExample() throws {
        let points = NDArray([[0.0, 1.0], [2.0, -1.0]], dtype: .float64)
        let w = NDArray([[0.5, -0.3], [0.2, 0.8]], dtype: .float64)
        func residualLoss(_ w: NDArray, _ x: NDArray) throws -> NDArray {
            let network = { (point: NDArray) in tanh(matmul(point, w)).sum() }
            let source = NDArray(1.0, dtype: .float64)
            return ((try laplacian(network, batched: true)(x) + source) ** 2).mean()   // −Δu = 1
        }
        let step = jit(valueAndGrad(residualLoss))
        let (pinnLoss, dw) = try step(w, points)
        print(pinnLoss.shape, dw.shape)                          // [] [2, 2]

        #expect(pinnLoss.shape == [] && dw.shape == [2, 2])
        let unstaged = try valueAndGrad(residualLoss)(w, points)
        expectClose(pinnLoss, unstaged.value, rtol: 1e-12, atol: 1e-12)
        expectClose(dw, unstaged.grad, rtol: 1e-12, atol: 1e-12)
        expectClose(dw, try centralDifferenceGradient({ try residualLoss($0, points) }, at: w), rtol: 1e-6, atol: 1e-8)
    }

    @Test("PINNs: directional derivatives by jet")
    func jetExample() throws {
        let cubic = { (x: NDArray) in (x ** 3).sum() }
        let at = NDArray([1.0, 2.0], dtype: .float64), along = NDArray([1.0, -1.0], dtype: .float64)
        print(try directionalDerivative(cubic, at: at, along: along, order: 3))   // 6 Σ vᵢ³ = 0
        print(try directionalDerivative(cubic, at: at, along: along, order: 2))   // 6 Σ xᵢvᵢ² = 18

        #expect(try directionalDerivative(cubic, at: at, along: along, order: 3).item() == 0)
        #expect(try directionalDerivative(cubic, at: at, along: along, order: 2).item() == 18)
    }

    // MARK: - MAML

    @Test("MAML: the meta-gradient through an inner step equals its closed form")
    func mamlClosedForm() throws {
        let alpha = 0.1
        func supportLoss(_ theta: NDArray, _ a: NDArray) -> NDArray { ((theta - a) ** 2).sum() }
        func queryLoss(_ theta: NDArray, _ b: NDArray) -> NDArray { ((theta - b) ** 2).sum() }
        func adaptedLoss(_ theta: NDArray, _ a: NDArray, _ b: NDArray) throws -> NDArray {
            let adapted = theta - alpha * (try grad(supportLoss)(theta, a))    // the inner step
            return queryLoss(adapted, b)
        }
        // Three tasks, mapped with vmap; θ shared.
        let a = NDArray([1.0, 2.0, -1.0], dtype: .float64), b = NDArray([1.5, 2.5, 0.0], dtype: .float64)
        let metaLoss = { (theta: NDArray) in try vmap(adaptedLoss, inAxes: (nil, 0, 0))(theta, a, b).mean() }
        let theta = NDArray(0.0, dtype: .float64)
        let metaGradient = try grad(metaLoss)(theta)
        let adapted = (1 - 2 * alpha) * theta + 2 * alpha * a
        print(metaGradient, (2 * (adapted - b) * (1 - 2 * alpha)).mean())   // equal

        // θ' = 0.2a = [0.2, 0.4, −0.2]; 2(θ' − b)(0.8) = [−2.08, −3.36, −0.32]; mean −1.92.
        #expect(Swift.abs(metaGradient.item() - (-1.92)) < 1e-12)
        #expect(Swift.abs(metaGradient.item() - (2 * (adapted - b) * (1 - 2 * alpha)).mean().item()) < 1e-12)
        // Without the second-order term (a first-order approximation) the answer differs.
        #expect(Swift.abs(metaGradient.item() - (2 * (adapted - b)).mean().item()) > 0.1)
    }

    // MARK: - Performance

    @Test("Performance: a jitted value-and-gradient step equals the unstaged one")
    func jittedStep() throws {
        let loss = { (w: NDArray, x: NDArray) in (tanh(matmul(x, w)) * 2 + 1).sum() }
        let step = jit(valueAndGrad(loss))                   // staged on the first call
        let w = NDArray.normal([16, 4], key: RandomKey(seed: 0))
        let x = NDArray.normal([32, 16], key: RandomKey(seed: 1))
        let (value, gradient) = try step(w, x)
        let reference = try valueAndGrad(loss)(w, x)
        print((value - reference.value).abs().item() < 1e-3, gradient.shape)   // true [16, 4]
        print(try makeProgram(valueAndGrad(loss))(w, x).optimized().executionSteps)   // what was fused

        #expect((value - reference.value).abs().item() < 1e-3 && gradient.shape == [16, 4])
        expectClose(gradient, reference.grad, rtol: 1e-5, atol: 1e-5)
        #expect(!(try makeProgram(valueAndGrad(loss))(w, x).optimized().executionSteps).isEmpty)
    }

    // MARK: - Differential operators (existing article)

    @Test("Differential operators: the overview's operators on a small network")
    func differentialOperatorsOverview() throws {
        let w1 = NDArray.normal([3, 8], key: RandomKey(seed: 10), dtype: .float64)
        let b1 = NDArray.normal([8], key: RandomKey(seed: 11), dtype: .float64)
        let w2 = NDArray.normal([8, 1], key: RandomKey(seed: 12), dtype: .float64)
        let points = NDArray.normal([5, 3], key: RandomKey(seed: 13), dtype: .float64)
        let v = NDArray([1.0, -0.5, 2.0], dtype: .float64)
        let u = { (x: NDArray) in tanh(x.matmul(w1) + b1).matmul(w2).squeeze(dim: -1) }   // R^d → R
        let lap = try laplacian(u, batched: true)(points)              // [n] from points [n, d]
        let (value, gradient, lap2) = try valueGradientAndLaplacian(u, batched: true)(points)
        let diagonal = try hessianDiagonal(u)(points[0])                // ∂²u/∂xᵢ², shape [d]
        let div = try divergence(grad(u))(points[0])                     // ∇·∇u = Δu
        let third = try directionalDerivative(u, at: points[0], along: v, order: 3)

        #expect(lap.shape == [5] && value.shape == [5] && gradient.shape == [5, 3] && diagonal.shape == [3])
        let trace = try hessian(u)(points[0]).diagonal().sum()
        expectClose(lap[0], trace, rtol: 1e-12, atol: 1e-12)
        expectClose(lap2, lap, rtol: 1e-12, atol: 1e-12)
        expectClose(diagonal.sum(), trace, rtol: 1e-12, atol: 1e-12)
        expectClose(div, trace, rtol: 1e-12, atol: 1e-12)
        // The third directional derivative, against nested jvps.
        let d1 = { (x: NDArray) in try jvp(u, at: x, tangents: v).tangent }
        let d2 = { (x: NDArray) in try jvp(d1, at: x, tangents: v).tangent }
        expectClose(third, try jvp(d2, at: points[0], tangents: v).tangent, rtol: 1e-10, atol: 1e-12)
    }

    @Test("Differential operators: jet's third coefficient is the third directional derivative")
    func differentialOperatorsJet() throws {
        let u = { (x: NDArray) in (sin(x) * x).sum() }
        let x = NDArray([0.3, -1.1], dtype: .float64), v = NDArray([1.0, 2.0], dtype: .float64)
        let zeros = NDArray.zerosLike(x)
        let (u0, terms) = try jet(u, primal: x, series: [v, zeros, zeros])   // terms[2] = D³u(x)[v, v, v]

        #expect(terms.count == 3)
        expectClose(u0, u(x), rtol: 1e-15, atol: 1e-15)
        expectClose(terms[2], try directionalDerivative(u, at: x, along: v, order: 3), rtol: 1e-12, atol: 1e-12)
    }

    // MARK: - Staged programs (existing article)

    @Test("Staged programs: a gradient's program as traced and simplified")
    func stagedProgramsOverview() throws {
        let f = { (x: NDArray) in (tanh(x) * x).sum() }
        let x = NDArray([0.5, -1.0, 2.0], dtype: .float64)
        let traced = try makeProgram(grad(f))(x)
        print(traced)                 // as traced: 9 equations
        print(traced.optimized())     // what jit(grad(f)) runs: 5 equations
        let df = jit(grad(f))         // staged on the first call, then replayed

        #expect(traced.equations.count == 9)
        #expect(traced.optimized().equations.count == 5)
        expectClose(try df(x), try grad(f)(x), rtol: 0, atol: 0)
    }

    @Test("Staged programs: a tensor's graph drawn as Mermaid")
    func stagedProgramsDrawing() throws {
        let w = try Tensor([[0.5, -0.25], [1.0, 0.75]], requiresGrad: true)
        let b = try Tensor([0.1, -0.1], requiresGrad: true)
        let input = try Tensor([[1.0, 2.0]])
        let loss = (tanh(input.matmul(w) + b) * 2).sum()
        print(loss.graphDrawing(title: "loss", names: ["w": w, "b": b]).mermaid)

        let mermaid = loss.graphDrawing(title: "loss", names: ["w": w, "b": b]).mermaid
        for line in ["title: loss", "n1[\"SumBackward0\"]", "n5[\"MmBackward0\"]", "n6([\"AccumulateGrad<br/>b [2]\"])",
                     "n7([\"AccumulateGrad<br/>w [2, 2]\"])", "n7 --> n5"] {
            #expect(mermaid.contains(line), "the article's drawing shows \(line)")
        }
    }

    @Test("Staged programs: a plan's execution steps")
    func stagedProgramsExecutionSteps() throws {
        let x = NDArray([0.5, -1.0, 2.0], dtype: .float64)
        let program = try makeProgram(grad({ (x: NDArray) in (tanh(x) * x).sum() }))(x).optimized()
        print(program.executionSteps)

        #expect(!program.executionSteps.isEmpty)
    }
}

/// ∂f/∂x by central differences in float64, with shape f(x).shape + x.shape.
private func centralDifferenceJacobian(_ f: (NDArray) throws -> NDArray, at x: NDArray, eps: Double = 1e-6) throws -> NDArray {
    let values = x.doubles
    var columns: [NDArray] = []
    for k in values.indices {
        var plus = values, minus = values
        plus[k] += eps
        minus[k] -= eps
        let difference = (try f(NDArray(shape: x.shape, scalars: plus, dtype: .float64)) - (try f(NDArray(shape: x.shape, scalars: minus, dtype: .float64)))) / (2 * eps)
        columns.append(difference)
    }
    let output = try f(x).shape
    return stack(columns, dim: -1).reshape(output + x.shape)
}

/// The gradient of a scalar function by central differences.
private func centralDifferenceGradient(_ f: (NDArray) throws -> NDArray, at x: NDArray) throws -> NDArray {
    try centralDifferenceJacobian(f, at: x)
}
