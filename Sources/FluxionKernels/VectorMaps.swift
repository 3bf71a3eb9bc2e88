// exp, tanh and sigmoid over contiguous runs of float32 and float64, and the four arithmetic
// operations over runs (either operand possibly one value for all), from the C target
// CVectorMaps: the same element functions as FloatingElement.swift and Float64Functions.swift,
// spelled in C so that they can be compiled three times (baseline x86-64, AVX2, AVX-512) and
// the widest one the processor runs chosen when the process starts. Swift compiles a library
// for one instruction set only (baseline x86-64: four float32 or two float64 lanes per
// operation); over large arrays the functions are compute-bound there, and 8 or 16 lanes make
// them memory-bound again, and the fused loops' blocks, which stay in the first-level cache,
// run the arithmetic of derivative chains four times wider.
//
// Every compilation performs the same IEEE operations in the same order (no fused
// multiply-adds), so the bits do not depend on the processor and equal the one-element forms'
// (`Float.loopExp`, …), which fused loops and the register path use; VectorMapsTests checks
// each compilation this processor runs against them.

import CVectorMaps

/// The element functions compiled for the widest vector instructions this processor has.
public enum VectorMaps {
    /// An instruction set the functions are compiled for, widest last.
    public enum Lanes: Int32, CaseIterable, Sendable, Comparable {
        /// Baseline x86-64 (SSE2: 4 float32 or 2 float64 lanes), and every other architecture.
        case baseline
        /// AVX2: 8 float32 or 4 float64 lanes.
        case avx2
        /// AVX-512: 16 float32 or 8 float64 lanes.
        case avx512

        public static func < (a: Lanes, b: Lanes) -> Bool { a.rawValue < b.rawValue }
    }

    /// The widest instruction set this processor runs: the one `Float.map` and `Double.map` use.
    public static let widest = Lanes(rawValue: fluxion_widest_lanes()) ?? .baseline

    /// The compilation the maps use.
    static let chosen = fluxion_vector_maps_for(widest.rawValue)!.pointee

    /// Whether `function` has a compiled run here (exp, tanh and sigmoid do).
    @inlinable public static func covers(_ function: ElementaryFunction) -> Bool {
        function == .exp || function == .tanh || function == .sigmoid
    }

    /// `function` (one that `covers`) over `count` contiguous float32s from `source` into
    /// `destination` (which may be `source`), compiled for `lanes` (no wider than `widest`).
    public static func run(_ function: ElementaryFunction, _ source: UnsafePointer<Float>,
                           _ destination: UnsafeMutablePointer<Float>, count: Int, lanes: Lanes? = nil) {
        let maps = lanes.map { fluxion_vector_maps_for($0.rawValue)!.pointee } ?? chosen
        switch function {
        case .exp: maps.exp_f32(source, destination, count)
        case .tanh: maps.tanh_f32(source, destination, count)
        case .sigmoid: maps.sigmoid_f32(source, destination, count)
        default: fatalError("VectorMaps has no compiled run of \(function)")
        }
    }

    /// `function` (one that `covers`) over `count` contiguous float64s from `source` into
    /// `destination` (which may be `source`), compiled for `lanes` (no wider than `widest`).
    public static func run(_ function: ElementaryFunction, _ source: UnsafePointer<Double>,
                           _ destination: UnsafeMutablePointer<Double>, count: Int, lanes: Lanes? = nil) {
        let maps = lanes.map { fluxion_vector_maps_for($0.rawValue)!.pointee } ?? chosen
        switch function {
        case .exp: maps.exp_f64(source, destination, count)
        case .tanh: maps.tanh_f64(source, destination, count)
        case .sigmoid: maps.sigmoid_f64(source, destination, count)
        default: fatalError("VectorMaps has no compiled run of \(function)")
        }
    }

