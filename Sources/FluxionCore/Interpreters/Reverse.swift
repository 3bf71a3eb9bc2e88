// Reverse mode: a tape. A tracer carries a primal value (from the level below) and the tape
// node that made it; each primitive applied to this interpreter's tracers records a node holding the
// primitive, its primal inputs and outputs, and the nodes of its inputs. The backward sweep
// visits nodes in reverse order of creation (a topological order), sums the cotangents each
// output receives, and applies the primitive's `vjp` rule. Because the rules are array code run
// at the level below, the sweep can itself be differentiated or batched by outer transforms.
//
// Saved values are immutable arrays, so a recorded node can never be corrupted; a tape lives
// as long as a pullback refers to it. The same sweep serves the `Tensor` facade, whose graph is
// a reverse interpreter at level 0 beneath every transform: `SweepOptions` lets it intercept
// cotangents (tensor hooks, `.grad` of intermediate tensors), inspect each rule's results
// (anomaly detection) and run the rules on recorded values (higher-order `backward`).

import FluxionKernels
import Synchronization

/// Creation indices for tape nodes: one counter for every interpreter and thread, so the nodes of the
/// level-0 interpreter the facade shares between threads are ordered too.
private let nodeCounter = Atomic<Int>(0)
/// How many tape nodes exist (for tests that check graphs are freed).
private let liveNodes = Atomic<Int>(0)

