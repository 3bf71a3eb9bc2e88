// The functions PyTorch users reach for that are composites of Fluxion's primitives —
// activations (elu, selu, celu, hardtanh, relu6, hardsigmoid, softsign, mish), rounding and
// remainders (trunc, fmod, remainder), xlogy and logit, distances (normalize,
// cosineSimilarity, pairwiseDistance, dist, cdist) and the reductions amax, amin and median —
// against values and gradients computed with PyTorch 2 (float64; the gradient is of Σ wᵢ·yᵢ
// with wᵢ = 1 + 0.1·(i + 1), so that each output's cotangent differs), including the points
// where PyTorch's conventions decide (the bounds of hardtanh, a zero vector, equal rows, x = 0
// in xlogy), and the graph node PyTorch names. Then every composite under checkDerivatives to
// second order, away from its kinks.
//
// The reference values were printed by this script (torch 2.x):
//
//     import torch, torch.nn.functional as F
//     torch.set_default_dtype(torch.float64)
//     def vg(f, *args):
//         ts = [a.clone().requires_grad_(True) for a in args]; y = f(*ts)
//         w = torch.arange(1, y.numel() + 1, dtype=torch.float64).reshape(y.shape) * 0.1 + 1
//         print(y.flatten().tolist(), [g.flatten().tolist() for g in torch.autograd.grad((y * w).sum(), ts)],
//               y.grad_fn.name())
//     x = torch.tensor([-2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.0, 7.0]); vg(lambda t: F.elu(t, 0.7), x)   # and so on

import Testing
import Fluxion
@testable import FluxionCore
import FluxionCheck

/// Expects `f` of tensors made from `inputs` to give `value`, the gradients `grads` of Σ wᵢ·yᵢ
/// and a node named `gradFn`.
private func expectTorch(_ inputs: [NDArray], _ f: ([Tensor]) -> Tensor, value: [Double], grads: [[Double]], gradFn: String,
                         rtol: Double = 1e-12, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let tensors = try inputs.map { try Tensor($0, requiresGrad: true) }
    let y = f(tensors)
    expectClose(y.value, value, rtol: rtol, atol: 1e-13, label: "\(gradFn) value", sourceLocation: sourceLocation)
    #expect(y.gradFn?.name == gradFn, sourceLocation: sourceLocation)
    let w = NDArray(shape: y.shape, scalars: (0..<y.value.count).map { 1 + 0.1 * Double($0 + 1) }, dtype: .float64)
    try (y * Tensor(w)).sum().backward()
    for (t, g) in zip(tensors, grads) {
        expectClose(t.grad?.value ?? NDArray.zerosLike(t.value), g, rtol: rtol, atol: 1e-13, label: "\(gradFn) gradient",
                    sourceLocation: sourceLocation)
    }
}

private let x = float64([-2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.0, 7.0], [8])
private let a = float64([1.0, -2.0, 0.5, 0.0, 0.0, 0.0, 3.0, 1.0, -1.0], [3, 3])
private let b = float64([0.5, 1.0, -1.0, 2.0, 0.0, 1.0, 3.0, 1.0, -1.0], [3, 3])

