// The BLAS kernels, chosen before the first matrix product or factorisation. Debian's OpenBLAS
// picks its kernels by CPU model when the library loads; on processors newer than the build
// (for example recent Xeons) it falls back to its generic SSE3 "Prescott" kernels, which run
// matrix products about three times slower than the AVX2 or AVX-512 kernels the processor
// supports. OpenBLAS exports its dynamic-architecture initialisation, so the choice can be made
// again: when OpenBLAS chose one of its SSE-era cores on a processor with AVX2 or AVX-512,
// Fluxion re-initialises it with the core for the best instruction set the processor reports
// (/proc/cpuinfo), and says so once on standard error.
//
// Left to the user: an explicit OPENBLAS_CORETYPE is always respected, and
// FLUXION_KEEP_BLAS_CORE=1 keeps whatever OpenBLAS chose. Only the SSE-era fallbacks are
// replaced — a core OpenBLAS picked for an AVX processor on purpose is never second-guessed.
// The switch happens once, before any BLAS or LAPACK call of Fluxion's (`BLASSetup.done`), while
// no other thread can be inside OpenBLAS on Fluxion's behalf.

import CBLAS
import Foundation

/// The choice of OpenBLAS's kernels, made once before the first BLAS or LAPACK call.
@usableFromInline enum BLASSetup {
    /// Runs once, before the first matrix product or factorisation.
    @usableFromInline static let done: Void = {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["FLUXION_KEEP_BLAS_CORE"] == nil,
              let detected = currentCore,
              let flags = processorFlags(),
              let better = betterCore(than: detected, flags: flags) else { return }
        if switchCore(to: better) {
            FileHandle.standardError.write(Data("""
                Fluxion: OpenBLAS chose its generic '\(detected)' kernels on a processor with \
                \(better == "Haswell" ? "AVX2" : "AVX-512"); it now uses its '\(better)' kernels, several times \
                faster for matrix products. (OPENBLAS_CORETYPE chooses them yourself; \
                FLUXION_KEEP_BLAS_CORE=1 keeps OpenBLAS's choice.)\n
                """.utf8))
        }
    }()

    /// The name of the kernels OpenBLAS is using, e.g. "Haswell".
    static var currentCore: String? { openblas_get_corename().map { String(cString: $0) } }

    /// The instruction-set flags of the first processor in /proc/cpuinfo.
    static func processorFlags() -> Set<String>? {
        guard let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        return Set(line.split(separator: " ").map(String.init))
    }

    /// The core to use instead of `detected` on a processor with `flags`, or nil to keep it:
    /// only OpenBLAS's SSE-era cores are replaced, by Cooperlake (AVX-512 with bfloat16),
    /// SkylakeX (AVX-512) or Haswell (AVX2 with FMA).
    static func betterCore(than detected: String, flags: Set<String>) -> String? {
        let sseEra = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
                      "northwood", "banias", "athlon", "opteron", "opteron_sse3", "barcelona", "nano"]
        guard sseEra.contains(detected.lowercased()) else { return nil }
        let avx512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        if avx512 && flags.contains("avx512_bf16") { return "Cooperlake" }
        if avx512 { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// Re-initialises OpenBLAS with the kernels named `core` (one of OpenBLAS's core names);
    /// true if OpenBLAS now reports them. No BLAS call may run meanwhile.
    static func switchCore(to core: String) -> Bool {
        // Looked up at run time: only OpenBLAS's dynamic-architecture builds (Debian's among
        // them) have these, and without them there is nothing to choose.
        typealias Entry = @convention(c) () -> Void
        guard let initSymbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init"),
              let quitSymbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit") else { return false }
        let previous = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        setenv("OPENBLAS_CORETYPE", core, 1)
        unsafeBitCast(quitSymbol, to: Entry.self)()
        unsafeBitCast(initSymbol, to: Entry.self)()
        if let previous { setenv("OPENBLAS_CORETYPE", previous, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
        return currentCore?.lowercased() == core.lowercased()
    }
}
