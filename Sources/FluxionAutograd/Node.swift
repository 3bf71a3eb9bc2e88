// The nodes of the facade's graph: what `gradFn` returns. A node stands for one operation on
// tensors (`MulBackward0` for `*`, `MeanBackward0` for `mean()`, `AccumulateGrad` for a leaf)
// and points, through `nextFunctions`, to the nodes of the operation's inputs — PyTorch's
// names and shape of the graph.
//
// Underneath, every operation is one or more primitives recorded on the level-0 reverse tape
// (`mean` is a sum and a scaling); a node covers the tape entries its operation recorded, from
// its output back to its inputs. Gradients computed with `createGraph` are recorded by the
// primitives' own rules, so their nodes are named after the last primitive (`MulBackward0`
// for the derivative of x³, as in PyTorch).

import FluxionCore
import FluxionKernels
import Runtime

/// A node of the graph recorded by operations on tensors that require grad.
public final class Node: CustomStringConvertible, @unchecked Sendable {
    /// PyTorch's name for the node: `MulBackward0`, `SumBackward0`, `AccumulateGrad`, …
    public let name: String
    /// The tape output this node's gradient arrives at.
    let ref: TapeNode.Ref
    /// The tape outputs of the operation's tensor inputs (nil for inputs without history);
    /// nil for nodes derived from a single tape entry.
    private let inputRefs: [TapeNode.Ref?]?
    /// The nodes of the inputs, as recorded by the operation.
    private let inputNodes: [Node?]?
    /// For `AccumulateGrad`, the leaf; for other nodes, the tensor that retains its gradient.
    weak var variable: Tensor?
    /// Hooks registered on the tensor this node made (or the leaf it accumulates into).
    var hooks: [(id: Int, body: (Tensor) -> Tensor?)] = []
    /// Whether `variable` keeps the gradient it receives (`retainGrad()` on a non-leaf).
    var retainsGrad = false
    /// Set by a backward pass that did not retain the graph.
    var freed = false
    /// A misuse found when the operation was recorded, thrown by a backward through it.
    var error: AutogradError?
    /// Where the operation was called, captured under `detectAnomaly`.
    private let backtrace: Backtrace?

    /// Whether this is a leaf's `AccumulateGrad` node.
    var accumulatesGrad: Bool { ref.node.primitive == nil }

    init(name: String, ref: TapeNode.Ref, inputs: [Tensor?]?) {
        self.name = name
        self.ref = ref
        inputRefs = inputs?.map { $0?.tapeRef }
        inputNodes = inputs?.map { $0?.historyNode }
        backtrace = AutogradState.current.anomalyDetection ? try? Backtrace.capture() : nil
        if ref.node.annotation == nil { ref.node.annotation = self }
    }

    /// The node standing for tape output `ref`: the one an operation or leaf registered there,
    /// or a node named after the primitive that made it.
    static func at(_ ref: TapeNode.Ref) -> Node {
        if let node = ref.node.annotation as? Node, node.ref.output == ref.output { return node }
        let primitive = ref.node.primitive.map { String(describing: type(of: $0)) } ?? "Leaf"
        return Node(name: pytorchName(primitive), ref: ref, inputs: nil)
    }

    /// The nodes of this operation's inputs, each with the input's output index there
    /// (`(nil, 0)` for inputs without history), as PyTorch's `next_functions`.
    public var nextFunctions: [(node: Node?, index: Int)] {
        if let inputNodes { return inputNodes.map { ($0, 0) } }
        return ref.node.parents.map { parent in (parent.map(Node.at), 0) }
    }

    public var description: String { "<\(name) object>" }

    /// The tape entries this operation recorded: from its output back to its inputs.
    var tapeNodes: [TapeNode] {
        guard let inputRefs else { return ref.node.primitive == nil ? [] : [ref.node] }
        let boundary = Set(inputRefs.compactMap { $0.map { ObjectIdentifier($0.node) } })
        var found: [TapeNode] = []
        var seen = Set<ObjectIdentifier>()
        var stack = [ref.node]
        while let node = stack.popLast() {
            let id = ObjectIdentifier(node)
            guard !boundary.contains(id), node.primitive != nil, seen.insert(id).inserted else { continue }
            if let owner = node.annotation, owner !== self { continue }
            found.append(node)
            stack += node.parents.compactMap { $0?.node }
        }
        return found
    }

    /// Whether a backward pass reads values this node's operation saved.
    var savesValues: Bool { tapeNodes.contains { $0.savesValues } }

    /// The first place outside Fluxion on the recorded call stack, as `file:line`.
    var forwardSite: String {
        guard let frames = backtrace?.symbolicated()?.frames else {
            return "unknown (the operation was recorded outside detectAnomaly)"
        }
        for frame in frames {
            guard let location = frame.symbol?.sourceLocation else { continue }
            let path = location.path
            if ["/FluxionAutograd/", "/FluxionCore/", "/FluxionKernels/", "/FluxionNN/"].contains(where: path.contains) { continue }
            return "\(path):\(location.line)"
        }
        return "unknown (no source location on the call stack)"
    }
}

/// PyTorch's node name for a primitive's type name, for nodes made by differentiating rules.
func pytorchName(_ primitive: String) -> String {
    let renamed = ["PowScalar": "Pow", "ReduceSum": "Sum", "ReduceMax": "Amax", "ReduceMin": "Amin",
                   "ReduceProd": "Prod", "BroadcastTo": "Expand", "Reshape": "View", "Transpose": "Permute",
                   "MatMul": "Mm", "Select": "Where", "Convert": "ToCopy", "Concat": "Cat",
                   "CustomFunction": "Custom", "UpdateSlice": "SliceScatter", "Log1p": "Log1P"]
    return (renamed[primitive] ?? primitive) + "Backward0"
}