package final class ReverseInterpreter: Interpreter, @unchecked Sendable {
    package override init(level: Int, transform: String) {
        super.init(level: level, transform: transform)
    }

    override func process(_ primitive: any Primitive, _ inputs: [NDArray]) -> [NDArray] {
        let (primals, parents) = unpack(inputs, ReverseTracer.self)
        let outputs = bind(primitive, primals)
        guard parents.contains(where: { $0 != nil }), outputs.contains(where: { $0.dtype.isFloatingPoint }) else { return outputs }
        let node = TapeEntry(primitive: primitive, primals: primals, outputs: outputs, parents: parents)
        if outputs.count == 1 { return [tracer(outputs[0], TapeEntry.Ref(node: node, output: 0))] }
        return outputs.enumerated().map { i, y in
            y.dtype.isFloatingPoint ? tracer(y, TapeEntry.Ref(node: node, output: i)) : y
        }
    }

    /// `primal` as this interpreter's value recorded at `ref`.
    package func tracer(_ primal: NDArray, _ ref: TapeEntry.Ref) -> NDArray {
        NDArray(tracer: ReverseTracer(interpreter: self, primal: primal, ref: ref))
    }

    /// A new input of this interpreter: a leaf node standing for `x`.
    package func leaf(_ x: NDArray) -> NDArray {
        let node = TapeEntry(primitive: nil, primals: [], outputs: [x], parents: [])
        return tracer(x, TapeEntry.Ref(node: node, output: 0))
    }

    /// The primal of `y`, and its tape reference when it depends on this interpreter's inputs.
    package func split(_ y: NDArray) -> (primal: NDArray, ref: TapeEntry.Ref?) {
        if let t = y.tracer, t.interpreter === self {
            let t = unsafeDowncast(t, to: ReverseTracer.self)
            return (t.primal, t.ref)
        }
        return (y, nil)
    }

    /// The nodes that `outputs` depend on, in creation order.
    package static func reachable(from outputs: [TapeEntry.Ref]) -> [TapeEntry] {
        var found: [TapeEntry] = []
        var seen = Set<ObjectIdentifier>()
        var stack = outputs.map(\.node)
        while let node = stack.popLast() {
            guard seen.insert(ObjectIdentifier(node)).inserted else { continue }
            found.append(node)
            for parent in node.parents { if let parent { stack.append(parent.node) } }
        }
        found.sort { $0.index < $1.index }
        return found
    }

    /// Cotangents of `leaves` given cotangents for `outputs`, by one backward sweep.
    ///
    /// The sweep stops at the leaves: it visits only the nodes on a path from an output to a
    /// leaf, and applies a node's rule only when one of its inputs leads on to a leaf, so a
    /// leaf that is an intermediate value is not swept past (PyTorch's `autograd.grad(y, [z])`
    /// runs nothing beyond `z`). `options.intercept` sees exactly the cotangents computed.
    package static func backward(outputs: [(TapeEntry.Ref, NDArray)], leaves: [TapeEntry.Ref],
                                 options: SweepOptions = SweepOptions()) throws -> [NDArray?] {
        let nodes = reachable(from: outputs.map(\.0))
        // Each node's position in creation order, and its parents' positions (-1 for an input
        // without history), looked up once: `parentPositions[parentStart[p] ..< parentStart[p + 1]]`.
        var position: [ObjectIdentifier: Int] = [:]
        position.reserveCapacity(nodes.count)
        for (i, node) in nodes.enumerated() { position[ObjectIdentifier(node)] = i }
        var parentStart = [0], parentPositions: [Int] = []
        parentStart.reserveCapacity(nodes.count + 1)
        parentPositions.reserveCapacity(2 * nodes.count)
        for node in nodes {
            for parent in node.parents { parentPositions.append(parent.map { position[ObjectIdentifier($0.node)]! } ?? -1) }
            parentStart.append(parentPositions.count)
        }
        var requested = [Bool](repeating: false, count: nodes.count)
        for ref in leaves { if let p = position[ObjectIdentifier(ref.node)] { requested[p] = true } }
        // Whether a node is a leaf or depends on one; parents come first in creation order.
        var leads = requested
        for p in nodes.indices where !leads[p] {
            leads[p] = parentPositions[parentStart[p] ..< parentStart[p + 1]].contains { $0 >= 0 && leads[$0] }
        }
        // Each node's cotangent slots, filled as consumers are swept.
        var cotangents = [[NDArray?]](repeating: [], count: nodes.count)
        for (ref, ct) in outputs {
            let p = position[ObjectIdentifier(ref.node)]!
            accumulate(ct, into: &cotangents[p], output: ref.output, of: ref.node)
        }
        for p in nodes.indices.reversed() {
            guard leads[p], cotangents[p].contains(where: { $0 != nil }) else { continue }
            let node = nodes[p]
            // Every consumer of the node was recorded after it, so its cotangents are complete.
            if let intercept = options.intercept {
                for i in cotangents[p].indices {
                    cotangents[p][i] = try cotangents[p][i].map { try intercept(TapeEntry.Ref(node: node, output: i), $0) }
                }
            }
            guard let primitive = node.primitive else { continue }
            let parents = parentPositions[parentStart[p] ..< parentStart[p + 1]]
            let needs = parents.map { $0 >= 0 && leads[$0] }
            // A requested leaf that no other leaf lies beyond: the sweep stops here.
            guard needs.contains(true) else { continue }
            let (primals, outputs) = options.savedValues?(node) ?? (node.primals, node.outputs)
            let inputCts = primitive.vjp(primals, outputs: outputs, cotangents: cotangents[p], needs: needs)
            try options.inspect?(node, inputCts)
            for (i, (q, ct)) in zip(parents, inputCts).enumerated() {
                guard needs[i], let ct, let parent = node.parents[i] else { continue }
                accumulate(ct, into: &cotangents[q], output: parent.output, of: parent.node)
            }
            // Nothing reads these cotangents again unless they were asked for: free them early.
            if !requested[p] { cotangents[p] = [] }
        }
        return leaves.map { ref in position[ObjectIdentifier(ref.node)].flatMap { p in cotangents[p].isEmpty ? nil : cotangents[p][ref.output] } }
    }

    /// Adds `ct` to the cotangent of output `output` of `node`, whose slots are `slots`.
    @inline(__always)
    private static func accumulate(_ ct: NDArray, into slots: inout [NDArray?], output: Int, of node: TapeEntry) {
        if slots.isEmpty { slots = [NDArray?](repeating: nil, count: node.outputCount) }
        slots[output] = addTangents(slots[output], ct)
    }

    /// Tangents of `outputs` given tangents of the leaves `inputs`, by one forward sweep over
    /// the recorded nodes (each node's `jvp` rule with its saved values): the linearization.
    static func forward(inputs: [(TapeEntry.Ref, NDArray)], outputs: [TapeEntry.Ref?]) -> [NDArray?] {
        var tangents: [ObjectIdentifier: [NDArray?]] = [:]
        for (ref, t) in inputs {
            var slots = tangents[ObjectIdentifier(ref.node)] ?? [NDArray?](repeating: nil, count: ref.node.outputCount)
            slots[ref.output] = t
            tangents[ObjectIdentifier(ref.node)] = slots
        }
        for node in reachable(from: outputs.compactMap { $0 }) {
            guard let primitive = node.primitive else { continue }
            let ins = node.parents.map { p in p.flatMap { tangents[ObjectIdentifier($0.node)]?[$0.output] } }
            guard ins.contains(where: { $0 != nil }) else { continue }
            tangents[ObjectIdentifier(node)] = primitive.jvp(node.primals, outputs: node.outputs, tangents: ins)
        }
        return outputs.map { ref in ref.flatMap { tangents[ObjectIdentifier($0.node)]?[$0.output] } }
    }
}

