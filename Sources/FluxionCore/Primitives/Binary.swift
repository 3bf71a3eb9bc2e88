// Elementwise functions of two arrays with NumPy broadcasting, comparisons and selection.
// Operands arrive with one dtype (the array layer promotes); broadcasting happens inside the
// kernels by strides, so a broadcast operand is never materialised. Each primitive states its
// partial derivatives; the family applies them, and unbroadcasts cotangents to each operand.
//
// Conventions: maximum and minimum split the gradient equally between tied operands, as
// PyTorch does; d(aᵇ)/db is taken as 0 where a = 0 (the limit along b > 0). Partials multiply
// (co)tangents with `mulStrongZero`, so a zero (co)tangent stays zero where a partial is
// infinite (Tangents.swift).

import FluxionKernels

/// An elementwise function of two broadcastable arrays of one dtype.
public protocol BinaryElementwise: BinaryPrimitive {
    var function: BinaryFunction { get }
    /// ∂out/∂a and ∂out/∂b elementwise (broadcastable to the output), nil for zero.
    func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?)
}

extension BinaryElementwise {
    public var name: String { "\(function)" }

    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        Elementwise.binary(function, a, b, shape: Shape.broadcast(a.shape, b.shape)!)
    }

    public func jvp(_ primals: [NDArray], _ tangents: [NDArray?], outputs: [NDArray]) -> [NDArray?] {
        guard tangents[0] != nil || tangents[1] != nil else { return [nil] }
        let (da, db) = partials(primals[0], primals[1], outputs[0])
        var t: NDArray?
        if let ta = tangents[0], let da { t = mulStrongZero(ta, da) }
        if let tb = tangents[1], let db { t = addTangents(t, mulStrongZero(tb, db)) }
        return [t.map { $0.broadcast(to: outputs[0].shape) }]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        let (da, db) = partials(primals[0], primals[1], outputs[0])
        return [
            needs[0] ? da.map { mulStrongZero(ct, $0).unbroadcast(to: primals[0].shape) } : nil,
            needs[1] ? db.map { mulStrongZero(ct, $0).unbroadcast(to: primals[1].shape) } : nil,
        ]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let aligned = alignElementwise(inputs, axes)
        return ([bind(self, aligned[0], aligned[1])], [0])
    }
}

// MARK: - Arithmetic

public struct Add: BinaryElementwise {
    public var function: BinaryFunction { .add }
    public var vjpReadsValues: Bool { false }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) {
        (NDArray.onesLike(out), NDArray.onesLike(out))
    }
    public func jvp(_ primals: [NDArray], _ tangents: [NDArray?], outputs: [NDArray]) -> [NDArray?] {
        [addTangents(tangents[0], tangents[1]).map { $0.broadcast(to: outputs[0].shape) }]
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        return [needs[0] ? ct.unbroadcast(to: primals[0].shape) : nil, needs[1] ? ct.unbroadcast(to: primals[1].shape) : nil]
    }
}

public struct Sub: BinaryElementwise {
    public var function: BinaryFunction { .sub }
    public var vjpReadsValues: Bool { false }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) {
        (NDArray.onesLike(out), NDArray.fullLike(out, -1))
    }
    public func jvp(_ primals: [NDArray], _ tangents: [NDArray?], outputs: [NDArray]) -> [NDArray?] {
        [addTangents(tangents[0], tangents[1].map { -$0 }).map { $0.broadcast(to: outputs[0].shape) }]
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        return [needs[0] ? ct.unbroadcast(to: primals[0].shape) : nil, needs[1] ? (-ct).unbroadcast(to: primals[1].shape) : nil]
    }
}

public struct Mul: BinaryElementwise {
    public var function: BinaryFunction { .mul }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) { (b, a) }
}

/// a · b with 0 wherever a factor is 0, even when the other is ±∞ or NaN: the product the
/// chain rule uses. Its partials (b, a) are applied with itself, so its derivatives of every
/// order keep the convention.
public struct MulStrongZero: BinaryElementwise {
    public var function: BinaryFunction { .mulStrongZero }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) { (b, a) }
}

public struct Div: BinaryElementwise {
    public var function: BinaryFunction { .div }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) { (1 / b, -(out / b)) }
}

public struct Pow: BinaryElementwise {
    public var function: BinaryFunction { .pow }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) {
        let safeLog = NDArray.where(a .== 0, NDArray.zerosLike(a), log(NDArray.where(a .== 0, NDArray.onesLike(a), a)))
        return (b * a ** (b - 1), out * safeLog)
    }
}

// MARK: - Extremes

public struct Maximum: BinaryElementwise {
    public var function: BinaryFunction { .maximum }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) {
        let tie = (a .== b).to(out.dtype) * 0.5
        return ((a .> b).to(out.dtype) + tie, (b .> a).to(out.dtype) + tie)
    }
}

public struct Minimum: BinaryElementwise {
    public var function: BinaryFunction { .minimum }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) {
        let tie = (a .== b).to(out.dtype) * 0.5
        return ((a .< b).to(out.dtype) + tie, (b .< a).to(out.dtype) + tie)
    }
}

// MARK: - Angles

/// atan2(y, x): ∂/∂y = x / (x² + y²), ∂/∂x = −y / (x² + y²).
public struct Atan2: BinaryElementwise {
    public var function: BinaryFunction { .atan2 }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) {
        let r2 = a * a + b * b
        return (b / r2, -a / r2)
    }
}

// MARK: - Logic

public struct LogicalAnd: BinaryElementwise {
    public var function: BinaryFunction { .logicalAnd }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) { (nil, nil) }
}

public struct LogicalOr: BinaryElementwise {
    public var function: BinaryFunction { .logicalOr }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray?, NDArray?) { (nil, nil) }
}

// MARK: - Comparison

/// An elementwise comparison producing a bool mask.
public struct Compare: BinaryPrimitive, PiecewiseConstant {
    public let comparison: Comparison
    public var name: String { "\(comparison)" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        Elementwise.compare(comparison, a, b, shape: Shape.broadcast(a.shape, b.shape)!)
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let aligned = alignElementwise(inputs, axes)
        return ([bind(self, aligned[0], aligned[1])], [0])
    }
}

// MARK: - Selection

/// `condition ? a : b` elementwise, all three broadcast together; inputs (condition, a, b).
/// Each branch's cotangent is the output's where that branch was taken and exactly zero
/// elsewhere.
public struct Select: Primitive {
    public var name: String { "where" }

    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        let shape = Shape.broadcast(Shape.broadcast(inputs[0].shape, inputs[1].shape)!, inputs[2].shape)!
        return [Elementwise.select(inputs[0], inputs[1], inputs[2], shape: shape)]
    }

    public func jvp(_ primals: [NDArray], _ tangents: [NDArray?], outputs: [NDArray]) -> [NDArray?] {
        guard tangents[1] != nil || tangents[2] != nil else { return [nil] }
        let zero = NDArray.zerosLike(outputs[0])
        return [NDArray.where(primals[0], tangents[1] ?? zero, tangents[2] ?? zero).broadcast(to: outputs[0].shape)]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil, nil] }
        let zero = NDArray.zerosLike(ct)
        return [
            nil,
            needs[1] ? NDArray.where(primals[0], ct, zero).unbroadcast(to: primals[1].shape) : nil,
            needs[2] ? NDArray.where(primals[0], zero, ct).unbroadcast(to: primals[2].shape) : nil,
        ]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        (bind(self, alignElementwise(inputs, axes)), [0])
    }
}
