// Helpers for the FluxionNN tests: an elementwise comparison that reports the worst element,
// seeded float64 data, and gradient checks against central differences in float64.
//
// The gradient checks compare the facade's `backward()` — the path training takes — with
// central differences of the same function evaluated without recording: for every element of
// every input, (L(x + ε·eᵢ) − L(x − ε·eᵢ)) / 2ε with L = ⟨u, f(x)⟩ for a fixed random u. With
// ε = 1e-6 in float64 the truncation error is about ε²·|f'''| and the rounding error about
// 1e-16·|L|/ε ≈ 1e-10, far inside rtol 1e-6, atol 1e-7 for the smooth, well-scaled functions
// tested. Inputs are kept away from kinks (relu at 0, |x − y| at 0) by much more than ε.

import Foundation
import Testing
import Fluxion
import FluxionNN

/// Expects `actual` to equal `expected` elementwise within `atol + rtol·|expected|`, naming the
/// worst element on failure.
func expectClose(_ actual: [Double], _ expected: [Double], rtol: Double = 1e-6, atol: Double = 1e-7, _ label: String = "values",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) elements, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var worst: (index: Int, excess: Double)?
    var failures = 0
    for i in actual.indices {
        let error = Swift.abs(actual[i] - expected[i]), allowed = atol + rtol * Swift.abs(expected[i])
        if !(error <= allowed) {
            failures += 1
            let excess = error.isNaN ? .infinity : error - allowed
            if worst == nil || excess > worst!.excess { worst = (i, excess) }
        }
    }
    if let worst {
        Issue.record("""
            \(label): \(failures) of \(actual.count) elements differ beyond rtol \(rtol), atol \(atol); worst at \(worst.index): \
            got \(actual[worst.index]), expected \(expected[worst.index])
            """, sourceLocation: sourceLocation)
    }
}

func expectClose(_ actual: NDArray, _ expected: [Double], rtol: Double = 1e-6, atol: Double = 1e-7, _ label: String = "values",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(actual.doubles, expected, rtol: rtol, atol: atol, label, sourceLocation: sourceLocation)
}

func expectClose(_ actual: Tensor?, _ expected: [Double], rtol: Double = 1e-6, atol: Double = 1e-7, _ label: String = "values",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard let actual else {
        Issue.record("\(label): nil, expected \(expected)", sourceLocation: sourceLocation)
        return
    }
    expectClose(actual.value.doubles, expected, rtol: rtol, atol: atol, label, sourceLocation: sourceLocation)
}

/// Seeded float64 values of `shape` in `range`.
func randomArray(_ shape: [Int], in range: ClosedRange<Double> = -1...1, seed: UInt64) -> NDArray {
    NDArray.uniform(shape, low: range.lowerBound, high: range.upperBound, key: RandomKey(seed: seed), dtype: .float64)
}

/// `x` with element `index` increased by `delta` (float64).
func shifted(_ x: NDArray, at index: Int, by delta: Double) -> NDArray {
    var values = x.doubles
    values[index] += delta
    return NDArray(shape: x.shape, scalars: values, dtype: .float64)
}

/// ⟨u, y⟩.
func inner(_ u: NDArray, _ y: NDArray) -> Double {
    zip(u.doubles, y.doubles).reduce(0) { $0 + $1.0 * $1.1 }
}

/// Checks the gradients `backward()` gives for every input of `f` (float64 arrays) against
/// central differences of ⟨u, f⟩ for a fixed random u.
func gradcheck(_ f: ([Tensor]) -> Tensor, _ inputs: [NDArray], eps: Double = 1e-6, rtol: Double = 1e-6, atol: Double = 1e-7,
               _ label: String = "gradcheck", sourceLocation: SourceLocation = #_sourceLocation) throws {
    let tensors = try inputs.map { try Tensor($0, requiresGrad: true) }
    let out = f(tensors)
    let u = randomArray(out.shape, in: 0.5...1.5, seed: 99)
    try (out * Tensor(u)).sum().backward()
    func value(_ xs: [NDArray]) -> Double { inner(u, noGrad { f(xs.map { Tensor($0) }) }.value) }
    for k in inputs.indices {
        let numeric = (0..<inputs[k].count).map { i -> Double in
            var plus = inputs, minus = inputs
            plus[k] = shifted(inputs[k], at: i, by: eps)
            minus[k] = shifted(inputs[k], at: i, by: -eps)
            return (value(plus) - value(minus)) / (2 * eps)
        }
        let analytic = tensors[k].grad?.value.doubles ?? [Double](repeating: 0, count: inputs[k].count)
        expectClose(analytic, numeric, rtol: rtol, atol: atol, "\(label), input \(k)", sourceLocation: sourceLocation)
    }
}

/// Checks a module's gradients — with respect to its input and to every parameter — from
/// `backward()` against central differences, perturbing parameters through `functionalCall`.
func gradcheck(_ module: Module, _ input: NDArray, differentiateInput: Bool = true, eps: Double = 1e-6, rtol: Double = 1e-6,
               atol: Double = 1e-7, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let label = "\(type(of: module))"
    module.zeroGrad()
    let x = try Tensor(input, requiresGrad: differentiateInput)
    let out = module(x)
    let u = randomArray(out.shape, in: 0.5...1.5, seed: 98)
    try (out * Tensor(u)).sum().backward()
    let params = module.namedParameters()
    let base = Dictionary(uniqueKeysWithValues: params.map { ($0.name, $0.tensor.value) })
    let value = { (p: [String: NDArray], x: NDArray) in
        inner(u, noGrad { try! functionalCall(module, parameters: p.mapValues { Tensor($0) }, Tensor(x)) }.value)
    }
    if differentiateInput {
        let numeric = (0..<input.count).map { i in
            (value(base, shifted(input, at: i, by: eps)) - value(base, shifted(input, at: i, by: -eps))) / (2 * eps)
        }
        expectClose(x.grad?.value.doubles ?? [], numeric, rtol: rtol, atol: atol, "\(label): input gradient", sourceLocation: sourceLocation)
    }
    for (name, tensor) in params {
        let numeric = (0..<tensor.count).map { i -> Double in
            var plus = base, minus = base
            plus[name] = shifted(base[name]!, at: i, by: eps)
            minus[name] = shifted(base[name]!, at: i, by: -eps)
            return (value(plus, input) - value(minus, input)) / (2 * eps)
        }
        expectClose(tensor.grad?.value.doubles ?? [], numeric, rtol: rtol, atol: atol, "\(label): gradient of \(name)",
                    sourceLocation: sourceLocation)
    }
}