/// What a sweep does besides applying the rules.
package struct SweepOptions {
    /// Called once a node output's cotangent is complete, before it flows on; returns the
    /// cotangent to use (hooks may replace it).
    package var intercept: ((TapeEntry.Ref, NDArray) throws -> NDArray)?
    /// Called with each rule's input cotangents.
    package var inspect: ((TapeEntry, [NDArray?]) throws -> Void)?
    /// The values a rule runs on, in place of the recorded ones.
    package var savedValues: ((TapeEntry) -> (primals: [NDArray], outputs: [NDArray]))?

    package init() {}
}

/// One recorded primitive application (or, with no primitive, an input of the interpreter).
package final class TapeEntry {
    /// An output of a node.
    package struct Ref {
        package let node: TapeEntry
        package let output: Int

        package init(node: TapeEntry, output: Int) {
            self.node = node
            self.output = output
        }

        /// Identifies the output among all others.
        package var key: Key { Key(node: ObjectIdentifier(node), output: output) }

        package struct Key: Hashable {
            let node: ObjectIdentifier
            let output: Int
        }
    }

    package let primitive: (any Primitive)?
    /// The inputs and outputs the rules need; emptied by `release()`.
    package private(set) var primals: [NDArray]
    package private(set) var outputs: [NDArray]
    package let parents: [Ref?]
    /// How many outputs the primitive has (kept when the values are released).
    package let outputCount: Int
    /// Position in creation order.
    package let index: Int
    /// Whatever the owner of the interpreter attaches (the facade's graph node).
    package weak var annotation: AnyObject?

    init(primitive: (any Primitive)?, primals: [NDArray], outputs: [NDArray], parents: [Ref?]) {
        self.primitive = primitive
        self.primals = primals
        self.outputs = outputs
        self.parents = parents
        self.outputCount = outputs.count
        self.index = nodeCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        liveNodes.wrappingAdd(1, ordering: .relaxed)
    }

    deinit { liveNodes.wrappingSubtract(1, ordering: .relaxed) }

    /// Whether the node's rule reads recorded values: floating values its rule reads, or the
    /// integer and bool values (indices, masks, sort orders) a linear rule reads instead, as
    /// PyTorch saves an index tensor and frees it; a rule that reads only shapes and parameters
    /// (a basic slice's bounds) saves nothing. It still holds after `release()`.
    package var savesValues: Bool {
        released || primitive.map { p in
            p.vjpReadsValues || primals.contains { !$0.dtype.isFloatingPoint } || outputs.contains { !$0.dtype.isFloatingPoint }
        } ?? false
    }
    /// Set by `release()` once the values are gone.
    package private(set) var released = false

    /// Drops the recorded values, after which the node must not be swept again.
    package func release() {
        guard savesValues else { return }
        primals = []
        outputs = []
        released = true
    }

    /// How many tape nodes exist in the process.
    package static var liveCount: Int { liveNodes.load(ordering: .relaxed) }
}

package final class ReverseTracer: Tracer, @unchecked Sendable {
    package let primal: NDArray
    package let ref: TapeEntry.Ref

    init(interpreter: ReverseInterpreter, primal: NDArray, ref: TapeEntry.Ref) {
        self.primal = primal
        self.ref = ref
        super.init(interpreter: interpreter, shape: primal.shape, dtype: primal.dtype)
    }

    override func concreteValue() -> StridedArray { primal.elements }
}

extension ReverseTracer: CarryingTracer {
    var lower: NDArray { primal }
    var carried: TapeEntry.Ref { ref }
}
