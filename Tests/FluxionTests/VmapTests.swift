// vmap against the loop that defines it, for every primitive of the table: arguments mapped
// along their first, second and last axes, mixed positions, each argument in turn unmapped,
// results placed along several output axes, and a batch of size 0. Also: chunked evaluation
// gives identical results, random sampling follows the `randomness` policy, and no primitive
// relies on the per-example loop fallback.

import Foundation
import Testing
import Fluxion

@Suite("vmap equals a loop over slices")
struct VmapTests {
    /// The mapping configurations tried for a case whose arguments have ranks `ranks` and whose
    /// output has rank `outRank`: (inAxes, outAxes, label).
    static func configurations(ranks: [Int], outRank: Int) -> [(inAxes: [Int?], outAxes: Int, label: String)] {
        let positions = [0, 1, 2]
        var configurations: [([Int?], Int, String)] = [
            (ranks.map { batchAxis(0, rank: $0) }, 0, "inAxes first, outAxes 0"),
            (ranks.map { batchAxis(1, rank: $0) }, -1, "inAxes second, outAxes -1"),
            (ranks.map { batchAxis(2, rank: $0) }, outRank >= 1 ? 1 : 0, "inAxes -1, outAxes 1"),
            (ranks.enumerated().map { batchAxis(positions[$0.offset % 3], rank: $0.element) }, 0, "mixed inAxes"),
            (ranks.enumerated().map { batchAxis(positions[($0.offset + 2) % 3], rank: $0.element) }, -1, "mixed inAxes, reversed"),
        ]
        if ranks.count > 1 {
            for j in ranks.indices {
                var axes: [Int?] = ranks.map { batchAxis(2, rank: $0) }
                axes[j] = nil
                configurations.append((axes, 0, "argument \(j) unmapped"))
            }
        }
        return configurations
    }

    @Test("vmap(f) equals stack(slices.map(f)) for every primitive and axis position",
          arguments: primitiveTable.filter { $0.derivative != .none })
    func matchesLoop(_ row: PrimitiveCase) throws {
        for draw in 0..<propertyCases {
            let examples = row.examples(draw: draw, count: 3)
            let f = examples[0].f
            let outRank = try f(examples[0].args).rank
            for (inAxes, outAxes, label) in Self.configurations(ranks: examples[0].args.map(\.rank), outRank: outRank) {
                try checkVmapMatchesLoop(f, examples: examples.map(\.args), inAxes: inAxes, outAxes: outAxes,
                                         "\(row.primitive) draw \(draw), \(label) \(inAxes) → \(outAxes), shapes \(examples[0].args.map(\.shape))")
            }
        }
    }

    @Test("vmap over a batch of size 0 gives an empty result of the right shape",
          arguments: primitiveTable.filter { $0.derivative != .none })
    func emptyBatch(_ row: PrimitiveCase) throws {
        let example = row.instance(draw: 0)
        try checkVmapEmptyBatch(example.f, example: example.args, "\(row.primitive), shapes \(example.args.map(\.shape))")
    }

    @Test("vmap of the derivatives: per-example vjp and jvp of every primitive equal a loop",
          arguments: primitiveTable.filter { $0.derivative == .smooth })
    func derivativesMatchLoop(_ row: PrimitiveCase) throws {
        let examples = row.examples(draw: 0, count: 3)
        let instance = examples[0]
        let wrt = instance.wrt, f = instance.f
        var r = CaseRandom(seed: CaseRandom.seed(row.primitive + "/vmap-derivatives", 0))
        let outShape = try f(instance.args).shape
        let cotangents = (0..<3).map { _ in r.array(outShape, in: -1...1) }
        // The vjp of f with respect to its first differentiated argument, as a function of
        // (that argument, the cotangent); the other arguments are the first example's.
        let k = wrt[0]
        let pullback: @Sendable ([NDArray]) throws -> NDArray = { xs in
            var args = instance.args
            args[k] = xs[0]
            return try vjp({ (a: NDArray) in
                var all = args
                all[k] = a
                return try f(all)
            }, at: xs[0]).pullback(xs[1])
        }
        let points = examples.map { $0.args[k] }
        try checkVmapMatchesLoop(pullback, examples: zip(points, cotangents).map { [$0, $1] }, inAxes: [0, 0], outAxes: 0,
                                 "\(row.primitive): vmap of the pullback over points and cotangents")
        try checkVmapMatchesLoop(pullback, examples: zip(points, cotangents).map { [$0, $1] }, inAxes: [nil, -1], outAxes: -1,
                                 "\(row.primitive): vmap of the pullback over cotangents")
        // The jvp along a batch of tangents at one point, and at a batch of points.
        let tangents = (0..<3).map { _ in r.array(points[0].shape, in: -1...1) }
        let pushforward: @Sendable ([NDArray]) throws -> NDArray = { xs in
            var args = instance.args
            args[k] = xs[0]
            return try jvp({ (a: NDArray) in
                var all = args
                all[k] = a
                return try f(all)
            }, at: xs[0], tangents: xs[1]).tangent
        }
        try checkVmapMatchesLoop(pushforward, examples: zip(points, tangents).map { [$0, $1] }, inAxes: [0, 0], outAxes: 0,
                                 "\(row.primitive): vmap of jvp over points and tangents")
        try checkVmapMatchesLoop(pushforward, examples: zip(points, tangents).map { [$0, $1] }, inAxes: [nil, -1], outAxes: -1,
                                 "\(row.primitive): vmap of jvp over tangents")
    }