    /// `kernel` (one whose `arithmetic` is set) over `count` elements, `destination[k] =
    /// a[k·strideA] ∘ b[k·strideB]`, on the widest vectors, when the element type is float32 or
    /// float64 and the strides are 0 or 1 (not both 0); false, having done nothing, otherwise.
    @inlinable @inline(__always)
    public static func zip<K: BinaryKernel>(_ kernel: K, _ a: UnsafePointer<K.Input>, _ strideA: Int, _ b: UnsafePointer<K.Input>,
                                            _ strideB: Int, _ destination: UnsafeMutablePointer<K.Output>, count: Int) -> Bool {
        guard let operation = kernel.arithmetic, count >= 8, strideA | strideB == 1, strideA & ~1 == 0, strideB & ~1 == 0 else {
            return false
        }
        if K.Input.self == Double.self && K.Output.self == Double.self {
            run(operation, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), strideA,
                UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), strideB,
                UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Double.self), count: count)
            return true
        }
        if K.Input.self == Float.self && K.Output.self == Float.self {
            run(operation, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), strideA,
                UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), strideB,
                UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Float.self), count: count)
            return true
        }
        return false
    }

    /// `operation` over float64 runs (see `zip`), compiled for `lanes` (default: `widest`).
    public static func run(_ operation: Arithmetic, _ a: UnsafePointer<Double>, _ strideA: Int, _ b: UnsafePointer<Double>,
                           _ strideB: Int, _ destination: UnsafeMutablePointer<Double>, count: Int, lanes: Lanes? = nil) {
        let maps = lanes.map { fluxion_vector_maps_for($0.rawValue)!.pointee } ?? chosen
        let f = switch operation {
        case .add: maps.add_f64
        case .sub: maps.sub_f64
        case .mul: maps.mul_f64
        case .div: maps.div_f64
        }
        f!(a, strideA, b, strideB, destination, count)
    }

    /// `operation` over float32 runs (see `zip`), compiled for `lanes` (default: `widest`).
    public static func run(_ operation: Arithmetic, _ a: UnsafePointer<Float>, _ strideA: Int, _ b: UnsafePointer<Float>,
                           _ strideB: Int, _ destination: UnsafeMutablePointer<Float>, count: Int, lanes: Lanes? = nil) {
        let maps = lanes.map { fluxion_vector_maps_for($0.rawValue)!.pointee } ?? chosen
        let f = switch operation {
        case .add: maps.add_f32
        case .sub: maps.sub_f32
        case .mul: maps.mul_f32
        case .div: maps.div_f32
        }
        f!(a, strideA, b, strideB, destination, count)
    }
    /// `c[m×n] = a[m×k] · b[k×n]` for float32 or float64: element (i, p) of `a` at
    /// `a[i·rowStrideA + p·columnStrideA]`, rows of `b` contiguous and `ldb` elements apart, `c`
    /// contiguous; each element's products added in order from zero (no fused multiply-adds).
    static func product(_ dtype: DType, m: Int, n: Int, k: Int, _ a: UnsafeRawPointer, rowStrideA: Int, columnStrideA: Int,
                        _ b: UnsafeRawPointer, ldb: Int, into c: UnsafeMutableRawPointer) {
        switch dtype {
        case .float64:
            chosen.product_f64!(m, n, k, a.assumingMemoryBound(to: Double.self), rowStrideA, columnStrideA,
                                b.assumingMemoryBound(to: Double.self), ldb, c.assumingMemoryBound(to: Double.self))
        default:
            chosen.product_f32!(m, n, k, a.assumingMemoryBound(to: Float.self), rowStrideA, columnStrideA,
                                b.assumingMemoryBound(to: Float.self), ldb, c.assumingMemoryBound(to: Float.self))
        }
    }

    /// Adds `rows` rows of `count` elements of `x` (float32 or float64, the first at element
    /// `first`, rows `rowStride` elements apart) into the float64 accumulators `sum`, row by
    /// row; with `error`, float64 additions keep their rounding error there (TwoSum).
    static func sumRows(_ x: UnsafeMutableRawPointer, dtype: DType, from first: Int, rows: Int, rowStride: Int, count: Int,
                        into sum: UnsafeMutablePointer<Double>, error: UnsafeMutablePointer<Double>?) {
        switch dtype {
        case .float64:
            chosen.sum_rows_f64!(x.assumingMemoryBound(to: Double.self) + first, rows, rowStride, count, sum, error)
        default:
            chosen.sum_rows_f32!(x.assumingMemoryBound(to: Float.self) + first, rows, rowStride, count, sum)
        }
    }
}

/// The four arithmetic operations, which `VectorMaps` runs on the widest vectors.
public enum Arithmetic: Sendable {
    /// a + b, a − b, a·b, a / b.
    case add, sub, mul, div
}
