// Random numbers: the Threefry-2x32 cipher against its published test vectors, reproducibility
// from keys, independence of split keys, and the sample statistics of normal, uniform and
// Bernoulli draws (loose bounds, many standard errors wide, so they do not flake).

import Foundation
import Testing
import Fluxion
import enum FluxionKernels.Threefry

private func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }

private func variance(_ v: [Double]) -> Double {
    let m = mean(v)
    return v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)
}

private func correlation(_ a: [Double], _ b: [Double]) -> Double {
    let ma = mean(a), mb = mean(b)
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for i in a.indices {
        sab += (a[i] - ma) * (b[i] - mb)
        saa += (a[i] - ma) * (a[i] - ma)
        sbb += (b[i] - mb) * (b[i] - mb)
    }
    return sab / (saa * sbb).squareRoot()
}

@Suite struct RandomTests {
    /// The known-answer vectors of Random123 for Threefry-2x32 with 20 rounds (also used by JAX).
    @Test func threefryMatchesPublishedVectors() {
        let zero = Threefry.hash(0, 0, 0, 0)
        #expect(zero.0 == 0x6B20_0159 && zero.1 == 0x99BA_4EFE)
        let ones = Threefry.hash(0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF)
        #expect(ones.0 == 0x1CB9_96FC && ones.1 == 0xBB00_2BE7)
        let pi = Threefry.hash(0x1319_8A2E, 0x0370_7344, 0x243F_6A88, 0x85A3_08D3)
        #expect(pi.0 == 0xC492_3A9C && pi.1 == 0x483D_F7A0)
    }

    @Test(arguments: floatDTypes)
    func sameKeySameValues(_ dtype: DType) {
        let key = RandomKey(seed: 42)
        #expect(NDArray.normal([50], key: key, dtype: dtype).doubles == NDArray.normal([50], key: key, dtype: dtype).doubles)
        #expect(NDArray.uniform([50], key: key, dtype: dtype).doubles == NDArray.uniform([50], key: key, dtype: dtype).doubles)
        #expect(NDArray.normal([50], key: RandomKey(seed: 42), dtype: dtype).doubles == NDArray.normal([50], key: key, dtype: dtype).doubles)
        #expect(key == RandomKey(seed: 42))
        // A sample's shape does not change its leading values.
        #expect(Array(NDArray.uniform([10], key: key, dtype: dtype).doubles[0..<4]) == NDArray.uniform([4], key: key, dtype: dtype).doubles)
        #expect(NDArray.normal([2, 5], key: key, dtype: dtype).doubles == NDArray.normal([10], key: key, dtype: dtype).doubles)
    }

    @Test(arguments: floatDTypes)
    func differentKeysDiffer(_ dtype: DType) {
        let a = NDArray.normal([100], key: RandomKey(seed: 1), dtype: dtype).doubles
        let b = NDArray.normal([100], key: RandomKey(seed: 2), dtype: dtype).doubles
        #expect(zip(a, b).filter { $0 == $1 }.count == 0)
        #expect(RandomKey(seed: 1) != RandomKey(seed: 2))
        #expect(RandomKey(seed: 0) != RandomKey(seed: 1 << 32))
    }

    @Test func splitKeysAreIndependent() {
        let key = RandomKey(seed: 7)
        let (k1, k2) = key.split()
        #expect(k1 != k2 && k1 != key && k2 != key)
        let (again1, again2) = key.split()
        #expect(again1 == k1 && again2 == k2)
        let many = key.split(into: 4)
        #expect(Set(many).count == 4)
        #expect(many[0] == k1 && many[1] == k2)
        #expect(key.split(into: 0).isEmpty)

        let n = 10_000
        let streams = [key, k1, k2, many[2], many[3], k1.split().0].map { NDArray.normal([n], key: $0, dtype: .float64).doubles }
        for i in streams.indices {
            for j in streams.indices where j > i {
                // The standard error of a correlation of independent samples is 1/√n = 0.01.
                #expect(Swift.abs(correlation(streams[i], streams[j])) < 0.05, "streams \(i) and \(j)")
            }
        }
    }

    @Test(arguments: floatDTypes)
    func normalStatistics(_ dtype: DType) {
        // 100k samples in float64; float32 rounds the same generator's output, so fewer do.
        let n = dtype == .float64 ? 100_000 : 20_000
        let x = NDArray.normal([n], key: RandomKey(seed: 3), dtype: dtype)
        #expect(x.dtype == dtype)
        #expect(x.shape == [n])
        let v = x.doubles
        #expect(v.allSatisfy { $0.isFinite })
        // Bounds of about five standard errors at 20k samples.
        #expect(Swift.abs(mean(v)) < 0.035)
        #expect(Swift.abs(variance(v).squareRoot() - 1) < 0.025)
        // The share within one standard deviation is erf(1/√2) ≈ 0.6827.
        let within = Double(v.filter { Swift.abs($0) < 1 }.count) / Double(n)
        #expect(Swift.abs(within - Foundation.erf(1 / 2.0.squareRoot())) < 0.015)
        // Consecutive samples (one Box–Muller pair) are uncorrelated.
        let even = stride(from: 0, to: n, by: 2).map { v[$0] }, odd = stride(from: 1, to: n, by: 2).map { v[$0] }
        #expect(Swift.abs(correlation(even, odd)) < 0.03)
    }

