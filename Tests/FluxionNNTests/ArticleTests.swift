// The Swift blocks of the documentation articles (Sources/Fluxion/Fluxion.docc) that use
// FluxionNN, verbatim after the values they assume, each followed by checks of what its
// comments say.

import Testing
import Fluxion
import FluxionNN

@Suite("The documentation articles' FluxionNN examples")
struct ArticleNNTests {
    @Test("Per-sample gradients over a module, against a loop of backward passes")
    func perSampleGradientsOfAModule() throws {
        let model = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
        func exampleLoss(_ p: [String: Tensor], _ x: Tensor, _ y: Tensor) throws -> Tensor {
            crossEntropy(try functionalCall(model, parameters: p, x.unsqueeze(0)), y.unsqueeze(0))
        }
        let images = Tensor(NDArray.normal([5, 4], key: RandomKey(seed: 0)))
        let labels = Tensor(NDArray([0, 2, 1, 1, 0], dtype: .int64))
        let perSample = try vmap(grad(exampleLoss), inAxes: (nil, 0, 0))(model.stateDict(), images, labels)
        print(perSample["0.weight"]!.shape)                      // [5, 8, 4]

        #expect(perSample["0.weight"]!.shape == [5, 8, 4])
        for i in 0..<5 {
            model.zeroGrad()
            try crossEntropy(model(images[i].unsqueeze(0)), labels[i].unsqueeze(0)).backward()
            for (name, parameter) in model.namedParameters().map({ ($0.name, $0.tensor) }) {
                let difference = (perSample[name]![i].value - parameter.grad!.value).abs().max().item()
                #expect(difference < 1e-5, "example \(i), \(name): vmap(grad) differs from backward() by \(difference)")
            }
        }
    }

    @Test("PINNs: LBFGSState over a jitted value and gradient reaches a stationary point")
    func lbfgsExample() throws {
        let target = NDArray([1.0, -2.0, 0.5], dtype: .float64)
        let objective = jit(valueAndGrad({ (x: NDArray) in ((x - target) ** 2).sum() + (x ** 4).sum() * 0.01 }))
        var lbfgs = LBFGSState(maxIter: 50, lineSearch: .strongWolfe)
        var solution = NDArray.zeros([3], dtype: .float64)
        for _ in 0..<3 { solution = try lbfgs.step(solution, objective: objective).x }
        print(try objective(solution).grad.abs().max().item() < 1e-6)   // true: a stationary point

        #expect(try objective(solution).grad.abs().max().item() < 1e-6)
        // The stationary point of a convex function is its minimum: 2(x − t) + 0.04x³ = 0.
        let residual = 2 * (solution - target) + 0.04 * solution ** 3
        #expect(residual.abs().max().item() < 1e-6)
    }

    @Test("Staged programs: a whole training step as one jitted function")
    func jittedTrainingStep() throws {
        let model = Sequential(Linear(3, 4), ReLU(), Linear(4, 1))
        let x = NDArray.normal([6, 3], key: RandomKey(seed: 4))
        let y = NDArray.normal([6, 1], key: RandomKey(seed: 5))
        let step = jit { (p: [String: NDArray], x: NDArray, y: NDArray) -> [String: NDArray] in
            let g = try grad({ (p: [String: NDArray]) in
                let r = try functionalCall(model, parameters: p, x) - y
                return (r * r).mean()
            })(p)
            return p.merging(g) { w, dw in w - 0.1 * dw }
        }

        let p0 = model.stateDict().mapValues(\.value)
        let p1 = try step(p0, x, y)
        let g = try grad({ (p: [String: NDArray]) in
            let r = try functionalCall(model, parameters: p, x) - y
            return (r * r).mean()
        })(p0)
        for name in p0.keys {
            #expect((p1[name]! - (p0[name]! - 0.1 * g[name]!)).abs().max().item() < 1e-6, "\(name) took one SGD step")
        }
    }
}
