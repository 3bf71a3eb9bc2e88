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