@Suite("PyTorch's composite functions: values, gradients and node names as PyTorch's")
struct TorchFunctionTests {
    @Test("activations, at the points where PyTorch's conventions decide")
    func activations() throws {
        try expectTorch([x], { elu($0[0], alpha: 0.7) },
                        value: [-0.642540500963271, -0.44248439117999, -0.181427245522797, 0.0, 0.4, 1.0, 2.0, 7.0],
                        grads: [[0.063205448940402, 0.309018730584012, 0.674144580820363, 0.98, 1.5, 1.6, 1.7, 1.8]], gradFn: "EluBackward0")
        try expectTorch([x], { selu($0[0]) },
                        value: [-1.613785758873242, -1.111330737812563, -0.455667315379122, 0.0, 0.420280394942192, 1.05070098735548,
                                2.101401974710961, 7.354906911488364],
                        grads: [[0.158744940171548, 0.776122323641777, 1.693161633108731, 2.461339077186327, 1.576051481033221,
                                 1.681121579768769, 1.786191678504317, 1.891261777239865]], gradFn: "EluBackward0")
        try expectTorch([x], { celu($0[0], alpha: 0.5) },
                        value: [-0.496631026500457, -0.432332358381694, -0.225594181952987, 0.0, 0.4, 1.0, 2.0, 7.0],
                        grads: [[0.007411741698994, 0.162402339883935, 0.713455126922234, 1.4, 1.5, 1.6, 1.7, 1.8]], gradFn: "CeluBackward0")
        // The bounds themselves (−1 and 2) get no gradient, unlike clamp's.
        try expectTorch([x], { hardtanh($0[0], minValue: -1, maxValue: 2) }, value: [-1, -1, -0.3, 0, 0.4, 1, 2, 2],
                        grads: [[0, 0, 1.3, 1.4, 1.5, 1.6, 0, 0]], gradFn: "HardtanhBackward0")
        try expectTorch([x], { relu6($0[0] * 3) }, value: [0, 0, 0, 0, 1.2, 3, 6, 6],
                        grads: [[0, 0, 0, 0, 4.5, 4.8, 0, 0]], gradFn: "HardtanhBackward0")
        // PyTorch's hardsigmoid gradient rounds its 1/6 through float32.
        try expectTorch([x], { hardsigmoid($0[0] * 1.5) }, value: [0, 0.25, 0.425, 0.5, 0.6, 0.75, 1, 1],
                        grads: [[0, 0.3, 0.325, 0.35, 0.375, 0.4, 0, 0]], gradFn: "HardsigmoidBackward0", rtol: 1e-7)
        try expectTorch([x], { softsign($0[0]) },
                        value: [-0.714285714285714, -0.5, -0.230769230769231, 0.0, 0.285714285714286, 0.5, 0.666666666666667, 0.875],
                        grads: [[0.089795918367347, 0.3, 0.769230769230769, 1.4, 0.765306122448979, 0.4, 0.188888888888889, 0.028125]],
                        gradFn: "DivBackward0")
        try expectTorch([x], { mish($0[0]) },
                        value: [-0.196816203906533, -0.303401461374109, -0.151133177138335, 0.0, 0.289030534072363, 0.86509838826731,
                                1.943958959533995, 6.999988379809741],
                        grads: [[-0.120717930025204, 0.071060107052874, 0.531064140016413, 0.84, 1.255526253812694, 1.678457952159668,
                                 1.817840488275132, 1.8000388064896]], gradFn: "MishBackward0")
    }

    @Test("trunc, fmod and remainder by arrays and numbers, and the gradient with respect to the divisor")
    func remainders() throws {
        let y = float64([1.5, -0.7, 0.25, 2.0, -3.0, 0.6, 1.1, 2.5], [8])
        try expectTorch([x], { trunc($0[0] * 1.3) }, value: [-3, -1, 0, 0, 0, 1, 2, 9], grads: [[0, 0, 0, 0, 0, 0, 0, 0]],
                        gradFn: "TruncBackward0")
        let slopes = [1.87, 2.04, 2.21, 2.38, 2.55, 2.72, 2.89, 3.06]
        try expectTorch([x, y], { fmod($0[0] * 1.7, $0[1]) }, value: [-1.25, -0.3, -0.01, 0.0, 0.68, 0.5, 0.1, 1.9],
                        grads: [slopes, [2.2, -2.4, 2.6, 0.0, 0.0, -3.2, -5.1, -7.2]], gradFn: "FmodBackward1", rtol: 1e-11)
        try expectTorch([x, y], { remainder($0[0] * 1.7, $0[1]) }, value: [0.25, -0.3, 0.24, 0.0, -2.32, 0.5, 0.1, 1.9],
                        grads: [slopes, [3.3, -2.4, 3.9, 0.0, 1.5, -3.2, -5.1, -7.2]], gradFn: "RemainderBackward1", rtol: 1e-11)
        try expectTorch([x], { fmod($0[0] * 1.7, -1.5) }, value: [-1.25, -0.2, -0.51, 0.0, 0.68, 0.2, 0.4, 1.4],
                        grads: [slopes], gradFn: "FmodBackward0", rtol: 1e-11)
        try expectTorch([x], { remainder($0[0] * 1.7, -1.5) }, value: [-1.25, -0.2, -0.51, 0.0, -0.82, -1.3, -1.1, -0.1],
                        grads: [slopes], gradFn: "RemainderBackward0", rtol: 1e-11)
    }

