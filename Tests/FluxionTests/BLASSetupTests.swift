// The choice of OpenBLAS's kernels: which detected cores Fluxion replaces, and matrix products
// that stay right when the kernels are switched (in a child process, so that no other test is
// inside OpenBLAS meanwhile).

import Foundation
import Testing
import Fluxion
@testable import FluxionKernels

@Suite("BLAS kernels chosen for the processor")
struct BLASSetupTests {
    @Test("only OpenBLAS's SSE-era fallbacks are replaced, by the best core the flags allow")
    func choice() {
        let avx2: Set = ["sse3", "avx", "avx2", "fma"]
        let avx512 = avx2.union(["avx512f", "avx512bw", "avx512dq", "avx512vl"])
        #expect(BLASSetup.betterCore(than: "Prescott", flags: avx512) == "SkylakeX")
        #expect(BLASSetup.betterCore(than: "Prescott", flags: avx512.union(["avx512_bf16"])) == "Cooperlake")
        #expect(BLASSetup.betterCore(than: "Nehalem", flags: avx2) == "Haswell")
        #expect(BLASSetup.betterCore(than: "Core2", flags: ["sse3", "avx"]) == nil)
        #expect(BLASSetup.betterCore(than: "Haswell", flags: avx512) == nil)
        #expect(BLASSetup.betterCore(than: "Zen", flags: avx512) == nil)
        #expect(BLASSetup.betterCore(than: "Prescott", flags: ["avx2"]) == nil, "AVX2 without FMA is not Haswell")
    }

    @Test("matrix products are right before and after switching OpenBLAS's kernels")
    func switching() async {
        await #expect(processExitsWith: .success) {
            // Products of awkward sizes (not multiples of any kernel's block), both dtypes, with
            // a transposed operand, against sums written out.
            func check() -> Bool {
                for dtype in [DType.float32, .float64] {
                    let a = NDArray.normal([37, 53], key: RandomKey(seed: 1), dtype: dtype)
                    let b = NDArray.normal([29, 53], key: RandomKey(seed: 2), dtype: dtype)
                    let product = matmul(a, b.mT).doubles
                    let (x, y) = (a.doubles, b.doubles)
                    for i in 0..<37 {
                        for j in 0..<29 {
                            var sum = 0.0
                            for k in 0..<53 { sum += x[i * 53 + k] * y[j * 53 + k] }
                            if Swift.abs(product[i * 29 + j] - sum) > (dtype == .float32 ? 1e-4 : 1e-12) * 53 { return false }
                        }
                    }
                }
                return true
            }
            guard check() else { exit(2) }
            let flags = BLASSetup.processorFlags() ?? []
            let cores = ["Prescott"] + (flags.contains("avx2") && flags.contains("fma") ? ["Haswell"] : [])
                + (flags.contains("avx512f") && flags.contains("avx512bw") ? ["SkylakeX"] : [])
            for core in cores {
                guard BLASSetup.switchCore(to: core) else { exit(3) }
                guard check() else { exit(4) }
            }
            exit(0)
        }
    }
}
