// In-place operations (`zero_()`, `add_()`, …). A tensor's value is immutable, so an in-place
// operation computes the new value out of place — recorded like any operation — and rebinds
// the tensor to it, bumping its version. Graphs recorded earlier keep the values they saved,
// so an in-place operation can never corrupt them (PyTorch instead detects the corruption
// when the graph is used). As in PyTorch, an in-place operation on a leaf that requires grad
// is refused while grad mode is on: it would silently cut the leaf out of its own graph; so is
// an in-place operation on a tensor made in `inferenceMode`, outside it.

import FluxionCore
import FluxionKernels

extension Tensor {
    /// Applies `result` to this tensor in place, after the leaf check.
    private func inPlace(_ operation: String, file: StaticString, line: UInt, _ result: () -> Tensor) throws -> Tensor {
        if isInference && !isInferenceModeEnabled {
            throw AutogradError.inPlaceOnInferenceTensor(operation: operation, file: "\(file)", line: line)
        }
        if isLeaf && requiresGrad && isGradEnabled {
            throw AutogradError.inPlaceOnLeaf(operation: operation, file: "\(file)", line: line)
        }
        // Operators inside report an operation they refuse (an inference tensor to save) here.
        var updated = try throwingRefusals(result)
        // As PyTorch: the operands broadcast to this tensor, never the other way, and the result
        // keeps this tensor's dtype (a floating result cannot go into an integer tensor).
        guard updated.shape == shape else {
            fail(operation, "the result has shape \(describe(updated.shape)), but an in-place operation cannot change the tensor's shape \(describe(shape))",
                 fix: "use the out-of-place operation, or operands that broadcast to \(describe(shape))", file: file, line: line)
        }
        if updated.dtype != dtype {
            guard dtype.isFloatingPoint || !updated.dtype.isFloatingPoint else {
                fail(operation, "the result is \(updated.dtype), which cannot be stored in this \(dtype) tensor",
                     fix: "convert the tensor first (x.to(.float32)), or use the out-of-place operation", file: file, line: line)
            }
            updated = updated.to(dtype)
        }
        assign(updated)
        return self
    }

    /// Sets every element to 0 (the tensor no longer depends on anything).
    @discardableResult
    public func zero_(file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("zero_", file: file, line: line) { Tensor(NDArray.zerosLike(value)) }
    }

    /// Sets every element to `value` (the tensor no longer depends on anything).
    @discardableResult
    public func fill_(_ value: Double, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("fill_", file: file, line: line) { Tensor(NDArray.fullLike(self.value, value)) }
    }

    /// Adds `alpha · other`.
    @discardableResult
    public func add_(_ other: Tensor, alpha: Double = 1, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("add_", file: file, line: line) { alpha == 1 ? self + other : self + alpha * other }
    }

    /// Adds a number.
    @discardableResult
    public func add_(_ other: Double, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("add_", file: file, line: line) { self + other }
    }

    /// Subtracts `alpha · other`.
    @discardableResult
    public func sub_(_ other: Tensor, alpha: Double = 1, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("sub_", file: file, line: line) { alpha == 1 ? self - other : self - alpha * other }
    }

    /// Multiplies by `other`.
    @discardableResult
    public func mul_(_ other: Tensor, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("mul_", file: file, line: line) { self * other }
    }

    /// Multiplies by a number.
    @discardableResult
    public func mul_(_ other: Double, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("mul_", file: file, line: line) { self * other }
    }

    /// Divides by `other`.
    @discardableResult
    public func div_(_ other: Tensor, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("div_", file: file, line: line) { self / other }
    }

    /// Copies `source`'s elements (broadcast to this shape, converted to this dtype).
    @discardableResult
    public func copy_(_ source: Tensor, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        let (shape, dtype) = (self.shape, self.dtype)
        return try inPlace("copy_", file: file, line: line) {
            source.unary("CopyBackwards") { $0.to(dtype).broadcast(to: shape, file: file, line: line) }
        }
    }

    /// Limits every element to [min, max].
    @discardableResult
    public func clamp_(min: Double? = nil, max: Double? = nil, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("clamp_", file: file, line: line) { clamp(min: min, max: max) }
    }

    /// Operators that update in place: `w -= lr * g` (refused, like `sub_`, on a leaf that
    /// requires grad while grad mode is on — stopping the program, since operators cannot throw).
    public static func -= (a: Tensor, b: Tensor) { a.mustUpdate("-=") { try a.sub_(b) } }
    public static func += (a: Tensor, b: Tensor) { a.mustUpdate("+=") { try a.add_(b) } }
    public static func *= (a: Tensor, b: Double) { a.mustUpdate("*=") { try a.mul_(b) } }

    private func mustUpdate(_ operation: String, _ body: () throws -> Tensor) {
        do { _ = try body() } catch { fail(operation, "\(error)", fix: "use the throwing form (sub_, add_, mul_) to handle the error", file: #fileID, line: #line) }
    }
}