    @Test("xlogy is 0 where x = 0, its gradient with respect to x log y there; logit with and without eps")
    func xlogyAndLogit() throws {
        let p = float64([0.0, 0.0, 1.0, 2.0, 0.5, 3.0], [6]), q = float64([0.5, 2.0, 0.25, 1.0, 4.0, 0.1], [6])
        try expectTorch([p, q], { xlogy($0[0], $0[1]) },
                        value: [0.0, 0.0, -1.386294361119891, 0.0, 0.693147180559945, -6.907755278982137],
                        grads: [[-0.76246189861594, 0.831776616671934, -1.802182669455858, 0.0, 2.079441541679836, -3.684136148790473],
                                [0.0, 0.0, 5.2, 2.8, 0.1875, 48.0]], gradFn: "XlogyBackward0")
        let edges = xlogy(float64([0, 0, 0], [3]), float64([.nan, 0, .infinity], [3])).doubles
        #expect(edges[0].isNaN && edges[1] == 0 && edges[2] == 0, "a NaN y stays NaN; 0·log 0 and 0·log ∞ are 0, as PyTorch's")
        let z = float64([0.01, 0.2, 0.5, 0.9, 0.999], [5])
        try expectTorch([z], { logit($0[0]) }, value: [-4.59511985013459, -1.386294361119891, 0.0, 2.19722457733622, 6.906754778648553],
                        grads: [[111.11111111111111, 7.5, 5.2, 15.555555555555557, 1501.5015015015001]], gradFn: "LogitBackward0",
                        rtol: 1e-11)
        try expectTorch([z], { logit($0[0], eps: 0.05) },
                        value: [-2.94443897916644, -1.386294361119891, 0.0, 2.19722457733622, 2.944438979166439],
                        grads: [[0.0, 7.5, 5.2, 15.555555555555557, 0.0]], gradFn: "LogitBackward0", rtol: 1e-11)
    }

