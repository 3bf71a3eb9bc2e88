// Transforms keep their state per thread: several threads may differentiate and batch at once
// without seeing each other's tracers.

import Dispatch
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
