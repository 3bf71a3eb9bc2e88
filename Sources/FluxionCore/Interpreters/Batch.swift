// Batching (`vmap`): a tracer carries a value from the level below with one extra dimension,
// the batch axis, at a known position; its own shape is the value's without that axis. Each
// primitive's `batch` rule applies the operation to the batched values directly, ideally as
// one larger kernel call. Values that are not tracers of this interpreter are unbatched (shared by
// every batch element).
//
// A primitive whose rule cannot handle a case may fall back to a loop over batch elements:
// `fallback: .loop` runs it per element and reports the primitive and the call site once;
// `.error` throws. Random draws whose key the vmap does not batch follow its `randomness`
// setting (see `keyFollowingVmaps`).

import FluxionKernels
import Synchronization

/// What `vmap` does with random sampling inside the mapped function.
public enum Randomness: Sendable {
    /// Sampling inside `vmap` is an error.
    case error
    /// Every batch element gets the same samples.
    case same
    /// Each batch element gets its own samples, as a loop with split keys would.
    case different
}

/// What `vmap` does with a primitive that has no batching rule.
public enum BatchFallback: Sendable {
    /// Apply it to each batch element in turn (reported once per primitive and call site).
    case loop
    /// Throw `TransformError.noBatchRule`.
    case error
}

/// A primitive that declares no batching rule: `vmap` applies it per batch element.
public protocol LoopBatched: Primitive {}

extension LoopBatched {
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        (loopBatch(self, inputs, axes, size), inputs.isEmpty ? [] : [Int?](repeating: 0, count: 1))
    }
}

final class BatchInterpreter: Interpreter, @unchecked Sendable {
    let size: Int
    let randomness: Randomness
    let fallback: BatchFallback
    let site: CallSite
    /// This batch's place in the whole mapped axis when `vmap` runs in chunks, so that random
    /// draws do not depend on the chunk size.
    let offset: Int
    let total: Int

    init(level: Int, size: Int, randomness: Randomness, fallback: BatchFallback, site: CallSite, offset: Int, total: Int) {
        self.size = size
        self.randomness = randomness
        self.fallback = fallback
        self.site = site
        self.offset = offset
        self.total = total
        super.init(level: level, transform: "vmap")
    }

    override func process(_ primitive: any Primitive, _ inputs: [NDArray]) -> [NDArray] {
        let (values, axes) = unpack(inputs, BatchTracer.self)
        let (outputs, outAxes): ([NDArray], [Int?])
        if primitive is LoopBatched {
            if fallback == .error {
                report(TransformError.noBatchRule(primitive: primitive.name, file: site.file, line: site.line))
            } else {
                announceFallback(primitive.name, site)
            }
            let looped = loopBatch(primitive, values, axes, size)
            (outputs, outAxes) = (looped, looped.map { _ in 0 })
        } else {
            (outputs, outAxes) = primitive.batch(values, axes: axes, size: size)
        }
        return zip(outputs, outAxes).map { y, axis in
            guard let axis else { return y }
            return NDArray(tracer: BatchTracer(interpreter: self, value: y, axis: axis))
        }
    }

    /// `x` as a batched value of this interpreter whose batch runs along `axis`.
    func lift(_ x: NDArray, axis: Int) -> NDArray {
        NDArray(tracer: BatchTracer(interpreter: self, value: x, axis: axis))
    }

    /// The value of `y`, which must be the same for every batch element: `y` itself when it
    /// is not batched, else its first element (its values along the batch agree).
    func unbatchedValue(_ y: NDArray) -> NDArray {
        guard let t = y.tracer as? BatchTracer, t.interpreter === self else { return y }
        guard size > 0 else { return NDArray.zeros(t.shape, dtype: t.dtype) }
        return t.value.narrow(dim: t.axis, start: 0, length: 1).squeeze(dim: t.axis)
    }

