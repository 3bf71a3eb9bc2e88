// Jacobians and Hessians of every primitive in the table: jacfwd (vmap of jvp) equals jacrev
// (vmap of the pullback) and both equal the central-difference Jacobian; the Hessian of a
// scalar readout is symmetric and the same by forward over reverse (`hessian`), reverse over
// reverse, reverse over forward and forward over forward, and equals central differences of
// the gradient.

import Foundation
import Testing
import Fluxion

@Suite("Jacobians and Hessians of every primitive")
struct JacobianTests {
    /// The instance's function of its k-th differentiated argument alone.
    static func single(_ instance: PrimitiveInstance, _ k: Int) -> (NDArray) throws -> NDArray {
        let f = instance.differentiable, x = instance.primals
        return { a in
            var all = x
            all[k] = a
            return try f(all)
        }
    }

    @Test("jacfwd == jacrev == central differences", arguments: primitiveTable.filter { $0.derivative != .none })
    func jacobians(_ row: PrimitiveCase) throws {
        for draw in 0..<propertyCases {
            let instance = row.instance(draw: draw)
            for (k, x) in instance.primals.enumerated() {
                let f = Self.single(instance, k)
                let label = "\(row.primitive) draw \(draw), argument \(instance.wrt[k]) of shapes \(instance.args.map(\.shape))"
                let y = try f(x)
                let forward = try jacfwd(f)(x), reverse = try jacrev(f)(x)
                #expect(forward.shape == y.shape + x.shape, "\(label): jacfwd shape \(forward.shape)")
                #expect(reverse.shape == y.shape + x.shape, "\(label): jacrev shape \(reverse.shape)")
                guard forward.shape == reverse.shape else { continue }
                expectClose(forward.doubles, reverse.doubles, shape: forward.shape, rtol: row.tolerance.exact,
                            atol: exactTolerance.atol, label: "\(label): jacfwd against jacrev")
                switch row.derivative {
                case .stopped, .zero:
                    #expect(reverse.doubles.allSatisfy { $0 == 0 }, "\(label): the Jacobian must be zero")
                default:
                    let numerical = try numericalJacobian(f, at: x, eps: row.tolerance.eps)
                    expectClose(reverse.doubles, numerical.doubles, shape: reverse.shape, rtol: row.tolerance.rtol,
                                atol: row.tolerance.atol, label: "\(label): jacrev against central differences")
                }
            }
        }
    }

    @Test("Hessians: symmetric, equal across fwd∘rev, rev∘rev, rev∘fwd, fwd∘fwd, and equal to differences of grad",
          arguments: primitiveTable.filter { $0.derivative != .none })
    func hessians(_ row: PrimitiveCase) throws {
        for draw in 0..<propertyCases {
            let instance = row.instance(draw: draw)
            var r = CaseRandom(seed: CaseRandom.seed(row.primitive + "/hessian", draw))
            let y = try instance.differentiable(instance.primals)
            let u = r.array(y.shape, in: -1...1), c = r.array(y.shape, in: -1...1)
            for (k, x) in instance.primals.enumerated() {
                let f = Self.single(instance, k)
                let g: (NDArray) throws -> NDArray = { a in
                    let y = try f(a)
                    return (u * y).sum() + 0.5 * (c * y * y).sum()
                }
                let label = "\(row.primitive) draw \(draw), argument \(instance.wrt[k]) of shapes \(instance.args.map(\.shape))"
                let n = x.count
                let fwdRev = try hessian(g)(x)
                #expect(fwdRev.shape == x.shape + x.shape, "\(label): hessian shape \(fwdRev.shape)")
                let revRev = try jacrev(jacrev(g))(x)
                let revFwd = try jacrev(jacfwd(g))(x)
                let fwdFwd = try jacfwd(jacfwd(g))(x)
                let h = fwdRev.doubles
                let scale = h.map(Swift.abs).max() ?? 0
                let atol = exactTolerance.atol + row.tolerance.exact * scale
                expectClose(h, transposed(h, rows: n, cols: n), shape: [n, n], rtol: row.tolerance.exact, atol: atol,
                            label: "\(label): hessian against its transpose")
                for (name, other) in [("jacrev(jacrev(f))", revRev), ("jacrev(jacfwd(f))", revFwd), ("jacfwd(jacfwd(f))", fwdFwd)] {
                    #expect(other.shape == fwdRev.shape, "\(label): \(name) shape \(other.shape)")
                    guard other.shape == fwdRev.shape else { continue }
                    expectClose(other.doubles, h, shape: [n, n], rtol: row.tolerance.exact, atol: atol,
                                label: "\(label): \(name) against hessian(f)")
                }
                if row.derivative == .smooth {
                    let numerical = try numericalJacobian(grad(g), at: x, eps: row.tolerance.eps)
                    expectClose(h, numerical.doubles, shape: [n, n], rtol: row.tolerance.rtol * 10, atol: row.tolerance.atol * 10,
                                label: "\(label): hessian against central differences of grad")
                } else {
                    #expect(h.allSatisfy { $0 == 0 }, "\(label): the Hessian must be zero")
                }
            }
        }
    }
}

@Suite("Jacobians of vector-valued functions")
struct VectorValuedJacobianTests {
    /// f(x) = [x₀²·x₁, sin(x₀)·x₂] on R³: one Hessian per output, stacked.
    static func f(_ x: NDArray) -> NDArray {
        stack([x[0] * x[0] * x[1], sin(x[0]) * x[2]])
    }

    @Test("hessian of f: R³ → R² has shape [2, 3, 3], one Hessian per output (as JAX and torch.func)")
    func stackedHessians() throws {
        let values: [Double] = [0.7, -1.3, 2.1]
        let x = NDArray(values, dtype: .float64)
        let h = try hessian(Self.f)(x)
        #expect(h.shape == [2, 3, 3])
        let (a, b, c) = (values[0], values[1], values[2])
        let first: [Double] = [2 * b, 2 * a, 0, 2 * a, 0, 0, 0, 0, 0]
        let second: [Double] = [-Foundation.sin(a) * c, 0, Foundation.cos(a), 0, 0, 0, Foundation.cos(a), 0, 0]
        expectClose(h, first + second, rtol: 1e-14, atol: 1e-15)
        // Each slice is the Hessian of that output alone.
        for k in 0..<2 {
            let hk = try hessian({ Self.f($0)[k] })(x)
            expectClose(h[k], hk.doubles, rtol: 1e-14, atol: 1e-15)
        }
        #expect(try jacfwd(jacrev(Self.f))(x).shape == [2, 3, 3])
        #expect(try jacrev(jacrev(Self.f))(x).shape == [2, 3, 3])
    }
}
