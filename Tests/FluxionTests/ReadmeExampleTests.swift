// The README's short example, statement for statement, with each printed claim of its comments
// checked, so that the example cannot drift from what Fluxion does.

import Testing
import Fluxion

@Suite("The README's short example")
struct ReadmeExampleTests {
    @Test("every statement runs and prints what its comment says")
    func shortExample() throws {
        let x = NDArray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])   // float32, as in PyTorch
        #expect(x.dtype == .float32)
        #expect((x - x.mean(dim: 0)).floats == [-1.5, -1.5, -1.5, 1.5, 1.5, 1.5])
        #expect(matmul(x, x.T).floats == [14, 32, 32, 77])
        #expect("\(x[.all, 1])" == "tensor([2., 5.])")

        let a = NDArray([[4.0, 2.0], [2.0, 3.0]], dtype: .float64)
        let solved = solve(a, NDArray([2.0, 1.0], dtype: .float64)).doubles
        #expect(Swift.abs(solved[0] - 0.5) < 1e-15 && Swift.abs(solved[1]) < 1e-15)
        #expect(NDArray.normal([3], key: RandomKey(seed: 0)).shape == [3])

        let f = { (x: NDArray) in (x ** 3).sum() }
        #expect("\(try grad(grad(f))(NDArray(2.0)))" == "tensor(12.)")
        #expect(try hessian(f)(NDArray([1.0, 2.0])).floats == [6, 0, 0, 12])

        func loss(_ w: NDArray, _ x: NDArray, _ y: NDArray) -> NDArray { ((matmul(x, w) - y) ** 2).sum() }
        let perExample = try vmap(grad(loss), inAxes: (nil, 0, 0))(NDArray.zeros([3]), NDArray.ones([8, 3]), NDArray.ones([8]))
        #expect(perExample.shape == [8, 3] && perExample.floats.allSatisfy { $0 == -2 })

        let t = try Tensor([2.0], requiresGrad: true)
        let y = t ** 2 + 3 * t
        #expect("\(y)" == "tensor([10.], grad_fn=<AddBackward0>)")
        try y.backward()
        #expect("\(t.grad!)" == "tensor([7.])")
        let d1 = try Autograd.grad(outputs: t ** 3, inputs: t, createGraph: true)[0]!
        #expect("\(try Autograd.grad(outputs: d1, inputs: t)[0]!)" == "tensor([12.])")
        #expect(y.graphDrawing().mermaid.contains("AddBackward0"))

        let program = try makeProgram(grad(f))(NDArray([1.0, 2.0]))
        #expect("\(program)".contains("pow[exponent=3.0]"))
        let step = jit(valueAndGrad(f))
        #expect("\(try step(NDArray([1.0, 2.0])).grad)" == "tensor([ 3., 12.])")
    }

    @Test("the short example as the README shows it, prints included")
    func shortExampleVerbatim() throws {
        let x = NDArray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])   // float32, as in PyTorch
        print(x - x.mean(dim: 0))                               // broadcasting
        print(matmul(x, x.T))                                   // BLAS, transpose as a flag
        print(x[.all, 1])                                       // a view: tensor([2., 5.])

        let a = NDArray([[4.0, 2.0], [2.0, 3.0]], dtype: .float64)
        print(solve(a, NDArray([2.0, 1.0], dtype: .float64)))    // LAPACK
        print(NDArray.normal([3], key: RandomKey(seed: 0)))      // explicit keys, JAX style

        // Transforms compose in any order; transformed functions throw TransformError on misuse.
        let f = { (x: NDArray) in (x ** 3).sum() }
        print(try grad(grad(f))(NDArray(2.0)))                   // tensor(12.)
        print(try hessian(f)(NDArray([1.0, 2.0])))               // diag(6x)

        // Per-sample gradients: parameters shared (nil), examples mapped along axis 0.
        func loss(_ w: NDArray, _ x: NDArray, _ y: NDArray) -> NDArray { ((matmul(x, w) - y) ** 2).sum() }
        let perExample = try vmap(grad(loss), inAxes: (nil, 0, 0))(NDArray.zeros([3]), NDArray.ones([8, 3]), NDArray.ones([8]))

        // The Tensor facade: PyTorch's autograd, line for line, on the same engine.
        let t = try Tensor([2.0], requiresGrad: true)
        let y = t ** 2 + 3 * t                                   // tensor([10.], grad_fn=<AddBackward0>)
        try y.backward()
        print(t.grad!)                                           // tensor([7.])
        let d1 = try Autograd.grad(outputs: t ** 3, inputs: t, createGraph: true)[0]!
        print(try Autograd.grad(outputs: d1, inputs: t)[0]!)     // tensor([12.])
        print(y.graphDrawing().mermaid)                          // what backward() runs, as a picture

        // Staged programs: trace once, run without tracing; composes with every transform.
        print(try makeProgram(grad(f))(NDArray([1.0, 2.0])))     // the equations, one per line
        let step = jit(valueAndGrad(f))                          // staged on the first call per signature
        print(try step(NDArray([1.0, 2.0])).grad)                // tensor([ 3., 12.])
        #expect(perExample.shape == [8, 3])
    }
}
