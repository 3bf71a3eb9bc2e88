// Custom autograd functions (PyTorch's `torch.autograd.Function`): a forward computation and
// its hand-written backward, applied as one graph node named `<Type>Backward`.
//
// ```swift
// enum ScaledReLU: Function {
//     static func forward(_ ctx: FunctionContext, _ inputs: (Tensor, Double)) -> Tensor {
//         let (x, alpha) = inputs
//         ctx.saveForBackward(x)
//         ctx.alpha = alpha
//         return alpha * relu(x)
//     }
//     static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
//         let x = ctx.savedTensors[0], alpha = ctx.alpha as! Double
//         return [gradOutput * alpha * (x .> 0).to(gradOutput.dtype), nil]
//     }
// }
// let y = try ScaledReLU.apply(x, 2.0).sum()
// ```
//
// The function becomes a custom-rule primitive of the engine (CustomRules.swift), so it keeps
// working under `grad`, `vmap`, `jacrev` and the rest: there the forward runs on the
// transform's values and the backward is the rule. Saved tensors that are inputs or the
// output are given back as the values the rule is applied at, so a backward written with
// tensor operations can be differentiated again (double backward).

import FluxionCore

/// A differentiable operation with a hand-written backward.
public protocol Function {
    /// The arguments of `forward`: a tensor, or a tuple of tensors and other values.
    associatedtype Inputs

    /// The output; runs with grad mode off. Save what `backward` needs on `ctx`.
    static func forward(_ ctx: FunctionContext, _ inputs: Inputs) throws -> Tensor

    /// One gradient per argument of `forward`, in order (nil for arguments that are not
    /// tensors or need none), given the gradient of the output.
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?]
}

/// An argument of a custom function's `forward`.
public protocol FunctionArgument {
    /// The tensor this argument is, if it is one.
    var tensorArgument: Tensor? { get }
    /// This argument with a tensor taken from `tensors` in its place (others: itself).
    func substituting(_ tensors: inout IndexingIterator<[Tensor]>) -> Self
}

extension Tensor: FunctionArgument {
    public var tensorArgument: Tensor? { self }
    public func substituting(_ tensors: inout IndexingIterator<[Tensor]>) -> Tensor { tensors.next()! }
}

extension FunctionArgument {
    public var tensorArgument: Tensor? { nil }
    public func substituting(_ tensors: inout IndexingIterator<[Tensor]>) -> Self { self }
}

extension Double: FunctionArgument {}
extension Float: FunctionArgument {}
extension Int: FunctionArgument {}
extension Bool: FunctionArgument {}
extension String: FunctionArgument {}
extension NDArray: FunctionArgument {}

/// What a custom function's forward passes to its backward (PyTorch's `ctx`): saved tensors,
/// which inputs need gradients, and any other values as dynamic members (`ctx.alpha = 2`).
@dynamicMemberLookup
public final class FunctionContext: @unchecked Sendable {
    /// For each argument of `forward`, whether a gradient for it is needed.
    public let needsInputGrad: [Bool]
    private var saved: [Tensor] = []
    private var values: [String: Any] = [:]
    /// The tensors forward received and returned, and those the backward is applied at.
    fileprivate var forwardInputs: [Tensor] = []
    fileprivate var forwardOutput: Tensor?
    fileprivate var backwardInputs: [Tensor] = []
    fileprivate var backwardOutput: Tensor?

    init(needsInputGrad: [Bool]) { self.needsInputGrad = needsInputGrad }

    /// Keeps tensors for `backward`.
    public func saveForBackward(_ tensors: Tensor...) { saved = tensors }

    /// The positions, among the tensor arguments of forward, of the saved tensors that are
    /// arguments.
    fileprivate var savedInputs: [Int] {
        saved.compactMap { t in forwardInputs.firstIndex { $0 === t } }
    }

    /// The saved tensors; inputs and the output stand for the values the backward is applied
    /// at, so the backward can be differentiated again.
    public var savedTensors: [Tensor] {
        saved.map { t in
            if let i = forwardInputs.firstIndex(where: { $0 === t }), i < backwardInputs.count { return backwardInputs[i] }
            if t === forwardOutput, let backwardOutput { return backwardOutput }
            return t
        }
    }

