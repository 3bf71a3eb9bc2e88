// JAX's own API tests (jax-ml/jax, tests/api_test.py: APITest, CustomJVPTest, CustomVJPTest),
// translated to Fluxion. Each test names the upstream test it follows; expected numbers come
// from the upstream assertions or the mathematics, computed here in plain Swift.
//
// Name mapping: `jax.grad` → `grad`, `argnums=` → `argnums:`, `has_aux` → `hasAux:`,
// `value_and_grad` → `valueAndGrad`, `vmap(in_axes=, out_axes=)` → `inAxes:`/`outAxes:`,
// `static_argnums` → `jit`'s static second argument, `custom_jvp`/`custom_vjp` →
// `customJVP`/`customVJP`, pytrees → `ArrayTree` (`ArrayStruct` for named tuples).
//
// Not translated, and why:
// - Error messages are compared by `TransformError` case, not by wording.
// - argnums in another order (`argnums=(2, 0)`) has no counterpart: selections keep argument
//   order (`.firstAndThird`), so those assertions are made on the reordered tuple.
// - Per-leaf `in_axes` trees (`test_vmap_structured_in_axes`) have no counterpart: `inAxes` is
//   per argument; the test passes the leaves as separate arguments instead.
// - Complex numbers and holomorphic derivatives, devices, pmap, xla_computation, remat, lax
//   control flow (scan, cond), eval_shape, weak types, dtype warnings, jit of non-callables,
//   keyword arguments, jaxpr text: no counterpart.
// - Shape mismatches in arithmetic (`test_binop_mismatch`, `test_dot_mismatch`) stop the
//   program rather than throw (covered by the misuse cases run as exit tests).
// - A tangent or cotangent of another dtype than its primal: JAX refuses it, PyTorch accepts it
//   (`torch.func.jvp` returns a float64 tangent for a float32 primal); Fluxion's behaviour is
//   not asserted here.

import Foundation
import Testing
import Fluxion

private func f64(_ values: [Double], _ shape: [Int]) -> NDArray { NDArray(shape: shape, scalars: values, dtype: .float64) }
private func scalar(_ v: Double) -> NDArray { NDArray(v, dtype: .float64) }

/// Counts how many times a staged function's body ran (JAX's `side` lists).
private final class Counter: @unchecked Sendable {
    var count = 0
}

/// Holds a value that leaves a transform (JAX's `helper_save_tracer`).
private final class Saved: @unchecked Sendable {
    var value: NDArray?
}

/// `collections.namedtuple("Point", ["x", "y"])`.
private struct Point: ArrayStruct {
    var x: NDArray
    var y: NDArray
    static var arrayProperties: [ArrayProperty<Point>] { [.init(\.x), .init(\.y)] }
}

// MARK: - APITest: grad, valueAndGrad, argnums, hasAux

@Suite("JAX api_test: grad, value_and_grad, argnums, has_aux")
struct JAXGradTests {
    static func f(_ x: NDArray, _ y: NDArray, _ z: NDArray) -> NDArray { 1.0 * x + 2.0 * y + 3.0 * z }
    let one = scalar(1)

    // test_grad_argnums
    @Test func gradArgnums() throws {
        #expect(try grad(Self.f)(one, one, one).item() == 1)
        #expect(try grad(Self.f, argnums: .second)(one, one, one).item() == 2)
        let (g0, g2) = try grad(Self.f, argnums: .firstAndThird)(one, one, one)
        #expect(g2.item() == 3 && g0.item() == 1)
    }

    // test_value_and_grad_argnums
    @Test func valueAndGradArgnums() throws {
        let (v, g) = try valueAndGrad(Self.f)(one, one, one)
        #expect(v.item() == 6 && g.item() == 1)
        let (v1, g1) = try valueAndGrad(Self.f, argnums: .second)(one, one, one)
        #expect(v1.item() == 6 && g1.item() == 2)
        let (v2, g2) = try valueAndGrad(Self.f, argnums: .firstAndThird)(one, one, one)
        #expect(v2.item() == 6 && g2.0.item() == 1 && g2.1.item() == 3)
    }

    // test_grad_nonscalar_output: "Gradient only defined for scalar-output functions."
    @Test func gradOfANonScalarOutputThrows() throws {
        let error = #expect(throws: TransformError.self) { try grad { (x: NDArray) in x }(NDArray.zeros([3], dtype: .float64)) }
        guard case .nonScalarOutput(_, let shape, _, _)? = error else {
            Issue.record("expected nonScalarOutput, got \(String(describing: error))")
            return
        }
        #expect(shape == [3])
    }

    // test_grad_of_int_errors: "grad requires real- or complex-valued inputs"
    @Test func gradOfAnIntegerThrows() throws {
        let error = #expect(throws: TransformError.self) { try grad { (x: NDArray) in (x * x).to(.float64) }(NDArray(3)) }
        guard case .nonDifferentiableInput(_, .int64, _, _)? = error else {
            Issue.record("expected nonDifferentiableInput for int64, got \(String(describing: error))")
            return
        }
    }

    // test_grad_and_aux_basic
    @Test func gradAndAuxBasic() throws {
        let (g, aux) = try grad(hasAux: { (x: NDArray) in (x ** 3, [x ** 2]) })(scalar(3))
        #expect(g.item() == 27)
        #expect(aux.count == 1 && aux[0].item() == 9)
    }

    // test_grad_and_aux_nested: the auxiliary value of an inner grad is differentiable outside
    @Test func gradAndAuxNested() throws {
        let f = { (x: NDArray) throws -> NDArray in try grad(hasAux: { (x: NDArray) in (x ** 3, [x ** 3]) })(x).1[0] }
        #expect(try grad(f)(scalar(4)).item() == 48)
        #expect(try jit(grad(f))(scalar(4)).item() == 48)
        #expect(try jit(grad(jit(f)))(scalar(4)).item() == 48)
        let h = { (x: NDArray) throws -> NDArray in try grad(hasAux: { (x: NDArray) in (x ** 3, [x ** 3]) })(x).1[0] * sin(x) }
        let expected = 3 * 16 * sin(4.0) + 64 * cos(4.0)
        expectClose(try grad(h)(scalar(4)), [expected])
        expectClose(try jit(grad(h))(scalar(4)), [expected])
        expectClose(try jit(grad(jit(h)))(scalar(4)), [expected])
    }