    @Test("distances: a zero vector, equal rows, and norms other than 2")
    func distances() throws {
        // Row 1 of a is zero: normalize divides by eps, so its gradient is 1/eps.
        try expectTorch([a], { normalize($0[0]) },
                        value: [0.436435780471985, -0.87287156094397, 0.218217890235992, 0, 0, 0, 0.904534033733291, 0.301511344577764,
                                -0.301511344577764],
                        grads: [[0.534114264672858, 0.415653124259033, 0.594383967690417, 1.4e12, 1.5e12, 1.6e12, 0.101417452267066,
                                 0.405669809068264, 0.709922165869462]], gradFn: "DivBackward0")
        try expectTorch([a], { normalize($0[0], p: 1, dim: 0) },
                        value: [0.25, -0.666666666666667, 0.333333333333333, 0, 0, 0, 0.75, 0.333333333333333, -0.666666666666667],
                        grads: [[-0.1125, 0.333333333333333, 1.422222222222222, 0.35, 0.5, 1.066666666666667, 0.0375, 0.666666666666667,
                                 0.711111111111111]], gradFn: "DivBackward0")
        try expectTorch([a, b], { cosineSimilarity($0[0], $0[1]) }, value: [-0.581914373962646, 0.0, 1.0],
                        grads: [[0.281951369289044, 0.076203072780823, -0.259090447454797, 107331262.91998988, 0, 53665631.45999494, 0, 0, 0],
                                [0.462298641536991, -0.35561433964384, -0.124465018875344, 0, 0, 0, 0, 0, 0]], gradFn: "SumBackward1",
                        rtol: 1e-10)
        try expectTorch([a, b], { pairwiseDistance($0[0], $0[1]) }, value: [3.391164696679151, 2.236066635859272, 1.732050808e-06],
                        grads: [[0.162186490245843, -0.973116670868735, 0.486558821992865, -1.073312736531097, 5.36656637e-07,
                                 -0.53665609993723, 0.750555349946514, 0.750555349946514, 0.750555349946514],
                                [-0.162186490245843, 0.973116670868735, -0.486558821992865, 1.073312736531097, -5.36656637e-07,
                                 0.53665609993723, -0.750555349946514, -0.750555349946514, -0.750555349946514]],
                        gradFn: "NormBackward1", rtol: 1e-9)
        try expectTorch([a, b], { dist($0[0], $0[1], p: 3) }, value: [3.40564230384454],
                        grads: [[0.023710167938158, -0.853566045773695, 0.213391511443424, -0.379362687010531, 0, -0.094840671752633, 0, 0, 0],
                                [-0.023710167938158, 0.853566045773695, -0.213391511443424, 0.379362687010531, 0, 0.094840671752633, 0, 0, 0]],
                        gradFn: "DistBackward0", rtol: 1e-11)
        // Row 0 of c equals row 1 of d: distance 0, gradient 0.
        let c = float64([1.0, -2.0, 0.0, 0.5, 3.0, 1.0], [3, 2]), d = float64([0.5, 1.0, 1.0, -2.0], [2, 2])
        try expectTorch([c, d], { cdist($0[0], $0[1]) },
                        value: [3.04138126514911, 0.0, 0.707106781186548, 2.692582403567252, 2.5, 3.605551275463989],
                        grads: [[0.180838886035893, -1.085033316215358, -1.439185762438257, 0.380628551696851, 2.387520313960366,
                                 1.33128047094055], [-0.761600070493381, 2.00427213175787, -0.367573367064622, -2.631147838179913]],
                        gradFn: "CdistBackward0")
        try expectTorch([c, d], { cdist($0[0], $0[1], p: 1) }, value: [3.5, 0.0, 1.0, 3.5, 2.5, 5.0],
                        grads: [[1.1, -1.1, -2.7, 0.1, 3.1, 1.6], [-1.3, 2.4, -0.2, -3.0]], gradFn: "CdistBackward0")
        #expect(cdist(NDArray.zeros([4, 2, 3], dtype: .float64), NDArray.zeros([5, 3], dtype: .float64)).shape == [4, 2, 5])
    }

    @Test("amax and amin share a tie's gradient; median takes the lower middle element")
    func reductions() throws {
        let m = float64([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], [3, 4])
        try expectTorch([m], { $0[0].amax(dims: [1]) }, value: [4, 9, 8], grads: [[0, 0, 1.1, 0, 0, 1.2, 0, 0, 0, 0, 0, 1.3]],
                        gradFn: "AmaxBackward0")
        try expectTorch([m], { $0[0].amin(dims: [0, 1]) }, value: [1], grads: [[0, 0.55, 0, 0.55, 0, 0, 0, 0, 0, 0, 0, 0]],
                        gradFn: "AminBackward0")
        try expectTorch([m], { $0[0].median() }, value: [4], grads: [[0, 0, 1.1, 0, 0, 0, 0, 0, 0, 0, 0, 0]], gradFn: "MedianBackward0")
        // A tie at the median shares its gradient, as PyTorch's median() does.
        try expectTorch([float64([2, 5, 2, 1], [4])], { $0[0].median() }, value: [2], grads: [[0.55, 0, 0.55, 0]], gradFn: "MedianBackward0")
        let untied = float64([3, 1, 4, 2, 5, 9, 2, 6, 7, 3, 5, 8], [3, 4])
        let (values, indices) = untied.median(dim: 1)
        #expect(values.doubles == [2, 5, 5] && indices.ints == [3, 0, 2])
        let tensor = try Tensor(untied, requiresGrad: true)
        let median = tensor.median(dim: 1)
        #expect(median.values.gradFn?.name == "MedianBackward1" && median.indices.value.ints == [3, 0, 2])
    }

