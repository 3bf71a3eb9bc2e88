// Staged programs and jit: a function traced once into a typed program (Fluxion's jaxpr),
// printed before and after simplification, drawn, run by `jit`, and composed with the other
// transforms; a tensor's autograd graph drawn as torchviz draws PyTorch's.
//
// Run: swift run -c release StagedPrograms [--quick]
// Writes DOT and Mermaid files to .build/notebook-output/ (or --output DIR); render a DOT file with Graphviz,
//     dot -Tsvg .build/notebook-output/pinn-gradient.dot -o pinn-gradient.svg
// or paste a .mmd file into a ```mermaid block of a Markdown page.
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails.

import Foundation
import Fluxion
import NotebookSupport

/// Writes `text` to `name` in the output folder and returns the path.
func write(_ text: String, named name: String) throws -> String {
    let url = outputURL(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

// MARK: - A program, as traced and as jit runs it

print("1. A program: f(x) = Σ tanh(x)·x, and its gradient")
let f = { (x: NDArray) in (tanh(x) * x).sum() }
let x = NDArray([0.5, -1.0, 2.0], dtype: .float64)
print(try makeProgram(f)(x))
let traced = try makeProgram(grad(f))(x)
let simplified = traced.optimized()
print("grad(f) as traced, \(traced.equations.count) equations:\n\(traced)")
print("grad(f) simplified (what jit(grad(f)) runs), \(simplified.equations.count) equations:\n\(simplified)")
check(simplified.run([x])[0].doubles == (try grad(f)(x)).doubles, "the simplified program gives grad's values")

// MARK: - jit

print("\n2. jit: staged on the first call for each signature, then run as a program")
let df = jit(grad(f))
check(try df(x).doubles == grad(f)(x).doubles, "jit(grad(f)) equals grad(f) bit for bit")
let unstagedTime = try medianTime(repetitions: 200) { _ = try grad(f)(x) }
let stagedTime = try medianTime(repetitions: 200) { _ = try df(x) }
print(String(format: "grad(f): %.1f µs unstaged, %.1f µs under jit", unstagedTime * 1e6, stagedTime * 1e6))

// Every order of composition: the jitted call is one primitive with jvp, vjp and batch rules.
let xs = NDArray([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]], dtype: .float64)
check(try grad(jit(f))(x).doubles == grad(f)(x).doubles, "grad(jit(f)) = grad(f)")
check(try vmap(jit(grad(f)))(xs).doubles == vmap(grad(f))(xs).doubles, "vmap(jit(grad(f))) = vmap(grad(f))")
let h1 = try hessian(jit(f))(x).doubles, h2 = try hessian(f)(x).doubles
check(zip(h1, h2).allSatisfy { Swift.abs($0 - $1) <= 1e-12 }, "hessian(jit(f)) = hessian(f)")

// Swift control flow on a value cannot be staged; the error says what to do instead.
do {
    _ = try jit({ (x: NDArray) in x.sum().item() > 0 ? x : -x })(x)
    check(false, "reading a value inside jit throws")
} catch {
    print("reading a value inside jit:\n  \(error)")
}
check(try jit({ (x: NDArray) in NDArray.where(x.sum() .> 0, x, -x) })(x).doubles == x.doubles, "NDArray.where stages")

// MARK: - The PINN loss's gradient, drawn

print("\n3. The PINN loss's gradient (Laplacian by vmap of hessian, then grad): the program drawn")
struct Network: ArrayStruct {
    var w1: NDArray, b1: NDArray, w2: NDArray, b2: NDArray, w3: NDArray, b3: NDArray
    static var arrayProperties: [ArrayProperty<Network>] {
        [.init(\.w1), .init(\.b1), .init(\.w2), .init(\.b2), .init(\.w3), .init(\.b3)]
    }
    func callAsFunction(_ points: NDArray) -> NDArray {
        let h1 = tanh(matmul(points, w1) + b1)
        let h2 = tanh(matmul(h1, w2) + b2)
        return (matmul(h2, w3) + b3).squeeze(dim: -1)
    }
}
func pinnLoss(_ p: Network, _ points: NDArray, _ s: NDArray) throws -> NDArray {
    let laplacian = try vmap({ (point: NDArray) -> NDArray in
        let h = try hessian({ p($0) })(point)
        return h[0, 0] + h[1, 1]
    })(points)
    let r = laplacian - s
    return (r * r).mean()
}
let width = quickRun ? 16 : 64, count = quickRun ? 128 : 1024
let keys = RandomKey(seed: 7).split(into: 4)
let p = Network(w1: NDArray.normal([2, width], key: keys[0], dtype: .float64) / 2.0.squareRoot(), b1: .zeros([width], dtype: .float64),
                w2: NDArray.normal([width, width], key: keys[1], dtype: .float64) / Double(width).squareRoot(), b2: .zeros([width], dtype: .float64),
                w3: NDArray.normal([width, 1], key: keys[2], dtype: .float64) / Double(width).squareRoot(), b3: .zeros([1], dtype: .float64))
let points = NDArray.uniform([count, 2], key: keys[3], dtype: .float64)
let s = sin(Double.pi * points[.all, 0]) * sin(Double.pi * points[.all, 1])

let pinnProgram = try makeProgram(valueAndGrad(pinnLoss), name: "pinn")(p, points, s)
let pinnSimplified = pinnProgram.optimized()
print("traced: \(pinnProgram.equations.count) equations; simplified: \(pinnSimplified.equations.count)")
print("written:", try write(pinnSimplified.drawing.dot, named: "pinn-gradient.dot"))
print("written:", try write(pinnSimplified.drawing.mermaid, named: "pinn-gradient.mmd"))
print("written:", try write(pinnSimplified.description, named: "pinn-gradient.txt"))

let step = jit(valueAndGrad(pinnLoss))
let (value, gradient) = try step(p, points, s)
let (expectedValue, expectedGradient) = try valueAndGrad(pinnLoss)(p, points, s)
check(Swift.abs(value.item() - expectedValue.item()) <= 1e-12 * Swift.abs(expectedValue.item()), "jit gives the loss")
for (a, b) in zip(gradient.leaves, expectedGradient.leaves) {
    check(zip(a.doubles, b.doubles).allSatisfy { Swift.abs($0 - $1) <= 1e-10 * (1 + Swift.abs($1)) }, "jit gives the gradient")
}
let unstagedPINN = try medianTime(repetitions: quickRun ? 3 : 10) { _ = try valueAndGrad(pinnLoss)(p, points, s) }
let stagedPINN = try medianTime(repetitions: quickRun ? 3 : 10) { _ = try step(p, points, s) }
print(String(format: "value and gradient of the PINN loss: %.2f ms unstaged, %.2f ms under jit", unstagedPINN * 1e3, stagedPINN * 1e3))

// MARK: - A tensor's autograd graph

print("\n4. A tensor's autograd graph: what backward() runs, as torchviz draws it")
let w = try Tensor([[0.5, -0.25], [1.0, 0.75]], requiresGrad: true)
let b = try Tensor([0.1, -0.1], requiresGrad: true)
let input = try Tensor([[1.0, 2.0]])
let loss = (tanh(input.matmul(w) + b) * 2).sum()
let graph = loss.graphDrawing(title: "loss", names: ["w": w, "b": b])
print(graph.mermaid)
print("written:", try write(graph.dot, named: "tensor-graph.dot"))
print("written:", try write(graph.mermaid, named: "tensor-graph.mmd"))
check(graph.nodes.contains { $0.label == "TanhBackward0" } && graph.nodes.contains { $0.label == "AccumulateGrad\nw [2, 2]" },
      "the drawing names PyTorch's nodes and the leaves")
