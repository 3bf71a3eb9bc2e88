// The empirical neural tangent kernel (NTK) of a network f(θ, x) with outputs of size O:
//
//     K(x₁, x₂) = J(x₁) J(x₂)ᵀ,   J(x) = ∂f(θ, x)/∂θ  (O × P),   so K is O × O per pair,
//
// which describes how a gradient step on one input moves the outputs at another (in the
// infinite-width limit it stays fixed during training and the network behaves as a kernel
// machine). For a batch of N inputs against M inputs it is an [N, M, O, O] array.
//
// Two ways to compute it, checked against each other:
//  1. Jacobian contraction: the Jacobian of every input with respect to every parameter
//     (`vmap` over the inputs of `jacrev` over the parameter dictionary), then
//     Σ over parameters of J₁·J₂ᵀ. It holds N·O·P + M·O·P numbers at once.
//  2. NTK-vector products: for one pair, a vjp at x₁ turns a basis vector e of the outputs into
//     J(x₁)ᵀe, and a jvp at x₂ pushes that through to J(x₂)J(x₁)ᵀe — one column of K without
//     forming either Jacobian; `vmap` runs it over the O basis vectors and over all pairs.
// Then the cheaper contractions (the trace, or the diagonal, of each O × O block), and the
// contribution of the last layer against its closed form.
//
// Run: swift run -c release NeuralTangentKernels [--quick]
// Results are checked with `check(condition, claim)`, which stops with the claim when it fails
// (through `fatalError`, so the message survives release builds).

import Foundation
import Fluxion
import FluxionNN
import NotebookSupport

typealias Parameters = [String: NDArray]

/// A small convolutional network: three 3×3 convolutions with ReLU between them, then a
/// linear layer from the flattened feature maps to O = 10 outputs.
final class CNN: Module, @unchecked Sendable {  // restated, as Swift 6 asks of Module's subclasses
    let conv1: Conv2d, conv2: Conv2d, conv3: Conv2d
    let fc: Linear

    init(channels: Int, imageSize: Int, key: RandomKey) {
        let keys = key.split(into: 4)
        conv1 = Conv2d(3, channels, kernelSize: 3, key: keys[0])
        conv2 = Conv2d(channels, channels, kernelSize: 3, key: keys[1])
        conv3 = Conv2d(channels, channels, kernelSize: 3, key: keys[2])
        fc = Linear(channels * (imageSize - 6) * (imageSize - 6), 10, key: keys[3])
    }

    /// The input to the last layer: the flattened feature maps.
    func features(_ x: Tensor) -> Tensor {
        conv3(relu(conv2(relu(conv1(x))))).flatten(startDim: 1)
    }

    override func forward(_ x: Tensor) -> Tensor { fc(features(x)) }
}

let (channels, imageSize) = quickRun ? (8, 12) : (32, 32)
let net = CNN(channels: channels, imageSize: imageSize, key: RandomKey(seed: 0))
let parameters: Parameters = net.stateDict().mapValues(\.value)
let parameterCount = parameters.values.reduce(0) { $0 + $1.count }
let inputKeys = RandomKey(seed: 1).split(into: 2)
let xTrain = NDArray.normal([20, 3, imageSize, imageSize], key: inputKeys[0])
let xTest = NDArray.normal([5, 3, imageSize, imageSize], key: inputKeys[1])
print("CNN with \(channels) channels on \(imageSize)×\(imageSize) images: \(parameterCount) parameters;",
      "NTK of \(xTrain.shape[0]) inputs against \(xTest.shape[0])")

/// The network on one input [3, H, W], as a function of its parameters: outputs [10].
func network(_ p: Parameters, _ x: NDArray) throws -> NDArray {
    try functionalCall(net, parameters: p, x.unsqueeze(0)).squeeze(0)
}

// MARK: - 1. Jacobian contraction

/// Every input's Jacobian with respect to every parameter: a dictionary of [N, O, …] blocks.
func jacobians(_ x: NDArray) throws -> Parameters {
    try vmap(jacrev(network), inAxes: (nil, 0))(parameters, x)
}

/// Σ over parameters of einsum(`contraction`) of the two inputs' Jacobian blocks, each
/// flattened to [N, O, Pₖ] ("Naf,Mbf->NMab" gives the full kernel).
func ntkByJacobianContraction(_ x1: NDArray, _ x2: NDArray, contraction: String = "Naf,Mbf->NMab") throws -> NDArray {
    let (j1, j2) = (try jacobians(x1), try jacobians(x2))
    return parameters.keys.sorted().map { name in
        einsum(contraction, j1[name]!.flatten(startDim: 2), j2[name]!.flatten(startDim: 2))
    }.reduce(NDArray.zeros([]), +)
}

let byContraction = try ntkByJacobianContraction(xTrain, xTest)
print("NTK by Jacobian contraction:", byContraction.shape)
check(byContraction.shape == [20, 5, 10, 10], "the kernel is [N, M, O, O]")

// MARK: - 2. NTK-vector products

/// The O × O kernel of one pair, a column per output basis vector: vjp at x₁, then jvp at x₂.
func ntkOfPair(_ x1: NDArray, _ x2: NDArray) throws -> NDArray {
    let (output, pullback) = try vjp({ try network($0, x1) }, at: parameters)
    func column(_ e: NDArray) throws -> NDArray {
        try jvp({ try network($0, x2) }, at: parameters, tangents: try pullback(e)).tangent
    }
    // Row a of the result is J(x₂)J(x₁)ᵀeₐ, entry b of which is Σ_f J(x₁)[a, f] J(x₂)[b, f].
    return try vmap(column)(NDArray.eye(output.count, dtype: output.dtype))
}

