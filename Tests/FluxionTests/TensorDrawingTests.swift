// Pictures of a tensor's autograd graph: the nodes `backward()` runs, under PyTorch's names, as
// torchviz's make_dot draws them, in DOT and Mermaid.

import Testing
import Fluxion

@Suite("Tensor graph drawings")
struct TensorDrawingTests {
    /// The label of the node an edge comes from, for each edge into `id`.
    private func inputs(of id: String, in drawing: GraphDrawing) -> [String] {
        drawing.edges.filter { $0.to == id }.map { edge in drawing.nodes.first { $0.id == edge.from }!.label }.sorted()
    }

    @Test("y = (x·w + b).sum(): one node per operation, leaves as AccumulateGrad with names and shapes")
    func linear() throws {
        let x = try Tensor([[1.0, 2.0], [3.0, 4.0]])
        let w = try Tensor([[0.5], [-0.5]], requiresGrad: true)
        let b = try Tensor([0.1], requiresGrad: true)
        let y = (x.matmul(w) + b).sum()
        let drawing = y.graphDrawing(title: "linear", names: ["w": w, "b": b])
        let labels = drawing.nodes.map(\.label)
        #expect(labels.contains("SumBackward0"))
        #expect(labels.contains("AddBackward0"))
        #expect(labels.contains("MmBackward0"))
        #expect(labels.contains("AccumulateGrad\nw [2, 1]"))
        #expect(labels.contains("AccumulateGrad\nb [1]"))
        // x does not require grad: it is not drawn.
        #expect(drawing.nodes.count == 6)
        #expect(inputs(of: "output", in: drawing) == ["SumBackward0"])
        let add = drawing.nodes.first { $0.label == "AddBackward0" }!.id
        #expect(inputs(of: add, in: drawing) == ["AccumulateGrad\nb [1]", "MmBackward0"])
        #expect(drawing.dot.hasPrefix("digraph"))
        #expect(drawing.dot.contains("linear"))
        #expect(drawing.mermaid.contains("flowchart"))
    }

    @Test("a node reached by two paths is drawn once; x·x draws two edges from x")
    func sharedNodes() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        let s = sin(x)
        let y = (s * s + s).sum()
        let drawing = y.graphDrawing()
        #expect(drawing.nodes.filter { $0.label == "SinBackward0" }.count == 1)
        let mul = drawing.nodes.first { $0.label == "MulBackward0" }!.id
        #expect(inputs(of: mul, in: drawing) == ["SinBackward0", "SinBackward0"])
        #expect(drawing.nodes.filter { $0.label.hasPrefix("AccumulateGrad") }.count == 1)
    }

    @Test("the graph of a gradient made with createGraph, after backward() freed the first")
    func higherOrder() throws {
        let x = try Tensor([0.5, -1.0], requiresGrad: true)
        let y = (x * x * x).sum()
        let g = try Autograd.grad(outputs: y, inputs: [x], createGraph: true)[0]!
        let drawing = g.graphDrawing(names: ["x": x])
        #expect(drawing.nodes.contains { $0.label == "AccumulateGrad\nx [2]" })
        #expect(drawing.nodes.count > 3)
        // Every edge joins drawn nodes.
        let ids = Set(drawing.nodes.map(\.id))
        #expect(drawing.edges.allSatisfy { ids.contains($0.from) && ids.contains($0.to) })
        try y.backward()
        // Drawn after backward() freed its saved values, too.
        #expect(y.graphDrawing().nodes.contains { $0.label == "SumBackward0" })
    }

    @Test("a tensor without history is drawn alone")
    func noHistory() throws {
        let t = try Tensor([1.0, 2.0])
        let drawing = (t * 2).graphDrawing()
        #expect(drawing.nodes.map(\.label) == ["[2]"])
        #expect(drawing.edges.isEmpty)
    }
}
