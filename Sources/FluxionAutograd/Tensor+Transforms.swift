// Function transforms over tensors. A tensor is a tree of one array, so `vmap`, `vjp`, `jvp`
// and `linearize` take functions over tensors (and trees of them) as they are; the overloads
// here are for the transforms whose output the core types as an array (`grad`,
// `valueAndGrad`, the Jacobians and the Hessian). Each only wraps and unwraps: the transform
// runs on the arrays.
//
// A tensor passed into a transform keeps its place in the facade's graph: a transformed
// function of tensors that require grad can itself be differentiated by `backward()`.
//
// The gradient overloads are disfavoured: where a function reference fits both the array and
// the tensor forms (`grad(tanh)`, `tanh` being defined for both), the array form is meant, as
// in JAX's first example; a closure over tensors still selects these.

import FluxionCore

extension Tensor: ArrayTree {
    public var leaves: [NDArray] { [operand] }
    public func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> Tensor { Tensor(leaves.next()!) }
}

/// The gradient of a scalar function of a tensor (or of any tree).
@_disfavoredOverload
public func grad<T: ArrayTree>(_ f: @escaping (T) throws -> Tensor,
                               file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> T {
    FluxionCore.grad({ (x: T) in try f(x).operand }, file: file, line: line)
}

/// The gradient with respect to the first argument of a two-argument scalar function.
@_disfavoredOverload
public func grad<T: ArrayTree, U>(_ f: @escaping (T, U) throws -> Tensor,
                                  file: StaticString = #fileID, line: UInt = #line) -> (T, U) throws -> T {
    FluxionCore.grad({ (x: T, u: U) in try f(x, u).operand }, file: file, line: line)
}

/// The gradient with respect to the first argument of a three-argument scalar function.
@_disfavoredOverload
public func grad<T: ArrayTree, U, V>(_ f: @escaping (T, U, V) throws -> Tensor,
                                     file: StaticString = #fileID, line: UInt = #line) -> (T, U, V) throws -> T {
    FluxionCore.grad({ (x: T, u: U, v: V) in try f(x, u, v).operand }, file: file, line: line)
}

/// The value and the gradient of a scalar function of a tensor (or of any tree).
@_disfavoredOverload
public func valueAndGrad<T: ArrayTree>(_ f: @escaping (T) throws -> Tensor,
                                       file: StaticString = #fileID, line: UInt = #line) -> (T) throws -> (value: Tensor, grad: T) {
    let transformed = FluxionCore.valueAndGrad({ (x: T) in try f(x).operand }, file: file, line: line)
    return { x in
        let (value, g) = try transformed(x)
        return (Tensor(value), g)
    }
}

/// The Jacobian by reverse mode: shape = output shape + input shape.
public func jacrev(_ f: @escaping (Tensor) throws -> Tensor, file: StaticString = #fileID, line: UInt = #line) -> (Tensor) throws -> Tensor {
    tensorFunction(FluxionCore.jacrev(arrayFunction(f), file: file, line: line))
}

/// The Jacobian by forward mode: shape = output shape + input shape.
public func jacfwd(_ f: @escaping (Tensor) throws -> Tensor, file: StaticString = #fileID, line: UInt = #line) -> (Tensor) throws -> Tensor {
    tensorFunction(FluxionCore.jacfwd(arrayFunction(f), file: file, line: line))
}

/// The Hessian of a scalar function: shape = input shape + input shape.
public func hessian(_ f: @escaping (Tensor) throws -> Tensor, file: StaticString = #fileID, line: UInt = #line) -> (Tensor) throws -> Tensor {
    tensorFunction(FluxionCore.hessian(arrayFunction(f), file: file, line: line))
}

private func arrayFunction(_ f: @escaping (Tensor) throws -> Tensor) -> (NDArray) throws -> NDArray {
    { x in try f(Tensor(x)).operand }
}

private func tensorFunction(_ f: @escaping (NDArray) throws -> NDArray) -> (Tensor) throws -> Tensor {
    { x in Tensor(try f(x.operand)) }
}