    // MARK: - Chunks

    /// A function of several primitives, with a shared parameter.
    static func model(_ w: NDArray, _ x: NDArray) -> NDArray {
        let h = tanh(matmul(w, x) + x.sum())
        return (h * h).cumsum(dim: 0) + maximum(h, x[0..<3]).max()
    }

    @Test("chunkSize 1, 2, 3 and none give identical results")
    func chunkSizes() throws {
        var r = CaseRandom(seed: 11)
        let w = r.array([3, 4], in: -1...1), xs = r.array([5, 4], in: -1...1)
        let reference = try vmap({ (w: NDArray, x: NDArray) in Self.model(w, x) }, inAxes: (nil, 0))(w, xs)
        for chunk in [1, 2, 3, 5, 7] {
            let chunked = try vmap({ (w: NDArray, x: NDArray) in Self.model(w, x) }, inAxes: (nil, 0), chunkSize: chunk)(w, xs)
            #expect(chunked.shape == reference.shape)
            #expect(chunked.doubles == reference.doubles, "chunkSize \(chunk) changed the result")
        }
        // Also along another axis, with the batch placed last in the result.
        let xt = xs.T.contiguousCopy()
        let reference1 = try vmap({ (w: NDArray, x: NDArray) in Self.model(w, x) }, inAxes: (nil, 1), outAxes: -1)(w, xt)
        for chunk in [1, 2, 3] {
            let chunked = try vmap({ (w: NDArray, x: NDArray) in Self.model(w, x) }, inAxes: (nil, 1), outAxes: -1, chunkSize: chunk)(w, xt)
            #expect(chunked.doubles == reference1.doubles, "chunkSize \(chunk) changed the result along axis 1")
        }
        // And the loop it stands for.
        let loop = stack((0..<5).map { Self.model(w, xs[$0]) })
        expectClose(reference.doubles, loop.doubles, rtol: exactTolerance.rtol, atol: exactTolerance.atol, label: "vmap against a loop")
    }

    // MARK: - Random sampling

