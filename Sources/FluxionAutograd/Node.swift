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
import Runtime

/// A node of the graph recorded by operations on tensors that require grad.
public final class Node: CustomStringConvertible, @unchecked Sendable {
    /// The name the operation gave, when it is not the one its last primitive implies.
    private let givenName: String?
    /// The tape output this node's gradient arrives at.
    let ref: TapeEntry.Ref
    /// The operation's inputs, in order.
    private let edges: [Edge]

    /// An input of the node: where it was recorded and its node, both nil for an input
    /// without history. A node derived from a tape entry has the entry's parents as inputs,
    /// whose nodes are derived in turn when asked for.
    struct Edge {
        let ref: TapeEntry.Ref?
        let known: Node?
        var node: Node? { known ?? ref.map(Node.at) }
    }

    /// PyTorch's name for the node: `MulBackward0`, `SumBackward0`, `AccumulateGrad`, … Unless
    /// the operation named it (an overload or a composite: `SumBackward1`, `MeanBackward0`),
    /// the name is that of the primitive that made the output (`Exp` → `ExpBackward0`).
    public var name: String { givenName ?? Node.name(of: ref) }

    /// PyTorch's name for the node of the primitive that recorded `ref`.
    static func name(of ref: TapeEntry.Ref) -> String {
        pytorchName(ref.node.primitive.map { String(describing: type(of: $0)) } ?? "Leaf")
    }

    /// For `AccumulateGrad`, the leaf; for other nodes, the tensor that retains its gradient.
    weak var variable: Tensor?
    /// Hooks registered on the tensor this node made (or the leaf it accumulates into).
    var hooks: [(id: Int, body: (Tensor) -> Tensor?)] = []
    /// Whether `variable` keeps the gradient it receives (`retainGrad()` on a non-leaf).
    var retainsGrad = false
    /// Whether a backward pass that did not retain the graph has released values this
    /// node's operation saved. Read from the tape entries, not kept here: a node made for an
    /// entry recorded by `createGraph` may be made again by a later pass.
    var freed: Bool { tapeEntries.contains { $0.released } }
    /// Where the operation was called, captured under `detectAnomaly` (boxed: most nodes have
    /// none, and an empty reference costs less to store than an optional `Backtrace`): the
    /// caller's file and line when the operation was given them, else the call stack.
    private let origin: Origin?

    /// Whether this is a leaf's `AccumulateGrad` node.
    var accumulatesGrad: Bool { ref.node.primitive == nil }

    /// A node for the operation `name` (nil: named after its last primitive) whose output
    /// was recorded at `ref`, from `inputs`. `file` and `line` are the user's call when the
    /// operation knows it (`line` 0: unknown, as for operators).
    convenience init(name: String?, ref: TapeEntry.Ref, inputs: [Tensor?], file: StaticString = "", line: UInt = 0) {
        self.init(name: name, ref: ref, edges: inputs.map { Edge(ref: $0?.tapeOutput, known: $0?.gradientNode) },
                  file: file, line: line)
    }

    private init(name: String?, ref: TapeEntry.Ref, edges: [Edge], file: StaticString = "", line: UInt = 0) {
        givenName = name
        self.ref = ref
        self.edges = edges
        if AutogradState.current.anomalyDetection {
            // A location inside Fluxion (an operation a layer calls) is not the user's.
            let site = CallSite(file: file, line: line)
            origin = line != 0 && !isLibrarySource(site.file) ? Origin(site: site) : Origin(backtrace: try? Backtrace.capture())
        } else {
            origin = nil
        }
        // A leaf's accumulator is found from its tape entry by nodes derived from the tape
        // (gradients made with createGraph lead back to it).
        if ref.node.primitive == nil { ref.node.annotation = self }
    }

    /// The node standing for tape output `ref`: a leaf's accumulator, or a node named after
    /// the primitive that made it, whose inputs are the entry's.
    static func at(_ ref: TapeEntry.Ref) -> Node {
        if let node = ref.node.annotation as? Node { return node }
        return Node(name: nil, ref: ref, edges: ref.node.parents.map { Edge(ref: $0, known: nil) })
    }

    /// The nodes of this operation's inputs, each with the input's output index there
    /// (`(nil, 0)` for inputs without history), as PyTorch's `next_functions`.
    public var nextFunctions: [(node: Node?, index: Int)] { edges.map { ($0.node, 0) } }

    /// Calls `body` with each input node (those `nextFunctions` lists, without the nils).
    func forEachInput(_ body: (Node) -> Void) {
        for edge in edges { if let node = edge.node { body(node) } }
    }

    public var description: String { "<\(name) object>" }

    /// The tape entries this operation recorded: from its output back to its inputs.
    var tapeEntries: [TapeEntry] {
        let output = ref.node
        guard output.primitive != nil else { return [] }
        // Most operations are one primitive, whose parents are the operation's inputs.
        func isInput(_ entry: TapeEntry) -> Bool { edges.contains { $0.ref?.node === entry } }
        if output.parents.allSatisfy({ $0.map { isInput($0.node) } ?? true }) { return [output] }
        let inputs = Set(edges.compactMap { $0.ref.map { ObjectIdentifier($0.node) } })
        var seen: Set<ObjectIdentifier> = []
        var found: [TapeEntry] = []
        var stack = [output]
        while let entry = stack.popLast() {
            let id = ObjectIdentifier(entry)
            guard entry.primitive != nil, !inputs.contains(id), seen.insert(id).inserted else { continue }
            found.append(entry)
            for parent in entry.parents { if let parent { stack.append(parent.node) } }
        }
        return found
    }

    /// Whether a backward pass reads values this node's operation saved.
    var savesValues: Bool { tapeEntries.contains { $0.savesValues } }

    /// Where the operation was called, as `file:line`: the caller's location when the
    /// operation was given it, else the first place outside Fluxion on the recorded call stack
    /// (frames the compiler made, which optimised builds have, have no place of their own).
    var forwardSite: String {
        guard let origin else { return "unknown (the operation was recorded outside detectAnomaly)" }
        if let site = origin.site { return "\(site.file):\(site.line)" }
        for frame in origin.backtrace?.symbolicated()?.frames ?? [] {
            guard let location = frame.symbol?.sourceLocation, location.line > 0 else { continue }
            let path = location.path
            if isLibrarySource(path) || path.hasPrefix("<") { continue }
            return "\(path):\(location.line)"
        }
        return "unknown (no source location on the call stack)"
    }
}

/// Where an operation was recorded, kept under `detectAnomaly`.
final class Origin {
    let site: CallSite?
    let backtrace: Backtrace?
    init(site: CallSite) {
        self.site = site
        backtrace = nil
    }
    init(backtrace: Backtrace?) {
        site = nil
        self.backtrace = backtrace
    }
}

/// PyTorch's node name for a primitive's type name, for nodes made by differentiating rules.
/// A jitted call is one node, named as PyTorch names a `torch.compile`d function's.
func pytorchName(_ primitive: String) -> String {
    if primitive == "CallProgram" { return "CompiledFunctionBackward" }
    let renamed = ["PowScalar": "Pow", "ReduceSum": "Sum", "ReduceMax": "Amax", "ReduceMin": "Amin",
                   "ReduceProd": "Prod", "BroadcastTo": "Expand", "Reshape": "View", "Transpose": "Permute",
                   "MatMul": "Mm", "MulStrongZero": "Mul", "Select": "Where", "Convert": "ToCopy", "Concat": "Cat",
                   "CustomFunction": "Custom", "UpdateSlice": "SliceScatter", "Log1p": "Log1P"]
    return (renamed[primitive] ?? primitive) + "Backward0"
}
