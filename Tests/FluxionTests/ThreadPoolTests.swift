// Fluxion's worker threads and the matrix products cut into pieces for them: every task index
// runs exactly once, from any number of calling threads and from inside a task; blocked
// products equal plain loops for every cut (rows, inner dimension, a copied transposed weight)
// including ragged last blocks; small products add each element's products in order, exactly as
// a plain loop does.

import Dispatch
import Foundation
import Synchronization
import Testing
@testable import FluxionKernels

@Suite("Thread pool and blocked products")
struct ThreadPoolTests {
    /// Counts how often each index ran.
    final class Tally: Sendable {
        let counts: Mutex<[Int]>
        init(_ n: Int) { counts = Mutex([Int](repeating: 0, count: n)) }
        func hit(_ i: Int) { counts.withLock { $0[i] += 1 } }
        var all: [Int] { counts.withLock { $0 } }
    }

    @Test("every task index runs exactly once", arguments: [0, 1, 2, 3, 7, 64])
    func eachIndexOnce(tasks: Int) {
        for _ in 0..<200 {
            let tally = Tally(Swift.max(tasks, 1))
            ThreadPool.shared.run(tasks: tasks) { tally.hit($0) }
            #expect(tally.all == (0..<Swift.max(tasks, 1)).map { $0 < tasks ? 1 : 0 })
        }
    }

    @Test("loops from several threads at once, and loops inside tasks, each run once")
    func concurrentAndNested() {
        let callers = 4, rounds = 300
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: callers) { _ in
            for round in 0..<rounds {
                let outer = Tally(3), inner = Tally(3 * 5)
                ThreadPool.shared.run(tasks: 3) { i in
                    outer.hit(i)
                    ThreadPool.shared.run(tasks: 5) { j in inner.hit(i * 5 + j) }
                }
                // Sleeping now and then lets the workers fall asleep between loops.
                if round % 50 == 0 { usleep(3000) }
                if outer.all != [1, 1, 1] || inner.all != [Int](repeating: 1, count: 15) {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    @Test("parallel ranges cover 0..<count without overlap", arguments: [1, 2, 5, 1000, 1 << 19])
    func parallelRanges(count: Int) {
        let covered = Mutex([Int](repeating: 0, count: count))
        Loops.parallelRanges(count: count, costPerElement: 1) { start, end in
            covered.withLock { for i in start..<end { $0[i] += 1 } }
        }
        #expect(covered.withLock { $0 } == [Int](repeating: 1, count: count))
    }

    /// `a` [m, k] · `b` [k, n] by plain loops, in float64.
    func reference(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for p in 0..<k { for j in 0..<n { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        return c
    }

    func array(_ values: [Double], _ shape: [Int]) -> StridedArray {
        let storage = Storage.allocate(.float64, count: values.count)
        values.withUnsafeBufferPointer { storage.pointer(Double.self).update(from: $0.baseAddress!, count: values.count) }
        return StridedArray(contiguous: storage, shape: shape)
    }

    func values(_ x: StridedArray) -> [Double] {
        let c = x.contiguous()
        return Array(UnsafeBufferPointer(start: c.pointer(Double.self), count: x.count))
    }

    /// Products of the shapes the cuts take — rows (NN and a transposed small weight), inner
    /// dimension (Aᵀ·B) — with sizes that leave ragged last blocks, against plain loops.
    @Test("blocked products equal plain loops",
          arguments: [(1031, 64, 64), (300, 48, 70), (2048, 33, 64), (64, 64, 1500), (7, 5, 4)])
    func blockedProducts(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var generator = SystemRandomNumberGenerator()
        let a = (0..<(m * k)).map { _ in Double.random(in: -1...1, using: &generator) }
        let b = (0..<(k * n)).map { _ in Double.random(in: -1...1, using: &generator) }
        let expected = reference(a, b, m: m, n: n, k: k)
        let tolerance = 1e-12 * Double(k)
        func check(_ got: StridedArray, _ label: String) {
            let difference = zip(values(got), expected).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= tolerance, "\(label) [\(m), \(k)]·[\(k), \(n)]: off by \(difference)")
        }
        // Plain operands.
        check(GEMM.matmul(array(a, [m, k]), array(b, [k, n])), "A·B")
        // B stored transposed ([n, k]) and read through a transposed view.
        var bt = [Double](repeating: 0, count: k * n)
        for p in 0..<k { for j in 0..<n { bt[j * k + p] = b[p * n + j] } }
        let bView = array(bt, [n, k]).view(shape: [k, n], strides: [1, k])
        check(GEMM.matmul(array(a, [m, k]), bView), "A·Bᵀ-view")
        // A stored transposed ([k, m]), as a weight gradient reads its batch.
        var at = [Double](repeating: 0, count: m * k)
        for i in 0..<m { for p in 0..<k { at[p * m + i] = a[i * k + p] } }
        let aView = array(at, [k, m]).view(shape: [m, k], strides: [1, m])
        check(GEMM.matmul(aView, array(b, [k, n])), "Aᵀ-view·B")
    }

    /// Small products (`GEMM.smallWork`) in Fluxion's own loop: a batch read through a
    /// transposed view, the right operand broadcast over the batch, in float32 and float64 —
    /// each element bit for bit a plain loop's sum in order, whatever the edge tiles.
    @Test("small products equal plain loops bit for bit, batched and strided",
          arguments: [(10, 40, 40), (1, 7, 3), (1, 40, 20), (9, 1, 5), (32, 32, 32), (6, 45, 11), (4, 8, 100)])
    func smallProducts(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        #expect(m * n * k <= GEMM.smallWork)
        smallProducts(m, n, k, Double.self)
        smallProducts(m, n, k, Float.self)
    }

    func smallProducts<T: BinaryFloatingPoint & Element>(_ m: Int, _ n: Int, _ k: Int, _: T.Type) {
        let batches = 6
        var generator = SystemRandomNumberGenerator()
        let a = (0..<(batches * m * k)).map { _ in T(Double.random(in: -1...1, using: &generator)) }
        let b = (0..<(k * n)).map { _ in T(Double.random(in: -1...1, using: &generator)) }
        // Each batch element of A stored transposed ([k, m]).
        var at = a
        for t in 0..<batches {
            for i in 0..<m { for p in 0..<k { at[t * m * k + p * m + i] = a[t * m * k + i * k + p] } }
        }
        func stored(_ values: [T]) -> StridedArray {
            let storage = Storage.allocate(T.dtype, count: values.count)
            values.withUnsafeBufferPointer { storage.pointer(T.self).update(from: $0.baseAddress!, count: values.count) }
            return StridedArray(contiguous: storage, shape: [values.count])
        }
        let aView = stored(at).view(shape: [2, 3, m, k], strides: [3 * m * k, m * k, 1, m])
        let bView = stored(b).view(shape: [2, 3, k, n], strides: [0, 0, n, 1])
        let product = GEMM.matmul(aView, bView)
        let got = Array(UnsafeBufferPointer(start: product.pointer(T.self), count: product.count))
        for t in 0..<batches {
            var expected = [T](repeating: 0, count: m * n)
            for i in 0..<m { for p in 0..<k { for j in 0..<n { expected[i * n + j] += a[t * m * k + i * k + p] * b[p * n + j] } } }
            #expect(Array(got[(t * m * n)..<((t + 1) * m * n)]) == expected, "\(T.self) [\(m), \(k)]·[\(k), \(n)], batch element \(t)")
        }
    }
}
