// The differentiating transforms, implemented once over flat lists of arrays: recording a
// function on a tape (reverse mode), pushing tangents through it (forward mode), and the
// linearization that replays a recorded tape forward. The typed conveniences in Grad.swift,
// ForwardMode.swift and Jacobians.swift only flatten, call these and rebuild.

import FluxionKernels

/// Where a transform was requested, for error messages.
public struct CallSite: Sendable {
    /// The file of the call (`#fileID`).
    public let file: String
    /// The line of the call.
    public let line: UInt
    /// The call site at `file`:`line`.
    public init(file: StaticString, line: UInt) {
        self.file = "\(file)"
        self.line = line
    }
    /// A location given as a `#fileID` string.
    public init(file: String, line: UInt) {
        self.file = file
        self.line = line
    }
}

/// A function recorded on a tape at some inputs.
struct Recording {
    let outputs: [NDArray]
    let outputRefs: [TapeEntry.Ref?]
    let leafRefs: [TapeEntry.Ref]
    let primals: [NDArray]
    let transform: String
    let site: CallSite

    /// Cotangents of the inputs for cotangents of the outputs (nil: zero), which must have the
    /// outputs' shapes.
    func pullback(_ cotangents: [NDArray?]) throws -> [NDArray] {
        guard cotangents.count == outputs.count,
              zip(cotangents, outputs).allSatisfy({ $0 == nil || $0!.shape == $1.shape }) else {
            throw TransformError.cotangentShapeMismatch(transform: transform, expected: outputs.map(\.shape),
                                                        got: cotangents.map { $0?.shape ?? [] }, file: site.file, line: site.line)
        }
        // A cotangent takes its output's dtype, as a tangent takes its primal's (forwardMode), so
        // a gradient has its input's dtype whatever the cotangent's (PyTorch casts it the same way).
        let seeds = zip(zip(outputRefs, cotangents), outputs).compactMap { pair, y -> (TapeEntry.Ref, NDArray)? in
            guard let ref = pair.0, let ct = pair.1 else { return nil }
            return (ref, y.dtype.isFloatingPoint ? ct.to(y.dtype) : ct)
        }
        let grads = try throwingReported { try ReverseInterpreter.backward(outputs: seeds, leaves: leafRefs) }
        return zip(grads, primals).map { g, p in g ?? NDArray.zerosLike(p) }
    }

    /// Output tangents for input tangents (with the inputs' shapes): the linear map J·v.
    func pushforward(_ tangents: [NDArray]) throws -> [NDArray] {
        try checkTangents(tangents, for: primals, transform, site)
        let tangents = try throwingReported { ReverseInterpreter.forward(inputs: Array(zip(leafRefs, tangents)), outputs: outputRefs) }
        return zip(tangents, outputs).map { t, y in t ?? NDArray.zeros(y.shape, dtype: y.dtype.floatingOrDefault) }
    }
}

/// Checks that every input can be differentiated.
func checkDifferentiable(_ inputs: [NDArray], _ transform: String, _ site: CallSite) throws {
    // A value of a transform that has returned, passed straight in as an input: no primitive
    // would ever bind it (f may return it as it is), so it is refused here.
    for x in inputs {
        if let t = x.tracer, !t.interpreter.isActive {
            throw TransformError.escapedTracer(transform: t.interpreter.transform, operation: "the input of \(transform)", shape: t.shape)
        }
    }
    for x in inputs where !x.dtype.isFloatingPoint {
        throw TransformError.nonDifferentiableInput(transform: transform, dtype: x.dtype, file: site.file, line: site.line)
    }
}

/// Throws unless there is one tangent per primal, of the primal's shape.
func checkTangents(_ tangents: [NDArray], for primals: [NDArray], _ transform: String, _ site: CallSite) throws {
    guard tangents.count == primals.count, zip(tangents, primals).allSatisfy({ $0.shape == $1.shape }) else {
        throw TransformError.tangentShapeMismatch(transform: transform, expected: primals.map(\.shape),
                                                  got: tangents.map(\.shape), file: site.file, line: site.line)
    }
}

/// `f` run at `primals` with every operation recorded on a new tape.
func record(_ f: ([NDArray]) throws -> [NDArray], at primals: [NDArray], transform: String, site: CallSite) throws -> Recording {
    try checkDifferentiable(primals, transform, site)
    return try withNewInterpreter({ ReverseInterpreter(level: $0, transform: transform) }) { interpreter in
        let leaves = primals.map(interpreter.leaf)
        let outputs = try f(leaves).map(interpreter.split)
        return Recording(outputs: outputs.map(\.primal), outputRefs: outputs.map(\.ref),
                         leafRefs: leaves.map { ($0.tracer as! ReverseTracer).ref }, primals: primals,
                         transform: transform, site: site)
    }
}

/// `record` of a function of a tree that returns a value and auxiliary arrays: the recording
/// (the value's leaves, then the auxiliary ones) and the structure of both.
func recordWithAux<T: ArrayTree, R: ArrayTree, Aux: ArrayTree>(_ f: (T) throws -> (R, Aux), at x: T, transform: String,
                                                               site: CallSite) throws -> (Recording, TreePair<R, Aux>) {
    try withoutActuallyEscaping(f) { f in
        let flat = Flattened({ (x: T) in
            let (y, aux) = try f(x)
            return TreePair(first: y, second: aux)
        }, at: x)
        return (try record(flat.callAsFunction, at: flat.inputLeaves, transform: transform, site: site), flat.output!)
    }
}

/// The outputs of `f` at `primals` and their tangents along `tangents`, by dual numbers.
func forwardMode(_ f: ([NDArray]) throws -> [NDArray], at primals: [NDArray], tangents: [NDArray],
                 transform: String, site: CallSite) throws -> (outputs: [NDArray], tangents: [NDArray]) {
    try checkDifferentiable(primals, transform, site)
    try checkTangents(tangents, for: primals, transform, site)
    return try withNewInterpreter({ ForwardInterpreter(level: $0, transform: transform) }) { interpreter in
        let duals = zip(primals, tangents).map { interpreter.lift($0, tangent: $1.to($0.dtype)) }
        let split = try f(duals).map(interpreter.split)
        return (split.map(\.primal), split.map(\.tangent))
    }
}
