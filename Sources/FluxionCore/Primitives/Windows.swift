// Sliding windows over the last two dimensions, for convolutions by matrix product: `Im2Col`
// lays out every window of an image as columns, `Col2Im` adds columns back onto an image.
// Both are linear and each is the other's adjoint (im2col reads each image element into every
// window that covers it; col2im sums those reads back), so each one's vjp is the other and its
// jvp is itself. Leading dimensions pass through untouched, so batching moves the batch axis
// to the front and applies the same primitive.

import FluxionKernels

// MARK: - Im2Col

/// `[..., H, W]` → `[..., kh, kw, Ho, Wo]`: every window of the zero-padded image, element
/// `[..., i, j, r, c]` read at row `r·sh + i·dh − ph`, column `c·sw + j·dw − pw`.
public struct Im2Col: UnaryPrimitive, LinearPrimitive {
    /// The windows' size, step, padding and dilation.
    public let geometry: WindowGeometry
    public var name: String { "im2col" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Windows.im2col(x, geometry) }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { bind(Col2Im(geometry: geometry, shape: primals[0].shape), $0) }]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(self, inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Col2Im

/// `[..., kh, kw, Ho, Wo]` → `shape` = `[..., H, W]`: the adjoint of `Im2Col`, each column
/// element added to the image position its window read it from (padding dropped).
public struct Col2Im: UnaryPrimitive, LinearPrimitive {
    /// The windows' size, step, padding and dilation.
    public let geometry: WindowGeometry
    /// The image shape `[..., H, W]`.
    public let shape: [Int]
    public var name: String { "col2im" }
    public func evaluate(_ x: StridedArray) -> StridedArray { Windows.col2im(x, shape: shape, geometry) }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        [cotangents[0].map { bind(Im2Col(geometry: geometry), $0) }]
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        ([bind(Col2Im(geometry: geometry, shape: [size] + shape), inputs[0].moveAxis(from: axes[0]!, to: 0))], [0])
    }
}

// MARK: - Output types (for staging)

extension Im2Col {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] {
        let shape = inputs[0].shape, rank = shape.count
        let (ho, wo) = geometry.outputSize(height: shape[rank - 2], width: shape[rank - 1])
        return [inputs[0].with(shape: Array(shape.dropLast(2)) + [geometry.kernel.0, geometry.kernel.1, ho, wo])]
    }
}

extension Col2Im {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0].with(shape: shape)] }
}
