// Layer normalisation (`nn.LayerNorm`): each example normalised over its last dimensions to
// mean 0 and variance 1, then scaled and shifted elementwise:
//
// ```
// y = (x − mean) / √(var + ε) · weight + bias      over the last normalizedShape.count dims
// ```
//
// The variance is the biased one (divided by n), as PyTorch's.

import Fluxion
import FluxionCore

/// Normalises over the trailing `normalizedShape` dimensions, with a learned elementwise
/// scale (starting at 1) and shift (starting at 0).
public final class LayerNorm: Module, @unchecked Sendable {
    /// The trailing dimensions normalised over.
    public let normalizedShape: [Int]
    /// Added to the variance before its square root.
    public let eps: Double
    /// The learned scale, of `normalizedShape` (nil without `elementwiseAffine`).
    @Parameter public var weight: Tensor?
    /// The learned shift, of `normalizedShape` (nil without it).
    @Parameter public var bias: Tensor?

    /// - Parameters:
    ///   - normalizedShape: the trailing dimensions normalised over, and the shape of
    ///     `weight` and `bias`.
    ///   - eps: added to the variance before its square root.
    ///   - elementwiseAffine: learn `weight` and `bias`.
    ///   - bias: learn `bias` (when `elementwiseAffine`).
    ///   - dtype: the parameters' dtype.
    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                dtype: DType = .float32) {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Tensor.ones(normalizedShape, dtype: dtype) : nil
        self.bias = elementwiseAffine && bias ? Tensor.zeros(normalizedShape, dtype: dtype) : nil
    }

    /// Normalises over the last dimension, of size `normalizedShape` (see the array form).
    public convenience init(_ normalizedShape: Int, eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                            dtype: DType = .float32) {
        self.init([normalizedShape], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias, dtype: dtype)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        layerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }

    public override var extraDescription: String {
        "(\(normalizedShape.map(String.init).joined(separator: ", "))\(normalizedShape.count == 1 ? "," : "")), eps=\(eps), elementwise_affine=\(weight == nil ? "False" : "True")"
    }
}

/// Layer normalisation on tensors (`torch.nn.functional.layer_norm`), as one node
/// (`NativeLayerNormBackward0`).
public func layerNorm(_ input: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5,
                      file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    Tensor.composite("NativeLayerNormBackward0", [input, weight, bias]) { xs in
        var rest = xs.dropFirst().makeIterator()
        let w = weight == nil ? nil : rest.next()
        let b = bias == nil ? nil : rest.next()
        return layerNorm(xs[0], normalizedShape: normalizedShape, weight: w, bias: b, eps: eps, file: file, line: line)
    }
}

/// Layer normalisation on arrays.
public func layerNorm(_ input: NDArray, normalizedShape: [Int], weight: NDArray? = nil, bias: NDArray? = nil, eps: Double = 1e-5,
                      file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let k = normalizedShape.count
    guard input.rank >= k, Array(input.shape.suffix(k)) == normalizedShape else {
        fail("layerNorm", "input of shape \(describe(input.shape)) does not end in \(describe(normalizedShape))",
             fix: "normalise over the input's last dimensions", file: file, line: line)
    }
    let dims = Array((input.rank - k)..<input.rank)
    let mean = input.mean(dims: dims, keepDim: true)
    let centered = input - mean
    let variance = (centered * centered).mean(dims: dims, keepDim: true)
    var y = centered * rsqrt(variance + eps)
    if let weight { y = y * weight }
    if let bias { y = y + bias }
    return y
}