    @Test(arguments: floatDTypes)
    func uniformStatistics(_ dtype: DType) {
        let n = 50_000
        let v = NDArray.uniform([n], low: -2, high: 3, key: RandomKey(seed: 4), dtype: dtype).doubles
        #expect(v.allSatisfy { $0 >= -2 && $0 < 3 })
        #expect(Swift.abs(mean(v) - 0.5) < 0.04)
        #expect(Swift.abs(variance(v) - 25.0 / 12) < 0.07)
        var bins = [Int](repeating: 0, count: 10)
        for x in v { bins[Swift.min(Int((x + 2) * 2), 9)] += 1 }
        #expect(bins.allSatisfy { Swift.abs(Double($0) / Double(n) - 0.1) < 0.012 }, "\(bins)")

        let unit = NDArray.uniform([1000], key: RandomKey(seed: 5), dtype: dtype).doubles
        #expect(unit.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    @Test func bernoulliFrequency() {
        let n = 50_000
        let x = NDArray.bernoulli([n], p: 0.3, key: RandomKey(seed: 6))
        #expect(x.dtype == .float32)
        let v = x.doubles
        #expect(v.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(Swift.abs(mean(v) - 0.3) < 0.01)
        #expect(NDArray.bernoulli([100], p: 0, key: RandomKey(seed: 6)).doubles.allSatisfy { $0 == 0 })
        #expect(NDArray.bernoulli([100], p: 1, key: RandomKey(seed: 6)).doubles.allSatisfy { $0 == 1 })
        let mask = NDArray.bernoulli([1000], p: 0.5, key: RandomKey(seed: 8), dtype: .bool)
        #expect(mask.dtype == .bool)
        #expect(Swift.abs(Double(mask.bools.filter { $0 }.count) - 500) < 80)
    }

    @Test func shapes() {
        let key = RandomKey(seed: 9)
        #expect(NDArray.normal([2, 3], key: key).shape == [2, 3])
        #expect(NDArray.normal([2, 3], key: key).dtype == .float32)
        #expect(NDArray.normal([], key: key).shape == [])
        #expect(NDArray.normal([0, 4], key: key).shape == [0, 4])
        #expect(NDArray.uniform([3, 0], key: key, dtype: .float64).shape == [3, 0])
        #expect(NDArray.normal([7], key: key).count == 7)
    }

    /// The only test that draws from the process-wide default stream.
    @Test func seedMakesTheDefaultStreamReproducible() {
        RandomKey.seed(1234)
        let a = NDArray.normal([16]).doubles, b = NDArray.uniform([16]).doubles
        RandomKey.seed(1234)
        let c = NDArray.normal([16]).doubles, d = NDArray.uniform([16]).doubles
        #expect(a == c)
        #expect(b == d)
        #expect(NDArray.normal([16]).doubles != a)
        RandomKey.seed(4321)
        #expect(NDArray.normal([16]).doubles != a)
    }
}

/// Keys as arrays: ordinary inputs that transforms carry (JAX's key arrays).
@Suite struct KeyArrayTests {
    @Test("a key array draws what its RandomKey draws; splitKeys splits as RandomKey.split")
    func arraysAgreeWithKeys() {
        let key = RandomKey(seed: 42)
        #expect(NDArray.normal([4], key: key.array, dtype: .float64).doubles == NDArray.normal([4], key: key, dtype: .float64).doubles)
        let split = splitKeys(key.array, into: 3)
        #expect(split.shape == [3, 2] && split.dtype == .int64)
        for (i, k) in key.split(into: 3).enumerated() {
            #expect(split[i].ints == k.array.ints)
        }
        // Several keys at once: one draw per key, side by side.
        let several = NDArray.uniform([2], key: split, dtype: .float64)
        #expect(several.shape == [3, 2])
        #expect(several[1].doubles == NDArray.uniform([2], key: key.split(into: 3)[1], dtype: .float64).doubles)
    }

    @Test("vmap over mapped keys draws with each key, whatever the randomness setting")
    func mappedKeys() throws {
        let keys = splitKeys(RandomKey(seed: 7).array, into: 4)
        let f = { (k: NDArray) in NDArray.normal([2], key: k, dtype: .float64) }
        let loop = stack((0..<4).map { f(keys[$0]) })
        // The default .error setting does not apply: the keys are batched by the vmap itself.
        #expect(try vmap(f)(keys).doubles == loop.doubles)
        #expect(try vmap(f, randomness: .same)(keys).doubles == loop.doubles)
        // Keys mapped at the outer level, a second split inside, an inner vmap over those.
        let nested = try vmap({ (k: NDArray) in try vmap(f)(splitKeys(k, into: 2)) })(keys)
        #expect(nested.shape == [4, 2, 2])
        #expect(nested[2, 1].doubles == f(splitKeys(keys[2], into: 2)[1]).doubles)
    }
}
