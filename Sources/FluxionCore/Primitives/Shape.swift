// Primitives that rearrange elements. Reshape (when the layout allows), broadcast, transpose and
// slice are views: they cost no copy. Pad, concatenation, update and flip build new arrays. All
// are linear; each cotangent rule is the adjoint rearrangement (broadcast ↔ sum, slice ↔ update
// of zeros, pad ↔ slice, concatenate ↔ split, flip ↔ flip). Batching puts the batch axis first
// and prepends it to the parameters (flip keeps it in place and shifts its axes instead).

import FluxionKernels

// MARK: - Reshape

/// The same elements in row-major order with another shape of equal count: a view whenever
/// the layout allows one (always for contiguous input), a copy otherwise.
public struct Reshape: UnaryPrimitive, LinearPrimitive {
    /// The new shape (its element count equals the input's).
    public let shape: [Int]
    public var name: String { "reshape" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        if let strides = Shape.viewStrides(shape: x.shape, strides: x.strides, as: shape) {
            return x.view(shape: shape, strides: strides)
        }
        return Copy.contiguous(x).view(shape: shape, strides: Shape.contiguousStrides(shape))
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { bind(Reshape(shape: primals[0].shape), $0) }]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(Reshape(shape: [size] + shape), inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Broadcast

/// The array read as the larger, broadcast-compatible `shape` (stride 0 where it repeats).
public struct BroadcastTo: UnaryPrimitive, LinearPrimitive {
    /// The shape broadcast to.
    public let shape: [Int]
    public var name: String { "broadcast" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Elementwise.broadcast(x, to: shape) }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { $0.unbroadcast(to: primals[0].shape) }]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let x = alignElementwise(inputs, axes)[0]
        let lead = [Int](repeating: 1, count: shape.count - (x.rank - 1))
        let padded = x.reshape([size] + lead + Array(x.shape.dropFirst()))
        return ([bind(BroadcastTo(shape: [size] + shape), padded)], [0])
    }
}

// MARK: - Transpose

/// Dimensions reordered: output dimension i is input dimension `permutation[i]`.
public struct Transpose: UnaryPrimitive, LinearPrimitive {
    /// For each output dimension, the input dimension it is.
    public let permutation: [Int]
    public var name: String { "permute" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        x.view(shape: permutation.map { x.shape[$0] }, strides: permutation.map { x.strides[$0] })
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        var inverse = permutation
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return [cotangents[0].map { bind(Transpose(permutation: inverse), $0) }]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(Transpose(permutation: [0] + permutation.map { $0 + 1 }), inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Slice

/// A regular sub-grid: along dimension d, `counts[d]` elements from `starts[d]` every `steps[d]`.
public struct Slice: UnaryPrimitive, LinearPrimitive {
    /// The first element taken along each dimension.
    public let starts: [Int]
    /// How many elements are taken along each dimension.
    public let counts: [Int]
    /// The step between taken elements along each dimension (positive).
    public let steps: [Int]
    public var name: String { "slice" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        var offset = x.offset
        for d in 0..<x.rank where counts[d] > 0 { offset += starts[d] * x.strides[d] }
        return x.view(shape: counts, strides: zip(x.strides, steps).map { $0 * $1 }, offset: offset)
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { bind(UpdateSlice(slice: self), NDArray.zeros(primals[0].shape, dtype: $0.dtype), $0) }]
    }
    /// The same slice of an array with a batch axis in front.
    func batched(_ size: Int) -> Slice {
        Slice(starts: [0] + starts, counts: [size] + counts, steps: [1] + steps)
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(batched(size), inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Update

/// The first input with the region `slice` replaced by the second input (of the region's
/// shape): the functional form of `y[region] = value`.
public struct UpdateSlice: BinaryPrimitive, LinearPrimitive {
    /// The region replaced.
    public let slice: Slice
    public var name: String { "update" }
    public func evaluate(_ x: StridedArray, _ value: StridedArray) -> StridedArray {
        let whole = Copy.contiguous(x)
        Copy.assign(value, into: slice.evaluate(whole))
        return whole
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        return [
            needs[0] ? bind(self, ct, NDArray.zeros(slice.counts, dtype: ct.dtype)) : nil,
            needs[1] ? bind(slice, ct) : nil,
        ]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let x = inputs[0].batchFirst(axes[0], size: size), v = inputs[1].batchFirst(axes[1], size: size)
        return ([bind(UpdateSlice(slice: slice.batched(size)), x, v)], [0])
    }
}

// MARK: - Pad

/// `value` added around each dimension: `before[d]` elements ahead, `after[d]` behind.
public struct Pad: UnaryPrimitive, PiecewiseLinear {
    /// How many `value`s go before each dimension's elements.
    public let before: [Int]
    /// How many `value`s go after each dimension's elements.
    public let after: [Int]
    /// The padding value.
    public let value: Double
    public var name: String { "pad" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        Copy.pad(x, Array(zip(before, after)), value: value)
    }
    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        [tangents[0].map { bind(Pad(before: before, after: after, value: 0), $0) }]
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        let interior = Slice(starts: before, counts: primals[0].shape, steps: before.map { _ in 1 })
        return [cotangents[0].map { bind(interior, $0) }]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(Pad(before: [0] + before, after: [0] + after, value: value), inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Concatenate

/// The inputs joined along `axis`.
public struct Concat: Primitive, LinearPrimitive {
    /// The dimension joined along.
    public let axis: Int
    public var name: String { "concat" }
    public func evaluate(_ inputs: [NDArray]) -> [NDArray] {
        var shape = inputs[0].shape
        shape[axis] = inputs.reduce(0) { $0 + $1.shape[axis] }
        return [NDArray(Copy.concat(inputs.map(\.elements), axis: axis, shape: shape))]
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return primals.map { _ in nil } }
        return ct.split(sizes: primals.map { $0.shape[axis] }, dim: axis)
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        (bind(Concat(axis: axis + 1), zip(inputs, axes).map { $0.batchFirst($1, size: size) }), [0])
    }
}

// MARK: - Flip

/// The elements in reverse order along each of `axes` (`torch.flip`). A copy, since strides
/// are never negative; a permutation of the elements, so it is its own transpose.
public struct Flip: UnaryPrimitive, LinearPrimitive {
    /// The dimensions reversed.
    public let axes: [Int]
    public var name: String { "flip" }
    public func evaluate(_ x: StridedArray) -> StridedArray {
        var flipped = [Bool](repeating: false, count: x.rank)
        for a in axes { flipped[a] = true }
        return Copy.flip(x, flipped: flipped)
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { bind(self, $0) }]
    }
    /// The batch axis stays where it is; the flipped axes at or after it move one place on.
    public func batch(_ inputs: [NDArray], axes batchAxes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let b = batchAxes[0]!
        return ([bind(Flip(axes: axes.map { $0 >= b ? $0 + 1 : $0 }), inputs[0])], [b])
    }
}

// MARK: - Output types (for staging)

extension Reshape {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0].with(shape: shape)] }
}

extension BroadcastTo {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0].with(shape: shape)] }
}

extension Transpose {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0].with(shape: permutation.map { inputs[0].shape[$0] })] }
}

extension Slice {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0].with(shape: counts)] }
}

extension UpdateSlice {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0]] }
}

extension Pad {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        [inputs[0].with(shape: inputs[0].shape.indices.map { inputs[0].shape[$0] + before[$0] + after[$0] })]
    }
}

extension Concat {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        var shape = inputs[0].shape
        shape[axis] = inputs.reduce(0) { $0 + $1.shape[axis] }
        return [inputs[0].with(shape: shape)]
    }
}

extension Flip {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0]] }
}
