// Misuse of a transform is a thrown, typed `TransformError` naming what happened and where the
// transform was requested: a non-scalar output for grad, an integer input, vmap axes that
// disagree or do not exist, nothing mapped, a tracer that escaped its transform, random
// sampling under a strict vmap, and a primitive without a batching rule under a strict vmap.

import Foundation
import Testing
import Fluxion
import FluxionKernels

/// The identity, declared without a batching rule: vmap must fall back to a loop for it.
struct LoopOnlyIdentity: UnaryPrimitive, LoopBatched {
    var name: String { "loopOnlyIdentity" }
    func evaluate(_ x: StridedArray) -> StridedArray { x }
    func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] { tangents }
    func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] { cotangents }
}

@Suite("Transform errors")
struct TransformErrorTests {
    let x = NDArray([1.0, 2.0, 3.0], dtype: .float64)

    @Test("grad of a function with a non-scalar output throws nonScalarOutput")
    func nonScalarOutput() throws {
        let error = #expect(throws: TransformError.self) { try grad { (x: NDArray) in x * 2 }(x) }
        guard case let .nonScalarOutput(transform, shape, file, _)? = error else {
            Issue.record("expected .nonScalarOutput, got \(String(describing: error))")
            return
        }
        #expect(transform == "grad" && shape == [3])
        #expect(file.hasSuffix("TransformErrorTests.swift"), "the error should name the caller's file, got \(file)")
        #expect(throws: TransformError.self) { try valueAndGrad { (x: NDArray) in x.unsqueeze(0) }(x) }
        // A one-element output that is not 0-d is refused, as JAX and torch.func refuse it; the
        // message suggests the reshape.
        for shape in [[1], [1, 1]] {
            let oneElement = #expect(throws: TransformError.self) { try grad { (x: NDArray) in x.sum().reshape(shape) }(x) }
            #expect(oneElement?.description.contains(".reshape([])") == true, "\(String(describing: oneElement))")
        }
        #expect(throws: TransformError.self) { try valueAndGrad { (x: NDArray) in x.sum().reshape([1]) }(x) }
    }