    /// The value of `y` with its batch axis moved to `axis` (unbatched values are broadcast).
    func unbatch(_ y: NDArray, to axis: Int) -> NDArray {
        if let t = y.tracer as? BatchTracer, t.interpreter === self { return t.value.moveAxis(from: t.axis, to: axis) }
        return y.unsqueeze(0).broadcast(to: [size] + y.shape).moveAxis(from: 0, to: axis)
    }
}

final class BatchTracer: Tracer, @unchecked Sendable {
    let value: NDArray
    let axis: Int

    init(interpreter: BatchInterpreter, value: NDArray, axis: Int) {
        self.value = value
        self.axis = axis
        var shape = value.shape
        shape.remove(at: axis)
        super.init(interpreter: interpreter, shape: shape, dtype: value.dtype)
    }
}

// MARK: - Random sampling under vmap

extension BatchInterpreter {
    /// Whether `x` (a value of some level) carries this interpreter's batch axis.
    func batches(_ x: NDArray) -> Bool {
        var tracer = x.tracer
        while let t = tracer {
            if t.interpreter === self { return true }
            // Keys are integers, so only batch tracers ever carry them.
            guard let batched = t as? BatchTracer else { return false }
            tracer = batched.value.tracer
        }
        return false
    }

    /// One key per batch element, split from `key` as a loop over the whole mapped axis would
    /// split it (so the draws do not depend on `chunkSize`): `[..., 2]` → batched `[..., 2]`.
    func splitPerElement(_ key: NDArray) -> NDArray {
        let keys = bind(RandomSplit(count: total), key)
        return lift(keys.narrow(dim: keys.rank - 2, start: offset, length: size), axis: keys.rank - 2)
    }
}

/// The key a draw uses inside the running vmaps. A vmap that already batches the key draws
/// once per key; for each other vmap (outermost first) its `randomness` decides: `.different`
/// gives each batch element its own key (element [i, j] of nested vmaps draws with the key
/// split i-th, then j-th, as nested loops would), `.same` keeps the key for every element, and
/// `.error` reports `randomnessUnderVmap`.
func keyFollowingVmaps(_ key: NDArray, operation: String) -> NDArray {
    var key = key
    for case let interpreter as BatchInterpreter in ThreadState.current.interpreters where !interpreter.batches(key) {
        switch interpreter.randomness {
        case .error: report(TransformError.randomnessUnderVmap(operation: operation, level: interpreter.level))
        case .same: continue
        case .different: key = interpreter.splitPerElement(key)
        }
    }
    return key
}

// MARK: - The loop fallback

/// `primitive` applied to each batch element in turn, outputs stacked along a new first axis.
func loopBatch(_ primitive: any Primitive, _ values: [NDArray], _ axes: [Int?], _ size: Int) -> [NDArray] {
    func element(_ i: Int) -> [NDArray] {
        zip(values, axes).map { x, axis in
            guard let axis else { return x }
            return x.narrow(dim: axis, start: i, length: 1).squeeze(dim: axis)
        }
    }
    guard size > 0 else {
        // No elements: learn the output shapes from a zero element, keep none of it.
        let probe = zip(values, axes).map { x, axis -> NDArray in
            guard let axis else { return x }
            var shape = x.shape
            shape.remove(at: axis)
            return NDArray.zeros(shape, dtype: x.dtype)
        }
        return bind(primitive, probe).map { NDArray.zeros([0] + $0.shape, dtype: $0.dtype) }
    }
    let results = (0..<size).map { bind(primitive, element($0)) }
    return results[0].indices.map { k in stack(results.map { $0[k] }) }
}

private let announced = Mutex(Set<String>())

/// Tells the user once per primitive and call site that a loop stands in for a batch rule.
func announceFallback(_ name: String, _ site: CallSite) {
    let key = "\(name)@\(site.file):\(site.line)"
    let first = announced.withLock { $0.insert(key).inserted }
    if first {
        print("Fluxion: vmap applies \(name) one batch element at a time (it has no batching rule); vmap called at \(site.file):\(site.line)")
    }
}

extension BatchTracer: CarryingTracer {
    var lower: NDArray { value }
    var carried: Int { axis }
}
