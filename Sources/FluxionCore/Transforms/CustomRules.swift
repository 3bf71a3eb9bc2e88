// Custom derivative rules: a function whose derivative is given by hand, for numerical
// stability or speed, that keeps working under every other transform. The forms follow JAX's
// custom_vjp and custom_jvp: a rule of (input, output, cotangent or tangent); a forward pass
// returning residuals and a backward pass using them; two differentiated arguments, whose
// cotangents may each be nil (zero); and a non-differentiated argument of any type
// (`nondiff_argnums`) passed to the rules.
//
// `customVJP(f, vjp:)` supplies the reverse-mode rule (x, y, ȳ) ↦ x̄; `customJVP(f, jvp:)` the
// forward-mode rule (x, y, ẋ) ↦ ẏ. Each rule is array code, so it can be differentiated again.
// The other mode comes from duality: a vjp rule is linear in ȳ, so J·v = ∂/∂ȳ ⟨rule(x, y, ȳ), v⟩;
// a jvp rule is linear in ẋ, so Jᵀ·u = ∂/∂ẋ ⟨u, rule(x, y, ẋ)⟩ — both computed with the tape.
// Under `vmap`, the function and its rule are themselves mapped. A rule returning the wrong
// number or shapes of results makes the enclosing transform throw
// `TransformError.customRuleMismatch`; an error the function or rule throws is rethrown by the
// enclosing transform.

import FluxionKernels

/// Which rule a custom function carries.
package enum CustomRuleKind: Sendable { case vjp, jvp }

/// A function with a hand-written derivative, as one primitive over flat lists of arrays.
struct CustomFunction: Primitive, @unchecked Sendable {
    let name: String
    let kind: CustomRuleKind
    /// The function itself.
    let function: ([NDArray]) throws -> [NDArray]
    /// (inputs, outputs, cotangents of outputs) ↦ cotangents of inputs for `.vjp`;
    /// (inputs, outputs, tangents of inputs) ↦ tangents of outputs for `.jvp`. A nil result is
    /// a symbolic zero: nothing flows to that input (or output), so nothing is accumulated.
    let rule: ([NDArray], [NDArray], [NDArray]) throws -> [NDArray?]
    let site: CallSite
    /// How many of the last outputs are residuals of a forward pass: values for the rule,
    /// never seen by the caller, whose own derivatives (asked for only when a rule is itself
    /// differentiated) are those of the forward pass's operations. Known once the forward pass
    /// has run.
    var residuals: () -> Int = { 0 }
    var residualCount: Int { residuals() }

    /// The derivatives of the residual outputs, which the rule does not give: by reverse mode
    /// through the forward pass for `cotangents` of the residuals, added to `inputs`.
    func addingResidualCotangents(_ cotangents: [NDArray?], to inputs: [NDArray?], at primals: [NDArray]) -> [NDArray?] {
        let residual = cotangents.suffix(residualCount)
        guard residual.contains(where: { $0 != nil }) else { return inputs }
        let seeds = Array(repeating: nil, count: cotangents.count - residualCount) + Array(residual)
        let extra = attempt { try record(function, at: primals, transform: "forward pass of \(name)", site: site).pullback(seeds) }
        guard extra.count == inputs.count else { return inputs }
        return zip(inputs, extra).map { addTangents($0, $1) }
    }

    /// The residual outputs' tangents for input tangents `t`, by forward mode through the
    /// forward pass, in place of the zeros the rule's transpose gives them.
    func replacingResidualTangents(_ outputs: [NDArray?], at primals: [NDArray], tangents t: [NDArray]) -> [NDArray?] {
        guard residualCount > 0, outputs.count >= residualCount else { return outputs }
        let own = outputs.count - residualCount
        let forward = attempt { try forwardMode(function, at: primals, tangents: t, transform: "forward pass of \(name)", site: site).tangents }
        guard forward.count == outputs.count else { return outputs }
        return Array(outputs[..<own]) + forward[own...].map { Optional($0) }
    }

    /// The function on values of the level below. Its outputs may be values of an enclosing
    /// transform that the function captured (an array a surrounding `vmap` maps, or `grad`
    /// differentiates): they are returned as they are, so the enclosing transform carries on
    /// with them, and derivatives with respect to captured values are those of the function's
    /// own operations (JAX converts such captured values into inputs; the effect is the same).
    func evaluate(_ inputs: [NDArray]) -> [NDArray] {
        attempt { try function(inputs) }
    }

