// Staging and `jit`. `makeProgram(f)` stages a function into a `Program` (cf. jax.make_jaxpr);
// `jit(f)` stages it on the first call for each input signature — the leaves' shapes and dtypes,
// the tree's structure, and any static argument — keeps the program, and on every call runs
// it: no tracers, tape entries or dispatch per operation, each kernel called directly.
//
// A jitted call is one primitive, `CallProgram`, so it composes with every transform in every
// order: its derivative, batch and Taylor rules stage the program's jvp, vjp, vmap or jet into
// new programs (kept with the program), so `grad(jit(f))`, `vmap(jit(f))`, `hessian(jit(f))`
// and `jet(jit(f), …)` run staged programs too, and `jit(grad(f))`, `jit(vmap(grad(f)))` stage
// the whole transformed function.
//
// What is staged, and what is not:
// - Array operations on the function's arguments are staged. Operations on concrete arrays
//   alone (a constant made inside the function) run once, while staging, and their results
//   are the program's constants — as are arrays the function captures: a captured array that
//   changes later is not seen by a cached program (as in JAX). Pass such values as arguments.
// - Values of an enclosing transform that the function captures (an array an outer `grad`
//   differentiates) become extra inputs of the program, so derivatives flow through them; such
//   a function is staged again on every call, since what it captures changes.
// - Swift control flow on an array's value cannot be staged: reading elements while staging
//   throws `TransformError.concreteValueInStaging`. Use `NDArray.where`, or a static argument.
// - Random draws are staged with their keys: pass key arrays (`RandomKey.array`) as arguments
//   to get new numbers on each call; a `RandomKey` created inside the function is a constant.

import FluxionKernels
import Synchronization

/// Stages `f` for inputs of `types`: the program (its inputs the declared ones, then those
/// standing for captured values of enclosing transforms) and the captured values.
/// The program is simplified (`Program.optimized`) unless `optimize` is false.
func stage(_ f: ([NDArray]) throws -> [NDArray], types: [ArrayType], name: String, transform: String,
           site: CallSite, optimize: Bool = true) throws -> (program: Program, captured: [NDArray]) {
    let builder = ProgramBuilder(site: site)
    let program = try withNewInterpreter({ StagingInterpreter(level: $0, transform: transform, builder: builder) }) { staging in
        let inputs = types.map(staging.input)
        let outputs = try f(inputs).map(staging.outputAtom)
        return Program(name: name, types: builder.types, inputs: builder.inputs + builder.capturedVariables,
                       constants: builder.constants, equations: builder.equations, outputs: outputs)
    }
    // Simplified outside the staging interpreter: folding evaluates kernels on constants.
    return (optimize ? program.optimized() : program, builder.capturedValues)
}

// MARK: - makeProgram