    // test_grad_and_aux_constant
    @Test func gradAndAuxConstant() throws {
        let (g, aux) = try grad(hasAux: { (x: NDArray) in (x ** 3, [scalar(4)]) })(scalar(4))
        #expect(g.item() == 48 && aux[0].item() == 4)
        let (g2, aux2) = try grad(hasAux: { (x: NDArray) in (x ** 3, [x ** 2, scalar(4)]) })(scalar(4))
        #expect(g2.item() == 48 && aux2.map { $0.item() } == [16, 4])
    }

    // test_grad_and_aux_no_tracers: the auxiliary values are ordinary values afterwards
    @Test func gradAndAuxLeavesNoTracers() throws {
        let (_, aux) = try grad(hasAux: { (x: NDArray) in (x ** 2, ["identity": x, "p1": x + 1]) })(scalar(3))
        #expect(aux["identity"]!.item() == 3 && aux["p1"]!.item() == 4)
        // Usable by a later, unrelated transform as a constant.
        #expect(try grad { (y: NDArray) in y * aux["p1"]! }(scalar(1)).item() == 4)
    }

    // test_namedtuple_transparency: grad of a function of a named tuple returns the same type
    @Test func gradOfAStructIsTheStruct() throws {
        let f = { (p: Point) in sqrt(p.x ** 2 + p.y ** 2) }
        let pt = Point(x: scalar(1), y: scalar(2))
        let g: Point = try grad(f)(pt)
        expectClose(g.x, [1 / sqrt(5.0)])
        expectClose(g.y, [2 / sqrt(5.0)])
        expectClose(try jit(f)(pt), [sqrt(5.0)])
    }

    // test_switch_value_jit: Swift control flow on a value works under grad, not under jit
    @Test func controlFlowOnAValue() throws {
        let f = { (x: NDArray) -> NDArray in x.item() > 0 ? x : -x }
        #expect(try grad(f)(scalar(1)).item() == 1)
        #expect(try grad(f)(scalar(-1)).item() == -1)
        let error = #expect(throws: TransformError.self) { try jit(f)(scalar(1)) }
        guard case .concreteValueInStaging? = error else {
            Issue.record("expected concreteValueInStaging, got \(String(describing: error))")
            return
        }
    }
}

// MARK: - APITest: jit

@Suite("JAX api_test: jit")
struct JAXJitTests {
    // test_jit_static_args: a static argument stages once per value
    @Test func staticArgumentsStageOncePerValue() throws {
        let side = Counter()
        let f = jit { (v: [NDArray], flag: Bool) -> NDArray in
            side.count += 1
            return 100 * v[0] + 10 * v[1] + v[2] + (flag ? 0 : 1000)
        }
        #expect(try f([scalar(1), scalar(2), scalar(3)], true).item() == 123)
        #expect(side.count == 1)
        #expect(try f([scalar(2), scalar(1), scalar(3)], true).item() == 213)
        #expect(side.count == 1)
        #expect(try f([scalar(2), scalar(1), scalar(3)], false).item() == 1213)
        #expect(side.count == 2)
    }

    // test_range_err: a loop bound is a static argument
    @Test func loopOverAStaticBound() throws {
        let f = jit { (x: NDArray, n: Int) -> NDArray in
            var x = x
            for i in 0..<n { x = x + Double(i) }
            return x
        }
        #expect(try f(scalar(0), 5).item() == 10)
    }

    // test_grad_of_jit: the jitted function is traced once for both calls
    @Test func gradOfJit() throws {
        let side = Counter()
        let f = jit { (x: NDArray) -> NDArray in
            side.count += 1
            return x * x
        }
        #expect(try grad(f)(scalar(1)).item() == 2)
        #expect(side.count == 1)
        #expect(try grad(f)(scalar(2)).item() == 4)
        #expect(side.count == 1)
    }

    // test_jit_of_grad
    @Test func jitOfGrad() throws {
        let side = Counter()
        let f = jit { (x: NDArray) -> NDArray in
            side.count += 1
            return x * x
        }
        let g = jit(grad(f))
        #expect(try g(scalar(1)).item() == 2)
        #expect(side.count == 1)
        #expect(try g(scalar(2)).item() == 4)
        #expect(side.count == 1)
    }

    // test_jvp_jit_cached: jitted closures over a jvp value, the second call from the cache
    @Test func jvpOfJittedClosuresOverATangentCarrier() throws {
        let function = { (x: NDArray) throws -> NDArray in
            let inner = jit { (y: NDArray) in y * x }
            return try inner(scalar(4)) + inner(scalar(5))
        }
        let (value, tangent) = try jvp(function, at: scalar(5), tangents: scalar(1))
        #expect(value.item() == 45)
        #expect(tangent.item() == 9)
    }
}

// MARK: - APITest: jvp, vjp, linearize

