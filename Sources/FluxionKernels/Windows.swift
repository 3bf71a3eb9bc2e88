// Sliding windows over the last two dimensions: im2col (every kh × kw window of an image laid
// out as columns, so a convolution becomes one matrix product) and its adjoint col2im (the
// windows added back onto the image where they overlap).
//
// im2col is a single strided copy: with the input padded, the windows form a view whose six
// strides are (sN…, sH·dh, sW·dw, sH·sh, sW·sw), so no per-window loop is written. col2im adds
// kh·kw strided views of the columns into a zero image, one `+=` row loop each, then crops the
// padding. Leading dimensions (batch, channels) pass through unchanged.

/// The geometry of a 2-D sliding window: size, step, zero padding and dilation per dimension.
public struct WindowGeometry: Sendable, Hashable {
    /// The window's height and width.
    public let kernel: (Int, Int)
    /// The step between windows, vertically and horizontally.
    public let stride: (Int, Int)
    /// Zeros added on each side, vertically and horizontally.
    public let padding: (Int, Int)
    /// The spacing between window elements (1: contiguous).
    public let dilation: (Int, Int)

    /// A window geometry; by default stride 1, no padding, no dilation.
    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// The number of window positions along a dimension of `size` (0 when none fits).
    @inlinable
    public static func outputSize(_ size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int {
        let span = dilation * (kernel - 1) + 1
        let room = size + 2 * padding - span
        return room < 0 ? 0 : room / stride + 1
    }

    /// Window positions (rows, columns) over an image of `height` × `width`.
    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        (Self.outputSize(height, kernel: kernel.0, stride: stride.0, padding: padding.0, dilation: dilation.0),
         Self.outputSize(width, kernel: kernel.1, stride: stride.1, padding: padding.1, dilation: dilation.1))
    }

    public static func == (a: WindowGeometry, b: WindowGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation
    }

    public func hash(into hasher: inout Hasher) {
        for v in [kernel.0, kernel.1, stride.0, stride.1, padding.0, padding.1, dilation.0, dilation.1] { hasher.combine(v) }
    }
}

/// Sliding windows over the last two dimensions: im2col as one strided copy, and its adjoint
/// col2im.
public enum Windows {
    /// `[..., H, W]` → `[..., kh, kw, Ho, Wo]`: element `[..., i, j, r, c]` is the input at row
    /// `r·sh + i·dh − ph`, column `c·sw + j·dw − pw` (zero outside the image).
    public static func im2col(_ x: StridedArray, _ g: WindowGeometry) -> StridedArray {
        let rank = x.rank
        let (h, w) = (x.shape[rank - 2], x.shape[rank - 1])
        let (ho, wo) = g.outputSize(height: h, width: w)
        var padding = [(Int, Int)](repeating: (0, 0), count: rank)
        padding[rank - 2] = (g.padding.0, g.padding.0)
        padding[rank - 1] = (g.padding.1, g.padding.1)
        let padded = g.padding == (0, 0) ? x : Copy.pad(x, padding, value: 0)
        let (sh, sw) = (padded.strides[rank - 2], padded.strides[rank - 1])
        let lead = Array(padded.shape.dropLast(2)), leadStrides = Array(padded.strides.dropLast(2))
        let windows = padded.view(
            shape: lead + [g.kernel.0, g.kernel.1, ho, wo],
            strides: leadStrides + [sh * g.dilation.0, sw * g.dilation.1, sh * g.stride.0, sw * g.stride.1])
        return Copy.contiguous(windows)
    }

    /// The adjoint of `im2col`: `[..., kh, kw, Ho, Wo]` → `shape` (`[..., H, W]`), each window
    /// element added to the image position it was read from.
    public static func col2im(_ columns: StridedArray, shape: [Int], _ g: WindowGeometry) -> StridedArray {
        switch columns.dtype {
        case .float32: col2im(columns, shape, g, Float.self)
        case .float64: col2im(columns, shape, g, Double.self)
        case .int64: col2im(columns, shape, g, Int64.self)
        case .bool: kernelFailure("col2im is not defined for bool")
        }
    }

    @inlinable
    static func col2im<T: Element & AdditiveArithmetic>(_ columns: StridedArray, _ shape: [Int], _ g: WindowGeometry,
                                                        _: T.Type) -> StridedArray {
        let rank = shape.count
        let lead = Array(shape.dropLast(2))
        let (hp, wp) = (shape[rank - 2] + 2 * g.padding.0, shape[rank - 1] + 2 * g.padding.1)
        let image = Copy.full(T.zero, lead + [hp, wp])
        let (ho, wo) = (columns.shape[rank], columns.shape[rank + 1])
        let cs = columns.strides
        let leadImageStrides = Array(image.strides.dropLast(2))
        let targetStrides = leadImageStrides + [wp * g.stride.0, g.stride.1]
        let sourceStrides = Array(cs[..<(rank - 2)]) + [cs[rank], cs[rank + 1]]
        let dst = image.pointer(T.self)
        let src = columns.pointer(T.self)
        for i in 0..<g.kernel.0 {
            for j in 0..<g.kernel.1 {
                let target = i * g.dilation.0 * wp + j * g.dilation.1
                let source = i * cs[rank - 2] + j * cs[rank - 1]
                Loops.forEachRow(shape: lead + [ho, wo], targetStrides, sourceStrides) { _, od, os, m, sd, ss in
                    let d = dst + target + od, s = src + source + os
                    for k in 0..<m { d[k &* sd] += s[k &* ss] }
                }
            }
        }
        guard g.padding != (0, 0) else { return image }
        let interior = image.view(shape: shape, strides: image.strides, offset: g.padding.0 * wp + g.padding.1)
        return Copy.contiguous(interior)
    }
}
