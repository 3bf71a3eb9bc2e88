// The array layer's figures: matmul against raw cblas on the same buffers, elementwise and
// reduction bandwidth against memcpy, and the fixed cost of a small operation.

import CBLAS
import Fluxion
import Foundation

/// matmul at square sizes against cblas_?gemm called directly on the same input buffers.
func matmulBenchmarks(sizes: [Int]) -> [String] {
    var rows: [String] = []
    for dtype in [DType.float32, .float64] {
        for n in sizes {
            let a = NDArray.normal([n, n], key: RandomKey(seed: 1), dtype: dtype)
            let b = NDArray.normal([n, n], key: RandomKey(seed: 2), dtype: dtype)
            let flops = 2 * Double(n * n * n)
            let minSeconds = n >= 1024 ? 2.0 : 0.5
            let fluxion = measure("matmul\(n)", "fluxion-\(dtype)", minRepetitions: 20, minSeconds: minSeconds,
                                  checksum: { matmul(a, b).sum().item() }) { blackHole(matmul(a, b)) }
            let raw = measure("matmul\(n)", "cblas-\(dtype)", minRepetitions: 20, minSeconds: minSeconds) {
                rawGEMM(a, b, n: n)
            }
            print(fluxion.json)
            print(raw.json)
            rows.append(String(format: "| matmul %@ %5d | %8.2f ms | %8.2f ms | %6.1f GFLOP/s | %5.1f%% |", "\(dtype)", n,
                               fluxion.median * 1e3, raw.median * 1e3, flops / fluxion.median / 1e9, 100 * raw.median / fluxion.median))
        }
    }
    return rows
}

func rawGEMM(_ a: NDArray, _ b: NDArray, n: Int) {
    let c = UnsafeMutableRawPointer.allocate(byteCount: n * n * 8, alignment: 64)
    defer { c.deallocate() }
    let n32 = Int32(n)
    if a.dtype == .float32 {
        a.withUnsafeBufferPointer(as: Float.self) { pa in
            b.withUnsafeBufferPointer(as: Float.self) { pb in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, n32, n32, 1, pa.baseAddress, n32, pb.baseAddress, n32,
                            0, c.assumingMemoryBound(to: Float.self), n32)
            }
        }
    } else {
        a.withUnsafeBufferPointer(as: Double.self) { pa in
            b.withUnsafeBufferPointer(as: Double.self) { pb in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, n32, n32, 1, pa.baseAddress, n32, pb.baseAddress, n32,
                            0, c.assumingMemoryBound(to: Double.self), n32)
            }
        }
    }
}

/// A memcpy of `bytes` bytes: its row, and its rate in bytes read and written per second.
private func memcpyBaseline(bytes: Int, label: String) -> (row: String, rate: Double) {
    let src = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    let dst = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    src.initializeMemory(as: UInt8.self, repeating: 1, count: bytes)
    dst.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    defer { src.deallocate(); dst.deallocate() }
    let copy = measure("memcpy\(label)", "libc") { memcpy(dst, src, bytes) }
    let rate = 2 * Double(bytes) / copy.median / 1e9
    print(copy.json)
    return (String(format: "| memcpy %@ | %8.3f ms | %6.1f GB/s | baseline |", label, copy.median * 1e3, rate), rate)
}

/// Bytes moved per second by elementwise ops and a full sum, against memcpy of one buffer;
/// float64's elementary functions against a memcpy of as many bytes.
func bandwidthBenchmarks(counts: [Int]) -> [String] {
    var rows: [String] = []
    for n in counts {
        let x = NDArray.uniform([n], low: 0.5, high: 1.5, key: RandomKey(seed: 3))
        let y = NDArray.uniform([n], low: 0.5, high: 1.5, key: RandomKey(seed: 4))
        let label = n >= 1 << 20 ? "\(n >> 20)M" : "\(n)"
        let copy = memcpyBaseline(bytes: 4 * n, label: label)
        rows.append(copy.row)
        let cases: [(String, Double, () -> NDArray)] = [
            ("add", 3, { x + y }), ("mul", 3, { x * y }), ("neg", 2, { -x }), ("relu", 2, { relu(x) }),
            ("exp", 2, { exp(x) }), ("tanh", 2, { tanh(x) }), ("sum", 1, { x.sum() }),
        ]
        for (name, streams, op) in cases {
            let m = measure("\(name)\(label)", "fluxion-float32", checksum: { op().sum().item() }) { blackHole(op()) }
            print(m.json)
            let rate = streams * Double(4 * n) / m.median / 1e9
            rows.append(String(format: "| %@ %@ | %8.3f ms | %6.1f GB/s | %4.2f× memcpy time per byte |", name, label, m.median * 1e3, rate, copy.rate / rate))
        }
        let x64 = NDArray.uniform([n], low: 0.5, high: 1.5, key: RandomKey(seed: 3), dtype: .float64)
        let copy64 = memcpyBaseline(bytes: 8 * n, label: "\(label) ×8 B")
        rows.append(copy64.row)
        let cases64: [(String, () -> NDArray)] = [("exp", { exp(x64) }), ("tanh", { tanh(x64) })]
        for (name, op) in cases64 {
            let m = measure("\(name)\(label)", "fluxion-float64", checksum: { op().sum().item() }) { blackHole(op()) }
            print(m.json)
            let rate = 2 * Double(8 * n) / m.median / 1e9
            rows.append(String(format: "| %@ float64 %@ | %8.3f ms | %6.1f GB/s | %4.2f× memcpy time per byte |", name, label, m.median * 1e3, rate, copy64.rate / rate))
        }
    }
    return rows
}

/// The fixed cost of one small operation: 0-d + 0-d, and two 64-element vectors.
func overheadBenchmarks() -> [String] {
    var rows: [String] = []
    for (label, shape) in [("0-d", [Int]()), ("64", [64])] {
        let a = NDArray.ones(shape), b = NDArray.ones(shape)
        let inner = 10_000
        let m = measure("add\(label)", "fluxion-float32", inner: inner, checksum: { (a + b).sum().item() }) {
            for _ in 0..<inner { blackHole(a + b) }
        }
        print(m.json)
        rows.append(String(format: "| add %@ | %6.1f ns |", label, m.median * 1e9))
    }
    return rows
}
