// The errors the facade throws for misuse of autograd state. Each says what happened, where
// (the caller's line when the misuse is a call; the graph node when it is found in a
// backward pass) and what to do — in PyTorch's words where a PyTorch user would search for
// them.

import FluxionCore

/// A misuse of the `Tensor` facade's autograd state.
public enum AutogradError: Error, CustomStringConvertible, Equatable {
    /// `requiresGrad` asked of an integer or bool tensor.
    case requiresGradOnNonFloating(dtype: DType, file: String, line: UInt)
    /// `requiresGrad` switched off on a tensor computed from others.
    case requiresGradOnNonLeaf(file: String, line: UInt)
    /// `backward()` without `gradient` on an output with more than one element.
    case implicitGradientOfNonScalar(shape: [Int], file: String, line: UInt)
    /// A `gradient` whose shape does not match (or broadcast to) the output's.
    case gradientShapeMismatch(output: [Int], gradient: [Int], file: String, line: UInt)
    /// `backward()` or `Autograd.grad` from a tensor that does not require grad.
    case noGradFn(file: String, line: UInt)
    /// `backward`, `Autograd.grad`, a hook or `retainGrad` on a value a function transform is tracing.
    case backwardInsideTransform(transform: String, file: String, line: UInt)
    /// `requiresGrad_()` on a value a function transform is tracing (PyTorch refuses it too).
    case requiresGradInsideTransform(transform: String, file: String, line: UInt)
    /// A second backward pass through values freed by the first.
    case graphFreed(node: String, file: String, line: UInt)
    /// `Autograd.grad` with an input the outputs do not depend on, without `allowUnused`.
    case unusedInput(index: Int, file: String, line: UInt)
    /// `Autograd.grad` with an input that does not require grad.
    case inputDoesNotRequireGrad(index: Int, file: String, line: UInt)
    /// An in-place operation on a leaf that requires grad while grad mode is on.
    case inPlaceOnLeaf(operation: String, file: String, line: UInt)
    /// An in-place operation (or an assignment through a subscript) on a view of a leaf that
    /// requires grad while grad mode is on.
    case inPlaceOnViewOfLeaf(operation: String, file: String, line: UInt)
    /// An in-place operation with grad mode on, on a view made inside `noGrad` of a tensor that
    /// requires grad.
    case inPlaceOnNoGradView(operation: String, file: String, line: UInt)
    /// An in-place operation on a tensor made in `inferenceMode`, outside it.
    case inPlaceOnInferenceTensor(operation: String, file: String, line: UInt)
    /// `backward(inputs: [])` or `Autograd.grad(outputs:inputs: [])`.
    case emptyInputs(function: String, file: String, line: UInt)
    /// Exporting the elements of a tensor that requires grad.
    case exportRequiresGrad(operation: String, file: String, line: UInt)
    /// A recorded operation that would save a tensor made in `inferenceMode` for a backward
    /// pass (thrown by throwing functions; operators stop with the same message).
    case inferenceTensorInGraph(node: String)
    /// `requiresGrad` asked of a tensor made in `inferenceMode`, outside it.
    case requiresGradOnInferenceTensor(file: String, line: UInt)
    /// A custom `Function`'s backward returned the wrong number of gradients.
    case wrongGradientCount(function: String, expected: Int, got: Int)
    /// A custom `Function`'s backward returned a gradient of the wrong shape (`input` counts
    /// the tensor arguments only, as PyTorch's index does).
    case wrongGradientShape(function: String, input: Int, expected: [Int], got: [Int])
    /// A custom `Function`'s backward returned a gradient for an argument that is not a tensor
    /// (`position` counts from 1, as PyTorch's does).
    case gradientForNonTensor(function: String, position: Int)
    /// A tensor hook returned a gradient of another shape than the one it was given.
    case hookChangedShape(node: String, expected: [Int], got: [Int])
    /// `detectAnomaly` found a NaN or infinity produced by a backward node.
    case anomaly(node: String, output: Int, value: String, forward: String)

