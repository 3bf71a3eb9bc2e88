// FluxionCheck on functions of tensors: a Tensor is a tree of one array, so the same entries
// check the facade's operations and custom `Function`s.

import Testing
import Fluxion
import FluxionCheck

/// softplus with a hand-written backward: d/dx log(1 + eˣ) = σ(x).
private enum SmoothReLU: Function {
    static func forward(_ ctx: FunctionContext, _ x: Tensor) -> Tensor {
        ctx.saveForBackward(x)
        return softplus(x)
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        [gradOutput * sigmoid(ctx.savedTensors[0])]
    }
}

/// The same with a backward that is off by a factor of two.
private enum BrokenSmoothReLU: Function {
    static func forward(_ ctx: FunctionContext, _ x: Tensor) -> Tensor {
        ctx.saveForBackward(x)
        return softplus(x)
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        [2 * gradOutput * sigmoid(ctx.savedTensors[0])]
    }
}

@Suite("FluxionCheck on tensors")
struct TensorCheckTests {
    let x = Tensor(NDArray.normal([6], key: RandomKey(seed: 11), dtype: .float64))

    @Test("the seed's functions of tensors pass gradcheck and gradgradcheck")
    func seedFunctions() throws {
        try gradcheck({ (x: Tensor) in (x ** 3 - 2 * x).sum() }, inputs: x)
        try gradcheck({ (x: Tensor) in sigmoid(x).sum() }, inputs: x)
        try gradgradcheck({ (x: Tensor) in (x ** 3 - 2 * x).sum() }, inputs: x)
    }

    @Test("a custom Function passes gradcheck and checkDerivatives; a wrong one fails")
    func customFunction() throws {
        try gradcheck({ (x: Tensor) in try SmoothReLU.apply(x) }, inputs: x)
        try checkDerivatives({ (x: Tensor) in try SmoothReLU.apply(x).sum() }, at: x, order: 2)
        #expect(throws: GradcheckFailure.self) {
            try gradcheck({ (x: Tensor) in try BrokenSmoothReLU.apply(x) }, inputs: x)
        }
    }
}