    @Test("an int64 (or bool) input to grad, jvp or vjp throws nonDifferentiableInput")
    func integerInput() throws {
        let integers = NDArray([1, 2, 3])
        let error = #expect(throws: TransformError.self) { try grad { (x: NDArray) in x.sum().to(.float64) }(integers) }
        guard case let .nonDifferentiableInput(transform, dtype, _, _)? = error else {
            Issue.record("expected .nonDifferentiableInput, got \(String(describing: error))")
            return
        }
        #expect(transform == "grad" && dtype == .int64)
        #expect(throws: TransformError.self) {
            try jvp({ (x: NDArray) in x.to(.float64) }, at: integers, tangents: integers)
        }
        #expect(throws: TransformError.self) { try vjp({ (x: NDArray) in x.to(.float64) }, at: integers .> 1) }
    }

    @Test("vmap inputs whose mapped axes differ in size throw mappedSizesDiffer")
    func mappedSizesDiffer() throws {
        let a = NDArray.zeros([3, 2], dtype: .float64), b = NDArray.zeros([4, 2], dtype: .float64)
        let error = #expect(throws: TransformError.self) { try vmap { (a: NDArray, b: NDArray) in a + b }(a, b) }
        guard case let .mappedSizesDiffer(sizes, _, _)? = error else {
            Issue.record("expected .mappedSizesDiffer, got \(String(describing: error))")
            return
        }
        #expect(sizes == [3, 4])
        // Along the axes actually mapped: [3, 2] along 1 and [4, 2] along 1 agree.
        #expect(try vmap({ (a: NDArray, b: NDArray) in a.sum() + b.sum() }, inAxes: (1, 1))(a, b).shape == [2])
    }

    @Test("a vmap axis out of range throws axisOutOfRange, for inAxes and outAxes")
    func axisOutOfRange() throws {
        let a = NDArray.zeros([3, 2], dtype: .float64)
        for axis in [2, -3] {
            let error = #expect(throws: TransformError.self) { try vmap({ (a: NDArray) in a * 2 }, inAxes: axis)(a) }
            guard case let .axisOutOfRange(reported, shape, _, _)? = error else {
                Issue.record("expected .axisOutOfRange for inAxes \(axis), got \(String(describing: error))")
                continue
            }
            #expect(reported == axis && shape == [3, 2])
        }
        let error = #expect(throws: TransformError.self) { try vmap({ (a: NDArray) in a * 2 }, outAxes: 2)(a) }
        guard case .axisOutOfRange? = error else {
            Issue.record("expected .axisOutOfRange for outAxes 2, got \(String(describing: error))")
            return
        }
        // A 0-d input has no axis to map.
        #expect(throws: TransformError.self) { try vmap({ (a: NDArray) in a * 2 })(NDArray(1.0, dtype: .float64)) }
    }

    @Test("vmap with every inAxes nil throws nothingMapped")
    func nothingMapped() throws {
        let error = #expect(throws: TransformError.self) {
            try vmap({ (a: NDArray, b: NDArray) in a + b }, inAxes: (nil, nil))(x, x)
        }
        guard case .nothingMapped? = error else {
            Issue.record("expected .nothingMapped, got \(String(describing: error))")
            return
        }
    }

    @Test("a tracer stored outside grad and used in a later grad throws escapedTracer")
    func escapedTracer() throws {
        var leaked: NDArray?
        _ = try grad { (x: NDArray) -> NDArray in
            leaked = x
            return (x * x).sum()
        }(x)
        let error = #expect(throws: TransformError.self) {
            try grad { (y: NDArray) in (y * leaked!).sum() }(x)
        }
        guard case let .escapedTracer(transform, _, shape)? = error else {
            Issue.record("expected .escapedTracer, got \(String(describing: error))")
            return
        }
        #expect(transform == "grad" && shape == [3])
        // The same for values of jvp and vmap used inside later transforms.
        var leakedDual: NDArray?
        _ = try jvp({ (x: NDArray) -> NDArray in
            leakedDual = x
            return x
        }, at: x, tangents: x)
        let dualError = #expect(throws: TransformError.self) { try grad { (y: NDArray) in (y + leakedDual!).sum() }(x) }
        guard case .escapedTracer? = dualError else {
            Issue.record("expected .escapedTracer from a jvp value, got \(String(describing: dualError))")
            return
        }
        var leakedBatch: NDArray?
        _ = try vmap { (x: NDArray) -> NDArray in
            leakedBatch = x
            return x
        }(NDArray.zeros([2, 3], dtype: .float64))
        let batchError = #expect(throws: TransformError.self) { try vmap { (y: NDArray) in y * leakedBatch! }(NDArray.zeros([2, 3], dtype: .float64)) }
        guard case .escapedTracer? = batchError else {
            Issue.record("expected .escapedTracer from a vmap value, got \(String(describing: batchError))")
            return
        }
        // The transform that reported the error is left in a clean state.
        #expect(try grad { (y: NDArray) in (y * y).sum() }(x).doubles == [2, 4, 6])
    }

    @Test("random sampling inside vmap with the default randomness .error throws randomnessUnderVmap")
    func randomnessUnderVmap() throws {
        let key = RandomKey(seed: 3)
        let error = #expect(throws: TransformError.self) {
            try vmap { (x: NDArray) in x + NDArray.normal([3], key: key, dtype: .float64) }(NDArray.zeros([2, 3], dtype: .float64))
        }
        guard case .randomnessUnderVmap? = error else {
            Issue.record("expected .randomnessUnderVmap, got \(String(describing: error))")
            return
        }
        // Inside grad inside vmap, too.
        #expect(throws: TransformError.self) {
            try vmap(grad { (x: NDArray) in (x * NDArray.uniform([3], key: key, dtype: .float64)).sum() })(NDArray.zeros([2, 3], dtype: .float64))
        }
        // Sampling outside any vmap (inside grad) is fine.
        #expect(throws: Never.self) { try grad { (x: NDArray) in (x * NDArray.uniform([3], key: key, dtype: .float64)).sum() }(x) }
    }

    @Test("a primitive without a batching rule: fallback .error throws noBatchRule, .loop equals a loop")
    func loopFallback() throws {
        let f = { (x: NDArray) in bind(LoopOnlyIdentity(), x) * 2 }
        let xs = float64([1, 2, 3, 4, 5, 6], [2, 3])
        let error = #expect(throws: TransformError.self) { try vmap(f, fallback: .error)(xs) }
        guard case let .noBatchRule(primitive, _, _)? = error else {
            Issue.record("expected .noBatchRule, got \(String(describing: error))")
            return
        }
        #expect(primitive == "loopOnlyIdentity")
        #expect(try vmap(f, inAxes: 1, fallback: .loop)(xs).doubles == [2, 8, 4, 10, 6, 12])
        #expect(try vmap(f, fallback: .loop)(NDArray.zeros([0, 3], dtype: .float64)).shape == [0, 3])
    }

    @Test("every error's description names what to do")
    func descriptions() {
        let errors: [TransformError] = [
            .nonScalarOutput(transform: "grad", shape: [3], file: "A.swift", line: 1),
            .nonDifferentiableInput(transform: "grad", dtype: .int64, file: "A.swift", line: 2),
            .mappedSizesDiffer(sizes: [3, 4], file: "A.swift", line: 3),
            .axisOutOfRange(axis: 2, shape: [3, 2], file: "A.swift", line: 4),
            .nothingMapped(file: "A.swift", line: 5),
            .escapedTracer(transform: "grad", operation: "mul", shape: [3]),
            .randomnessUnderVmap(operation: "normal", level: 1),
            .noBatchRule(primitive: "p", file: "A.swift", line: 6),
        ]
        for error in errors { #expect(error.description.contains("Fix:"), "\(error)") }
    }
}