    static let smooth: [(String, @Sendable ([NDArray]) -> NDArray, [NDArray])] = [
        ("elu", { elu($0[0], alpha: 0.7) }, [float64([-1.3, -0.4, 0.6, 2.1], [4])]),
        ("selu", { selu($0[0]) }, [float64([-1.3, -0.4, 0.6, 2.1], [4])]),
        ("celu", { celu($0[0], alpha: 0.5) }, [float64([-1.3, -0.4, 0.6, 2.1], [4])]),
        ("softsign", { softsign($0[0]) }, [float64([-1.3, -0.4, 0.6, 2.1], [4])]),
        ("mish", { mish($0[0]) }, [float64([-1.3, -0.4, 0.6, 2.1], [4])]),
        ("hardsigmoid", { hardsigmoid($0[0]) }, [float64([-1.3, -0.4, 0.6, 2.1], [4])]),
        ("fmod", { fmod($0[0], $0[1]) }, [float64([2.3, -1.7, 0.9], [3]), float64([0.7, 1.1, -0.4], [3])]),
        ("remainder", { remainder($0[0], $0[1]) }, [float64([2.3, -1.7, 0.9], [3]), float64([0.7, 1.1, -0.4], [3])]),
        ("xlogy", { xlogy($0[0], $0[1]) }, [float64([0.3, 1.2, 2.0], [3]), float64([0.5, 1.5, 3.0], [3])]),
        ("logit", { logit($0[0]) }, [float64([0.1, 0.45, 0.8], [3])]),
        ("normalize", { normalize($0[0], dim: -1) }, [float64([0.3, -1.2, 2.0, 0.5, 1.5, 3.0], [2, 3])]),
        ("cosineSimilarity", { cosineSimilarity($0[0], $0[1], dim: -1) },
         [float64([0.3, -1.2, 2.0, 0.5, 1.5, 3.0], [2, 3]), float64([1.0, 0.2, -0.5], [3])]),
        ("pairwiseDistance", { pairwiseDistance($0[0], $0[1]) },
         [float64([0.3, -1.2, 2.0, 0.5, 1.5, 3.0], [2, 3]), float64([1.0, 0.2, -0.5], [3])]),
        ("cdist", { cdist($0[0], $0[1]) }, [float64([0.3, -1.2, 2.0, 0.5, 1.5, 3.0], [2, 3]), float64([1.0, 0.2, -0.5, 0.1, 0.1, 0.1], [2, 3])]),
        ("cdist p = 3", { cdist($0[0], $0[1], p: 3) },
         [float64([0.3, -1.2, 2.0, 0.5, 1.5, 3.0], [2, 3]), float64([1.0, 0.2, -0.5, 0.1, 0.1, 0.1], [2, 3])]),
        ("median", { $0[0].median() }, [float64([0.3, -1.2, 2.0, 0.5, 1.5], [5])]),
        ("amax", { $0[0].amax(dims: [0]) }, [float64([0.3, -1.2, 2.0, 0.5, 1.5, 3.0], [2, 3])]),
    ]

    @Test("second-order derivatives by every transform agree with each other and with finite differences",
          arguments: smooth.indices)
    func derivatives(_ index: Int) throws {
        let (name, f, at) = Self.smooth[index]
        do {
            try checkDerivatives(f, at: at, order: 2)
        } catch {
            Issue.record("\(name): \(error)")
        }
    }
}
