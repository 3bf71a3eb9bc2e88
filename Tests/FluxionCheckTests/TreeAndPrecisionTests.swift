// Inputs and outputs of any tree shape — lists, dictionaries, parameter structs, with integer
// leaves held constant — and the precision a function is checked in.

import Testing
import Fluxion
import FluxionCheck

/// A parameter struct, as a model's layer.
struct Affine: ArrayStruct {
    var weight: NDArray
    var bias: NDArray
    static var arrayProperties: [ArrayProperty<Affine>] { [.init(\.weight), .init(\.bias)] }
}

@Suite("Trees and precision")
struct TreeAndPrecisionTests {
    let data = NDArray([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype: .float64)
    let layer = Affine(weight: NDArray([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.6]], dtype: .float64),
                       bias: NDArray([0.05, -0.1], dtype: .float64))

    @Test("a loss of a parameter struct: both leaves are checked, reported as inputs 0 and 1")
    func parameterStruct() throws {
        let data = self.data
        let loss = { (p: Affine) in (tanh(matmul(data, p.weight) + p.bias) ** 2).sum() }
        let report = try gradcheck(loss, inputs: layer)
        #expect(report.outcomes.allSatisfy { $0.compared == 8 })
        try checkDerivatives(loss, at: layer)

        // A rule that is wrong for the bias only is located there.
        let wrongBias = { (p: Affine) throws -> NDArray in
            let b = try customVJP({ (b: NDArray) in b }, vjp: { _, _, ct in -ct })(p.bias)
            return (tanh(matmul(data, p.weight) + b) ** 2).sum()
        }
        let error = #expect(throws: GradcheckFailure.self) { try gradcheck(wrongBias, inputs: layer, modes: .reverse) }
        #expect(error?.report.failures.first?.mismatches.allSatisfy { $0.input?.leaf == 1 } == true)
    }

    @Test("lists and dictionaries of arrays, and tree-valued outputs")
    func listsAndDictionaries() throws {
        let a = NDArray([0.5, -1.5], dtype: .float64), b = NDArray([[2.0], [0.25]], dtype: .float64)
        try gradcheck({ (xs: [NDArray]) in [xs[0] * xs[1], exp(xs[0]).sum()] }, inputs: [a, b])
        try checkDerivatives({ (d: [String: NDArray]) in ["product": d["a"]! * d["b"]!, "sum": sin(d["a"]!)] },
                             at: ["a": a, "b": b])
    }

    @Test("integer leaves are held constant and not counted; integer outputs are left out")
    func integerLeaves() throws {
        let x = NDArray([[0.5, -1.5, 2.0], [1.0, 0.1, -0.3]], dtype: .float64)
        let index = NDArray([[1, 0, 1]])
        let report = try gradcheck({ (xs: [NDArray]) in [xs[0].gather(dim: 0, index: xs[1]), xs[0].argmax(dim: 0)] },
                                   inputs: [x, index])
        // 3 outputs × 6 input elements: only the gathered float output, only x.
        #expect(report.outcomes.allSatisfy { $0.compared == 18 })
        try checkDerivatives({ (xs: [NDArray]) in xs[0].gather(dim: 0, index: xs[1]) }, at: [x, index])
    }

    @Test("a function that only computes in float32 is checked with float32 tolerances, and a wrong rule still fails")
    func float32Only() throws {
        let x = NDArray([0.5, -1.25, 2.0], dtype: .float32)
        let f = { (x: NDArray) in (x.to(.float32) * x.to(.float32) * 0.5).sum() }
        let report = try gradcheck(f, inputs: x)
        #expect(report.precision == .float32)
        #expect(report.tolerance == CheckTolerance.derived(for: .float32))
        try checkDerivatives(f, at: x, order: 1)

        let wrong = customVJP({ (x: NDArray) in x.to(.float32) * x.to(.float32) * 0.5 }, vjp: { x, _, ct in 1.1 * x.to(.float32) * ct })
        #expect(throws: GradcheckFailure.self) { try gradcheck(wrong, inputs: x) }
    }

    @Test("explicit eps, atol and rtol replace the derived ones")
    func explicitTolerances() throws {
        let report = try gradcheck({ (x: NDArray) in exp(x) }, inputs: NDArray([0.5], dtype: .float64), eps: 1e-4, atol: 1e-7, rtol: 1e-6)
        #expect(report.tolerance.eps == 1e-4 && report.tolerance.atol == 1e-7 && report.tolerance.rtol == 1e-6)
        // A rule 1e-4 off passes PyTorch's default rtol 1e-3 and fails a tighter one.
        let slightlyOff = customVJP({ (x: NDArray) in exp(x) }, vjp: { x, _, ct in ct * exp(x) * 1.0001 })
        let x = NDArray([0.5, 1.0], dtype: .float64)
        try gradcheck(slightlyOff, inputs: x)
        #expect(throws: GradcheckFailure.self) { try gradcheck(slightlyOff, inputs: x, atol: 1e-8, rtol: 1e-6) }
        // A coarse step whose truncation error (h²/6 ≈ 0.17% for exp at h = 0.1) exceeds the
        // tolerance is rescued by the finer step that every disagreement is retried with.
        try gradcheck({ (x: NDArray) in exp(x) }, inputs: x, eps: 0.1, atol: 0, rtol: 1e-4)
    }

    @Test("0-d and size-0 inputs")
    func edgeShapes() throws {
        try gradcheck({ (x: NDArray) in x * x }, inputs: NDArray(1.5, dtype: .float64))
        try checkDerivatives({ (x: NDArray) in x * x }, at: NDArray(1.5, dtype: .float64), order: 3)
        let empty = NDArray.zeros([0, 3], dtype: .float64)
        let report = try gradcheck({ (x: NDArray) in exp(x) }, inputs: empty)
        #expect(report.outcomes.allSatisfy { $0.compared == 0 })
        try checkDerivatives({ (xs: [NDArray]) in [exp(xs[0]).sum() + xs[1] * 2] }, at: [empty, NDArray([1.0, 2.0], dtype: .float64)])
    }

    @Test("nothing to differentiate is a failure that says so")
    func nothingToCheck() {
        let error = #expect(throws: GradcheckFailure.self) { try gradcheck({ (x: NDArray) in x * 2 }, inputs: NDArray([1, 2])) }
        #expect(error?.description.contains("no floating-point arrays to differentiate") == true)
    }
}