@Suite("Shapes at the boundary of a transform")
struct TransformBoundaryTests {
    let x = NDArray([1.0, 2.0, 3.0], dtype: .float64)

    @Test("a pullback given a cotangent of another shape throws cotangentShapeMismatch")
    func pullbackShape() throws {
        let (_, pullback) = try vjp({ (x: NDArray) in x * 2 }, at: x)
        for wrong in [NDArray.ones([1], dtype: .float64), NDArray.ones([3, 1], dtype: .float64), NDArray.ones([], dtype: .float64)] {
            let error = #expect(throws: TransformError.self) { try pullback(wrong) }
            guard case let .cotangentShapeMismatch(transform, expected, got, _, _)? = error else {
                Issue.record("expected .cotangentShapeMismatch, got \(String(describing: error))")
                continue
            }
            #expect(transform == "vjp" && expected == [[3]] && got == [wrong.shape])
        }
        #expect(try pullback(NDArray.ones([3], dtype: .float64)).doubles == [2, 2, 2])
        // Trees: a cotangent tree with a leaf missing.
        let (_, treePullback) = try vjp({ (x: NDArray) in [x, x * 3] }, at: x)
        #expect(throws: TransformError.self) { try treePullback([NDArray.ones([3], dtype: .float64)]) }
    }

    @Test("jvp, linearize and hvp given tangents of another shape throw tangentShapeMismatch")
    func tangentShape() throws {
        let wrong = NDArray.ones([2], dtype: .float64)
        let f = { (x: NDArray) in (x * x).sum() }
        for attempt in [
            { _ = try jvp(f, at: self.x, tangents: wrong) },
            { _ = try linearize(f, at: self.x).linear(wrong) },
            { _ = try hvp(f, at: self.x, v: wrong) },
        ] as [() throws -> Void] {
            let error = #expect(throws: TransformError.self) { try attempt() }
            guard case let .tangentShapeMismatch(_, expected, got, _, _)? = error else {
                Issue.record("expected .tangentShapeMismatch, got \(String(describing: error))")
                continue
            }
            #expect(expected == [[3]] && got == [[2]])
        }
    }
}

/// Errors reported inside operations are thrown by the scope they happened in, and by no other.
@Suite struct ReportedErrorScopeTests {
    struct Thrown: Error {}

    @Test("an error reported before the body throws its own is the one thrown, and nothing is left behind")
    func reportedThenThrown() throws {
        var leaked: NDArray?
        _ = try grad { (x: NDArray) in
            leaked = x
            return x.sum()
        }(NDArray.ones([2], dtype: .float64))
        let error = #expect(throws: TransformError.self) {
            _ = try grad { (x: NDArray) -> NDArray in
                _ = leaked! + x  // reported: an escaped tracer
                throw Thrown()
            }(NDArray.ones([2], dtype: .float64))
        }
        guard case .escapedTracer? = error else {
            Issue.record("expected .escapedTracer, got \(String(describing: error))")
            return
        }
        // The next transform on this thread is clean.
        #expect(try grad { (x: NDArray) in (x * x).sum() }(NDArray([3.0], dtype: .float64)).doubles == [6])
    }

    @Test("an inner transform that ends cleanly does not throw an enclosing one's error, which the enclosing one throws")
    func scopes() throws {
        var leaked: NDArray?
        _ = try grad { (x: NDArray) in
            leaked = x
            return x.sum()
        }(NDArray.ones([2], dtype: .float64))
        var innerResult: NDArray?
        let error = #expect(throws: TransformError.self) {
            _ = try grad { (x: NDArray) in
                let y = leaked! * x  // reported in the outer grad
                // An inner transform, whose errors the user handles, runs cleanly.
                innerResult = try? grad { (z: NDArray) in (z * z).sum() }(NDArray([2.0], dtype: .float64))
                return (y + x).sum()
            }(NDArray.ones([2], dtype: .float64))
        }
        #expect(innerResult?.doubles == [4])
        guard case .escapedTracer? = error else {
            Issue.record("expected .escapedTracer from the outer grad, got \(String(describing: error))")
            return
        }
    }
}
