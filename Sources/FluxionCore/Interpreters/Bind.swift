// The one entry point every operation goes through.
//
// `bind` finds the highest-level tracer among its inputs and lets that interpreter process the
// primitive; the interpreter computes on its parent level by calling `bind` again with the values its
// tracers carry, so nested transforms compose (autodidax's design). With no tracer among the
// inputs, `bind` evaluates the kernel at once: the fast path, which allocates nothing but the
// result. A tracer whose transform has ended is reported (ReportedErrors.swift) and its
// operation computed on zeros, so that the caller reaches the point where the error is thrown.

import FluxionKernels

/// Applies `primitive` to `inputs`: evaluates at once when no input is a tracer, otherwise
/// hands it to the interpreter of the highest-level tracer.
public func bind(_ primitive: some Primitive, _ inputs: [NDArray]) -> [NDArray] {
    var top: Interpreter?
    for x in inputs {
        guard let t = x.tracer else { continue }
        guard t.interpreter.isActive else { return escaped(primitive, inputs, t) }
        if top == nil || t.interpreter.level > top!.level { top = t.interpreter }
    }
    guard let top else { return primitive.evaluate(inputs) }
    return top.process(primitive, inputs)
}

/// A tracer outlived its transform: report it and compute on its concrete value so the caller
/// can continue to the point where the error is thrown.
func escaped(_ primitive: some Primitive, _ inputs: [NDArray], _ tracer: Tracer) -> [NDArray] {
    report(TransformError.escapedTracer(transform: tracer.interpreter.transform, operation: primitive.name, shape: tracer.shape))
    let stripped = inputs.map { x -> NDArray in
        guard let t = x.tracer, !t.interpreter.isActive else { return x }
        return NDArray.zeros(t.shape, dtype: t.dtype)
    }
    return bind(primitive, stripped)
}

/// Applies a one-input, one-output primitive.
@inlinable
public func bind(_ primitive: some UnaryPrimitive, _ x: NDArray) -> NDArray {
    if x.isConcrete { return NDArray(primitive.evaluate(x.layout)) }
    return bind(primitive, [x])[0]
}

/// Applies a two-input, one-output primitive.
@inlinable
public func bind(_ primitive: some BinaryPrimitive, _ a: NDArray, _ b: NDArray) -> NDArray {
    if a.isConcrete && b.isConcrete { return NDArray(primitive.evaluate(a.layout, b.layout)) }
    return bind(primitive, [a, b])[0]
}