@Suite("JAX api_test: jvp, vjp, linearize")
struct JAXForwardReverseTests {
    // test_jvp_mismatched_arguments: tangents must have the primals' structure
    @Test func jvpTangentsOfAnotherStructure() throws {
        #expect(throws: TransformError.self) { try jvp({ (p: [NDArray]) in p[0] * p[0] }, at: [scalar(2)], tangents: []) }
        #expect(throws: TransformError.self) {
            try jvp({ (p: [NDArray]) in p[0] * p[0] }, at: [scalar(2)], tangents: [scalar(2), scalar(2)])
        }
    }

    // test_vjp_mismatched_arguments: "Tree structure of cotangent input … does not match"
    @Test func vjpCotangentsOfAnotherStructure() throws {
        let (_, pullback) = try vjp({ (p: [NDArray]) in [p[0] * p[1]] }, at: [scalar(3), scalar(4)])
        #expect(try pullback([scalar(1)]).map { $0.item() } == [4, 3])
        #expect(throws: TransformError.self) { try pullback([scalar(7), scalar(100)]) }
    }

    // test_issue_871: a linearized function called on tangents of another shape
    @Test func linearizeWithATangentOfAnotherShape() throws {
        let t = f64([1, 2, 3, 4, 5, 6], [3, 2])
        let x = f64([1, 2, 3], [3])
        let (y, linear) = try linearize({ (x: NDArray) in x.sum() }, at: x)
        #expect(y.item() == 6)
        let error = #expect(throws: TransformError.self) { try linear(t) }
        guard case .tangentShapeMismatch? = error else {
            Issue.record("expected tangentShapeMismatch, got \(String(describing: error))")
            return
        }
        let (_, jitted) = try linearize(jit { (x: NDArray) in x.sum() }, at: x)
        #expect(throws: TransformError.self) { try jitted(t) }
        #expect(try jitted(f64([1, 1, 1], [3])).item() == 3)
    }

    // test_remat_basic (the linearize part, without remat): sin(sin(x))
    @Test func linearizeOfAComposition() throws {
        let (value, linear) = try linearize({ (x: NDArray) in sin(sin(x)) }, at: scalar(2))
        expectClose(value, [sin(sin(2.0))])
        expectClose(try linear(scalar(3)), [cos(sin(2.0)) * cos(2.0) * 3])
    }

    // test_remat_vmap (without remat): vmap, jacfwd and jacrev of sin(sin(x))
    @Test func vmapAndJacobiansOfAComposition() throws {
        let x = f64([0, 1, 2], [3])
        let g = { (x: NDArray) in sin(sin(x)) }
        expectClose(try vmap(g)(x), [0, 1, 2].map { sin(sin(Double($0))) })
        let diagonal = [0.0, 1, 2].map { cos(sin($0)) * cos($0) }
        var expected = [Double](repeating: 0, count: 9)
        for i in 0..<3 { expected[i * 4] = diagonal[i] }
        expectClose(try jacfwd(g)(x), expected)
        expectClose(try jacrev(g)(x), expected)
    }

    // test_remat_higher_order_autodiff (without remat): grad(grad(cos∘sin))
    @Test func secondDerivativeOfAComposition() throws {
        let f = { (x: NDArray) in cos(sin(x)) }
        // d²/dx² cos(sin x) = −cos(sin x)·cos²x + sin(sin x)·sin x
        let x = 3.0
        expectClose(try grad(grad(f))(scalar(x)), [-cos(sin(x)) * cos(x) * cos(x) + sin(sin(x)) * sin(x)])
    }
}

// MARK: - APITest: Jacobians and Hessians

@Suite("JAX api_test: jacfwd, jacrev, hessian")
struct JAXJacobianTests {
    let a = testValues(12, seed: 201), x = testValues(3, seed: 202)

    // test_jacobian: the Jacobian of A·x is A; of tanh(A·x) both modes agree with diag(1 − tanh²)·A
    @Test func jacobianOfALinearMapAndOfTanh() throws {
        let am = f64(a, [4, 3]), xv = f64(x, [3])
        expectClose(try jacfwd { (x: NDArray) in matmul(am, x) }(xv), a)
        expectClose(try jacrev { (x: NDArray) in matmul(am, x) }(xv), a)
        let ax = (0..<4).map { i in (0..<3).reduce(0) { $0 + a[i * 3 + $1] * x[$1] } }
        var expected = [Double]()
        for k in 0..<12 {
            let t = tanh(ax[k / 3])
            expected.append((1 - t * t) * a[k])
        }
        expectClose(try jacfwd { (x: NDArray) in tanh(matmul(am, x)) }(xv), expected)
        expectClose(try jacrev { (x: NDArray) in tanh(matmul(am, x)) }(xv), expected)
    }

    // test_hessian: the Hessian of x·A·x is A + Aᵀ
    @Test func hessianOfAQuadraticForm() throws {
        let av = testValues(16, seed: 203)
        let am = f64(av, [4, 4])
        let h = try hessian { (x: NDArray) in matmul(x, matmul(am, x)) }(f64(testValues(4, seed: 204), [4]))
        var expected = [Double]()
        for i in 0..<4 { for j in 0..<4 { expected.append(av[i * 4 + j] + av[j * 4 + i]) } }
        expectClose(h, expected)
    }

    // test_jacobian_on_pytrees
    @Test func jacobiansOnTrees() throws {
        for jacobian in [jacfwd { (p: [NDArray]) in [p[0], p[1]] }, jacrev { (p: [NDArray]) in [p[0], p[1]] }] {
            let j = try jacobian([scalar(0), scalar(1)])
            #expect(j.map { $0.map { $0.item() } } == [[1, 0], [0, 1]])
        }
        for jacobian in [jacfwd { (p: [NDArray]) in Array(p[..<2]) }, jacrev { (p: [NDArray]) in Array(p[..<2]) }] {
            let j = try jacobian([scalar(1), scalar(2), scalar(3)])
            #expect(j.map { $0.map { $0.item() } } == [[1, 0, 0], [0, 1, 0]])
        }
        let xv = testValues(2, seed: 205), yv = testValues(3, seed: 206)
        let y = f64(yv, [3])
        let f = { (x: NDArray, y: NDArray) in ["x": x, "xy": outer(x, y)] }
        // with respect to x: ∂x/∂x = I, ∂(x⊗y)[i, j]/∂x[k] = δ_ik·y_j
        var xy = [Double]()
        for i in 0..<2 { for j in 0..<3 { for k in 0..<2 { xy.append(i == k ? yv[j] : 0) } } }
        for jacobian in [jacfwd { (x: NDArray) in f(x, y) }, jacrev { (x: NDArray) in f(x, y) }] {
            let j = try jacobian(f64(xv, [2]))
            #expect(j[0].shape == [2, 2] && j[1].shape == [2, 3, 2])
            expectClose(j[0], [1, 0, 0, 1])
            expectClose(j[1], xy)
        }
    }

    // test_hessian_on_pytrees: hessian(x ↦ [x₀, x₁]²) at (1, 2)
    @Test func hessianOnATree() throws {
        let h = try hessian { (p: [NDArray]) in stack(p) ** 2 }([scalar(1), scalar(2)])
        #expect(h.count == 2 && h[0].count == 2)
        #expect(h[0][0].doubles == [2, 0] && h[0][1].doubles == [0, 0])
        #expect(h[1][0].doubles == [0, 0] && h[1][1].doubles == [0, 2])
    }

