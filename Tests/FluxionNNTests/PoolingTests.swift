// Max and average pooling against windows walked in plain Swift: values, the derivative of the
// maximum going to the first largest element of each window (PyTorch's choice, visible where a
// window holds ties), and gradients through padding and strides.

import Foundation
import Testing
import Fluxion
import FluxionNN

/// (value, the flat input index it came from) of each window, row-major over
/// [n, c, r, s]; `reduce` picks from a window's (value, index) pairs, nil standing for padding.
private func windows(_ x: [Double], _ shape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                     _ reduce: ([(Double, Int)?]) -> (Double, [Int])) -> (values: [Double], sources: [[Int]], outShape: [Int]) {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let ho = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, wo = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
    var values: [Double] = [], sources: [[Int]] = []
    for i in 0..<n { for ch in 0..<c { for r in 0..<ho { for s in 0..<wo {
        var window: [(Double, Int)?] = []
        for a in 0..<kernel.0 { for b in 0..<kernel.1 {
            let (y, z) = (r * stride.0 + a - padding.0, s * stride.1 + b - padding.1)
            if y < 0 || y >= h || z < 0 || z >= w { window.append(nil); continue }
            let index = ((i * c + ch) * h + y) * w + z
            window.append((x[index], index))
        } }
        let (v, from) = reduce(window)
        values.append(v)
        sources.append(from)
    } } } }
    return (values, sources, [n, c, ho, wo])
}

private func firstMaximum(_ window: [(Double, Int)?]) -> (Double, [Int]) {
    var best: (Double, Int)?
    for case let (v, i)? in window where best == nil || v > best!.0 { best = (v, i) }
    return (best!.0, [best!.1])
}

private func average(_ window: [(Double, Int)?]) -> (Double, [Int]) {
    let present = window.compactMap { $0 }
    return (present.reduce(0) { $0 + $1.0 } / Double(window.count), present.map(\.1))
}

@Suite("Pooling")
struct PoolingTests {
    let shape = [2, 2, 5, 6]
    var x: [Double] { (0..<120).map { Foundation.sin(Double($0) * 1.7) * 3 } }

    @Test("maxPool2d and avgPool2d values and gradients against windows walked in Swift",
          arguments: [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 2), (1, 1)), ((3, 2), (2, 1), (1, 0))])
    func againstWindows(_ geometry: ((Int, Int), (Int, Int), (Int, Int))) throws {
        let (kernel, stride, padding) = geometry
        let input = NDArray(shape: shape, scalars: x, dtype: .float64)
        for (name, reduce) in [("max", firstMaximum), ("avg", average)] as [(String, ([(Double, Int)?]) -> (Double, [Int]))] {
            let expected = windows(x, shape, kernel: kernel, stride: stride, padding: padding, reduce)
            let pool = { (t: NDArray) in
                name == "max" ? t.maxPool2d(kernelSize: kernel, stride: stride, padding: padding)
                              : t.avgPool2d(kernelSize: kernel, stride: stride, padding: padding)
            }
            let y = pool(input)
            #expect(y.shape == expected.outShape, "\(name) \(geometry)")
            expectClose(y.doubles, expected.values, rtol: 1e-14, atol: 1e-14, "\(name) \(geometry) values")
            // The gradient of Σ wᵢ·yᵢ goes to each window's sources.
            let weights = (0..<expected.values.count).map { 1 + Double($0 % 7) }
            let g = try grad { (t: NDArray) in (pool(t) * NDArray(shape: expected.outShape, scalars: weights, dtype: .float64)).sum() }(input)
            var reference = [Double](repeating: 0, count: x.count)
            let share = name == "max" ? 1.0 : 1.0 / Double(kernel.0 * kernel.1)
            for (k, from) in expected.sources.enumerated() { for i in from { reference[i] += weights[k] * share } }
            expectClose(g.doubles, reference, rtol: 1e-13, atol: 1e-13, "\(name) \(geometry) gradient")
        }
    }

    @Test("the maximum of a window of ties sends the whole gradient to its first element, as PyTorch")
    func ties() throws {
        let zeros = NDArray.zeros([1, 1, 2, 4], dtype: .float64)
        let g = try grad { (t: NDArray) in t.maxPool2d(kernelSize: (2, 2)).sum() }(zeros)
        #expect(g.doubles == [1, 0, 1, 0, 0, 0, 0, 0])
    }

    @Test("the layers on tensors: backward, vmap over a batch, and PyTorch's names")
    func layers() throws {
        let images = try Tensor(NDArray(shape: shape, scalars: x, dtype: .float64), requiresGrad: true)
        let maxPool = MaxPool2d(kernelSize: 2), avgPool = AvgPool2d(kernelSize: 3, stride: 1, padding: 1)
        let y = maxPool(images)
        #expect(y.shape == [2, 2, 2, 3] && y.gradFn?.name == "MaxPool2DWithIndicesBackward0")
        #expect(avgPool(images).shape == [2, 2, 5, 6])
        try (y.sum() + avgPool(images).sum()).backward()
        #expect(images.grad?.shape == shape)
        // vmap over the batch equals the batched call.
        let batched = try vmap { (image: NDArray) in image.maxPool2d(kernelSize: (2, 2)) }(images.value)
        #expect(batched.doubles == images.value.maxPool2d(kernelSize: (2, 2)).doubles)
        #expect("\(maxPool)".contains("MaxPool2d(kernel_size=(2, 2)"))
    }
}
