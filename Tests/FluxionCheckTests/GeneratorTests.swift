// The array generators: shapes within their ranges (0-d and size-0 arrays included when
// asked for), values inside their domains, pairs that broadcast, and failing cases that
// shrink to small reproducers.

import Foundation
import Testing
import PropertyBased
import Fluxion
import FluxionCheck

/// The last value a property saw: after a failure, the shrunk reproducer.
final class LastSeen<T>: @unchecked Sendable {
    var value: T?
}

/// NumPy's broadcast shape, written out.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: n - a.count) + a, pb = [Int](repeating: 1, count: n - b.count) + b
    var out: [Int] = []
    for (x, y) in zip(pa, pb) {
        guard x == y || x == 1 || y == 1 else { return nil }
        out.append(max(x, y))
    }
    return out
}

@Suite("Array generators")
struct GeneratorTests {
    static let domains: [Domain] = [.standard, .positive, .symmetricUnit, .awayFromZero,
                                    .awayFrom([-1, 0.5], by: 0.2, in: -3...3)]

    @Test("domains map [−1, 1] onto themselves, 0 onto the point nearest 0, monotonically on each side")
    func domains() {
        for domain in Self.domains {
            let units = stride(from: -1.0, through: 1.0, by: 0.001).map { $0 }
            let values = units.map { domain.value(unit: $0) }
            for v in values {
                #expect(domain.intervals.contains { $0.contains(v) }, "\(v) outside \(domain)")
            }
            #expect(domain.value(unit: 0) == domain.anchor)
            let above = Array(values[(units.count / 2)...]), below = Array(values[...(units.count / 2)])
            #expect(zip(above, above.dropFirst()).allSatisfy { $0 <= $1 } || zip(above, above.dropFirst()).allSatisfy { $0 >= $1 })
            #expect(zip(below, below.dropFirst()).allSatisfy { $0 <= $1 } || zip(below, below.dropFirst()).allSatisfy { $0 >= $1 })
        }
        #expect(Domain.positive.anchor == 0.1 && Domain.standard.anchor == 0)
        #expect(abs(Domain.awayFromZero.anchor) == 0.1)
        #expect(Domain.awayFromZero.value(unit: 1) == 2 && Domain.awayFromZero.value(unit: -1) == -2)
    }

    @Test("arrays: ranks and dimensions in range, 0-d and size-0 arrays among them, values in the domain")
    func arrays() {
        var rng = Xoshiro(seed: (1, 2, 3, 4))
        for domain in Self.domains {
            let generator = Gen<NDArray>.array(ranks: 0...3, dimensions: 0...2, in: domain)
            let drawn = (0..<300).map { _ in generator.run(using: &rng) }
            #expect(drawn.allSatisfy { $0.rank <= 3 && $0.shape.allSatisfy { (0...2).contains($0) } && $0.dtype == .float64 })
            #expect(drawn.contains { $0.rank == 0 }, "0-d arrays")
            #expect(drawn.contains { $0.count == 0 && $0.rank > 0 }, "size-0 arrays")
            #expect(drawn.allSatisfy { $0.doubles.allSatisfy { v in domain.intervals.contains { $0.contains(v) } } })
        }
        let float32 = Gen<NDArray>.array(shape: [2, 3], in: .positive, dtype: .float32).run(using: &rng)
        #expect(float32.shape == [2, 3] && float32.dtype == .float32)
    }

    @Test("broadcastable pairs broadcast, and often differ in shape")
    func broadcastable() {
        var rng = Xoshiro(seed: (5, 6, 7, 8))
        let generator = Gen<[NDArray]>.broadcastable(2, in: .positive)
        let pairs = (0..<300).map { _ in generator.run(using: &rng) }
        #expect(pairs.allSatisfy { broadcastShape($0[0].shape, $0[1].shape) != nil })
        #expect(pairs.filter { $0[0].shape != $0[1].shape }.count > 100)
        #expect(pairs.contains { $0[0].rank != $0[1].rank })
        #expect(pairs.contains { $0[0].shape.contains(1) && $0[1].shape.count == $0[0].shape.count })
        let triples = Gen<[NDArray]>.broadcastable(3, ranks: 1...2).run(using: &rng)
        #expect(triples.count == 3)
    }

    @Test("a product of broadcastable operands passes gradcheck")
    func broadcastingProduct() async {
        await propertyCheck(count: checkCases(default: 10), input: Gen<[NDArray]>.broadcastable(2)) { xs in
            expectGradcheck({ (xs: [NDArray]) in xs[0] * xs[1] + xs[0] }, inputs: xs)
        }
    }

    @Test("a failing property shrinks to a small array of the simplest values")
    func shrinksArrays() async {
        let last = LastSeen<NDArray>()
        await withKnownIssue("the failing property is provoked, to watch it shrink") {
            await propertyCheck(count: 50, input: Gen<NDArray>.array(ranks: 1...3, dimensions: 1...4)) { x in
                last.value = x
                #expect(x.count < 5)
            }
        }
        let shrunk = last.value
        #expect((5...8).contains(shrunk?.count ?? 0), "shrunk to \(String(describing: shrunk))")
        #expect(shrunk?.doubles.allSatisfy { $0 == 0 } == true)
    }

    @Test("a failing gradcheck shrinks to a one-element reproducer")
    func shrinksGradcheckFailures() async {
        let last = LastSeen<NDArray>()
        let wrong = customVJP({ (x: NDArray) in x * x }, vjp: { x, _, ct in 3 * x * ct })
        await withKnownIssue("the failing property is provoked, to watch it shrink") {
            await propertyCheck(count: 20, input: Gen<NDArray>.array(in: .awayFromZero)) { x in
                last.value = x
                expectGradcheck(wrong, inputs: x)
            }
        }
        #expect(last.value?.count == 1, "shrunk to \(String(describing: last.value))")
    }

    @Test("FLUXION_CHECK_CASES overrides the default case count")
    func caseCount() {
        #expect(checkCases(default: 3) == (ProcessInfo.processInfo.environment["FLUXION_CHECK_CASES"].flatMap(Int.init) ?? 3))
    }
}
