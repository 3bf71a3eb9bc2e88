// In-place operations (`zero_()`, `add_()`, `t[0] = v`, `t[mask] = 0`, …). A tensor's value is
// immutable, so an in-place operation computes the new value out of place — recorded like any
// operation — and rebinds the tensor to it, bumping its version. Graphs recorded earlier keep
// the values they saved, so an in-place operation can never corrupt them (PyTorch instead
// detects the corruption when the graph is used).
//
// Views. A tensor made by a basic subscript (integers, ranges, strides, `.newAxis`,
// `.ellipsis`), `narrow`, `split`, `chunk`, `reshape`/`view`/`flatten`/`squeeze`/`unsqueeze`,
// `transpose`/`permute`/`T`/`mT`/`t()`/`movedim`, `diagonal`, `expand`/`broadcast`/`expandAs`
// or `detach()` is a view of its base, as in PyTorch: an in-place operation on it writes the
// base through the functional update (`CopySlices`: the overwritten elements get no gradient,
// the written values the gradient of their place), and when the base changes its views are
// read again (`AsStridedBackward0`). Writing an expanded view whose elements repeat is
// refused, as in PyTorch. Advanced indexing (`t[intTensor]`, `t[boolMask]`) and every other
// operation give copies, as in PyTorch.
//
// PyTorch's checks, with its errors: an in-place operation on a leaf that requires grad, or on
// a view of one, is refused while grad mode is on (allowed inside `noGrad`); a view made inside
// `noGrad` of a tensor that requires grad cannot be modified in place with grad mode on; a
// tensor made in `inferenceMode` cannot be modified outside it. Throwing forms throw
// `AutogradError`; operators and subscript assignments, which cannot throw, stop with the same
// message.

import FluxionCore

extension Tensor {
    /// Applies `result` to this tensor in place, after the checks.
    private func inPlace(_ operation: String, file: StaticString, line: UInt, _ result: () -> Tensor) throws -> Tensor {
        try checkInPlace(operation, file: file, line: line)
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
        commit(updated)
        return self
    }

    /// This tensor overwritten by `value` (broadcast to its shape), recorded as `name` from
    /// this tensor and `value`, so that a tensor that requires grad keeps requiring it, with a
    /// zero gradient to its old value (PyTorch's `ZeroBackward0`, `FillBackward2`, `CopyBackwards`).
    private func overwritten(_ name: String, by value: Tensor, file: StaticString, line: UInt) -> Tensor {
        let (shape, dtype) = (self.shape, self.dtype)
        return Tensor.record(name, [self, value], file: file, line: line) {
            // An update of the whole region: linear, so it saves nothing.
            var updated = $0[0]
            updated[items: [.ellipsis], file: file, line: line] = $0[1].to(dtype).broadcast(to: shape, file: file, line: line)
            return updated
        }
    }

    /// Sets every element to 0 (a tensor that requires grad keeps requiring it; its old value
    /// gets a zero gradient).
    @discardableResult
    public func zero_(file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("zero_", file: file, line: line) { overwritten("ZeroBackward0", by: Tensor(value.scalarLike(0)), file: file, line: line) }
    }

    /// Sets every element to `value` (as `zero_`).
    @discardableResult
    public func fill_(_ value: Double, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("fill_", file: file, line: line) { overwritten("FillBackward2", by: Tensor(self.value.scalarLike(value)), file: file, line: line) }
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

    /// Subtracts a number.
    @discardableResult
    public func sub_(_ other: Double, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("sub_", file: file, line: line) { self - other }
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

    /// Divides by a number.
    @discardableResult
    public func div_(_ other: Double, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("div_", file: file, line: line) { self / other }
    }

    /// Copies `source`'s elements (broadcast to this shape, converted to this dtype); the old
    /// value gets a zero gradient, `source` the gradient of this tensor.
    @discardableResult
    public func copy_(_ source: Tensor, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("copy_", file: file, line: line) { overwritten("CopyBackwards", by: source, file: file, line: line) }
    }

    /// Limits every element to [min, max].
    @discardableResult
    public func clamp_(min: Double? = nil, max: Double? = nil, file: StaticString = #fileID, line: UInt = #line) throws -> Tensor {
        try inPlace("clamp_", file: file, line: line) { clamp(min: min, max: max) }
    }

    /// Operators that update in place: `w -= lr * g`, `t[.all, 0] += 1` (on a view: its base
    /// changes too). Refused, like `sub_`, on a leaf that requires grad, or a view of one, while
    /// grad mode is on — stopping the program, since operators cannot throw.
    public static func -= (a: Tensor, b: Tensor) { a.mustUpdate("-=") { try a.sub_(b) } }
    /// `a.sub_(b)`, stopping where that throws.
    public static func -= (a: Tensor, b: Double) { a.mustUpdate("-=") { try a.sub_(b) } }
    /// `a.add_(b)`, stopping where that throws.
    public static func += (a: Tensor, b: Tensor) { a.mustUpdate("+=") { try a.add_(b) } }
    /// `a.add_(b)`, stopping where that throws.
    public static func += (a: Tensor, b: Double) { a.mustUpdate("+=") { try a.add_(b) } }
    /// `a.mul_(b)`, stopping where that throws.
    public static func *= (a: Tensor, b: Tensor) { a.mustUpdate("*=") { try a.mul_(b) } }
    /// `a.mul_(b)`, stopping where that throws.
    public static func *= (a: Tensor, b: Double) { a.mustUpdate("*=") { try a.mul_(b) } }
    /// `a.div_(b)`, stopping where that throws.
    public static func /= (a: Tensor, b: Tensor) { a.mustUpdate("/=") { try a.div_(b) } }
    /// `a.div_(b)`, stopping where that throws.
    public static func /= (a: Tensor, b: Double) { a.mustUpdate("/=") { try a.div_(b) } }

    private func mustUpdate(_ operation: String, _ body: () throws -> Tensor) {
        do { _ = try body() } catch { stop(error, operation: operation, file: "", line: 0) }
    }

    /// Writes `value` (nil: a number `update` holds) into the region `update` replaces, as an
    /// in-place change of this tensor recorded as `name` (subscript assignment), stopping
    /// where PyTorch raises.
    func write(_ name: String, _ operation: String, _ value: Tensor?, throughView: Bool, file: StaticString, line: UInt,
               _ update: (inout NDArray, NDArray?) -> Void) {
        do {
            try checkInPlace(operation, throughView: throughView, file: file, line: line)
            let result = try throwingRefusals {
                Tensor.record(name, value.map { [self, $0] } ?? [self], file: file, line: line) { v in
                    var updated = v[0]
                    update(&updated, v.count > 1 ? v[1] : nil)
                    return updated
                }
            }
            commit(result)
        } catch {
            stop(error, operation: operation, file: file, line: line)
        }
    }
}
