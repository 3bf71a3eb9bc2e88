// Primitives that rearrange elements. Reshape (of contiguous data), broadcast, transpose and
// slice are views: they cost no copy. Pad and concatenation build new arrays.

import FluxionKernels

// MARK: - Reshape

/// The same elements in row-major order with another shape of equal count: a view whenever
/// the layout allows one (always for contiguous input), a copy otherwise.
public struct Reshape: UnaryPrimitive {
    public let shape: [Int]
    public var name: String { "reshape" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        if let strides = Shape.viewStrides(shape: x.shape, strides: x.strides, as: shape) {
            return x.view(shape: shape, strides: strides)
        }
        return Copy.contiguous(x).view(shape: shape, strides: Shape.contiguousStrides(shape))
    }
}

// MARK: - Broadcast

/// The array read as the larger, broadcast-compatible `shape` (stride 0 where it repeats).
public struct BroadcastTo: UnaryPrimitive {
    public let shape: [Int]
    public var name: String { "broadcast" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Elementwise.broadcast(x, to: shape) }
}

// MARK: - Transpose

/// Dimensions reordered: output dimension i is input dimension `permutation[i]`.
public struct Transpose: UnaryPrimitive {
    public let permutation: [Int]
    public var name: String { "permute" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        x.view(shape: permutation.map { x.shape[$0] }, strides: permutation.map { x.strides[$0] })
    }
}

// MARK: - Slice

/// A regular sub-grid: along dimension d, `counts[d]` elements from `starts[d]` every `steps[d]`.
public struct Slice: UnaryPrimitive {
    public let starts: [Int]
    public let counts: [Int]
    public let steps: [Int]
    public var name: String { "slice" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        var offset = x.offset
        for d in 0..<x.rank where counts[d] > 0 { offset += starts[d] * x.strides[d] }
        return x.view(shape: counts, strides: zip(x.strides, steps).map { $0 * $1 }, offset: offset)
    }
}

// MARK: - Update

/// The first input with the region `slice` replaced by the second input (broadcast to it):
/// the functional form of `y[region] = value`.
public struct UpdateSlice: BinaryPrimitive {
    public let slice: Slice
    public var name: String { "update" }
    public func evaluate(_ x: StridedArray, _ value: StridedArray) -> StridedArray {
        let whole = Copy.contiguous(x)
        Copy.assign(value, into: slice.evaluate(whole))
        return whole
    }
}

// MARK: - Pad

/// `value` added around each dimension: `before[d]` elements ahead, `after[d]` behind.
public struct Pad: UnaryPrimitive {
    public let before: [Int]
    public let after: [Int]
    public let value: Double
    public var name: String { "pad" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        Copy.pad(x, Array(zip(before, after)), value: value)
    }
}

// MARK: - Concatenate

/// The inputs joined along `axis`.
public struct Concat: Primitive {
    public let axis: Int
    public var name: String { "concat" }
    public func evaluate(_ inputs: [StridedArray]) -> [StridedArray] {
        var shape = inputs[0].shape
        shape[axis] = inputs.reduce(0) { $0 + $1.shape[axis] }
        return [Copy.concat(inputs, axis: axis, shape: shape)]
    }
}
