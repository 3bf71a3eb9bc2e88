// exp, tanh and sigmoid over contiguous runs of float32 and float64, from the C target
// CVectorMaps: the same element functions as FloatingElement.swift and Float64Functions.swift,
// spelled in C so that they can be compiled three times (baseline x86-64, AVX2, AVX-512) and
// the widest one the processor runs chosen when the process starts. Swift compiles a library
// for one instruction set only (baseline x86-64: four float32 or two float64 lanes per
// operation); over large arrays these functions are compute-bound there, and 8 or 16 lanes make
// them memory-bound again.
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
}