    /// Any value stored by forward.
    public subscript(dynamicMember name: String) -> Any? {
        get { values[name] }
        set { values[name] = newValue }
    }
}

extension Function {
    /// Applies the function: runs `forward`, and records one node whose backward is
    /// `backward` when grad mode is on and an argument requires grad.
    ///
    /// `backward` returns one gradient per argument of `forward`, as PyTorch checks them:
    /// nil for an input leaves its `.grad` untouched (nothing flows there); extra trailing nils
    /// are accepted, extra gradients or too few throw `wrongGradientCount`, and a gradient for
    /// an argument that is not a tensor throws `gradientForNonTensor`. A gradient of another
    /// shape throws `wrongGradientShape` unless the input's shape broadcasts to it (it is then
    /// summed down to the input's shape); a gradient of another dtype is converted to the
    /// input's; a gradient for an input that needs none is dropped unchecked. Saving an input
    /// made in `inferenceMode` for a recorded backward throws `inferenceTensorInGraph` here.
    public static func apply<each A: FunctionArgument>(_ arguments: repeat each A,
                                                       file: StaticString = #fileID, line: UInt = #line) throws -> Tensor
    where Inputs == (repeat each A) {
        var slots: [Tensor?] = []
        for argument in repeat each arguments { slots.append(argument.tensorArgument) }
        let name = "\(Self.self)"
        let recording = Tensor.records(slots)
        let ctx = FunctionContext(needsInputGrad: slots.map { ($0?.requiresGrad ?? false) && isGradEnabled })
        let site = CallSite(file: file, line: line)
        // The tensor arguments a gradient can reach: those recorded, and values a transform traces.
        let tensors = slots.compactMap { $0 }
        let differentiable = tensors.map { $0.requiresGrad || $0.value.tracingTransform != nil }

        let primitive: ([NDArray]) throws -> NDArray = customFunction({ (xs: [NDArray]) -> NDArray in
            let inputs = xs.map(Tensor.init)
            var iterator = inputs.makeIterator()
            ctx.forwardInputs = inputs
            let y = try noGrad { try forward(ctx, (repeat (each arguments).substituting(&iterator))) }
            ctx.forwardOutput = y
            return y.value
        }, kind: .vjp, name: name, site: site) { (xs: [NDArray], y: NDArray, cotangents: [NDArray]) -> [NDArray?] in
            ctx.backwardInputs = xs.map(Tensor.init)
            ctx.backwardOutput = Tensor(y)
            let gradients = try backward(ctx, Tensor(cotangents[0]))
            guard gradients.count >= slots.count, gradients[slots.count...].allSatisfy({ $0 == nil }) else {
                throw AutogradError.wrongGradientCount(function: name, expected: slots.count, got: gradients.count)
            }
            var results: [NDArray?] = []
            for (i, slot) in slots.enumerated() {
                guard slot != nil else {
                    if gradients[i] != nil { throw AutogradError.gradientForNonTensor(function: name, position: i + 1) }
                    continue
                }
                let (k, x) = (results.count, xs[results.count])
                guard let g = gradients[i], differentiable[k] else {
                    results.append(nil)
                    continue
                }
                var gradient = isGradEnabled ? g.operand : g.value
                if gradient.shape != x.shape {
                    // A gradient for a broadcast of the input sums back to it, as in PyTorch.
                    guard expands(x.shape, to: gradient.shape) else {
                        throw AutogradError.wrongGradientShape(function: name, input: k, expected: x.shape, got: gradient.shape)
                    }
                    gradient = gradient.unbroadcast(to: x.shape)
                }
                results.append(gradient.to(x.dtype))
            }
            return results
        }
        // Recorded as `Tensor.record` does, but for the inference check, which is the precise
        // one above (what forward saved), not the one for operations.
        let values = tensors.map { recording ? $0.operand : $0.value }
        let y = try throwingReported { try primitive(values) }
        if recording, ctx.savedInputs.contains(where: { tensors[$0].isInference }) {
            throw AutogradError.inferenceTensorInGraph(node: name + "Backward")
        }
        return recording ? Tensor.recorded(name + "Backward", slots, y, file: file, line: line) : Tensor(y)
    }
}