    // test_issue1372: the shapes of second Jacobians by every pair of modes and arguments
    @Test func secondJacobianShapesAcrossArguments() throws {
        let quad = { (x: NDArray) in matmul(x, x) }
        let f = { (x: NDArray, u: NDArray) in quad(x) + quad(u) }
        let (x, u) = (NDArray.ones([5], dtype: .float64), NDArray.ones([2], dtype: .float64))
        typealias F = (NDArray, NDArray) throws -> NDArray
        let inner0: [F] = [jacrev(f, argnums: .first), jacfwd(f, argnums: .first)]
        let inner1: [F] = [jacrev(f, argnums: .second), jacfwd(f, argnums: .second)]
        for g in inner0 {
            let outer: [F] = [jacrev(g, argnums: .first), jacfwd(g, argnums: .first)]
            for h in outer { #expect(try h(x, u).shape == [5, 5]) }
            let across: [F] = [jacrev(g, argnums: .second), jacfwd(g, argnums: .second)]
            for h in across {
                let j = try h(x, u)
                #expect(j.shape == [5, 2] && j.doubles.allSatisfy { $0 == 0 })
            }
        }
        for g in inner1 {
            let outer: [F] = [jacrev(g, argnums: .second), jacfwd(g, argnums: .second)]
            for h in outer { #expect(try h(x, u).doubles == [2, 0, 0, 2]) }
            let across: [F] = [jacrev(g, argnums: .first), jacfwd(g, argnums: .first)]
            for h in across { #expect(try h(x, u).shape == [2, 5]) }
        }
    }
}

// MARK: - APITest: vmap

@Suite("JAX api_test: vmap")
struct JAXVmapTests {
    // test_vmap_in_axes_list: a shared dictionary and two mapped arguments
    @Test func sharedDictionaryAndMappedArguments() throws {
        let dictionary = ["a": scalar(5), "b": NDArray.ones([2], dtype: .float64)]
        let f = { (d: [String: NDArray], x: NDArray, y: NDArray) in d["a"]! + d["b"]! + x + y }
        let out = try vmap(f, inAxes: (nil, 0, 0))(dictionary, NDArray.zeros([3], dtype: .float64), f64([0, 1, 2], [3]))
        #expect(out.shape == [3, 2])
        #expect(out.doubles == [6, 6, 7, 7, 8, 8])
    }

    // test_vmap_mismatched_axis_sizes_error_message_issue_705
    @Test func mismatchedAxisSizesAndBadAxes() throws {
        let h = { (a: NDArray, b: NDArray) in a.sum() + b.sum() }
        let xs = NDArray.ones([10, 4], dtype: .float64), us = NDArray.ones([10, 2], dtype: .float64)
        let error = #expect(throws: TransformError.self) { try vmap(h, inAxes: (0, 1))(xs, us) }
        guard case .mappedSizesDiffer(let sizes, _, _)? = error else {
            Issue.record("expected mappedSizesDiffer, got \(String(describing: error))")
            return
        }
        #expect(sizes == [10, 2])
        // "vmap got arg 0 of rank 0 but axis to be mapped 0"
        #expect(throws: TransformError.self) { try vmap({ (x: NDArray) in x })(scalar(1)) }
        // "vmap must have at least one non-None value in in_axes"
        let nothing = #expect(throws: TransformError.self) { try vmap({ (x: NDArray) in x }, inAxes: nil)(f64([1, 2], [2])) }
        guard case .nothingMapped? = nothing else {
            Issue.record("expected nothingMapped, got \(String(describing: nothing))")
            return
        }
        // "vmap got arg 0 of rank 1 but axis to be mapped 1"
        let axis = #expect(throws: TransformError.self) { try vmap({ (x: NDArray) in x }, inAxes: 1)(f64([1, 2], [2])) }
        guard case .axisOutOfRange(let badAxis, let shape, _, _)? = axis else {
            Issue.record("expected axisOutOfRange, got \(String(describing: axis))")
            return
        }
        #expect(badAxis == 1 && shape == [2])
        // an out_axes beyond the output's rank
        #expect(throws: TransformError.self) { try vmap({ (x: NDArray) in x }, outAxes: 2)(f64([1, 2], [2])) }
    }

    // test_vmap_structured_in_axes (per argument): batch axes in three different places
    @Test func batchAxesInDifferentPlaces() throws {
        let (a, b, c, d, k) = (2, 3, 4, 5, 6)
        let x = NDArray.ones([k, a, b], dtype: .float64), y = NDArray.ones([b, k, c], dtype: .float64)
        let z = NDArray.ones([c, d, k], dtype: .float64)
        let out = try vmap({ (x: NDArray, y: NDArray, z: NDArray) in matmul(x, matmul(y, z)) }, inAxes: (0, 1, 2))(x, y, z)
        #expect(out.shape == [6, 2, 5])
        #expect(out.doubles.allSatisfy { $0 == Double(b * c) })
    }

    // test_vmap_unmapped_last: an output that does not depend on the mapped input, placed last
    @Test func unmappedOutputPlacedLast() throws {
        let out = try vmap({ (_: NDArray) in NDArray.zeros([2], dtype: .float64) }, outAxes: -1)(NDArray.zeros([5], dtype: .float64))
        // jax.vmap(lambda x: jnp.zeros((2,)), out_axes=-1)(jnp.zeros(5)).shape == (2, 5)
        #expect(out.shape == [2, 5])
        #expect(out.doubles.allSatisfy { $0 == 0 })
    }

    // test_escaped_tracers_tracer_from_higher_level: a value saved inside grad, used later
    @Test func escapedValueFromAnEarlierGrad() throws {
        let saved = Saved()
        _ = try grad { (x: NDArray) -> NDArray in
            saved.value = x
            return x
        }(scalar(0))
        let error = #expect(throws: TransformError.self) { try grad { (x: NDArray) in x }(saved.value!) }
        guard case .escapedTracer? = error else {
            Issue.record("expected escapedTracer, got \(String(describing: error))")
            return
        }
        #expect(throws: TransformError.self) { try vjp({ (x: NDArray) in x }, at: saved.value!) }
        #expect(throws: TransformError.self) { try jvp({ (x: NDArray) in x }, at: saved.value!, tangents: scalar(1)) }
        #expect(throws: TransformError.self) { try jacrev { (x: NDArray) in x }(saved.value!) }
        #expect(throws: TransformError.self) { try jacfwd { (x: NDArray) in x }(saved.value!) }
    }

    // test_escaped_tracers_cant_lift: a value saved by an inner grad, used by the outer one
    @Test func escapedValueUsedInsideAnotherGrad() throws {
        let saved = Saved()
        let func1 = { (x: NDArray) throws -> NDArray in
            _ = try grad { (y: NDArray) -> NDArray in
                saved.value = y
                return y
            }(scalar(0))
            return x + saved.value!
        }
        let error = #expect(throws: TransformError.self) { try grad(func1)(scalar(2)) }
        guard case .escapedTracer? = error else {
            Issue.record("expected escapedTracer, got \(String(describing: error))")
            return
        }
    }
}

// MARK: - CustomJVPTest

@Suite("JAX api_test: CustomJVPTest")
struct JAXCustomJVPTests {
    /// sin with the deliberately wrong derivative 2·cos, so that the rule is visibly used.
    static var f: (NDArray) throws -> NDArray { customJVP({ (x: NDArray) in sin(x) }, jvp: { x, _, t in 2 * cos(x) * t }) }

    // test_basic
    @Test func basic() throws {
        let x = 3.0
        expectClose(try Self.f(scalar(x)), [sin(x)])
        let (value, tangent) = try jvp(Self.f, at: scalar(x), tangents: scalar(1))
        expectClose(value, [sin(x)])
        expectClose(tangent, [2 * cos(x)])
        expectClose(try grad(Self.f)(scalar(x)), [2 * cos(x)])
    }

    // test_invariance: jvp of a function that calls jvp of f
    @Test func invariance() throws {
        let f = customJVP({ (x: NDArray) in cos(2 * x) / 2 }, jvp: { _, _, t in 3 * t })
        let f2 = { (x: NDArray) throws -> NDArray in try jvp(f, at: x, tangents: x).value }
        let f3 = { (x: NDArray) throws -> NDArray in try jvp(f2, at: x, tangents: x).value }
        let x = scalar(1)
        let (v1, t1) = try jvp(f, at: x, tangents: x)
        let (v2, t2) = try jvp(f2, at: x, tangents: x)
        let (v3, t3) = try jvp(f3, at: x, tangents: x)
        expectClose(v1, [cos(2.0) / 2])
        #expect(t1.item() == 3)
        expectClose(v2, [cos(2.0) / 2])
        #expect(t2.item() == 3)
        expectClose(v3, [cos(2.0) / 2])
        #expect(t3.item() == 3)
    }

    // test_python_control_flow
    @Test func controlFlowOnTheValue() throws {
        let f = customJVP({ (x: NDArray) in x.item() > 0 ? sin(x) : cos(x) },
                          jvp: { x, _, t in x.item() > 0 ? 2 * t : 3 * t })
        let x = 2.0
        expectClose(try f(scalar(x)), [sin(x)])
        expectClose(try f(scalar(-x)), [cos(-x)])
        let (v, t) = try jvp(f, at: scalar(x), tangents: scalar(1))
        expectClose(v, [sin(x)])
        #expect(t.item() == 2)
        let (vn, tn) = try jvp(f, at: scalar(-x), tangents: scalar(1))
        expectClose(vn, [cos(-x)])
        #expect(tn.item() == 3)
        #expect(try grad(f)(scalar(x)).item() == 2)
        #expect(try grad(f)(scalar(-x)).item() == 3)
    }

    // test_vmap
    @Test func underVmap() throws {
        let xs = [0.0, 1, 2], xxs = [0.0, 1, 2, 3, 4, 5]
        let x = f64(xs, [3]), xx = f64(xxs, [2, 3])
        expectClose(try vmap(Self.f)(x), xs.map { sin($0) })
        expectClose(try vmap(vmap(Self.f))(xx), xxs.map { sin($0) })
        let pushed = try vmap { (x: NDArray) in try jvp(Self.f, at: x, tangents: x).tangent }(x)
        expectClose(pushed, xs.map { 2 * cos($0) * $0 })
        let pushed2 = try vmap(vmap { (x: NDArray) in try jvp(Self.f, at: x, tangents: x).tangent })(xx)
        expectClose(pushed2, xxs.map { 2 * cos($0) * $0 })
        let (value, tangent) = try jvp(vmap(Self.f), at: x, tangents: x)
        expectClose(value, xs.map { sin($0) })
        expectClose(tangent, xs.map { 2 * cos($0) * $0 })
        let outer = try vmap { (x: NDArray) in try jvp(vmap(Self.f), at: x, tangents: x).tangent }(xx)
        expectClose(outer, xxs.map { 2 * cos($0) * $0 })
    }

    // test_jit
    @Test func underJit() throws {
        let x = 3.0
        expectClose(try jit(Self.f)(scalar(x)), [sin(x)])
        expectClose(try jit(jit(Self.f))(scalar(x)), [sin(x)])
        let jitOfJVP = try jit { (x: NDArray) in try jvp(Self.f, at: x, tangents: x).tangent }(scalar(x))
        expectClose(jitOfJVP, [2 * cos(x) * x])
        let (value, tangent) = try jvp(jit(Self.f), at: scalar(x), tangents: scalar(x))
        expectClose(value, [sin(x)])
        expectClose(tangent, [2 * cos(x) * x])
    }

    // test_pytrees
    @Test func dictionaries() throws {
        let f = customJVP({ (x: [String: NDArray]) in ["b": sin(x["a"]!)] },
                          jvp: { x, _, t in ["b": 2 * cos(x["a"]!) * t["a"]!] })
        let x = ["a": scalar(3)]
        expectClose(try f(x)["b"]!, [sin(3.0)])
        let (value, tangent) = try jvp(f, at: x, tangents: x)
        expectClose(value["b"]!, [sin(3.0)])
        expectClose(tangent["b"]!, [2 * cos(3.0) * 3])
    }

    // test_nondiff_arg: a function as a non-differentiated argument
    @Test func functionAsANonDifferentiatedArgument() throws {
        let app = customJVP({ (x: NDArray, f: @escaping (NDArray) -> NDArray) in f(x) },
                            jvp: { _, _, _, t in 3 * t })
        let double: (NDArray) -> NDArray = { 2 * $0 }
        #expect(try app(scalar(1), double).item() == 2)
        let (value, tangent) = try jvp({ (x: NDArray) in try app(x, double) }, at: scalar(1), tangents: scalar(1))
        #expect(value.item() == 2 && tangent.item() == 3)
    }

    // test_nondiff_arg_tracer: under jit, with the non-differentiated argument fixed
    @Test func nonDifferentiatedArgumentUnderJit() throws {
        let f = customJVP({ (y: NDArray, x: Double) in x * y }, jvp: { _, _, _, t in 5 * t })
        let g = jit { (y: NDArray) in try f(y, 2) }
        let (value, tangent) = try jvp(g, at: scalar(3), tangents: scalar(1))
        #expect(value.item() == 6 && tangent.item() == 5)
    }

    // test_primal_tangent_aval_disagreement_error_message: a rule whose tangent has another shape
    @Test func ruleWithATangentOfAnotherShape() throws {
        let f = customJVP({ (x: NDArray) in x ** 2 }, jvp: { _, _, t in t.reshape([1]) })
        #expect(try f(scalar(2)).item() == 4)
        let error = #expect(throws: TransformError.self) { try jvp(f, at: scalar(2), tangents: scalar(1)) }
        guard case .customRuleMismatch? = error else {
            Issue.record("expected customRuleMismatch, got \(String(describing: error))")
            return
        }
    }

    // test_jvp_rule_inconsistent_pytree_structures_error_message: a rule with more tangents than outputs
    @Test func ruleWithTangentsOfAnotherStructure() throws {
        let f = customJVP({ (x: NDArray) in [x ** 2] }, jvp: { x, _, t in [2 * x * t, x] })
        #expect(try f(scalar(2))[0].item() == 4)
        #expect(throws: TransformError.self) { try jvp(f, at: scalar(2), tangents: scalar(1)) }
    }

    // test_linear_in_scan (without scan): a rule that applies f to the tangent
    @Test func ruleThatCallsTheFunction() throws {
        let f = customJVP({ (x: NDArray) in -x }, jvp: { _, _, t in -t })
        #expect(try grad(f)(scalar(3)).item() == -1)
    }

    // test_custom_jvps_first_rule_is_none: two arguments, the derivative asked of the second
    @Test func gradWithRespectToTheSecondOfTwoArguments() throws {
        let f = customJVP({ (x: NDArray, y: NDArray) in x ** 2 * y },
                          jvp: { x, y, _, tx, ty in 2 * x * y * tx + x ** 2 * ty })
        #expect(try grad(f, argnums: .second)(scalar(2), scalar(3)).item() == 4)
        #expect(try grad(f, argnums: .first)(scalar(2), scalar(3)).item() == 12)
    }
}

// MARK: - CustomVJPTest

@Suite("JAX api_test: CustomVJPTest")
struct JAXCustomVJPTests {
    /// sin with the backward 2·cos(x)·g from the saved cos(x).
    static var f: (NDArray) throws -> NDArray {
        customVJP({ (x: NDArray) in sin(x) }, forward: { (x: NDArray) in (sin(x), cos(x)) }, backward: { cosX, g in 2 * cosX * g })
    }

    // test_basic
    @Test func basic() throws {
        let x = 3.0
        expectClose(try Self.f(scalar(x)), [sin(x)])
        expectClose(try grad(Self.f)(scalar(x)), [2 * cos(x)])
        let (value, g) = try valueAndGrad(Self.f)(scalar(x))
        expectClose(value, [sin(x)])
        expectClose(g, [2 * cos(x)])
    }

    // test_invariance
    @Test func invariance() throws {
        let f = customVJP({ (x: NDArray) in cos(2 * x) / 2 }, forward: { (x: NDArray) in (cos(2 * x) / 2, x) },
                          backward: { _, g in g * 3 })
        let f2 = { (x: NDArray) throws -> NDArray in try valueAndGrad(f)(x).value }
        let f3 = { (x: NDArray) throws -> NDArray in try valueAndGrad(f2)(x).value }
        let x = scalar(1)
        expectClose(try f2(x), [cos(2.0) / 2])
        expectClose(try f3(x), [cos(2.0) / 2])
        #expect(try grad(f)(x).item() == 3)
        #expect(try grad(f2)(x).item() == 3)
        #expect(try grad(f3)(x).item() == 3)
    }

    // test_python_control_flow
    @Test func controlFlowOnTheValue() throws {
        let f = customVJP({ (x: NDArray) in x.item() > 0 ? sin(x) : cos(x) },
                          forward: { (x: NDArray) in (x.item() > 0 ? sin(x) : cos(x), x) },
                          backward: { x, g in x.item() > 0 ? 2 * g : 3 * g })
        let x = 2.0
        let (v, g) = try valueAndGrad(f)(scalar(x))
        expectClose(v, [sin(x)])
        #expect(g.item() == 2)
        let (vn, gn) = try valueAndGrad(f)(scalar(-x))
        expectClose(vn, [cos(-x)])
        #expect(gn.item() == 3)
    }

    // test_vmap
    @Test func underVmap() throws {
        let xs = [0.0, 1, 2], xxs = [0.0, 1, 2, 3, 4, 5]
        let x = f64(xs, [3]), xx = f64(xxs, [2, 3])
        expectClose(try vmap(Self.f)(x), xs.map { sin($0) })
        expectClose(try vmap(vmap(Self.f))(xx), xxs.map { sin($0) })
        expectClose(try vmap(grad(Self.f))(x), xs.map { 2 * cos($0) })
        let (values, grads) = try vmap { (x: NDArray) in
            let (v, g) = try valueAndGrad(Self.f)(x)
            return [v, g]
        }(x).splitPair()
        expectClose(values, xs.map { sin($0) })
        expectClose(grads, xs.map { 2 * cos($0) })
        expectClose(try vmap(vmap(grad(Self.f)))(xx), xxs.map { 2 * cos($0) })
        expectClose(try grad { (x: NDArray) in try vmap(Self.f)(x).sum() }(x), xs.map { 2 * cos($0) })
    }
}

private extension Array where Element == NDArray {
    func splitPair() -> (NDArray, NDArray) { (self[0], self[1]) }
}

// MARK: - custom rules at second order and in forward mode

@Suite("JAX api_test: custom rules at second order")
struct JAXCustomRuleOrderTests {
    // CustomVJPTest (grad of grad): the backward rule is itself differentiated.
    // jax.grad(jax.grad(f))(3.) == -2·sin(3) for f = sin with backward 2·cos(x)·g
    @Test func gradOfGradOfACustomVJP() throws {
        let f = customVJP({ (x: NDArray) in sin(x) }, forward: { (x: NDArray) in (sin(x), x) }, backward: { x, g in 2 * cos(x) * g })
        expectClose(try grad(grad(f))(scalar(3)), [-2 * sin(3.0)])
    }

    // CustomJVPTest (hessian): jax.hessian(g)(3.) == -2·sin(3) for g = sin with the rule 2·cos
    @Test func secondDerivativesOfACustomJVP() throws {
        let g = customJVP({ (x: NDArray) in sin(x) }, jvp: { x, _, t in 2 * cos(x) * t })
        expectClose(try hessian(g)(scalar(3)), [-2 * sin(3.0)])
        expectClose(try grad(grad(g))(scalar(3)), [-2 * sin(3.0)])
        expectClose(try jvp({ (x: NDArray) in try jvp(g, at: x, tangents: scalar(1)).tangent }, at: scalar(3), tangents: scalar(1)).tangent,
                    [-2 * sin(3.0)])
    }

    // CustomVJPTest.test_jvp_error: "can't apply forward-mode autodiff (jvp) to a custom_vjp
    // function" — forward mode must not silently bypass the rule
    @Test func forwardModeOfACustomVJPDoesNotBypassTheRule() throws {
        let f = customVJP({ (x: NDArray) in sin(x) }, forward: { (x: NDArray) in (sin(x), x) }, backward: { x, g in 2 * cos(x) * g })
        do {
            let (_, tangent) = try jvp(f, at: scalar(3), tangents: scalar(1))
            // If forward mode is supported, it must agree with the rule reverse mode uses.
            expectClose(tangent, [2 * cos(3.0)])
            expectClose(try jacfwd(f)(scalar(3)), [2 * cos(3.0)])
        } catch is TransformError {
            // Refusing, as JAX does, is consistent too.
        }
    }

    // CustomVJPTest.test_nondiff_arg: a function as a non-differentiated argument
    @Test func customVJPWithAFunctionArgument() throws {
        let app = customVJP({ (x: NDArray, f: @escaping (NDArray) -> NDArray) in f(x) },
                            forward: { (x: NDArray, f: @escaping (NDArray) -> NDArray) in (f(x), [NDArray]()) },
                            backward: { (_: (NDArray) -> NDArray, _: [NDArray], g: NDArray) -> NDArray? in 5 * g })
        let double: (NDArray) -> NDArray = { 2 * $0 }
        #expect(try app(scalar(1), double).item() == 2)
        #expect(try grad { (x: NDArray) in try app(x, double) }(scalar(1)).item() == 5)
    }
}

// MARK: - jit caching and composition

@Suite("JAX api_test: jit caching and composition")
struct JAXJitCompositionTests {
    // test_jit_static_args / test_jit_forces_arguments: a new signature (shape, dtype, tree
    // structure) stages again; new values of the same signature do not
    @Test func stagingIsKeyedOnTheSignature() throws {
        let side = Counter()
        let f = jit { (d: [String: NDArray]) -> NDArray in
            side.count += 1
            return d.values.reduce(NDArray(0.0, dtype: .float64)) { $0 + $1.sum() }
        }
        #expect(try f(["a": f64([1, 2], [2])]).item() == 3)
        #expect(try f(["a": f64([3, 4], [2])]).item() == 7)
        #expect(side.count == 1)
        #expect(try f(["a": f64([1, 2, 3], [3])]).item() == 6)
        #expect(side.count == 2)
        #expect(try f(["b": f64([1, 2, 3], [3])]).item() == 6)
        #expect(side.count == 3)
        #expect(try f(["a": NDArray([1.0, 2.0, 3.0])]).item() == 6)
        #expect(side.count == 4)
    }

    // test_grad_of_jit with a static argument: grad through a jitted loop
    @Test func gradOfJitWithAStaticArgument() throws {
        let f = jit { (x: NDArray, n: Int) -> NDArray in
            var y = x
            for _ in 0..<n { y = sin(y) }
            return y
        }
        let x = 0.7
        expectClose(try grad(f)(scalar(x), 2), [cos(sin(x)) * cos(x)])
    }

    // vmap of jit and jit of vmap (the CustomJVPTest.test_jit pattern without the custom rule)
    @Test func vmapAndJitInEitherOrder() throws {
        let xs = [0.0, 0.5, 1.0]
        let f = { (x: NDArray) in sin(x) * x }
        expectClose(try vmap(jit(f))(f64(xs, [3])), xs.map { sin($0) * $0 })
        expectClose(try jit(vmap(f))(f64(xs, [3])), xs.map { sin($0) * $0 })
        expectClose(try jit(vmap(grad(f)))(f64(xs, [3])), xs.map { cos($0) * $0 + sin($0) })
        expectClose(try vmap(grad(jit(f)))(f64(xs, [3])), xs.map { cos($0) * $0 + sin($0) })
    }

    // hessian and linearize of a jitted function
    @Test func hessianAndLinearizeOfJit() throws {
        let f = jit { (x: NDArray) in (x ** 3).sum() }
        let h = try hessian(f)(f64([1, 2], [2]))
        expectClose(h, [6, 0, 0, 12])
        let (value, linear) = try linearize(f, at: f64([1, 2], [2]))
        #expect(value.item() == 9)
        expectClose(try linear(f64([1, 1], [2])), [3 + 12])
    }

    // a vjp of a jitted function pulls back any number of cotangents
    @Test func vjpOfJit() throws {
        let f = jit { (x: NDArray) in sin(x) }
        let (value, pullback) = try vjp(f, at: f64([0.5, 1.5], [2]))
        expectClose(value, [sin(0.5), sin(1.5)])
        expectClose(try pullback(f64([1, 2], [2])), [cos(0.5), 2 * cos(1.5)])
        expectClose(try pullback(f64([3, 0], [2])), [3 * cos(0.5), 0])
    }
}

// MARK: - Empty arrays and trees

@Suite("JAX api_test: empty arrays and trees")
struct JAXEmptyTests {
    // jax.jacrev(lambda x: x.sum())(jnp.zeros(0)).shape == (0,); jacfwd of x*2 → (0, 0);
    // jax.hessian(lambda x: x.sum())(jnp.zeros(0)).shape == (0, 0) (torch.func agrees)
    @Test func jacobiansOfAnEmptyInput() throws {
        let x = NDArray.zeros([0], dtype: .float64)
        #expect(try jacrev { (x: NDArray) in x.sum() }(x).shape == [0])
        #expect(try jacfwd { (x: NDArray) in x.sum() }(x).shape == [0])
        #expect(try jacrev { (x: NDArray) in x * 2 }(x).shape == [0, 0])
        #expect(try jacfwd { (x: NDArray) in x * 2 }(x).shape == [0, 0])
        #expect(try hessian { (x: NDArray) in x.sum() }(x).shape == [0, 0])
        #expect(try grad { (x: NDArray) in x.sum() }(x).shape == [0])
    }

    // jax.grad(lambda p: 1.0)([]) == []
    @Test func gradWithRespectToAnEmptyTree() throws {
        let g = try grad { (_: [NDArray]) in NDArray(1.0, dtype: .float64) }([])
        #expect(g.isEmpty)
    }

    // vmap(out_dims=-1): torch gives (3, 4) for a [4, 3] input
    @Test func vmapWithANegativeOutAxis() throws {
        let out = try vmap({ (v: NDArray) in v * 2 }, outAxes: -1)(NDArray.ones([4, 3], dtype: .float64))
        #expect(out.shape == [3, 4] && out.doubles.allSatisfy { $0 == 2 })
    }
}

// MARK: - vmap and grad across closures

@Suite("JAX api_test: vmap and grad across closures")
struct JAXVmapGradClosureTests {
    // vmap over y of grad over an unmapped x, y closed over (no perturbation confusion):
    // jax.vmap(lambda x, y: jax.grad(lambda x: (x * y).sum())(x), in_axes=(None, 0))
    @Test func gradOfAnUnmappedArgumentInsideVmap() throws {
        let y = f64([0, 1, 2, 3, 4, 5], [2, 3])
        let out = try vmap({ (x: NDArray, y: NDArray) in try grad { (x: NDArray) in (x * y).sum() }(x) }, inAxes: (nil, 0))(
            NDArray.ones([3], dtype: .float64), y)
        #expect(out.shape == [2, 3])
        #expect(out.doubles == [0, 1, 2, 3, 4, 5])
    }

    // jax.vmap(lambda x: jnp.stack([x, 2*x]), out_axes=1)(jnp.arange(3.)).shape == (2, 3)
    @Test func outAxisOneOfAStackedOutput() throws {
        let out = try vmap({ (x: NDArray) in stack([x, 2 * x]) }, outAxes: 1)(f64([0, 1, 2], [3]))
        #expect(out.shape == [2, 3])
        #expect(out.doubles == [0, 1, 2, 0, 2, 4])
    }

    // vmap of a vjp's pullback over the rows of the identity is the Jacobian's rows:
    // jax.vmap(lambda v: jax.vjp(jnp.sin, x)[1](v)[0])(jnp.eye(3)) == diag(cos x)
    @Test func vmapOfAPullback() throws {
        let x = f64([0, 1, 2], [3])
        let (_, pullback) = try vjp({ (x: NDArray) in sin(x) }, at: x)
        let rows = try vmap(pullback)(NDArray.eye(3, dtype: .float64))
        expectClose(rows, [cos(0.0), 0, 0, 0, cos(1.0), 0, 0, 0, cos(2.0)])
    }
}

// MARK: - has_aux under vmap and jit

@Suite("JAX api_test: has_aux under vmap and jit")
struct JAXAuxCompositionTests {
    // test_grad_and_aux_basic under vmap: per-example gradients and auxiliary values
    @Test func gradWithAuxUnderVmap() throws {
        let xs = [1.0, 2.0, 3.0]
        let f = grad(hasAux: { (x: NDArray) in (x ** 3, [x ** 2]) })
        let out = try vmap { (x: NDArray) in
            let (g, aux) = try f(x)
            return [g, aux[0]]
        }(f64(xs, [3]))
        #expect(out[0].doubles == xs.map { 3 * $0 * $0 })
        #expect(out[1].doubles == xs.map { $0 * $0 })
    }

    // value_and_grad(has_aux=True) under jit, called twice (the second from the cache)
    @Test func valueAndGradWithAuxUnderJit() throws {
        let side = Counter()
        let f = jit { (x: NDArray) -> [NDArray] in
            side.count += 1
            let (v, g, aux) = try valueAndGrad(hasAux: { (x: NDArray) in ((x ** 2).sum(), x.sum()) })(x)
            return [v, g, aux]
        }
        let first = try f(f64([1, 2], [2]))
        #expect(first[0].item() == 5 && first[1].doubles == [2, 4] && first[2].item() == 3)
        let second = try f(f64([3, 4], [2]))
        #expect(second[0].item() == 25 && second[1].doubles == [6, 8] && second[2].item() == 7)
        #expect(side.count == 1)
    }

    // jvp(has_aux=True) and linearize(has_aux=True) agree on the auxiliary value and tangent
    @Test func jvpAndLinearizeWithAux() throws {
        let f = { (x: NDArray) in (sin(x), cos(x)) }
        let x = f64([0.2, 0.4], [2]), t = f64([1, -1], [2])
        let (v1, t1, a1) = try jvp(hasAux: f, at: x, tangents: t)
        let (v2, linear, a2) = try linearize(hasAux: f, at: x)
        expectClose(v1, [sin(0.2), sin(0.4)])
        expectClose(v2, [sin(0.2), sin(0.4)])
        expectClose(a1, [cos(0.2), cos(0.4)])
        expectClose(a2, [cos(0.2), cos(0.4)])
        expectClose(t1, [cos(0.2), -cos(0.4)])
        expectClose(try linear(t), [cos(0.2), -cos(0.4)])
    }
}
