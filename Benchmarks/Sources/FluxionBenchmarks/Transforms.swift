// First figures for the transforms: per-sample gradients of a small MLP by vmap(grad) against
// a loop of grad over the examples, and the per-step cost of a scalar chain under grad.

import Fluxion

/// A two-layer MLP's parameters.
struct MLP: ArrayStruct {
    var w1: NDArray, b1: NDArray, w2: NDArray, b2: NDArray
    static var arrayProperties: [ArrayProperty<MLP>] { [.init(\.w1), .init(\.b1), .init(\.w2), .init(\.b2)] }

    init(inputs: Int, hidden: Int, outputs: Int) {
        let keys = RandomKey(seed: 11).split(into: 2)
        w1 = NDArray.normal([inputs, hidden], key: keys[0]) / Double(inputs).squareRoot()
        b1 = NDArray.zeros([hidden])
        w2 = NDArray.normal([hidden, outputs], key: keys[1]) / Double(hidden).squareRoot()
        b2 = NDArray.zeros([outputs])
    }
}

/// Softmax cross-entropy of one example (or a batch, summed) with one-hot targets.
func mlpLoss(_ p: MLP, _ x: NDArray, _ target: NDArray) -> NDArray {
    let hidden = relu(matmul(x, p.w1) + p.b1)
    let logits = matmul(hidden, p.w2) + p.b2
    return -(target * (logits - logits.logSumExp(dim: -1, keepDim: true))).sum()
}

func transformBenchmarks(batches: [Int]) -> [String] {
    var rows: [String] = []
    let p = MLP(inputs: 64, hidden: 128, outputs: 10)
    for batch in batches {
        let x = NDArray.normal([batch, 64], key: RandomKey(seed: 12))
        let labels = NDArray.uniform([batch], low: 0, high: 10, key: RandomKey(seed: 13)).to(.int64)
        let y = oneHot(labels, numClasses: 10, dtype: .float32)
        let perSample = vmap(grad(mlpLoss), inAxes: (nil, 0, 0))
        let vmapped = measure("persample-mlp64-128-10-b\(batch)", "fluxion-vmap-grad",
                              checksum: { (try! perSample(p, x, y)).w1.sum().item() }) { blackHole(try! perSample(p, x, y)) }
        let g = grad(mlpLoss)
        let looped = measure("persample-mlp64-128-10-b\(batch)", "fluxion-loop-grad",
                             checksum: { (0..<batch).reduce(0) { $0 + (try! g(p, x[$1], y[$1])).w1.sum().item() } }) {
            for i in 0..<batch { blackHole(try! g(p, x[i], y[i])) }
        }
        print(vmapped.json)
        print(looped.json)
        rows.append(String(format: "| per-sample gradients, batch %4d | %8.3f ms | %8.3f ms | %5.1f× |", batch,
                           vmapped.median * 1e3, looped.median * 1e3, looped.median / vmapped.median))
    }
    // W1's shape: 100 steps of x = sin(x) * 1.01 + 0.1 on a 0-d array, value and gradient.
    let chain = { (x: NDArray) -> NDArray in
        var y = x
        for _ in 0..<100 { y = sin(y) * 1.01 + 0.1 }
        return y
    }
    let x0 = NDArray(0.5)
    let w1 = measure("scalar-chain-100", "fluxion-valueAndGrad", checksum: { (try! valueAndGrad(chain)(x0)).grad.item() }) {
        blackHole(try! valueAndGrad(chain)(x0))
    }
    print(w1.json)
    rows.append(String(format: "| scalar chain, value and gradient | %8.3f µs per step | | |", w1.median * 1e6 / 100))
    return rows
}

// MARK: - Second-order Jacobians in every order of modes

/// torch.func's Jacobians tutorial: predict(W, b, x) = tanh(W·x + b) with W [16, 16]; the
/// Jacobian of the Jacobian with respect to W ([16, 16, 16, 16, 16]) in the four orders of
/// modes. None of them may be far slower than the others.
func jacobianOrderBenchmarks() -> [String] {
    let key = RandomKey(seed: 12)
    let (k1, k2) = key.split()
    let w = NDArray.normal([16, 16], key: k1, dtype: .float32) * 0.25
    let x = NDArray.normal([16], key: k2, dtype: .float32)
    let b = NDArray.zeros([16])
    let predict = { (w: NDArray) in tanh(matmul(w, x) + b) }
    let orders: [(String, (NDArray) throws -> NDArray)] = [
        ("jacrev(jacrev)", jacrev(jacrev(predict))), ("jacfwd(jacfwd)", jacfwd(jacfwd(predict))),
        ("jacfwd(jacrev)", jacfwd(jacrev(predict))), ("jacrev(jacfwd)", jacrev(jacfwd(predict))),
    ]
    var rows: [String] = []
    for (name, f) in orders {
        let m = measure("jacobian-order", name, minRepetitions: 3, minSeconds: 0.3,
                        checksum: { (try! f(w)).sum().item() }) { blackHole(try! f(w)) }
        print(m.json)
        rows.append(String(format: "| %@ | %.3f ms |", name, m.median * 1e3))
    }
    return rows
}

// MARK: - Model ensembling

/// torch.func's model-ensembling tutorial: five MLPs 784-128-10 on one batch of 64, by `vmap`
/// over the stacked parameters against a loop over the models.
func ensembleBenchmarks() -> [String] {
    let models = 5, batch = 64
    let keys = RandomKey(seed: 21).split(into: 4)
    let w1 = NDArray.normal([models, 128, 784], key: keys[0]) * 0.03, b1 = NDArray.zeros([models, 128])
    let w2 = NDArray.normal([models, 10, 128], key: keys[1]) * 0.09, b2 = NDArray.zeros([models, 10])
    let data = NDArray.normal([batch, 784], key: keys[2])
    func mlp(_ p: [NDArray], _ x: NDArray) -> NDArray {
        matmul(relu(matmul(x, p[0].mT) + p[1]), p[2].mT) + p[3]
    }
    let vmapped = vmap({ (p: [NDArray]) in mlp(p, data) })
    let stacked = [w1, b1, w2, b2]
    let loop = { stack((0..<models).map { i in mlp(stacked.map { $0[i] }, data) }) }
    let mv = measure("ensemble-5x784-128-10-b64", "vmap", checksum: { (try! vmapped(stacked)).sum().item() }) {
        blackHole(try! vmapped(stacked))
    }
    let ml = measure("ensemble-5x784-128-10-b64", "loop", checksum: { loop().sum().item() }) { blackHole(loop()) }
    print(mv.json)
    print(ml.json)
    return [String(format: "| ensemble of 5, batch 64 | %.3f ms | %.3f ms | %.2f× |", mv.median * 1e3, ml.median * 1e3, ml.median / mv.median)]
}
