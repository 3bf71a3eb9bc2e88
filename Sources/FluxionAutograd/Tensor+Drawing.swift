// Pictures of a tensor's autograd graph — what `backward()` runs from it — as torchviz's
// `make_dot` draws PyTorch's: one node per `gradFn` node under PyTorch's name, leaves as their
// `AccumulateGrad` nodes with the leaf's shape (and name, when given), the tensor itself at the
// bottom, and edges in the direction data flows, from the inputs to the operations using them.
// The text is written by `GraphDrawing`, as Graphviz DOT or a Mermaid flowchart.
//
// A node is known by the tape output it stands for, not by the object: the nodes of gradients
// made with `createGraph` are made from the tape each time `nextFunctions` is read, so one
// operation reached by two paths is two objects. Two nodes share a tape output only when one is
// the other's output unchanged (a reshape to the same shape) or one is an operation's and the
// other derived from its last primitive; they are told apart by how many such unchanged steps
// lie beneath them and by their names.
//
// Left out: torchviz's `show_attrs` and `show_saved` (saved values and attributes of nodes), and
// the output index of edges into multi-output operations (`nextFunctions` reports 0 for all).

import FluxionCore

extension Tensor {
    /// A picture of the graph `backward()` runs from this tensor, as torchviz's `make_dot`
    /// draws PyTorch's; write it out with `.dot` or `.mermaid`.
    ///
    /// ```swift
    /// let y = (x * w + b).sum()
    /// try y.graphDrawing(names: ["w": w, "b": b]).dot.write(toFile: "graph.dot", atomically: true, encoding: .utf8)
    /// // dot -Tsvg graph.dot -o graph.svg
    /// ```
    ///
    /// What is drawn:
    /// - each node of the graph (`gradFn` and, through `nextFunctions`, everything it reaches)
    ///   once, however many paths lead to it, labelled with its PyTorch name (`MulBackward0`);
    /// - leaves that require grad as their `AccumulateGrad` node, drawn as inputs, with the
    ///   leaf's shape (`AccumulateGrad\n[2, 3]`) and its name in `names` (`AccumulateGrad\nw [2, 3]`);
    /// - this tensor as the output, labelled with its shape, below the node that made it.
    ///
    /// Edges run from a node to the node whose operation used its result — the direction data
    /// flows in the forward pass, the reverse of the one gradients take — so inputs are drawn at
    /// the top and this tensor at the bottom. An operation that uses one input twice (`x * x`)
    /// has two edges from it; inputs without history (numbers, tensors that do not require
    /// grad) are not drawn. A tensor without history is drawn alone. The graph can be drawn
    /// after `backward()` has freed its saved values.
    ///
    /// Render the DOT text with Graphviz (`dot -Tsvg graph.dot -o graph.svg`); paste the Mermaid
    /// text into a `mermaid` code block of a Markdown file, which GitHub and GitLab draw.
    ///
    /// - Parameters:
    ///   - title: Drawn above the graph.
    ///   - names: Names for tensors in the graph, as torchviz's `params`
    ///     (`dict(model.named_parameters())`): a leaf's name is written on its `AccumulateGrad`
    ///     node, an intermediate tensor's on the node that made it, with the tensor's shape.
    ///     A tensor given under several names shows them all.
    /// - Returns: The drawing: node ids are `output` for this tensor and `node0`, `node1`, … in
    ///   the order the nodes are reached from it.
    public func graphDrawing(title: String? = nil, names: [String: Tensor] = [:]) -> GraphDrawing {
        var drawing = GraphDrawing(title: title)
        // Sorted, so that a tensor given under two names reads the same on every run.
        var captions: [DrawingKey: (names: [String], shape: [Int])] = [:]
        for (name, tensor) in names.sorted(by: { $0.key < $1.key }) {
            // This tensor's names are drawn on the output, not on the node that made it.
            guard tensor !== self, let node = tensor.gradientNode else { continue }
            captions[DrawingKey(node), default: ([], tensor.shape)].names.append(name)
        }
        let ownNames = names.filter { $0.value === self }.keys.sorted()
        drawing.addNode("output", label: caption(names: ownNames, shape: shape), shape: .output)
        guard let gradFn else { return drawing }

        var ids: [DrawingKey: String] = [:]
        // The nodes drawn, in the order they were reached; holding them keeps their tape
        // entries, and so the keys' object identifiers, alive.
        var reached: [(node: Node, id: String)] = []
        func id(of node: Node) -> String {
            let key = DrawingKey(node)
            if let id = ids[key] { return id }
            let id = "node\(reached.count)"
            ids[key] = id
            reached.append((node, id))
            var lines = [node.name]
            if let named = captions[key] {
                lines.append(caption(names: named.names, shape: named.shape))
            } else if node.isLeafAccumulator, let shape = node.leafShape {
                lines.append(describe(shape))
            }
            drawing.addNode(id, label: lines.joined(separator: "\n"), shape: node.isLeafAccumulator ? .input : .operation)
            return id
        }

        drawing.addEdge(from: id(of: gradFn), to: "output")
        var next = 0
        while next < reached.count {
            let (node, target) = reached[next]
            next += 1
            for case let (input?, _) in node.nextFunctions {
                drawing.addEdge(from: id(of: input), to: target)
            }
        }
        return drawing
    }
}

/// `names` (if any) and `shape`, as a line of a node's label: `w [2, 3]`.
private func caption(names: [String], shape: [Int]) -> String {
    (names + [describe(shape)]).joined(separator: " ")
}

/// What tells nodes apart in a drawing: the tape output a node stands for, how many operations
/// that returned their input unchanged lie beneath it at that output, and its name.
private struct DrawingKey: Hashable {
    let output: TapeEntry.Ref.Key
    let unchangedSteps: Int
    let name: String

    init(_ node: Node) {
        let output = node.ref.key
        var steps = 0
        var current = node
        while let inner = current.nextFunctions.lazy.compactMap(\.node).first(where: { $0.ref.key == output }) {
            steps += 1
            current = inner
        }
        self.output = output
        unchangedSteps = steps
        name = node.name
    }
}

extension Node {
    /// Whether this is a leaf's `AccumulateGrad` node: it stands for a tape input and has no
    /// inputs itself (an operation that returned a leaf unchanged stands for the same input).
    fileprivate var isLeafAccumulator: Bool { accumulatesGrad && nextFunctions.isEmpty }

    /// For an `AccumulateGrad` node, the leaf's shape: from the leaf, or from the tape while
    /// the leaf's value is recorded there.
    fileprivate var leafShape: [Int]? {
        if let variable { return variable.shape }
        let outputs = ref.node.outputs
        return outputs.indices.contains(ref.output) ? outputs[ref.output].shape : nil
    }
}
