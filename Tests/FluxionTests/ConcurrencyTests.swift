// Transforms keep their state per thread: several threads may differentiate and batch at once
// without seeing each other's tracers.

import Dispatch
import Foundation
import Fluxion
import Synchronization
import Testing

@Suite struct ConcurrencyTests {
    /// Each thread runs nested transforms of its own function; every result must equal the
    /// one computed alone on the main thread.
    @Test func transformsRunOnSeveralThreadsAtOnce() throws {
        let threads = 4
        @Sendable func work(_ t: Int) throws -> [Double] {
            let scale = Double(t + 1)
            let x = NDArray([0.3, -0.7, 1.1], dtype: .float64)
            let f = { (x: NDArray) in (sin(x * scale) * x).sum() }
            var results: [Double] = []
            for _ in 0..<20 {
                let g = try grad(f)(x)
                let h = try hessian(f)(x)
                let perRow = try vmap(grad(f))(NDArray.ones([2, 3], dtype: .float64) * x)
                results = g.doubles + h.doubles + perRow.doubles
            }
            return results
        }
        let expected = try (0..<threads).map(work)
        let collected = Mutex([[Double]](repeating: [], count: threads))
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            do {
                let r = try work(t)
                collected.withLock { $0[t] = r }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        let got = collected.withLock { $0 }
        for t in 0..<threads {
            #expect(got[t] == expected[t], "thread \(t) computed different derivatives")
        }
    }

    /// The facade's tape is shared by every thread; graphs built and swept on different threads
    /// at once must not disturb each other (and grad modes stay per thread).
    @Test func tensorGraphsOnSeveralThreadsAtOnce() throws {
        let threads = 4
        @Sendable func work(_ t: Int) throws -> [Double] {
            let w = try Tensor(NDArray([0.5, -0.25, Double(t)], dtype: .float64), requiresGrad: true)
            var results: [Double] = []
            for step in 0..<50 {
                let loss = (tanh(w * Double(step % 5 + 1)) ** 2).sum()
                try loss.backward()
                let unrecorded = noGrad { w * 2 }
                guard !unrecorded.requiresGrad, isGradEnabled else { throw AutogradError.noGradFn(file: "", line: 0) }
                results = w.grad!.value.doubles
            }
            return results
        }
        let expected = try (0..<threads).map(work)
        let collected = Mutex([[Double]](repeating: [], count: threads))
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            do {
                let r = try work(t)
                collected.withLock { $0[t] = r }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        let got = collected.withLock { $0 }
        for t in 0..<threads {
            #expect(got[t] == expected[t], "thread \(t) accumulated different gradients")
        }
    }
}

/// Backward passes on many threads into shared leaves: `.grad` accumulation is atomic, as in
/// PyTorch. `FLUXION_STRESS_RUNS` repeats the whole stress (default 3).
@Suite struct SharedLeafStressTests {
    @Test("8 threads × 300 backward passes into shared leaves lose no update")
    func sharedLeaves() throws {
        let runs = Int(ProcessInfo.processInfo.environment["FLUXION_STRESS_RUNS"] ?? "") ?? 3
        let (threads, steps) = (8, 300)
        let x = NDArray([1.0, 2.0, 3.0], dtype: .float64)
        for run in 0..<runs {
            let w = try Tensor(NDArray.zeros([3], dtype: .float64), requiresGrad: true)
            let b = try Tensor(NDArray.zeros([], dtype: .float64), requiresGrad: true)
            // A non-leaf shared by every thread, swept concurrently with retainGraph.
            let shared = w * 2
            let failures = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                do {
                    for _ in 0..<steps {
                        try (w * Tensor(x) + b).sum().backward()
                        try (shared * Tensor(x)).sum().backward(retainGraph: true)
                    }
                } catch {
                    failures.withLock { $0 += 1 }
                }
            }
            #expect(failures.withLock { $0 } == 0)
            let n = Double(threads * steps)
            // d/dw [(w·x + b)·1 + (2w·x)] = 3x per pass; d/db = 3 per pass (b broadcast over 3 elements).
            #expect(w.grad?.value.doubles == x.doubles.map { 3 * n * $0 }, "run \(run)")
            #expect(b.grad?.value.doubles == [3 * n], "run \(run)")
        }
    }

    @Test(".grad accumulates into the same tensor, which a reference sees")
    func accumulatesInPlace() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        let y = (x * 2).sum()
        try y.backward(retainGraph: true)
        let first = try #require(x.grad)
        try y.backward()
        #expect(x.grad === first)
        #expect(try first.floats() == [4, 4])
        // With createGraph the sum is a new tensor with history.
        let z = try Tensor([1.0, 2.0], requiresGrad: true)
        try (z * z).sum().backward(createGraph: true)
        let g1 = try #require(z.grad)
        try (z * z).sum().backward(createGraph: true)
        #expect(z.grad !== g1 && z.grad?.requiresGrad == true)
        #expect(z.grad?.value.floats == [4, 8])
    }
}
