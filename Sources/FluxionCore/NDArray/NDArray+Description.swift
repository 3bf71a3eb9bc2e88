// Printing as PyTorch prints tensors, so outputs can be compared line by line:
// `tensor([[1., 2.],\n        [3., 4.]])`, `tensor(7.)`, `tensor([0.5000, 1.2500])`,
// `tensor([1.0000e-05, 1.0000e+03])`, `tensor([], size=(0, 3))`, `dtype=float64` where the
// dtype is not the default for its kind (float32, int64, bool).
//
// The rules are PyTorch's (`torch/_tensor_str.py`, default print options): floats whose
// nonzero finite values are all integers print as `2.`; otherwise 4 decimals, or scientific
// notation when the largest magnitude exceeds 1e8, the smallest is below 1e-4, or their ratio
// exceeds 1000; every element is right-aligned to the widest; lines wrap at 80 columns; arrays
// of more than 1000 elements show three items at each edge around `...`.

import Foundation
import FluxionKernels

/// How the float or bool elements of one array are written, decided from all the elements
/// shown. (int64 elements are written from their exact values: a Double holds only 53 bits.)
struct ElementFormatter {
    let dtype: DType
    var intMode = true
    var sciMode = false
    var width = 1

    init(dtype: DType, values: [Double]) {
        self.dtype = dtype
        guard dtype.isFloatingPoint else {
            width = values.map { raw($0).count }.max() ?? 1
            return
        }
        let finite = values.filter { $0.isFinite && $0 != 0 }.map(Swift.abs)
        guard let lo = finite.min(), let hi = finite.max() else { return }
        intMode = values.allSatisfy { !$0.isFinite || $0 == $0.rounded(.up) }
        let ratioOrSize = hi / lo > 1000 || hi > 1e8
        sciMode = intMode ? ratioOrSize : (ratioOrSize || lo < 1e-4)
        for v in values where v.isFinite && v != 0 {
            let s = sciMode ? String(format: "%.4e", v) : (intMode ? String(format: "%.0f", v) + "." : String(format: "%.4f", v))
            width = Swift.max(width, s.count)
        }
    }

    func raw(_ v: Double) -> String {
        if dtype == .bool { return v != 0 ? "True" : "False" }
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        if sciMode { return String(format: "%.4e", v) }
        if intMode { return String(format: "%.0f", v) + "." }
        return String(format: "%.4f", v)
    }

    func format(_ v: Double) -> String {
        let s = raw(v)
        return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
    }
}

extension NDArray: CustomStringConvertible, CustomDebugStringConvertible {
    /// PyTorch's `tensor(...)` text; a value inside a transform that has no elements of its
    /// own (a staged value, a batch inside `vmap`) prints its shape and dtype and the
    /// transform, as JAX prints a tracer.
    public var description: String {
        if let transform = tracingTransform, readableElements == nil { return "Traced<\(arrayType)> inside \(transform)" }
        return formatted(suffixes: [])
    }
    public var debugDescription: String { description }

    /// PyTorch's `tensor(...)` text with extra suffixes (such as `requires_grad=True`).
    public func formatted(suffixes extra: [String]) -> String {
        let indent = "tensor(".count
        var suffixes: [String] = []
        let body: String
        let defaultDType = dtype == .float32 || dtype == .int64 || dtype == .bool
        if count == 0 {
            if rank != 1 { suffixes.append("size=(" + shape.map(String.init).joined(separator: ", ") + (rank == 1 ? ",)" : ")")) }
            if dtype != .float32 { suffixes.append("dtype=\(dtype)") }
            body = "[]"
        } else {
            if !defaultDType { suffixes.append("dtype=\(dtype)") }
            let summarize = count > 1000
            let strides = Shape.contiguousStrides(shape)
            if dtype == .int64 {
                let values = scalars(as: Int64.self)
                let width = (summarize ? summarizedValues(values) : values).map { String($0).count }.max() ?? 1
                body = render(values, shape: shape, strides: strides, offset: 0, indent: indent, summarize: summarize, width: width) {
                    let s = String($0)
                    return String(repeating: " ", count: width - s.count) + s
                }
            } else {
                let values = doubles
                let formatter = ElementFormatter(dtype: dtype, values: summarize ? summarizedValues(values) : values)
                body = render(values, shape: shape, strides: strides, offset: 0, indent: indent, summarize: summarize,
                              width: formatter.width, format: formatter.format)
            }
        }
        // PyTorch measures the last line including the `tensor(` prefix.
        return Self.addSuffixes("tensor(" + body, suffixes + extra, indent: indent)
    }

    static func addSuffixes(_ body: String, _ suffixes: [String], indent: Int) -> String {
        var out = body
        var lastLine = body.count - (body.lastIndex(of: "\n").map { body.distance(from: body.startIndex, to: $0) } ?? -1) + 1
        for s in suffixes {
            if lastLine + s.count + 2 > 80 {
                out += ",\n" + String(repeating: " ", count: indent) + s
                lastLine = indent + s.count
            } else {
                out += ", " + s
                lastLine += s.count + 2
            }
        }
        return out + ")"
    }

    /// The values PyTorch looks at when it summarizes: three at each edge of every dimension.
    func summarizedValues<T>(_ values: [T]) -> [T] {
        var picked: [T] = []
        func visit(_ dim: Int, _ offset: Int) {
            if dim == rank { picked.append(values[offset]); return }
            let n = shape[dim], stride = Shape.contiguousStrides(shape)[dim]
            let indices = n > 6 ? Array(0..<3) + Array((n - 3)..<n) : Array(0..<n)
            for i in indices { visit(dim + 1, offset + i * stride) }
        }
        visit(0, 0)
        return picked
    }

    /// The nested-list text of `values` (row-major, read through `strides` from `offset`), each
    /// element written by `format` at `width` characters.
    func render<T>(_ values: [T], shape: [Int], strides: [Int], offset: Int, indent: Int,
                   summarize: Bool, width: Int, format: (T) -> String) -> String {
        if shape.isEmpty { return format(values[offset]) }
        let n = shape[0]
        let edges = summarize && n > 6
        if shape.count == 1 {
            var items = (edges ? Array(0..<3) : Array(0..<n)).map { format(values[offset + $0 * strides[0]]) }
            if edges { items += [" ..."] + ((n - 3)..<n).map { format(values[offset + $0 * strides[0]]) } }
            let perLine = Swift.max(1, (80 - indent) / (width + 2))
            let lines = stride(from: 0, to: items.count, by: perLine).map { items[$0..<Swift.min($0 + perLine, items.count)].joined(separator: ", ") }
            return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
        }
        let sub = Array(shape.dropFirst()), subStrides = Array(strides.dropFirst())
        func slice(_ i: Int) -> String {
            render(values, shape: sub, strides: subStrides, offset: offset + i * strides[0], indent: indent + 1,
                   summarize: summarize, width: width, format: format)
        }
        var slices = (edges ? Array(0..<3) : Array(0..<n)).map(slice)
        if edges { slices += ["..."] + ((n - 3)..<n).map(slice) }
        let separator = "," + String(repeating: "\n", count: shape.count - 1) + String(repeating: " ", count: indent + 1)
        return "[" + slices.joined(separator: separator) + "]"
    }
}
