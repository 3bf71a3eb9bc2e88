// Elementwise functions of two arrays with NumPy broadcasting, comparisons and selection.
// Operands arrive with one dtype (the array layer promotes); broadcasting happens inside the
// kernels by strides, so a broadcast operand is never materialised.

import FluxionKernels

/// An elementwise function of two broadcastable arrays of one dtype.
public protocol BinaryElementwise: BinaryPrimitive {
    var function: BinaryFunction { get }
}

extension BinaryElementwise {
    public var name: String { "\(function)" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        Elementwise.binary(function, a, b, shape: Shape.broadcast(a.shape, b.shape)!)
    }
}

// MARK: - Arithmetic
public struct Add: BinaryElementwise { public var function: BinaryFunction { .add } }
public struct Sub: BinaryElementwise { public var function: BinaryFunction { .sub } }
public struct Mul: BinaryElementwise { public var function: BinaryFunction { .mul } }
public struct Div: BinaryElementwise { public var function: BinaryFunction { .div } }
public struct Pow: BinaryElementwise { public var function: BinaryFunction { .pow } }

// MARK: - Extremes
public struct Maximum: BinaryElementwise { public var function: BinaryFunction { .maximum } }
public struct Minimum: BinaryElementwise { public var function: BinaryFunction { .minimum } }

// MARK: - Angles
public struct Atan2: BinaryElementwise { public var function: BinaryFunction { .atan2 } }

// MARK: - Logic
public struct LogicalAnd: BinaryElementwise { public var function: BinaryFunction { .logicalAnd } }
public struct LogicalOr: BinaryElementwise { public var function: BinaryFunction { .logicalOr } }

// MARK: - Comparison

/// An elementwise comparison producing a bool mask.
public struct Compare: BinaryPrimitive {
    public let comparison: Comparison
    public var name: String { "\(comparison)" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        Elementwise.compare(comparison, a, b, shape: Shape.broadcast(a.shape, b.shape)!)
    }
}

// MARK: - Selection

/// `condition ? a : b` elementwise, all three broadcast together.
public struct Select: Primitive {
    public var name: String { "where" }
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        let shape = Shape.broadcast(Shape.broadcast(inputs[0].shape, inputs[1].shape)!, inputs[2].shape)!
        return [Elementwise.select(inputs[0], inputs[1], inputs[2], shape: shape)]
    }
}
