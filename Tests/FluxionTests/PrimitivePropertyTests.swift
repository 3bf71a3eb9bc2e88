// Every differentiable primitive of the table (PrimitiveTable.swift) through FluxionCheck,
// the checker users run on their own code: `checkDerivatives` to second order — vjp and jvp
// against central differences, the adjoint identity, jacfwd against jacrev, vmap of the
// function and of its derivatives against loops, the Hessian four ways, and all of it again
// on the gradient — at draws chosen by swift-property-based, so every run sees new shapes
// and a failure prints its draw and seed.
//
// The table's tolerances apply (tighter than the checker's defaults). Rows whose derivative
// is zero by definition (stopGradient) or that have no inputs (random sampling) are left to
// GradientCheckTable.swift: central differences cannot see a derivative that is defined away.
//
// Case count: FLUXION_CHECK_CASES (default 3 draws per primitive: about five seconds of a
// debug build on two cores; 12 draws take about twenty).

import Testing
import PropertyBased
import Fluxion
import FluxionCheck

@Suite("Every primitive through FluxionCheck at random draws")
struct PrimitivePropertyTests {
    @Test("checkDerivatives(order: 2) accepts every differentiable primitive",
          arguments: primitiveTable.filter { $0.derivative == .smooth || $0.derivative == .zero })
    func accepted(_ row: PrimitiveCase) async {
        await propertyCheck(count: checkCases(default: 3), input: Gen<Int>.int(in: 0...999_999)) { draw in
            let instance = row.instance(draw: draw)
            let shapes = instance.args.map(\.shape)
            // A row with float32-sized consistency tolerances rounds through float32 (Convert).
            let precision: DType? = row.tolerance.exact >= 1e-6 ? .float32 : nil
            do {
                let report = try derivativeReport(instance.differentiable, at: instance.primals, order: 2,
                                                  eps: row.tolerance.eps, atol: row.tolerance.atol, rtol: row.tolerance.rtol,
                                                  precision: precision, seed: UInt64(draw))
                #expect(report.passed, "\(row.primitive) draw \(draw), argument shapes \(shapes):\n\(report)")
                #expect(report.kinks.isEmpty, "\(row.primitive) draw \(draw): the table's domains avoid kinks:\n\(report)")
            } catch {
                Issue.record("\(row.primitive) draw \(draw), argument shapes \(shapes): \(error)")
            }
        }
    }
}
