// Initial values for parameters, as PyTorch's layers draw them. Every draw takes a key (JAX
// style); without one it uses the default stream, which `RandomKey.seed(_:)` restarts, as
// `torch.manual_seed` does.
//
// PyTorch's `Linear` and `Conv2d` use `kaiming_uniform_(a: √5)` for weights, which works out to
// U(−1/√fanIn, 1/√fanIn), and the same bound for biases; `Embedding` draws N(0, 1);
// `LayerNorm` starts at weight 1, bias 0.

import Fluxion

enum Initialization {
    /// U(−bound, bound) of `shape`.
    static func uniform(_ shape: [Int], bound: Double, key: RandomKey, dtype: DType) -> Tensor {
        Tensor(NDArray.uniform(shape, low: -bound, high: bound, key: key, dtype: dtype))
    }

    /// PyTorch's default for the weight and bias of a layer with `fanIn` inputs per output:
    /// both U(−1/√fanIn, 1/√fanIn).
    static func fanInUniform(weight: [Int], bias: [Int]?, fanIn: Int, key: RandomKey?, dtype: DType) -> (Tensor, Tensor?) {
        let (wKey, bKey) = (key ?? RandomKey.next()).split()
        let bound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
        return (uniform(weight, bound: bound, key: wKey, dtype: dtype),
                bias.map { uniform($0, bound: bound, key: bKey, dtype: dtype) })
    }
}