    /// The outputs' types, from the function staged (no kernel runs, as staging promises);
    /// for a function that cannot be staged (it reads a value), from the function run on zeros.
    func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        if let staged = try? stage(function, types: inputs, name: name, transform: "jit", site: site, optimize: false) {
            return staged.program.outputTypes
        }
        return evaluate(inputs.map { NDArray.zeros($0.shape, dtype: $0.dtype) }).map(\.arrayType)
    }

    /// `body`'s result, or (after recording the error for the enclosing transform) nil.
    func attempt<Element>(_ body: () throws -> [Element]) -> [Element] {
        do {
            return try body()
        } catch {
            // Thrown by the enclosing transform or backward pass when it returns.
            report(error)
        }
        return []
    }

    /// Applies the rule and checks its results' count and shapes against `expected` (a nil
    /// result, a symbolic zero, fits any shape).
    func applyRule(_ x: [NDArray], _ y: [NDArray], _ v: [NDArray], expected: [NDArray]) -> [NDArray?] {
        let result = attempt { try rule(x, y, v) }
        guard result.count == expected.count, zip(result, expected).allSatisfy({ $0?.shape ?? $1.shape == $1.shape }) else {
            report(TransformError.customRuleMismatch(name: name, expected: expected.map(\.shape), got: result.map { $0?.shape ?? [] },
                                       file: site.file, line: site.line))
            return expected.map { _ in nil }
        }
        return result
    }

    /// `applyRule` with symbolic zeros made explicit, for the transposes, which need arrays.
    func applyRuleFilled(_ x: [NDArray], _ y: [NDArray], _ v: [NDArray], expected: [NDArray]) -> [NDArray] {
        zip(applyRule(x, y, v, expected: expected), expected).map { $0 ?? NDArray.zeros($1.shape, dtype: $1.dtype.floatingOrDefault) }
    }

    /// The transpose of a linear map given as array code, by recording it on a tape at zero.
    func transpose(_ linear: @escaping ([NDArray]) throws -> [NDArray], at zero: [NDArray], _ v: [NDArray]) -> [NDArray] {
        attempt {
            try record(linear, at: zero, transform: "custom rule of \(name)", site: site).pullback(v)
        }
    }

    func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard tangents.contains(where: { $0 != nil }) else { return outputs.map { _ in nil } }
        let t = zip(tangents, primals).map { $0 ?? NDArray.zeros($1.shape, dtype: $1.dtype.floatingOrDefault) }
        switch kind {
        case .jvp:
            return applyRule(primals, outputs, t, expected: outputs)
        case .vjp:
            let zero = outputs.map { NDArray.zeros($0.shape, dtype: $0.dtype.floatingOrDefault) }
            let derived = transpose({ u in applyRuleFilled(primals, outputs, u, expected: primals) }, at: zero, t)
            return replacingResidualTangents(derived, at: primals, tangents: t)
        }
    }

    func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        let u = zip(cotangents, outputs).map { $0 ?? NDArray.zeros($1.shape, dtype: $1.dtype.floatingOrDefault) }
        switch kind {
        case .vjp:
            return addingResidualCotangents(cotangents, to: applyRule(primals, outputs, u, expected: primals), at: primals)
        case .jvp:
            let zero = primals.map { NDArray.zeros($0.shape, dtype: $0.dtype.floatingOrDefault) }
            return transpose({ t in applyRuleFilled(primals, outputs, t, expected: outputs) }, at: zero, u)
        }
    }

    /// The function and its rule mapped over a leading batch axis of every input.
    func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let batched = zip(inputs, axes).map { $0.batchFirst($1, size: size) }
        let (function, rule, site, kind) = (self.function, self.rule, self.site, self.kind)
        let mapped = CustomFunction(
            name: name, kind: kind,
            function: { xs in
                try vmapFlat(function, xs, inAxes: xs.map { _ in 0 }, outAxis: 0, chunkSize: nil,
                             randomness: .error, fallback: .loop, site: site)
            },
            rule: { xs, ys, vs in
                try vmapFlat({ all in
                    let (x, y) = (Array(all[..<xs.count]), Array(all[xs.count..<(xs.count + ys.count)]))
                    let expected = kind == .vjp ? x : y
                    // A symbolic zero cannot be mapped: it becomes zeros of its slot's shape.
                    return try rule(x, y, Array(all[(xs.count + ys.count)...])).enumerated().map { i, r in
                        let slot = i < expected.count ? expected[i] : NDArray.zeros([])
                        return r ?? NDArray.zeros(slot.shape, dtype: slot.dtype.floatingOrDefault)
                    }
                }, xs + ys + vs, inAxes: (xs + ys + vs).map { _ in 0 }, outAxis: 0, chunkSize: nil,
                   randomness: .error, fallback: .loop, site: site)
            },
            site: site)
        var residualMapped = mapped
        residualMapped.residuals = residuals
        let outputs = bind(residualMapped, batched)
        return (outputs, outputs.map { _ in 0 })
    }
}

