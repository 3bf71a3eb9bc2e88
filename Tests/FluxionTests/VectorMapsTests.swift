// The compiled runs of exp, tanh and sigmoid (VectorMaps.swift) against the one-element Swift
// forms, bit for bit, in every compilation this processor runs: arguments over each function's
// whole range, the edges of its piecewise forms, special values and subnormals, in runs whose
// lengths leave every remainder of the vector widths, and in place.

import Foundation
import Testing
@testable import FluxionCheck
import FluxionKernels

/// Arguments for both types: wide log-uniform magnitudes of both signs, values near the
/// breakpoints and overflow edges of the forms, and the special values.
private func arguments(count: Int) -> [Double] {
    var random = SplitMix(seed: 0x5EED_0F_F00D)
    var values: [Double] = [0, -0, .infinity, -.infinity, .nan, 0x1p-1030, -0x1p-1030, .leastNonzeroMagnitude,
                            .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
    let edges: [Double] = [0.55, 0.625, 20, 40, 87.33654, 88.72283, 709.78, 710, 745.13, 746, 1e-8]
    for edge in edges { values += [edge, -edge, edge.nextUp, edge.nextDown, -edge.nextUp, -edge.nextDown] }
    // A quarter uniform over [−25, 25], where the piecewise forms switch, the rest log-uniform.
    while values.count < count / 4 { values.append(random.uniform(-25, 25)) }
    while values.count < count {
        let magnitude = Swift.max(1e-12, Swift.min(1e3, Foundation.pow(10, random.uniform(-12, 3))))
        values.append(random.next() & 1 == 0 ? magnitude : -magnitude)
    }
    return values
}

private let functions: [ElementaryFunction] = [.exp, .tanh, .sigmoid]

private func oneElement32(_ function: ElementaryFunction, _ x: Float) -> Float {
    switch function {
    case .exp: Float.loopExp(x)
    case .tanh: Float.loopTanh(x)
    default: Kernel.Sigmoid<Float>()(x)
    }
}

private func oneElement64(_ function: ElementaryFunction, _ x: Double) -> Double {
    switch function {
    case .exp: Double.loopExp(x)
    case .tanh: Double.loopTanh(x)
    default: Kernel.Sigmoid<Double>()(x)
    }
}

/// The lengths of the runs: every remainder modulo 16, and a long one.
private let runLengths = Array(0...33) + [1000]

@Suite struct VectorMapsTests {
    @Test(arguments: functions)
    func float32RunsGiveTheOneElementBits(_ function: ElementaryFunction) {
        let xs = arguments(count: 200_000).map { Float($0) }
        for lanes in VectorMaps.Lanes.allCases where lanes <= VectorMaps.widest {
            var ys = [Float](repeating: .nan, count: xs.count)
            xs.withUnsafeBufferPointer { s in
                ys.withUnsafeMutableBufferPointer { d in
                    VectorMaps.run(function, s.baseAddress!, d.baseAddress!, count: xs.count, lanes: lanes)
                }
            }
            let differing = xs.indices.filter { ys[$0].bitPattern != oneElement32(function, xs[$0]).bitPattern
                && !(ys[$0].isNaN && xs[$0].isNaN) }
            #expect(differing.isEmpty, "\(function) float32 \(lanes): \(differing.prefix(5).map { (xs[$0], ys[$0]) })")
        }
    }

    @Test(arguments: functions)
    func float64RunsGiveTheOneElementBits(_ function: ElementaryFunction) {
        let xs = arguments(count: 200_000)
        for lanes in VectorMaps.Lanes.allCases where lanes <= VectorMaps.widest {
            var ys = [Double](repeating: .nan, count: xs.count)
            xs.withUnsafeBufferPointer { s in
                ys.withUnsafeMutableBufferPointer { d in
                    VectorMaps.run(function, s.baseAddress!, d.baseAddress!, count: xs.count, lanes: lanes)
                }
            }
            let differing = xs.indices.filter { ys[$0].bitPattern != oneElement64(function, xs[$0]).bitPattern
                && !(ys[$0].isNaN && xs[$0].isNaN) }
            #expect(differing.isEmpty, "\(function) float64 \(lanes): \(differing.prefix(5).map { (xs[$0], ys[$0]) })")
        }
    }

    @Test func everyRunLengthAndInPlace() {
        let xs = arguments(count: 1000)
        for lanes in VectorMaps.Lanes.allCases where lanes <= VectorMaps.widest {
            for function in functions {
                for n in runLengths {
                    var a = Array(xs.prefix(n)), b = a.map { Float($0) }
                    let guardValue = -12345.0
                    a.append(guardValue); b.append(Float(guardValue))
                    a.withUnsafeMutableBufferPointer { VectorMaps.run(function, $0.baseAddress!, $0.baseAddress!, count: n, lanes: lanes) }
                    b.withUnsafeMutableBufferPointer { VectorMaps.run(function, $0.baseAddress!, $0.baseAddress!, count: n, lanes: lanes) }
                    for k in 0..<n {
                        #expect(a[k].bitPattern == oneElement64(function, xs[k]).bitPattern || a[k].isNaN && xs[k].isNaN)
                        #expect(b[k].bitPattern == oneElement32(function, Float(xs[k])).bitPattern || b[k].isNaN && xs[k].isNaN)
                    }
                    #expect(a[n] == guardValue && b[n] == Float(guardValue), "a run of \(n) wrote past its end")
                }
            }
        }
    }

    @Test(arguments: [Arithmetic.add, .sub, .mul, .div])
    func arithmeticRunsGiveSwiftsBits(_ operation: Arithmetic) {
        let xs = arguments(count: 3000), ys = Array(arguments(count: 3000).reversed())
        func swift64(_ a: Double, _ b: Double) -> Double {
            switch operation { case .add: a + b; case .sub: a - b; case .mul: a * b; case .div: a / b }
        }
        func swift32(_ a: Float, _ b: Float) -> Float {
            switch operation { case .add: a + b; case .sub: a - b; case .mul: a * b; case .div: a / b }
        }
        func same<T: BinaryFloatingPoint>(_ u: T, _ v: T) -> Bool { u == v && u.sign == v.sign || u.isNaN && v.isNaN }
        for lanes in VectorMaps.Lanes.allCases where lanes <= VectorMaps.widest {
            for (sa, sb) in [(1, 1), (1, 0), (0, 1)] {
                for n in runLengths + [3000] {
                    var d = [Double](repeating: -7, count: n + 1), f = [Float](repeating: -7, count: n + 1)
                    let xf = xs.map { Float($0) }, yf = ys.map { Float($0) }
                    d.withUnsafeMutableBufferPointer { VectorMaps.run(operation, xs, sa, ys, sb, $0.baseAddress!, count: n, lanes: lanes) }
                    f.withUnsafeMutableBufferPointer { VectorMaps.run(operation, xf, sa, yf, sb, $0.baseAddress!, count: n, lanes: lanes) }
                    let wrong64 = (0..<n).filter { !same(d[$0], swift64(xs[$0 * sa], ys[$0 * sb])) }
                    let wrong32 = (0..<n).filter { !same(f[$0], swift32(xf[$0 * sa], yf[$0 * sb])) }
                    #expect(wrong64.isEmpty && wrong32.isEmpty, "\(operation) \(lanes) strides (\(sa), \(sb)) n \(n): \(wrong64.prefix(3)) \(wrong32.prefix(3))")
                    #expect(d[n] == -7 && f[n] == -7, "a run of \(n) wrote past its end")
                }
            }
        }
    }

    @Test func theWidestCompilationIsTheOneTheMapsUse() {
        let xs = arguments(count: 4096)
        var viaMap = [Double](repeating: 0, count: xs.count), viaRun = viaMap
        xs.withUnsafeBufferPointer { s in
            viaMap.withUnsafeMutableBufferPointer { Double.map(.tanh, s.baseAddress!, stride: 1, $0.baseAddress!, count: xs.count) }
            viaRun.withUnsafeMutableBufferPointer { VectorMaps.run(.tanh, s.baseAddress!, $0.baseAddress!, count: xs.count, lanes: .baseline) }
        }
        #expect(zip(viaMap, viaRun).allSatisfy { $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN })
    }
}