    @Test("randomness .same gives every example the same samples")
    func randomnessSame() throws {
        let key = RandomKey(seed: 3)
        let xs = NDArray.zeros([4, 2], dtype: .float64)
        let y = try vmap({ (x: NDArray) in x + NDArray.normal([2], key: key, dtype: .float64) }, randomness: .same)(xs)
        let sample = NDArray.normal([2], key: key, dtype: .float64).doubles
        #expect(y.shape == [4, 2])
        for i in 0..<4 { #expect(y[i].doubles == sample, "row \(i)") }
    }

    @Test("randomness .different matches a loop over split keys, for every chunkSize")
    func randomnessDifferent() throws {
        let key = RandomKey(seed: 5)
        let xs = NDArray.zeros([5], dtype: .float64)
        let f = { (x: NDArray) in x + NDArray.uniform([3], key: key, dtype: .float64) }
        let keys = key.split(into: 5)
        let loop = stack((0..<5).map { xs[$0] + NDArray.uniform([3], key: keys[$0], dtype: .float64) })
        let y = try vmap(f, randomness: .different)(xs)
        #expect(y.shape == [5, 3])
        #expect(y.doubles == loop.doubles, "vmap with .different should draw example i with key.split(into: 5)[i]")
        #expect(Set((0..<5).map { y[$0].doubles }).count == 5, "every example should get its own samples")
        for chunk in [1, 2, 3] {
            let chunked = try vmap(f, chunkSize: chunk, randomness: .different)(xs)
            #expect(chunked.doubles == y.doubles, "chunkSize \(chunk) changed the samples")
        }
        let empty = try vmap(f, randomness: .different)(NDArray.zeros([0], dtype: .float64))
        #expect(empty.shape == [0, 3])
    }

    @Test("nested vmaps with .different match nested loops over split keys")
    func randomnessNested() throws {
        let key = RandomKey(seed: 8)
        let xs = NDArray.zeros([2, 3], dtype: .float64)
        let y = try vmap({ (row: NDArray) in
            try vmap({ (x: NDArray) in x + NDArray.normal([], key: key, dtype: .float64) }, randomness: .different)(row)
        }, randomness: .different)(xs)
        let expected = key.split(into: 2).map { outer in
            outer.split(into: 3).map { NDArray.normal([], key: $0, dtype: .float64).item() }
        }
        #expect(y.shape == [2, 3])
        #expect(y.doubles == expected.flatMap { $0 })
    }

    // MARK: - The loop fallback

    @Test("no primitive relies on the per-example loop fallback (LoopBatched)")
    func noLoopBatchedPrimitives() throws {
        var loopBatched: [String] = []
        let core = fluxionCoreSources()
        let directories = try FileManager.default.contentsOfDirectory(at: core, includingPropertiesForKeys: nil)
        let extensionDeclaration = #/extension\s+(\w+)\s*:\s*([^{]+)\{/#
        for directory in directories {
            guard let files = try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil) else { continue }
            for s in try declaredStructs(in: directory) where s.conformances.contains("LoopBatched") {
                loopBatched.append(s.name)
            }
            for file in files where file.pathExtension == "swift" {
                let text = try String(contentsOf: file, encoding: .utf8)
                for match in text.matches(of: extensionDeclaration)
                where match.output.2.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == "LoopBatched" }) {
                    loopBatched.append(String(match.output.1))
                }
            }
        }
        #expect(loopBatched.isEmpty, "primitives batched by the loop fallback: \(loopBatched.sorted())")
    }
}

extension NDArray {
    /// A contiguous copy of the same values (through the values, not through Fluxion's views).
    func contiguousCopy() -> NDArray { NDArray(shape: shape, scalars: doubles, dtype: dtype) }
}

@Suite("vmap of matmul against a shared matrix")
struct SharedMatrixBatchTests {
    @Test("a shared left or right matrix, every batch axis, matches a loop; derivatives too")
    func sharedOperand() throws {
        let a = NDArray.normal([3, 4], key: RandomKey(seed: 1), dtype: .float64)
        let bs = NDArray.normal([5, 4, 2], key: RandomKey(seed: 2), dtype: .float64)
        for axis in 0..<3 {
            let moved = bs.permute(axis == 0 ? [0, 1, 2] : (axis == 1 ? [1, 0, 2] : [1, 2, 0]))
            let mapped = try vmap({ (b: NDArray) in matmul(a, b) }, inAxes: axis)(moved)
            let loop = stack((0..<5).map { matmul(a, bs[$0]) })
            #expect((mapped - loop).abs().max().item() < 1e-12)
        }
        let xs = NDArray.normal([5, 2, 3], key: RandomKey(seed: 3), dtype: .float64)
        let mappedLeft = try vmap({ (x: NDArray) in matmul(x, a) })(xs)
        #expect((mappedLeft - stack((0..<5).map { matmul(xs[$0], a) })).abs().max().item() < 1e-12)
        // The gradient with respect to the shared matrix sums over the batch.
        let g = try grad({ (w: NDArray) in try vmap({ (x: NDArray) in tanh(matmul(x, w)).sum() })(xs).sum() })(a)
        let gLoop = try grad({ (w: NDArray) in (0..<5).map { tanh(matmul(xs[$0], w)).sum() }.reduce(NDArray(0.0, dtype: .float64), +) })(a)
        #expect((g - gLoop).abs().max().item() < 1e-12)
        let jr = try jacrev({ (x: NDArray) in tanh(matmul(a, x)) })(NDArray.normal([4], key: RandomKey(seed: 4), dtype: .float64))
        let jf = try jacfwd({ (x: NDArray) in tanh(matmul(a, x)) })(NDArray.normal([4], key: RandomKey(seed: 4), dtype: .float64))
        #expect((jr - jf).abs().max().item() < 1e-12)
    }
}