    public var description: String {
        switch self {
        case let .requiresGradOnNonFloating(dtype, file, line):
            "only tensors of floating point dtype can require gradients, but this one is \(dtype) (at \(file):\(line)). Fix: convert it first, e.g. x.to(.float32)"
        case let .requiresGradOnNonLeaf(file, line):
            "you can only change requiresGrad flags of leaf tensors (at \(file):\(line)). Fix: use detach() to get a tensor without history"
        case let .implicitGradientOfNonScalar(shape, file, line):
            "grad can be implicitly created only for scalar outputs, but the output has shape \(shape) (backward called at \(file):\(line)). Fix: pass gradient: with the output's shape (the vector of the vector-Jacobian product), or reduce the output first, e.g. y.sum().backward()"
        case let .gradientShapeMismatch(output, gradient, file, line):
            "mismatch in shape: the gradient has shape \(gradient) and the output has shape \(output) (at \(file):\(line)). Fix: pass a gradient of the output's shape"
        case let .noGradFn(file, line):
            "element 0 of tensors does not require grad and does not have a gradFn (at \(file):\(line)). Fix: make an input require grad (requiresGrad: true) before computing the output, outside noGrad"
        case let .backwardInsideTransform(transform, file, line):
            "element 0 of tensors has no gradFn: it was computed from values that \(transform) is tracing, and the tensor graph records beneath every function transform, so a backward pass cannot run through them (at \(file):\(line)). Fix: inside a transform differentiate with the transforms (grad of vmap(grad), grad of grad), or call backward outside the transform"
        case let .requiresGradInsideTransform(transform, file, line):
            "requiresGrad_() was called on a value that \(transform) is tracing (at \(file):\(line)); the tensor would start a graph of its own and \(transform) would no longer see its operations. Fix: let the transform differentiate (grad, vjp, jacrev) instead of requiring grad inside it, or call requiresGrad_() outside the transform"
        case let .graphFreed(node, file, line):
            "trying to backward through the graph a second time (or to read saved values after they were freed): \(node) has released its saved values (at \(file):\(line)). Fix: pass retainGraph: true to the first backward or Autograd.grad call if you need to backward through the graph again"
        case let .unusedInput(index, file, line):
            "one of the differentiated tensors (input \(index)) appears not to have been used in the graph (at \(file):\(line)). Fix: pass allowUnused: true if this is intended; its gradient is then nil"
        case let .inputDoesNotRequireGrad(index, file, line):
            "one of the differentiated tensors (input \(index)) does not require grad (at \(file):\(line)). Fix: create it with requiresGrad: true, or leave it out of inputs"
        case let .inPlaceOnLeaf(operation, file, line):
            "a leaf tensor that requires grad is being used in an in-place operation (\(operation) at \(file):\(line)). Fix: update parameters inside noGrad { }, or use the out-of-place operation"
        case let .inPlaceOnViewOfLeaf(operation, file, line):
            "a view of a leaf Variable that requires grad is being used in an in-place operation (\(operation) at \(file):\(line)). Fix: write into a copy (leaf.clone()), or update the leaf inside noGrad { }"
        case let .inPlaceOnNoGradView(operation, file, line):
            "a view was created in no_grad mode and is being modified inplace with grad mode enabled (\(operation) at \(file):\(line)). Fix: make the view and modify it both inside noGrad { } (if the update is not to be recorded) or both outside (if it is)"
        case let .inPlaceOnInferenceTensor(operation, file, line):
            "inplace update to inference tensor outside InferenceMode is not allowed (\(operation) at \(file):\(line)). Fix: make a copy outside inferenceMode (t.clone()) and update that, or update it inside inferenceMode { }"
        case let .emptyInputs(function, file, line):
            "`inputs` argument to `\(function)` cannot be empty (at \(file):\(line)). Fix: pass the tensors to differentiate with respect to\(function == "backward()" ? ", or leave inputs out to accumulate into every leaf" : "")"
        case let .exportRequiresGrad(operation, file, line):
            "can't call \(operation) on a tensor that requires grad (at \(file):\(line)). Fix: use tensor.detach().\(operation) instead"
        case let .inferenceTensorInGraph(node):
            "inference tensors cannot be saved for backward: \(node) would save a tensor made inside inferenceMode. Fix: make a copy outside inferenceMode (t.clone()) to use in autograd, or use noGrad instead of inferenceMode"
        case let .requiresGradOnInferenceTensor(file, line):
            "setting requiresGrad on a tensor made inside inferenceMode is not allowed outside it (at \(file):\(line)). Fix: make the tensor outside inferenceMode, or use a copy made outside it, e.g. Tensor(t.value)"
        case let .wrongGradientCount(function, expected, got):
            "function \(function)Backward returned an incorrect number of gradients (expected \(expected), got \(got)). Fix: return one gradient per argument of forward, nil for arguments that are not tensors or need no gradient"
        case let .wrongGradientShape(function, input, expected, got):
            "Function \(function)Backward returned an invalid gradient at index \(input) - got \(got) but expected shape compatible with \(expected). Fix: return each gradient with its input's shape (a gradient of a broadcast shape is summed down to it)"
        case let .gradientForNonTensor(function, position):
            "function \(function)Backward returned a gradient different than nil at position \(position), but the corresponding forward input was not a tensor. Fix: return nil for arguments of forward that are not tensors"
        case let .hookChangedShape(node, expected, got):
            "a hook on the tensor made by \(node) changed the gradient's shape from \(expected) to \(got). Fix: return a gradient of the shape the hook was given (or nil to keep it)"
        case let .anomaly(node, output, value, forward):
            "function '\(node)' returned \(value) values in its \(output)th output. The forward call that made it: \(forward). Fix: look at that operation's inputs (a log or sqrt at 0, a division by 0, an overflow)"
        }
    }
}
