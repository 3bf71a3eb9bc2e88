// Reverse mode: a tape. A tracer carries a primal value (from the level below) and the tape
// node that made it; each primitive applied to this trace's tracers records a node holding the
// primitive, its primal inputs and outputs, and the nodes of its inputs. The backward sweep
// visits nodes in reverse order of creation (a topological order), sums the cotangents each
// output receives, and applies the primitive's `vjp` rule. Because the rules are array code run
// at the level below, the sweep can itself be differentiated or batched by outer transforms.
//
// Saved values are immutable arrays, so a recorded node can never be corrupted; a tape lives
// as long as a pullback refers to it.

import FluxionKernels

final class ReverseTrace: Trace {
    /// How many nodes have been recorded (each node's creation index).
    private var recorded = 0

    override func process(_ primitive: any Primitive, _ inputs: [NDArray]) -> [NDArray] {
        var primals: [NDArray] = []
        var parents: [TapeNode.Ref?] = []
        primals.reserveCapacity(inputs.count)
        parents.reserveCapacity(inputs.count)
        var any = false
        for x in inputs {
            if let t = x.tracer as? ReverseTracer, t.trace === self {
                primals.append(t.primal)
                parents.append(t.ref)
                any = true
            } else {
                primals.append(x)
                parents.append(nil)
            }
        }
        let outputs = bind(primitive, primals)
        guard any, outputs.contains(where: { $0.dtype.isFloatingPoint }) else { return outputs }
        let node = TapeNode(primitive: primitive, primals: primals, outputs: outputs, parents: parents, index: recorded)
        recorded += 1
        return outputs.enumerated().map { i, y in
            y.dtype.isFloatingPoint ? NDArray(tracer: ReverseTracer(trace: self, primal: y, ref: TapeNode.Ref(node: node, output: i))) : y
        }
    }

    /// A new input of this trace: a leaf node standing for `x`.
    func leaf(_ x: NDArray) -> NDArray {
        let node = TapeNode(primitive: nil, primals: [], outputs: [x], parents: [], index: recorded)
        recorded += 1
        return NDArray(tracer: ReverseTracer(trace: self, primal: x, ref: TapeNode.Ref(node: node, output: 0)))
    }

    /// The primal of `y`, and its tape reference when it depends on this trace's inputs.
    func split(_ y: NDArray) -> (primal: NDArray, ref: TapeNode.Ref?) {
        if let t = y.tracer as? ReverseTracer, t.trace === self { return (t.primal, t.ref) }
        return (y, nil)
    }

    /// The nodes that `outputs` depend on, in creation order.
    static func reachable(from outputs: [TapeNode.Ref]) -> [TapeNode] {
        var found: [TapeNode] = []
        var seen = Set<ObjectIdentifier>()
        var stack = outputs.map(\.node)
        while let node = stack.popLast() {
            guard seen.insert(ObjectIdentifier(node)).inserted else { continue }
            found.append(node)
            stack += node.parents.compactMap { $0?.node }
        }
        return found.sorted { $0.index < $1.index }
    }

    /// Cotangents of `leaves` given cotangents for `outputs`, by one backward sweep.
    static func backward(outputs: [(TapeNode.Ref, NDArray)], leaves: [TapeNode.Ref]) -> [NDArray?] {
        var cotangents: [ObjectIdentifier: [NDArray?]] = [:]
        func accumulate(_ ref: TapeNode.Ref, _ ct: NDArray) {
            let id = ObjectIdentifier(ref.node)
            var slots = cotangents[id] ?? [NDArray?](repeating: nil, count: ref.node.outputs.count)
            slots[ref.output] = addTangents(slots[ref.output], ct)
            cotangents[id] = slots
        }
        for (ref, ct) in outputs { accumulate(ref, ct) }
        for node in reachable(from: outputs.map(\.0)).reversed() {
            guard let primitive = node.primitive, let cts = cotangents[ObjectIdentifier(node)],
                  cts.contains(where: { $0 != nil }) else { continue }
            let inputCts = primitive.vjp(node.primals, outputs: node.outputs, cotangents: cts, needs: node.parents.map { $0 != nil })
            for (parent, ct) in zip(node.parents, inputCts) {
                guard let parent, let ct else { continue }
                accumulate(parent, ct)
            }
        }
        return leaves.map { cotangents[ObjectIdentifier($0.node)]?[$0.output] }
    }

    /// Tangents of `outputs` given tangents of the leaves `inputs`, by one forward sweep over
    /// the recorded nodes (each node's `jvp` rule with its saved values): the linearization.
    static func forward(inputs: [(TapeNode.Ref, NDArray)], outputs: [TapeNode.Ref?]) -> [NDArray?] {
        var tangents: [ObjectIdentifier: [NDArray?]] = [:]
        for (ref, t) in inputs {
            var slots = tangents[ObjectIdentifier(ref.node)] ?? [NDArray?](repeating: nil, count: ref.node.outputs.count)
            slots[ref.output] = t
            tangents[ObjectIdentifier(ref.node)] = slots
        }
        for node in reachable(from: outputs.compactMap { $0 }) {
            guard let primitive = node.primitive else { continue }
            let ins = node.parents.map { p in p.flatMap { tangents[ObjectIdentifier($0.node)]?[$0.output] } }
            guard ins.contains(where: { $0 != nil }) else { continue }
            tangents[ObjectIdentifier(node)] = primitive.jvp(node.primals, ins, outputs: node.outputs)
        }
        return outputs.map { ref in ref.flatMap { tangents[ObjectIdentifier($0.node)]?[$0.output] } }
    }
}

/// One recorded primitive application (or, with no primitive, an input of the trace).
final class TapeNode {
    /// An output of a node.
    struct Ref {
        let node: TapeNode
        let output: Int
    }

    let primitive: (any Primitive)?
    let primals: [NDArray]
    let outputs: [NDArray]
    let parents: [Ref?]
    /// Position in creation order.
    let index: Int

    init(primitive: (any Primitive)?, primals: [NDArray], outputs: [NDArray], parents: [Ref?], index: Int) {
        self.primitive = primitive
        self.primals = primals
        self.outputs = outputs
        self.parents = parents
        self.index = index
    }
}

final class ReverseTracer: Tracer {
    let primal: NDArray
    let ref: TapeNode.Ref

    init(trace: ReverseTrace, primal: NDArray, ref: TapeNode.Ref) {
        self.primal = primal
        self.ref = ref
        super.init(trace: trace, shape: primal.shape, dtype: primal.dtype)
    }

    override func concreteValue() -> StridedArray { primal.base }
}