/// The program `f` stages to for arguments like `x` (their shapes, dtypes and structure; the
/// values are not read), as traced, to print, draw or inspect (JAX's `make_jaxpr`);
/// `.optimized()` is the program `jit(f)` runs.
///
/// ```swift
/// let program = try makeProgram({ (x: NDArray) in (sin(x) * 2).sum() })(NDArray([1.0, 2.0, 3.0]))
/// print(program)              // { lambda ; a:f32[3]. let b:f32[3] = sin a ... }
/// print(program.optimized())  // simplified
/// print(program.drawing.dot)
/// ```
public func makeProgram<T: ArrayTree, R: ArrayTree>(_ f: @escaping (T) throws -> R, name: String = "f",
                                                     file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> Program {
    let site = CallSite(file: file, line: line)
    return { x in
        let flat = Flattened(f, at: x)
        return try stage(flat.callAsFunction, types: flat.inputLeaves.map(\.arrayType), name: name,
                         transform: "makeProgram", site: site, optimize: false).program
    }
}

/// The program `f` of two arguments stages to.
public func makeProgram<A: ArrayTree, B: ArrayTree, R: ArrayTree>(_ f: @escaping (A, B) throws -> R, name: String = "f",
                                                                   file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> Program {
    let staged = makeProgram({ (p: TreePair<A, B>) in try f(p.first, p.second) }, name: name, file: file, line: line)
    return { a, b in try staged(TreePair(first: a, second: b)) }
}

/// The program `f` of three arguments stages to.
public func makeProgram<A: ArrayTree, B: ArrayTree, C: ArrayTree, R: ArrayTree>(
    _ f: @escaping (A, B, C) throws -> R, name: String = "f", file: StaticString = #fileID, line: UInt = #line
) -> (A, B, C) throws -> Program {
    let staged = makeProgram({ (p: TreePair<A, TreePair<B, C>>) in try f(p.first, p.second.first, p.second.second) },
                             name: name, file: file, line: line)
    return { a, b, c in try staged(TreePair(first: a, second: TreePair(first: b, second: c))) }
}

/// The program of a function returning two trees, as `valueAndGrad(f)` does.
public func makeProgram<T: ArrayTree, V: ArrayTree, G: ArrayTree>(_ f: @escaping (T) throws -> (value: V, grad: G), name: String = "f",
                                                                   file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> Program {
    makeProgram({ (x: T) in try TreePair(f(x)) }, name: name, file: file, line: line)
}

/// The program of a function of two arguments returning two trees.
public func makeProgram<A: ArrayTree, B: ArrayTree, V: ArrayTree, G: ArrayTree>(
    _ f: @escaping (A, B) throws -> (value: V, grad: G), name: String = "f", file: StaticString = #fileID, line: UInt = #line
) -> (A, B) throws -> Program {
    makeProgram({ (a: A, b: B) in try TreePair(f(a, b)) }, name: name, file: file, line: line)
}

/// The program of a function of three arguments returning two trees.
public func makeProgram<A: ArrayTree, B: ArrayTree, C: ArrayTree, V: ArrayTree, G: ArrayTree>(
    _ f: @escaping (A, B, C) throws -> (value: V, grad: G), name: String = "f", file: StaticString = #fileID, line: UInt = #line
) -> (A, B, C) throws -> Program {
    makeProgram({ (a: A, b: B, c: C) in try TreePair(f(a, b, c)) }, name: name, file: file, line: line)
}

// MARK: - jit

/// `f` staged once per input signature and then run as a program: the same results (the same
/// kernels run in the same order, up to the simplifications of `Program.optimized`), without
/// the cost of tracing each operation. Composes with every transform in every order.
///
/// A signature is the arguments' tree structure and each leaf's shape and dtype; a new shape
/// stages again. See the top of Jit.swift for what is staged and what is a constant.
public func jit<T: ArrayTree, R: ArrayTree>(_ f: @escaping (T) throws -> R, name: String = "f",
                                             file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> R {
    let cache = JitCache<R>(name: name, site: CallSite(file: file, line: line))
    return { x in try cache.call(x, static: nil) { try f($0) } }
}

/// `jit` of a function of two arguments.
public func jit<A: ArrayTree, B: ArrayTree, R: ArrayTree>(_ f: @escaping (A, B) throws -> R, name: String = "f",
                                                           file: StaticString = #fileID, line: UInt = #line) -> (A, B) throws -> R {
    let cache = JitCache<R>(name: name, site: CallSite(file: file, line: line))
    return { a, b in
        try cache.call(TreePair(first: a, second: b), static: nil) { try f($0.first, $0.second) }
    }
}

/// `jit` of a function of three arguments.
public func jit<A: ArrayTree, B: ArrayTree, C: ArrayTree, R: ArrayTree>(
    _ f: @escaping (A, B, C) throws -> R, name: String = "f", file: StaticString = #fileID, line: UInt = #line
) -> (A, B, C) throws -> R {
    let cache = JitCache<R>(name: name, site: CallSite(file: file, line: line))
    return { a, b, c in
        try cache.call(TreePair(first: a, second: TreePair(first: b, second: c)), static: nil) {
            try f($0.first, $0.second.first, $0.second.second)
        }
    }
}

/// `jit` of a function returning two trees, as `valueAndGrad(f)` does: a tuple is not a tree,
/// so the pair is staged as one and taken apart after each call. The results keep
/// `valueAndGrad`'s labels, `value` and `grad`; any other pair is taken apart as
/// `let (a, b) = try staged(x)`.
public func jit<T: ArrayTree, V: ArrayTree, G: ArrayTree>(_ f: @escaping (T) throws -> (value: V, grad: G), name: String = "f",
                                                           file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> (value: V, grad: G) {
    let paired = jit({ (x: T) in try TreePair(f(x)) }, name: name, file: file, line: line)
    return { x in try paired(x).tuple }
}

/// `jit` of a function of two arguments returning two trees (labelled `value` and `grad`).
public func jit<A: ArrayTree, B: ArrayTree, V: ArrayTree, G: ArrayTree>(
    _ f: @escaping (A, B) throws -> (value: V, grad: G), name: String = "f", file: StaticString = #fileID, line: UInt = #line
) -> (A, B) throws -> (value: V, grad: G) {
    let paired = jit({ (a: A, b: B) in try TreePair(f(a, b)) }, name: name, file: file, line: line)
    return { a, b in try paired(a, b).tuple }
}

/// `jit` of a function of three arguments returning two trees (labelled `value` and `grad`).
public func jit<A: ArrayTree, B: ArrayTree, C: ArrayTree, V: ArrayTree, G: ArrayTree>(
    _ f: @escaping (A, B, C) throws -> (value: V, grad: G), name: String = "f", file: StaticString = #fileID, line: UInt = #line
) -> (A, B, C) throws -> (value: V, grad: G) {
    let paired = jit({ (a: A, b: B, c: C) in try TreePair(f(a, b, c)) }, name: name, file: file, line: line)
    return { a, b, c in try paired(a, b, c).tuple }
}

/// `jit` of a function with a static argument (JAX's `static_argnums`): a value that decides
/// the program's structure — a step count, a flag, a shape — rather than flowing through it.
/// Each distinct value is staged once.
public func jit<T: ArrayTree, S: Hashable, R: ArrayTree>(_ f: @escaping (T, S) throws -> R, name: String = "f",
                                                          file: StaticString = #fileID, line: UInt = #line) -> (T, S) throws -> R {
    let cache = JitCache<R>(name: name, site: CallSite(file: file, line: line))
    return { x, s in try cache.call(x, static: AnyHashable(s)) { try f($0, s) } }
}

/// The programs of one jitted function, by signature.
final class JitCache<R: ArrayTree>: @unchecked Sendable {
    /// A staged program and its output's structure (read-only once made).
    struct Entry: @unchecked Sendable {
        let program: Program
        /// The output's structure (its leaves are placeholders).
        let output: R
    }

    /// A signature: the tree's structure, each leaf's shape and dtype, and the static argument
    /// (compared as a value, never by its description, so two values that print alike are still
    /// two signatures). Static values are only hashed and compared, never mutated, so a
    /// signature may be shared between threads.
    struct Signature: Hashable, @unchecked Sendable {
        let structure: String
        let types: [ArrayType]
        let staticValue: AnyHashable?
    }

    let name: String
    let site: CallSite
    private let entries = Mutex<[Signature: Entry]>([:])

    init(name: String, site: CallSite) {
        self.name = name
        self.site = site
    }

    func call<T: ArrayTree>(_ x: T, static staticValue: AnyHashable?, _ f: @escaping (T) throws -> R) throws -> R {
        let leaves = x.leaves
        let key = Signature(structure: x.treeStructure, types: leaves.map(\.arrayType), staticValue: staticValue)
        if let entry = entries.withLock({ $0[key] }) {
            return entry.output.rebuilt(with: bind(CallProgram(program: entry.program), leaves))
        }
        let flat = Flattened(f, at: x)
        let (program, captured) = try stage(flat.callAsFunction, types: leaves.map(\.arrayType), name: name,
                                            transform: "jit", site: site)
        let output = flat.output!
        // A function that used values of an enclosing transform is staged again on each call.
        if captured.isEmpty { entries.withLock { $0[key] = Entry(program: program, output: output) } }
        return output.rebuilt(with: bind(CallProgram(program: program), leaves + captured))
    }
}

// MARK: - The primitive

/// A call of a staged program: evaluation runs it; its derivative and batch rules stage the
/// program's jvp, vjp or vmap as new programs (made once and kept with the program).
struct CallProgram: Primitive {
    let program: Program

    var name: String { "jit(\(program.name))" }

    func evaluate(_ inputs: [NDArray]) -> [NDArray] { program.run(inputs) }

    func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { program.outputTypes }

    func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        let moving = primals.indices.filter { tangents[$0] != nil && primals[$0].dtype.isFloatingPoint }
        guard !moving.isEmpty else { return outputs.map { _ in nil } }
        let floatingOutputs = outputs.indices.filter { outputs[$0].dtype.isFloatingPoint }
        let program = self.program
        let derived = attempt { try program.derivedProgram("jvp \(moving)") {
            try stage({ xs in
                let (p, t) = (Array(xs[..<primals.count]), Array(xs[primals.count...]))
                let tangents = try forwardMode({ moved in program.inline(p.replacing(moving, with: moved)) },
                                               at: moving.map { p[$0] }, tangents: t, transform: "jvp of \(name)", site: site).tangents
                return floatingOutputs.map { tangents[$0] }
            }, types: primals.map(\.arrayType) + moving.map { primals[$0].arrayType }, name: "jvp(\(program.name))",
               transform: "jit", site: site).program
        } }
        guard let derived else { return outputs.map { _ in nil } }
        let results = bind(CallProgram(program: derived), primals + moving.map { tangents[$0]!.to(primals[$0].dtype) })
        var out = [NDArray?](repeating: nil, count: outputs.count)
        for (k, i) in floatingOutputs.enumerated() { out[i] = results[k] }
        return out
    }

    func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        let wanted = primals.indices.filter { needs[$0] && primals[$0].dtype.isFloatingPoint }
        let given = outputs.indices.filter { cotangents[$0] != nil && outputs[$0].dtype.isFloatingPoint }
        guard !wanted.isEmpty, !given.isEmpty else { return primals.map { _ in nil } }
        let program = self.program, outputCount = outputs.count
        let derived = attempt { try program.derivedProgram("vjp \(wanted) \(given)") {
            try stage({ xs in
                let p = Array(xs[..<primals.count])
                var seeds = [NDArray?](repeating: nil, count: outputCount)
                for (k, i) in given.enumerated() { seeds[i] = xs[primals.count + k] }
                return try record({ moved in program.inline(p.replacing(wanted, with: moved)) },
                                  at: wanted.map { p[$0] }, transform: "vjp of \(name)", site: site).pullback(seeds)
            }, types: primals.map(\.arrayType) + given.map { outputs[$0].arrayType }, name: "vjp(\(program.name))",
               transform: "jit", site: site).program
        } }
        guard let derived else { return primals.map { _ in nil } }
        let results = bind(CallProgram(program: derived), primals + given.map { cotangents[$0]!.to(outputs[$0].dtype) })
        var out = [NDArray?](repeating: nil, count: primals.count)
        for (k, i) in wanted.enumerated() { out[i] = results[k] }
        return out
    }

    func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let moved = zip(inputs, axes).map { x, a in a.map { x.moveAxis(from: $0, to: 0) } ?? x }
        let mapped = axes.map { $0 == nil ? nil : 0 } as [Int?]
        let program = self.program
        // Random draws inside follow the enclosing vmap's setting.
        let randomness = (ThreadState.current.interpreters.last { $0 is BatchInterpreter } as? BatchInterpreter)?.randomness ?? .error
        let derived = attempt { try program.derivedProgram("batch \(mapped) \(size) \(randomness)") {
            try stage({ xs in
                try vmapFlat(program.inline, xs, inAxes: mapped, outAxis: 0, chunkSize: nil, randomness: randomness,
                             fallback: .loop, site: site)
            }, types: moved.map(\.arrayType), name: "vmap(\(program.name))", transform: "jit", site: site).program
        } }
        guard let derived else {
            return (program.outputTypes.map { NDArray.zeros([size] + $0.shape, dtype: $0.dtype) }, program.outputs.map { _ in 0 })
        }
        let results = bind(CallProgram(program: derived), moved)
        return (results, results.map { _ in 0 })
    }

    /// The program's second-order term for the forward Laplacian, staged as a program of the
    /// primals and the directions that are set (made once per pattern and mode): the forward
    /// Laplacian of the program's body along those directions, from zero second derivatives.
    func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?] {
        let moving = primals.indices.filter { directions[$0] != nil && primals[$0].dtype.isFloatingPoint }
        guard let count = moving.first.map({ directions[$0]!.shape[0] }) else { return outputs.map { _ in nil } }
        let floatingOutputs = outputs.indices.filter { outputs[$0].dtype.isFloatingPoint }
        let program = self.program, n = primals.count
        let derived = attempt { try program.derivedProgram("laplacian \(summed) \(moving)") {
            try stage({ xs in
                var seeds = [NDArray?](repeating: nil, count: n)
                for (m, i) in moving.enumerated() { seeds[i] = xs[n + m] }
                let seconds = try forwardLaplacianFlat(program.inline, at: Array(xs[..<n]), directions: seeds, count: count, summed: summed,
                                                       transform: "forward Laplacian of \(name)", site: site).seconds
                return floatingOutputs.map { seconds[$0] }
            }, types: primals.map(\.arrayType) + moving.map { directions[$0]!.arrayType }, name: "laplacian(\(program.name))",
               transform: "jit", site: site).program
        } }
        guard let derived else { return outputs.map { _ in nil } }
        let results = bind(CallProgram(program: derived), primals + moving.map { directions[$0]!.to(primals[$0].dtype) })
        var out = [NDArray?](repeating: nil, count: outputs.count)
        for (k, j) in floatingOutputs.enumerated() { out[j] = results[k] }
        return out
    }

    /// The program's Taylor coefficients, staged as a program of the primals and the input
    /// coefficients that are set (made once per order and pattern of set coefficients, as JAX's
    /// jet rule for pjit), whose outputs are every floating output's K coefficients.
    func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        let set = primals.indices.flatMap { i -> [(input: Int, k: Int)] in
            guard primals[i].dtype.isFloatingPoint, let s = series[i] else { return [] }
            return s.indices.filter { s[$0] != nil }.map { (i, $0) }
        }
        guard let order = seriesOrder(series), !set.isEmpty else { return outputs.map { _ in nil } }
        let floatingOutputs = outputs.indices.filter { outputs[$0].dtype.isFloatingPoint }
        let program = self.program, n = primals.count, name = self.name, site = self.site
        let derived = attempt { try program.derivedProgram("jet \(order) \(set.map { [$0.input, $0.k] })") {
            try stage({ xs in
                var inputSeries = primals.map { _ in [NDArray?](repeating: nil, count: order) }
                for (m, (i, k)) in set.enumerated() { inputSeries[i][k] = xs[n + m] }
                let (_, coefficients) = try jetFlat(program.inline, at: Array(xs[..<n]), series: inputSeries, order: order,
                                                    transform: "jet of \(name)", site: site)
                return floatingOutputs.flatMap { j in
                    coefficients[j].map { $0 ?? NDArray.zeros(outputs[j].shape, dtype: outputs[j].dtype) }
                }
            }, types: primals.map(\.arrayType) + set.map { primals[$0.input].arrayType }, name: "jet(\(program.name))",
               transform: "jit", site: site).program
        } }
        guard let derived else { return outputs.map { _ in nil } }
        let results = bind(CallProgram(program: derived), primals + set.map { series[$0.input]![$0.k]!.to(primals[$0.input].dtype) })
        var out = [[NDArray?]?](repeating: nil, count: outputs.count)
        for (m, j) in floatingOutputs.enumerated() { out[j] = Array(results[(m * order)..<((m + 1) * order)]) }
        return out
    }

    private var site: CallSite { CallSite(file: "jit(\(program.name))", line: 0) }

    /// `body`'s result, or nil after reporting its error to the enclosing transform.
    private func attempt(_ body: () throws -> Program) -> Program? {
        do { return try body() } catch {
            report(error)
            return nil
        }
    }
}

extension Array where Element == NDArray {
    /// This list with the elements at `positions` replaced by `values`, in order.
    func replacing(_ positions: [Int], with values: [NDArray]) -> [NDArray] {
        var copy = self
        for (i, v) in zip(positions, values) { copy[i] = v }
        return copy
    }
}
