// Derivative checks for every primitive in the table (PrimitiveTable.swift), in float64:
// reverse mode and forward mode against central differences, forward against reverse by the
// adjoint identity, and second derivatives four ways (forward and reverse over reverse against
// differences of the gradient, forward over forward and reverse over forward against those).
// Piecewise-constant primitives must give exactly zero derivatives; random primitives take no
// inputs and carry no derivative. The first test keeps the table complete.

import Foundation
import Testing
import Fluxion

@Suite("Gradient checks of every primitive")
struct GradientCheckTable {
    @Test("the table lists every primitive declared in Sources/FluxionCore/Primitives, and nothing else")
    func tableIsComplete() throws {
        let declared = try declaredPrimitives()
        // A guard against the scan itself breaking (a moved directory, a changed declaration style).
        #expect(declared.count >= 50, "found only \(declared.count) primitives: \(declared.keys.sorted())")
        let listed = primitiveTable.map(\.primitive)
        #expect(Set(listed).count == listed.count, "the table lists a primitive twice: \(listed)")
        for (name, file) in declared.sorted(by: { $0.key < $1.key }) where !listed.contains(name) {
            Issue.record("primitive \(name) (Primitives/\(file)) is missing from the primitive table")
        }
        for name in listed where declared[name] == nil {
            Issue.record("the primitive table lists \(name), which Primitives/*.swift does not declare")
        }
    }

    @Test("first order: vjp and jvp against central differences, and ⟨u, J v⟩ = ⟨Jᵀu, v⟩",
          arguments: primitiveTable.filter { $0.derivative != .none })
    func firstOrder(_ row: PrimitiveCase) throws {
        for draw in 0..<propertyCases {
            let instance = row.instance(draw: draw)
            let f = instance.differentiable, x = instance.primals
            var r = CaseRandom(seed: CaseRandom.seed(row.primitive + "/directions", draw))
            let y = try f(x)
            #expect(y.dtype == .float64, "\(row.primitive): the test function should return float64")
            let u = r.array(y.shape, in: -1...1)
            let v = x.map { r.array($0.shape, in: -1...1) }
            let label = "\(row.primitive) draw \(draw), input shapes \(instance.args.map(\.shape))"
            if row.derivative != .stopped {
                try checkVJP(f, at: x, cotangent: u, tolerance: row.tolerance, label)
                try checkJVP(f, at: x, tangents: v, tolerance: row.tolerance, label)
            }
            try checkAdjoint(f, at: x, cotangent: u, tangents: v, rtol: row.tolerance.exact, label)
            if row.derivative == .zero || row.derivative == .stopped {
                let g = try vjp(f, at: x).pullback(u)
                let t = try jvp(f, at: x, tangents: v).tangent
                #expect((g + [t]).allSatisfy { $0.doubles.allSatisfy { $0 == 0 } },
                        "\(label): a piecewise-constant function must have exactly zero derivatives")
            }
        }
    }

    @Test("second order: jvp∘grad and grad∘grad against differences of grad; jvp∘jvp and grad∘jvp against jvp∘grad",
          arguments: primitiveTable.filter { $0.derivative != .none })
    func secondOrder(_ row: PrimitiveCase) throws {
        for draw in 0..<propertyCases {
            let instance = row.instance(draw: draw)
            let f = instance.differentiable, x = instance.primals
            var r = CaseRandom(seed: CaseRandom.seed(row.primitive + "/second", draw))
            let y = try f(x)
            let u = r.array(y.shape, in: -1...1), c = r.array(y.shape, in: -1...1)
            let v = x.map { r.array($0.shape, in: -1...1) }, w = x.map { r.array($0.shape, in: -1...1) }
            let label = "\(row.primitive) draw \(draw), input shapes \(instance.args.map(\.shape))"
            if row.derivative == .stopped {
                // No derivative flows, at any order: the gradient of g is zero and stays zero.
                let g = quadraticReadout(f, u, c)
                let hv = try jvp(grad(g), at: x, tangents: v).tangent
                let htw = try grad { (x: [NDArray]) in try zip(w, grad(g)(x)).reduce(NDArray(0.0, dtype: .float64)) { $0 + ($1.0 * $1.1).sum() } }(x)
                #expect((hv + htw).allSatisfy { $0.doubles.allSatisfy { $0 == 0 } }, "\(label): second derivatives must be zero")
                continue
            }
            // Second differences of a first derivative lose a few more digits than first ones.
            var tolerance = row.tolerance
            tolerance.rtol *= 10
            tolerance.atol *= 10
            try checkSecondOrder(f, at: x, u: u, c: c, v: v, w: w, tolerance: tolerance, label)
        }
    }

    @Test("random primitives take a key array, repeat for a key, batch over keys, and carry no derivative",
          arguments: primitiveTable.filter { $0.derivative == .none })
    func randomPrimitive(_ row: PrimitiveCase) throws {
        let instance = row.instance(draw: 0)
        let (f, key) = (instance.f, instance.args)
        let sample = try f(key)
        #expect(sample.shape == [2, 3] && sample.dtype == .float64)
        #expect(try f(key).doubles == sample.doubles, "the same key must give the same samples")
        // Sampling inside grad and jvp: the sample is a constant, so d/dx Σ x·s = s and the
        // tangent of s alone is zero.
        let x = float64([0.5, -1, 2, 0.25, 1, -0.5], [2, 3])
        let g = try grad { (x: NDArray) in (x * (try f(key))).sum() }(x)
        #expect(g.doubles == sample.doubles)
        let t = try jvp({ (x: NDArray) in try f(key) + 0 * x }, at: x, tangents: NDArray.onesLike(x)).tangent
        #expect(t.doubles.allSatisfy { $0 == 0 })
        // vmap over a batch of keys equals a loop over them, and an empty batch is empty.
        let keys = stack([RandomKey(seed: 1), RandomKey(seed: 2), RandomKey(seed: 3)].map(\.array))
        let batched = try vmap { (k: NDArray) in try f([k]) }(keys)
        let loop = stack(try (0..<3).map { try f([keys[$0]]) })
        #expect(batched.shape == [3, 2, 3] && batched.doubles == loop.doubles)
        #expect(try vmap { (k: NDArray) in try f([k]) }(keys.narrow(dim: 0, start: 0, length: 0)).shape == [0, 2, 3])
    }
}