/// All pairs: the inner vmap runs over x₂, the outer over x₁.
func ntkByVectorProducts(_ x1: NDArray, _ x2: NDArray) throws -> NDArray {
    try vmap(vmap(ntkOfPair, inAxes: (nil, 0)), inAxes: (0, nil))(x1, x2)
}

let byProducts = try ntkByVectorProducts(xTrain, xTest)
let methodDifference = (byContraction - byProducts).abs().max().item()
let scale = byContraction.abs().max().item()
print(String(format: "NTK by vjp/jvp products: %@; largest difference from the contraction %.2e (largest entry %.2f)",
             "\(byProducts.shape)", methodDifference, scale))
check(methodDifference < 1e-5 * scale, "the two methods give the same kernel")

// The first block, K(x₁, x₂) for the first training and test inputs: a 10 × 10 matrix.
print("K(train 0, test 0) diagonal:", byContraction[0, 0].diagonal())

// One pair by hand, with the plain Jacobians of two single inputs: J₁ J₂ᵀ summed over the
// parameters — the definition, without vmap.
let j1 = try jacrev(network)(parameters, xTrain[3]), j2 = try jacrev(network)(parameters, xTest[2])
let pairByDefinition = parameters.keys.map { matmul(j1[$0]!.flatten(startDim: 1), j2[$0]!.flatten(startDim: 1).T) }
    .reduce(NDArray.zeros([10, 10]), +)
check((pairByDefinition - byContraction[3, 2]).abs().max().item() < 1e-5 * scale, "one block equals J₁J₂ᵀ from single Jacobians")

// MARK: - Symmetry and positive semi-definiteness

// K(x, x′) = K(x′, x)ᵀ, and the kernel of a set of inputs with itself, as an NO × NO matrix, is
// a Gram matrix: symmetric with no negative eigenvalues. The vjp/jvp method computes the two
// halves by different passes (vjp at x, jvp at x′, and the other way round), so its symmetry
// is a check and not a consequence of the formula.
let selfKernel = try ntkByVectorProducts(xTest, xTest)
let gram = selfKernel.permute([0, 2, 1, 3]).reshape([50, 50]).to(.float64)
let asymmetry = (gram - gram.T).abs().max().item()
let eigenvalues = eigh(0.5 * (gram + gram.T)).values
print(String(format: "K(test, test) as a 50×50 matrix: asymmetry %.1e, eigenvalues from %.3g to %.3g", asymmetry,
             eigenvalues.min().item(), eigenvalues.max().item()))
check(asymmetry < 1e-5 * scale, "the kernel is symmetric")
check(eigenvalues.min().item() > -1e-4 * eigenvalues.max().item(), "the kernel is positive semi-definite")

// MARK: - Cheaper contractions

// Often only the trace of each O × O block (one number per pair), or its diagonal, is wanted;
// the einsum then never forms the full blocks.
let traceKernel = try ntkByJacobianContraction(xTrain, xTest, contraction: "Naf,Maf->NM")
let diagonalKernel = try ntkByJacobianContraction(xTrain, xTest, contraction: "Naf,Maf->NMa")
let fullTrace = einsum("NMaa->NM", byContraction), fullDiagonal = byContraction.diagonal(dim1: 2, dim2: 3)
print("trace kernel:", traceKernel.shape, " diagonal kernel:", diagonalKernel.shape)
check((traceKernel - fullTrace).abs().max().item() < 1e-4 * scale, "the trace contraction is the trace of each block")
check((diagonalKernel - fullDiagonal).abs().max().item() < 1e-5 * scale, "the diagonal contraction is the diagonal of each block")

// MARK: - The last layer in closed form

// For y = W h + b, ∂y_a/∂W[c, f] = δ_ac h_f and ∂y_a/∂b[c] = δ_ac, so the last layer contributes
// (⟨h(x₁), h(x₂)⟩ + 1) · I to every block — a check on the Jacobians that needs no transform.
let (jTrain, jTest) = (try jacobians(xTrain), try jacobians(xTest))
let lastLayer = ["fc.weight", "fc.bias"].map { einsum("Naf,Mbf->NMab", jTrain[$0]!.flatten(startDim: 2), jTest[$0]!.flatten(startDim: 2)) }
    .reduce(NDArray.zeros([]), +)
let hTrain = noGrad { net.features(Tensor(xTrain)).value }, hTest = noGrad { net.features(Tensor(xTest)).value }
let closedForm = (matmul(hTrain, hTest.T) + 1).reshape([20, 5, 1, 1]) * NDArray.eye(10)
let lastLayerError = (lastLayer - closedForm).abs().max().item()
print(String(format: "the last layer's part of the kernel against (⟨h₁, h₂⟩ + 1)·I: largest difference %.2e", lastLayerError))
check(lastLayerError < 1e-5 * closedForm.abs().max().item(), "the last layer's contribution has its closed form")

// MARK: - Timing

// Which method is faster depends on the sizes: the contraction forms N·O·P + M·O·P numbers and
// then multiplies them; the products repeat a forward and backward pass per pair and output.
let repetitions = quickRun ? 2 : 3
let contractionTime = try medianTime(repetitions: repetitions) { _ = try ntkByJacobianContraction(xTrain, xTest) }
let productsTime = try medianTime(repetitions: repetitions) { _ = try ntkByVectorProducts(xTrain, xTest) }
print(String(format: "full kernel: Jacobian contraction %.1f ms, NTK-vector products %.1f ms", contractionTime * 1000, productsTime * 1000))

print("NeuralTangentKernels complete.")
