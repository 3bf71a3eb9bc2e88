// A check of the BLAS build at the first matrix product. Debian's OpenBLAS picks its kernels
// by CPU model when the library loads; on processors newer than the build (for example recent
// Xeons) it falls back to the generic "Prescott" SSE3 kernels, which run matrix products
// about three times slower than the AVX-512 ones the processor supports. The choice is made
// before any Fluxion code runs, so it cannot be corrected here; the check says once how to
// correct it: the environment variable OPENBLAS_CORETYPE.

import CBLAS
import Foundation

enum BLASCheck {
    /// Runs once, at the first matrix product.
    static let done: Void = {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let name = openblas_get_corename().map({ String(cString: $0) }),
              ["prescott", "core2", "nehalem", "katmai", "coppermine", "northwood", "banias"].contains(name.lowercased()),
              let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        let flags = Set(cpu.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let better = flags.contains("avx512f") ? "SkylakeX" : (flags.contains("avx2") ? "Haswell" : nil)
        guard let better else { return }
        FileHandle.standardError.write(Data("""
            Fluxion: OpenBLAS chose its generic '\(name)' kernels, but this processor supports \
            \(better == "SkylakeX" ? "AVX-512" : "AVX2"): matrix products run several times slower than they \
            can. Fix: run with OPENBLAS_CORETYPE=\(better) in the environment.\n
            """.utf8))
    }()
}