/// `f` with a hand-written reverse-mode rule: `vjp(x, y, ȳ)` returns x̄ = ȳᵀ·∂f/∂x for the
/// input `x`, the output `y = f(x)` and the output cotangent `ȳ`.
///
/// ```swift
/// let safeLog1pExp = customVJP({ (x: NDArray) in log1p(exp(x)) },
///                              vjp: { x, y, ct in ct * sigmoid(x) })
/// ```
public func customVJP<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, vjp rule: @escaping (_ x: T, _ y: R, _ cotangent: R) throws -> T,
    name: String = "customVJP", file: StaticString = #fileID, line: UInt = #line
) -> (T) throws -> R {
    customFunction(f, kind: .vjp, name: name, site: CallSite(file: file, line: line)) { x, y, v in
        try rule(x, y, y.rebuilt(with: v)).leaves
    }
}

/// `f` with a hand-written forward-mode rule: `jvp(x, y, ẋ)` returns ẏ = ∂f/∂x · ẋ for the
/// input `x`, the output `y = f(x)` and the input tangent `ẋ`.
public func customJVP<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, jvp rule: @escaping (_ x: T, _ y: R, _ tangent: T) throws -> R,
    name: String = "customJVP", file: StaticString = #fileID, line: UInt = #line
) -> (T) throws -> R {
    customFunction(f, kind: .jvp, name: name, site: CallSite(file: file, line: line)) { x, y, v in
        try rule(x, y, x.rebuilt(with: v)).leaves
    }
}

/// `f` with a hand-written reverse-mode rule in JAX's form (`jax.custom_vjp` with
/// `defvjp(fwd, bwd)`): `forward(x)` returns f(x) and the residuals the rule needs, computed
/// once; `backward(residuals, ȳ)` returns x̄. Without a transform asking for derivatives, `f`
/// runs and no residuals are made.
///
/// ```swift
/// let f = customVJP({ (x: NDArray) in sin(x) },
///                   forward: { x in (sin(x), cos(x)) },          // residual: cos x
///                   backward: { cosine, ct in ct * cosine })
/// ```
public func customVJP<T: ArrayTree, R: ArrayTree, Residuals: ArrayTree>(
    _ f: @escaping (T) throws -> R, forward: @escaping (T) throws -> (R, Residuals),
    backward: @escaping (_ residuals: Residuals, _ cotangent: R) throws -> T,
    name: String = "customVJP", file: StaticString = #fileID, line: UInt = #line
) -> (T) throws -> R {
    customFunction(f, forward: forward, kind: .vjp, name: name, site: CallSite(file: file, line: line)) { _, y, residuals, v in
        try backward(residuals, y.rebuilt(with: v)).leaves
    }
}

/// `f` of a differentiated argument and a non-differentiated one (JAX's `nondiff_argnums`:
/// bounds, flags, sizes — any type), with a hand-written reverse-mode rule in JAX's form: the
/// non-differentiated argument is passed to `forward` and to `backward`, which may return nil
/// for a zero cotangent.
///
/// ```swift
/// // The cookbook's clip_gradient: the identity whose cotangent is clipped to [lo, hi].
/// let clipGradient = customVJP({ (x: NDArray, bounds: (Double, Double)) in x },
///                              forward: { x, _ in (x, [NDArray]()) },
///                              backward: { bounds, _, ct in ct.clamp(min: bounds.0, max: bounds.1) })
/// ```
public func customVJP<T: ArrayTree, U, R: ArrayTree, Residuals: ArrayTree>(
    _ f: @escaping (T, U) throws -> R, forward: @escaping (T, U) throws -> (R, Residuals),
    backward: @escaping (_ argument: U, _ residuals: Residuals, _ cotangent: R) throws -> T?,
    name: String = "customVJP", file: StaticString = #fileID, line: UInt = #line
) -> (T, U) throws -> R {
    let site = CallSite(file: file, line: line)
    return { x, u in
        try customFunction({ try f($0, u) }, forward: { try forward($0, u) }, kind: .vjp, name: name, site: site) { x, y, residuals, v in
            try backward(u, residuals, y.rebuilt(with: v))?.leaves ?? x.leaves.map { _ in nil }
        }(x)
    }
}

/// `f` of two differentiated arguments with a hand-written reverse-mode rule:
/// `vjp(a, b, y, ȳ)` returns (ā, b̄), either nil for a zero cotangent.
public func customVJP<A: ArrayTree, B: ArrayTree, R: ArrayTree>(
    _ f: @escaping (A, B) throws -> R, vjp rule: @escaping (_ a: A, _ b: B, _ y: R, _ cotangent: R) throws -> (A?, B?),
    name: String = "customVJP", file: StaticString = #fileID, line: UInt = #line
) -> (A, B) throws -> R {
    let g = customFunction({ (p: TreePair<A, B>) in try f(p.first, p.second) }, kind: .vjp, name: name,
                           site: CallSite(file: file, line: line)) { p, y, v in
        let (ga, gb) = try rule(p.first, p.second, y, y.rebuilt(with: v))
        return (ga?.leaves ?? p.first.leaves.map { _ in nil }) + (gb?.leaves ?? p.second.leaves.map { _ in nil })
    }
    return { a, b in try g(TreePair(first: a, second: b)) }
}

