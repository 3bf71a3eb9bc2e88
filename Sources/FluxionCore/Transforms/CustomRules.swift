// Custom derivative rules: a function whose derivative is given by hand, for numerical
// stability or speed, that keeps working under every other transform.
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

    func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        evaluate(arrays: inputs.map(NDArray.init)).map(\.base)
    }

    /// The function on values of the level below. Its outputs may be values of an enclosing
    /// transform that the function captured (an array a surrounding `vmap` maps, or `grad`
    /// differentiates): they are returned as they are, so the enclosing transform carries on
    /// with them, and derivatives with respect to captured values are those of the function's
    /// own operations (JAX converts such captured values into inputs; the effect is the same).
    func evaluate(arrays inputs: [NDArray]) -> [NDArray] {
        attempt { try function(inputs) }
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

    func jvp(_ primals: [NDArray], _ tangents: [NDArray?], outputs: [NDArray]) -> [NDArray?] {
        guard tangents.contains(where: { $0 != nil }) else { return outputs.map { _ in nil } }
        let t = zip(tangents, primals).map { $0 ?? NDArray.zeros($1.shape, dtype: $1.dtype.floatingOrDefault) }
        switch kind {
        case .jvp:
            return applyRule(primals, outputs, t, expected: outputs)
        case .vjp:
            let zero = outputs.map { NDArray.zeros($0.shape, dtype: $0.dtype.floatingOrDefault) }
            return transpose({ u in applyRuleFilled(primals, outputs, u, expected: primals) }, at: zero, t)
        }
    }

    func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        let u = zip(cotangents, outputs).map { $0 ?? NDArray.zeros($1.shape, dtype: $1.dtype.floatingOrDefault) }
        switch kind {
        case .vjp:
            return applyRule(primals, outputs, u, expected: primals)
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
        let outputs = bind(mapped, batched)
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

/// Wraps a typed function and rule as one `CustomFunction` primitive.
package func customFunction<T: ArrayTree, R: ArrayTree>(
    _ f: @escaping (T) throws -> R, kind: CustomRuleKind, name: String, site: CallSite,
    rule: @escaping (T, R, [NDArray]) throws -> [NDArray?]
) -> (T) throws -> R {
    { x in
        // Outside every transform, on values no tape records, no derivative can be asked for.
        if ThreadState.current.depth == 0 && x.leaves.allSatisfy(\.isConcrete) { return try f(x) }
        // The output's structure, learned when f runs on the inputs' values.
        let template = x
        var structure: R?
        let primitive = CustomFunction(
            name: name, kind: kind,
            function: { leaves in
                let y = try f(template.rebuilt(with: leaves))
                structure = y
                return y.leaves
            },
            rule: { xs, ys, vs in try rule(template.rebuilt(with: xs), structure!.rebuilt(with: ys), vs) },
            site: site)
        // An error the function or a rule reported while being applied is thrown here, by the
        // call that caused it.
        let outputs = try throwingReported { bind(primitive, x.leaves) }
        guard let structure, outputs.count == structure.leaves.count else {
            throw TransformError.customRuleMismatch(name: name, expected: structure.map { $0.leaves.map(\.shape) } ?? [],
                                                    got: outputs.map(\.shape), file: site.file, line: site.line)
        }
        return structure.rebuilt(with: outputs)
    }
}