/// `f` of two differentiated arguments with a hand-written forward-mode rule:
/// `jvp(a, b, y, ȧ, ḃ)` returns ẏ.
public func customJVP<A: ArrayTree, B: ArrayTree, R: ArrayTree>(
    _ f: @escaping (A, B) throws -> R, jvp rule: @escaping (_ a: A, _ b: B, _ y: R, _ ta: A, _ tb: B) throws -> R,
    name: String = "customJVP", file: StaticString = #fileID, line: UInt = #line
) -> (A, B) throws -> R {
    let g = customFunction({ (p: TreePair<A, B>) in try f(p.first, p.second) }, kind: .jvp, name: name,
                           site: CallSite(file: file, line: line)) { p, y, v in
        let t = p.rebuilt(with: v)
        return try rule(p.first, p.second, y, t.first, t.second).leaves
    }
    return { a, b in try g(TreePair(first: a, second: b)) }
}

/// `f` of a differentiated argument and a non-differentiated one (JAX's `nondiff_argnums`)
/// with a hand-written forward-mode rule: `jvp(x, u, y, ẋ)` returns ẏ.
public func customJVP<T: ArrayTree, U, R: ArrayTree>(
    _ f: @escaping (T, U) throws -> R, jvp rule: @escaping (_ x: T, _ argument: U, _ y: R, _ tangent: T) throws -> R,
    name: String = "customJVP", file: StaticString = #fileID, line: UInt = #line
) -> (T, U) throws -> R {
    let site = CallSite(file: file, line: line)
    return { x, u in
        try customFunction({ try f($0, u) }, kind: .jvp, name: name, site: site) { x, y, v in
            try rule(x, u, y, x.rebuilt(with: v)).leaves
        }(x)
    }
}

/// Wraps a typed function and rule as one `CustomFunction` primitive.
package func customFunction<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, kind: CustomRuleKind, name: String, site: CallSite,
    rule: @escaping (T, R, [NDArray]) throws -> [NDArray?]
) -> (T) throws -> R {
    customFunction(f, forward: { (try f($0), [NDArray]()) }, kind: kind, name: name, site: site) { x, y, _, v in
        try rule(x, y, v)
    }
}

/// Wraps a typed function, a forward pass that also returns residuals, and a rule as one
/// `CustomFunction` primitive. The residuals are extra outputs of the primitive — saved with
/// the rest of its application by a tape, batched by `vmap` — that the caller never sees; the
/// rule receives them, and only the cotangents (or tangents) of the function's own outputs.
package func customFunction<T: ArrayTree, R: ArrayTree, Residuals: ArrayTree>(
    _ f: @escaping (T) throws -> R, forward: @escaping (T) throws -> (R, Residuals), kind: CustomRuleKind,
    name: String, site: CallSite, rule: @escaping (T, R, Residuals, [NDArray]) throws -> [NDArray?]
) -> (T) throws -> R {
    { x in
        // Outside every transform, on values no tape records, no derivative can be asked for.
        if ThreadState.current.depth == 0 && x.leaves.allSatisfy(\.isConcrete) { return try f(x) }
        // The output's structure, learned when the forward pass runs on the inputs' values.
        let template = x
        var structure: TreePair<R, Residuals>?
        var primitive = CustomFunction(
            name: name, kind: kind,
            function: { leaves in
                let (y, residuals) = try forward(template.rebuilt(with: leaves))
                let both = TreePair(first: y, second: residuals)
                structure = both
                return both.leaves
            },
            rule: { xs, ys, vs in
                let both = structure!.rebuilt(with: ys)
                let n = both.first.leaves.count
                // Only the function's own outputs carry cotangents into a vjp rule.
                return try rule(template.rebuilt(with: xs), both.first, both.second, kind == .vjp ? Array(vs[..<n]) : vs)
            },
            site: site)
        // An error the function or a rule reported while being applied is thrown here, by the
        // call that caused it.
        primitive.residuals = { structure?.second.leaves.count ?? 0 }
        let outputs = try throwingReported { bind(primitive, x.leaves) }
        guard let structure, outputs.count == structure.leaves.count else {
            throw TransformError.customRuleMismatch(name: name, expected: structure.map { $0.leaves.map(\.shape) } ?? [],
                                                    got: outputs.map(\.shape), file: site.file, line: site.line)
        }
        return structure.rebuilt(with: outputs).first
    }
}
