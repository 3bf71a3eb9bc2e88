// The facade against PyTorch's own autograd behaviour (measured with PyTorch 2.15 on this
// machine; reference/special_values.md, "PyTorch autograd behaviours"): custom functions that
// return nil or odd gradients, `Autograd.grad` and `backward(inputs:)` stopping at their
// inputs, views and in-place writes through subscripts, second backward passes through freed
// indices, grad modes and inference tensors, and anomaly mode's forward line.

import Foundation
import Testing
import Fluxion

/// PyTorch's probe: forward `a * 2 + b * 3`, backward whatever `gradients` returns.
enum Probe: Function {
    nonisolated(unsafe) static var gradients: (Tensor) -> [Tensor?] = { [$0 * 2, $0 * 3] }
    static func forward(_ ctx: FunctionContext, _ inputs: (Tensor, Tensor)) -> Tensor { inputs.0 * 2 + inputs.1 * 3 }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] { gradients(gradOutput) }
}

/// A function with a number between its tensors; backward returns `gradients`.
enum Scaled: Function {
    nonisolated(unsafe) static var gradients: (Tensor) -> [Tensor?] = { [$0, nil, $0] }
    static func forward(_ ctx: FunctionContext, _ inputs: (Tensor, Double, Tensor)) -> Tensor { inputs.0 * inputs.1 + inputs.2 }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] { gradients(gradOutput) }
}

/// x ↦ x, with a gradient for x of nil: nothing flows back.
enum Stop: Function {
    static func forward(_ ctx: FunctionContext, _ x: Tensor) -> Tensor { x * 1 }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] { [nil] }
}

/// x · y, saving both; a backward of 1/0 makes anomaly mode report it.
enum SavingProduct: Function {
    static func forward(_ ctx: FunctionContext, _ inputs: (Tensor, Tensor)) -> Tensor {
        ctx.saveForBackward(inputs.0, inputs.1)
        return inputs.0 * inputs.1
    }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let (x, y) = (ctx.savedTensors[0], ctx.savedTensors[1])
        return [gradOutput * y / (x - x), gradOutput * x]
    }
}

/// A Probe run: both inputs ones([2]) requiring grad, `y.sum().backward()`.
private func runProbe(_ gradients: @escaping (Tensor) -> [Tensor?], bRequiresGrad: Bool = true) throws -> (a: Tensor, b: Tensor) {
    Probe.gradients = gradients
    let a = try Tensor(NDArray.ones([2]), requiresGrad: true)
    let b = try Tensor(NDArray.ones([2]), requiresGrad: bRequiresGrad)
    try Probe.apply(a, b).sum().backward()
    return (a, b)
}

@Suite("Fidelity: custom functions", .serialized)
struct CustomFunctionFidelityTests {
    @Test("a nil gradient leaves the input's grad nil; trailing nils are accepted")
    func nilGradient() throws {
        let (a, b) = try runProbe { [$0 * 2, nil] }
        #expect(a.grad?.value.floats == [2, 2])
        #expect(b.grad == nil)
        let (a2, b2) = try runProbe { [$0 * 2, nil, nil] }
        #expect(a2.grad?.value.floats == [2, 2] && b2.grad == nil)
    }

    @Test("extra gradients or too few throw PyTorch's incorrect number of gradients")
    func counts() throws {
        #expect(throws: AutogradError.wrongGradientCount(function: "Probe", expected: 2, got: 3)) {
            try runProbe { [$0 * 2, $0 * 3, $0 * 4] }
        }
        #expect {
            try runProbe { [$0 * 2] }
        } throws: { "\($0)".hasPrefix("function ProbeBackward returned an incorrect number of gradients (expected 2, got 1)") }
    }

    @Test("a gradient of the wrong shape throws; a larger one sums down; another dtype is converted")
    func shapes() throws {
        #expect {
            try runProbe { [$0, Tensor.ones([3])] }
        } throws: {
            "\($0)".hasPrefix("Function ProbeBackward returned an invalid gradient at index 1 - got [3] but expected shape compatible with [2]")
        }
        #expect(throws: AutogradError.wrongGradientShape(function: "Probe", input: 1, expected: [2], got: [1])) {
            try runProbe { [$0, Tensor.ones([1])] }
        }
        #expect(throws: AutogradError.wrongGradientShape(function: "Probe", input: 1, expected: [2], got: [])) {
            try runProbe { [$0, Tensor.ones([])] }
        }
        let (_, b) = try runProbe { [$0, Tensor.ones([4, 2])] }
        #expect(b.grad?.value.floats == [4, 4])
        let (_, b2) = try runProbe { [$0, Tensor.ones([2], dtype: .float64)] }
        #expect(b2.grad?.dtype == .float32 && b2.grad?.value.floats == [1, 1])
    }

    @Test("a gradient for an input that needs none is dropped, unchecked")
    func dropped() throws {
        let (a, b) = try runProbe({ [$0 * 2, Tensor.ones([3])] }, bRequiresGrad: false)
        #expect(a.grad?.value.floats == [2, 2] && b.grad == nil)
    }

    @Test("the index counts tensors; a gradient for a number throws, naming its position from 1")
    func numbers() throws {
        let a = try Tensor([1.0, 1.0], requiresGrad: true), b = try Tensor([1.0, 1.0], requiresGrad: true)
        Scaled.gradients = { [$0, nil, Tensor.ones([3])] }
        #expect(throws: AutogradError.wrongGradientShape(function: "Scaled", input: 1, expected: [2], got: [3])) {
            try Scaled.apply(a, 2.0, b).sum().backward()
        }
        Scaled.gradients = { [$0, $0, $0] }
        #expect {
            try Scaled.apply(a, 2.0, b).sum().backward()
        } throws: { error in
            error as? AutogradError == .gradientForNonTensor(function: "Scaled", position: 2)
                && "\(error)".hasPrefix("function ScaledBackward returned a gradient different than nil at position 2")
        }
        Scaled.gradients = { [$0, nil, $0] }
    }

    @Test("nil is a zero under the transforms: grad, vmap of grad, jacrev, and a second order")
    func nilUnderTransforms() throws {
        let x = Tensor(NDArray([1.0, 2.0], dtype: .float64))
        let f = { (t: Tensor) in try (Stop.apply(t) + t * t).sum() }
        expectClose(try grad(f)(x).value, [2, 4])
        let rows = Tensor(NDArray([[1.0, 2.0], [3.0, 4.0]], dtype: .float64))
        expectClose(try vmap(grad(f))(rows).value, [2, 4, 6, 8])
        expectClose(try jacrev({ (t: Tensor) in try Stop.apply(t) })(x).value, [0, 0, 0, 0])
        let w = try Tensor([3.0], dtype: .float64, requiresGrad: true)
        let g = try #require(try Autograd.grad(outputs: [(try Stop.apply(w) * w).sum()], inputs: [w], createGraph: true)[0])
        #expect(g.item() == 3)
    }
}

@Suite("Fidelity: backward passes stop at their inputs")
struct StopAtInputsTests {
    @Test("Autograd.grad with respect to an intermediate runs no hook beyond it")
    func intermediate() throws {
        nonisolated(unsafe) var calls: [String] = []
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        try x.registerHook { _ in calls.append("x"); return nil }
        let z = x * 2
        try z.registerHook { g in calls.append("z \(g.value.floats)"); return nil }
        let y = (z * z).sum()
        let gz = try #require(try Autograd.grad(outputs: [y], inputs: [z])[0])
        #expect(gz.value.floats == [4, 8])
        #expect(calls == ["z [4.0, 8.0]"])
        #expect(x.grad == nil)
        calls = []
        _ = try Autograd.grad(outputs: [(x * 2 * x).sum()], inputs: [x])
        #expect(calls == ["x"])
        #expect(x.grad == nil)
    }

    @Test("backward(inputs:) stops there too, and fills a retained gradient once")
    func backwardInputs() throws {
        nonisolated(unsafe) var calls: [String] = []
        let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        try x.registerHook { _ in calls.append("x"); return nil }
        let z = x * 2
        try z.retainGrad()
        try (z * z).sum().backward(inputs: [z])
        #expect(z.grad?.value.floats == [4, 8, 12])
        #expect(x.grad == nil && calls.isEmpty)
    }

    @Test("what lies beyond the inputs is not freed: it can be swept again")
    func notFreedBeyond() throws {
        let x = try Tensor([0.5, 1.0], dtype: .float64, requiresGrad: true)
        let z = sin(x)                      // saves x
        let y = (z * z).sum()               // saves z
        _ = try Autograd.grad(outputs: [y], inputs: [z])
        try z.sum().backward()              // SinBackward0 was not swept, so not freed
        expectClose(try #require(x.grad).value, [cos(0.5), cos(1.0)])
        #expect(throws: AutogradError.self) { try y.backward() }   // MulBackward0 was
    }

    @Test("an intermediate input upstream of another is swept through")
    func twoInputs() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        let z = x * 3
        let grads = try Autograd.grad(outputs: [(z * x).sum()], inputs: [z, x])
        #expect(grads[0]?.value.floats == [1, 2])
        #expect(grads[1]?.value.floats == [6, 12])    // d(3x²)/dx, through z as well
    }

    @Test("empty inputs and inputs that do not require grad throw")
    func emptyInputs() throws {
        let x = try Tensor([1.0], requiresGrad: true)
        let y = (x * 2).sum()
        let line = #line + 1  // inside an expectation's closure #line is the expectation's line
        #expect {
            try y.backward(inputs: [])
        } throws: { error in
            error as? AutogradError == .emptyInputs(function: "backward()", file: "FluxionTests/TensorFidelityTests.swift", line: UInt(line))
                && "\(error)".hasPrefix("`inputs` argument to `backward()` cannot be empty")
        }
        #expect {
            try Autograd.grad(outputs: [y], inputs: [])
        } throws: { "\($0)".hasPrefix("`inputs` argument to `grad()` cannot be empty") }
        #expect(throws: AutogradError.inputDoesNotRequireGrad(index: 0, file: "FluxionTests/TensorFidelityTests.swift", line: #line)) {
            try y.backward(retainGraph: true, inputs: [try Tensor([1.0])])
        }
        try y.backward(inputs: [x])
        #expect(x.grad?.value.floats == [2])
    }
}

@Suite("Fidelity: views and in-place writes")
struct ViewTests {
    @Test("an in-place operation on a basic slice changes its base")
    func sliceWritesBase() throws {
        let t = Tensor.zeros([3, 2])
        try t[.all, 0].add_(1)
        #expect(t.value.floats == [1, 0, 1, 0, 1, 0])
        t[.all, 1] += 2
        #expect(t.value.floats == [1, 2, 1, 2, 1, 2])
        let row = t[1]
        row *= 10
        #expect(t.value.floats == [1, 2, 10, 20, 1, 2])
        #expect(t.version == 3)
    }

    @Test("subscript assignment: overwritten elements get no gradient, the value its region's (PyTorch's example)")
    func copySlices() throws {
        let leaf = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let t = leaf.clone()
        t[0] = 5
        t[1] = leaf[2] * 3
        #expect(t.gradFn?.name == "CopySlices")
        let y = (t * t).sum()
        #expect(t.value.floats == [5, 9, 3] && y.item() == 115)
        let g = try #require(try Autograd.grad(outputs: [y], inputs: [leaf])[0])
        #expect(g.value.floats == [0, 0, 60])
    }

    @Test("a view written in place: the base's gradient goes through the write (PyTorch's example)")
    func viewMulGradient() throws {
        let leaf = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let t = leaf * 1
        let v = t[1...]
        try v.mul_(2)
        #expect(t.value.floats == [1, 4, 6])
        #expect(t.gradFn?.name == "CopySlices" && v.gradFn?.name == "AsStridedBackward0")
        let g = try #require(try Autograd.grad(outputs: [(t * t).sum()], inputs: [leaf])[0])
        #expect(g.value.floats == [2, 16, 24])
    }

    @Test("a view sees its base change, and its gradient flows through the new base")
    func viewFollowsBase() throws {
        let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let y = x * 2
        let v = y[1]
        try y.mul_(x)                           // y = 2x²
        #expect(v.item() == 8 && v.version == 1)
        #expect(v.gradFn?.name == "AsStridedBackward0")
        try v.backward()
        #expect(x.grad?.value.floats == [0, 8, 0])
    }

    @Test("writing a view of a leaf that requires grad is refused; inside noGrad it is allowed")
    func viewOfLeaf() throws {
        let leaf = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        #expect {
            try leaf[0..<2].add_(1)
        } throws: { "\($0)".hasPrefix("a view of a leaf Variable that requires grad is being used in an in-place operation") }
        // (Inside an expectation's closure #line is the expectation's line.)
        #expect(throws: AutogradError.inPlaceOnLeaf(operation: "add_", file: "FluxionTests/TensorFidelityTests.swift", line: #line)) {
            try leaf.add_(1)
        }
        noGrad { leaf[0] = 5 }
        #expect(leaf.value.floats == [5, 2, 3] && leaf.isLeaf && leaf.requiresGrad && leaf.version == 1)
        try (leaf * leaf).sum().backward()
        #expect(leaf.grad?.value.floats == [10, 4, 6])
    }

    @Test("a view made inside noGrad cannot be written with grad mode on")
    func noGradView() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        let v = noGrad { y[0..<1] }
        #expect(throws: AutogradError.inPlaceOnNoGradView(operation: "add_", file: "FluxionTests/TensorFidelityTests.swift", line: #line)) {
            try v.add_(1)
        }
        try noGrad { try v.add_(1) }
        #expect(y.value.floats == [3, 4] && y.gradFn?.name == "MulBackward0")
    }

    @Test("reshapes, transposes, diagonals, splits and detach are views; expand cannot be written")
    func otherViews() throws {
        let t = Tensor.zeros([2, 3])
        try t.reshape([6]).add_(1)
        #expect(t.value.floats == [1, 1, 1, 1, 1, 1])
        try t.T[0].fill_(4)                      // column 0
        #expect(t.value.floats == [4, 1, 1, 4, 1, 1])
        try t.permute([1, 0]).unsqueeze(0)[0, 2].zero_()
        #expect(t.value.floats == [4, 1, 0, 4, 1, 0])
        let pieces = t.split(size: 2, dim: 1)
        try pieces[1].fill_(7)
        #expect(t.value.floats == [4, 1, 7, 4, 1, 7])
        try t.chunk(2, dim: 0)[1].mul_(0)
        #expect(t.value.floats == [4, 1, 7, 0, 0, 0])

        // The diagonal of every matrix of a batch, above and below the main one.
        let cube = Tensor.zeros([2, 3, 4])
        try cube.diagonal(offset: 1, dim1: 1, dim2: 2).fill_(1)
        try cube.diagonal(offset: -1, dim1: -2, dim2: -1).fill_(2)
        let plane: [Float] = [0, 1, 0, 0,  2, 0, 1, 0,  0, 2, 0, 1]
        #expect(cube.value.floats == plane + plane)
        let m = try Tensor(NDArray.ones([2, 2]), requiresGrad: true)
        let copy = m * 1
        try copy.diagonal().zero_()
        #expect(copy.value.floats == [0, 1, 1, 0] && copy.gradFn?.name == "CopySlices")
        try (copy * copy).sum().backward()
        #expect(m.grad?.value.floats == [0, 2, 2, 0])

        // detach shares the value: writing it writes the leaf, which stays a leaf.
        let w = try Tensor([1.0, 2.0], requiresGrad: true)
        try w.detach().zero_()
        #expect(w.value.floats == [0, 0] && w.isLeaf && w.requiresGrad && w.version == 1)
        // An expand that repeats nothing can be written.
        let column = Tensor.zeros([3])
        try column.expand([1, 3]).add_(1)
        #expect(column.value.floats == [1, 1, 1])
    }

    @Test("detach does not keep its base (or its graph) alive")
    func detachIsWeak() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        weak var weakBase: Tensor?
        var detached: Tensor?
        do {
            let y = x * 2
            weakBase = y
            detached = y.detach()
        }
        #expect(weakBase == nil)
        try detached?.add_(1)                    // its base is gone: it changes alone
        #expect(detached?.value.floats == [3, 5])
    }

    @Test("zero_, fill_ and copy_ keep a tensor that requires grad in the graph, as PyTorch")
    func overwrite() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        try y.zero_()
        #expect(y.requiresGrad && y.gradFn?.name == "ZeroBackward0")
        try y.sum().backward()
        #expect(x.grad?.value.floats == [0, 0])
        let z = x * 2
        try z.fill_(3)
        #expect(z.gradFn?.name == "FillBackward2" && z.value.floats == [3, 3])
        let s = try Tensor([5.0, 6.0], requiresGrad: true)
        let c = Tensor.zeros([2])
        try c.copy_(s * s)
        #expect(c.gradFn?.name == "CopyBackwards")
        try c.sum().backward()
        #expect(s.grad?.value.floats == [10, 12])
    }

    @Test("an in-place operation inside noGrad leaves a non-leaf in its place in the graph")
    func noGradInPlace() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        try noGrad { try y.add_(1) }
        #expect(y.gradFn?.name == "MulBackward0" && y.requiresGrad && y.value.floats == [3, 5])
        try (y * y).sum().backward()                // d/dx (y_new²) through y = 2x: 2·y_new·2
        #expect(x.grad?.value.floats == [12, 20])
    }

    @Test("retainGrad then an in-place operation: grad is the current version's; hooks keep theirs")
    func retainGradAfterInPlace() throws {
        let x = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let y = x * 2
        try y.retainGrad()
        nonisolated(unsafe) var hooked: [Float] = []
        try y.registerHook { g in hooked = g.value.floats; return nil }
        try y.mul_(2)
        try (y * 3).sum().backward()
        #expect(y.grad?.value.floats == [3, 3, 3])
        #expect(hooked == [6, 6, 6])
        let v = (x * 1)[0..<2]
        try v.retainGrad()
        try v.mul_(5)
        try (v * v).sum().backward()
        #expect(v.grad?.value.floats == [10, 20])
    }

    @Test("masks and integer indices: copies to read, recorded writes")
    func advancedIndexing() throws {
        let leaf = try Tensor([1.0, 2.0, 3.0, 4.0], requiresGrad: true)
        let mask = Tensor(NDArray([true, false, true, false]))
        let picked = leaf[mask]
        #expect(picked.value.floats == [1, 3] && picked.gradFn?.name == "IndexBackward0")
        let idx = Tensor(NDArray([-1, 0]))
        #expect(leaf[idx].value.floats == [4, 1])
        let d: Double = leaf[2]
        #expect(d == 3)

        let t = leaf * 1
        t[mask] = 0
        #expect(t.value.floats == [0, 2, 0, 4] && t.gradFn?.name == "MaskedFillBackward0")
        let v = try Tensor([10.0, 20.0], requiresGrad: true)
        t[idx] = v
        #expect(t.value.floats == [20, 2, 0, 10] && t.gradFn?.name == "IndexPutBackward0")
        try (t * t).sum().backward()
        #expect(leaf.grad?.value.floats == [0, 4, 0, 0])
        #expect(v.grad?.value.floats == [20, 40])

        // A mask of the leading dimension selects rows; assigning a row fills every selected one.
        let rows = Tensor.zeros([3, 2])
        rows[Tensor(NDArray([false, true, true]))] = Tensor(NDArray([1.0, 2.0]))
        #expect(rows.value.floats == [0, 0, 1, 2, 1, 2])
        // A leaf that requires grad: PyTorch names the leaf, not a view.
        noGrad { leaf[mask] = 9 }
        #expect(leaf.value.floats == [9, 2, 9, 4])
    }

    @Test("to(the same dtype) is the tensor itself, as in PyTorch")
    func toSameDType() throws {
        let x = try Tensor([1.0], requiresGrad: true)
        #expect(x.to(.float32) === x)
        #expect(x.to(.float64) !== x)
    }
}

@Suite("Fidelity: NDArray advanced indexing")
struct NDArrayAdvancedIndexingTests {
    @Test("reading and writing with int64 indices and bool masks")
    func values() {
        let x = NDArray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        #expect(x[NDArray([2, -3])].floats == [5, 6, 1, 2])
        #expect(x[NDArray([[0], [2]])].shape == [2, 1, 2])
        #expect(x[x .> 2.5].floats == [3, 4, 5, 6])
        #expect(x[NDArray([true, false, true])].floats == [1, 2, 5, 6])
        var y = x
        y[x .> 2.5] = NDArray(0.0)
        #expect(y.floats == [1, 2, 0, 0, 0, 0] && x.floats == [1, 2, 3, 4, 5, 6])
        y[NDArray([1, 0])] = NDArray([[7.0, 8.0], [9.0, 10.0]])
        #expect(y.floats == [9, 10, 7, 8, 0, 0])
        y[x .< 2.5] = NDArray([-1.0, -2.0])
        #expect(y.floats == [-1, -2, 7, 8, 0, 0])
        #expect(x[NDArray([false, false, false])].shape == [0, 2])
    }

    @Test("their derivatives: the overwritten elements none, the assigned values those of their places")
    func derivatives() throws {
        let x = NDArray([1.0, -2.0, 3.0], dtype: .float64)
        let g = try grad { (x: NDArray) in
            var y = x * x
            y[x .< 0] = NDArray(0.0, dtype: .float64)
            y[NDArray([0])] = x[NDArray([2])] * 10
            return y.sum()
        }(x)
        expectClose(g, [0, 0, 16])
        // Under vmap a mask filled with a number needs no positions.
        let mapped = try vmap { (row: NDArray) in
            var r = row
            r[row .> 0] = NDArray(0.0)
            return r
        }(NDArray([[1.0, -1.0], [-2.0, 2.0]]))
        #expect(mapped.floats == [0, -1, -2, 0])
    }
}

@Suite("Fidelity: a second backward through freed indices")
struct FreedIndexTests {
    private func secondBackwardThrows(_ build: (Tensor) -> Tensor, node: String) throws {
        let x = try Tensor([1.0, 2.0, 3.0, 4.0, 5.0], requiresGrad: true)
        let y = build(x)
        try y.backward()
        #expect {
            try y.backward()
        } throws: { error in
            guard case let .graphFreed(name, _, _)? = error as? AutogradError else { return false }
            return name == node
        }
    }

    @Test("gather, indexSelect, index subscripts, masks, scatterAdd and sort save their indices")
    func indices() throws {
        let idx = Tensor(NDArray([0, 2]))
        try secondBackwardThrows({ $0.gather(dim: 0, index: idx).sum() }, node: "GatherBackward0")
        try secondBackwardThrows({ $0.indexSelect(dim: 0, index: idx).sum() }, node: "IndexSelectBackward0")
        try secondBackwardThrows({ $0[idx].sum() }, node: "IndexBackward0")
        try secondBackwardThrows({ $0[$0 .> 2].sum() }, node: "IndexBackward0")
        try secondBackwardThrows({ Tensor.zeros([5]).scatterAdd(dim: 0, index: idx, source: $0[0..<2]).sum() },
                                 node: "ScatterAddBackward0")
        try secondBackwardThrows({ $0.sort().values.sum() }, node: "SortBackward0")
        try secondBackwardThrows({ ($0 * 2).sum() }, node: "MulBackward0")
    }

    @Test("a basic slice saves only its bounds: a second backward accumulates, as in PyTorch")
    func basicSlice() throws {
        let x = try Tensor([1.0, 2.0, 3.0, 4.0, 5.0], requiresGrad: true)
        let y = x[1..<3].sum()
        try y.backward()
        try y.backward()
        #expect(x.grad?.value.floats == [0, 2, 2, 0, 0])
    }
}

@Suite("Fidelity: grad modes and inference tensors")
struct GradModeFidelityTests {
    @Test("exporting the values of a tensor that requires grad is allowed inside noGrad")
    func export() throws {
        let x = try Tensor([1.0, 1.0, 1.0], requiresGrad: true)
        #expect(throws: AutogradError.self) { try x.floats() }
        #expect(try noGrad { try x.floats() } == [1, 1, 1])
        #expect(try noGrad { try x.doubles() } == [1, 1, 1])
        #expect(try x.detach().floats() == [1, 1, 1])
    }

    @Test("inference tensors: no in-place update outside, additions record, products refused at once")
    func inference() throws {
        let t = inferenceMode { Tensor.ones([3]) }
        #expect(t.isInference && !t.requiresGrad)
        #expect {
            try t.add_(1)
        } throws: { "\($0)".hasPrefix("inplace update to inference tensor outside InferenceMode is not allowed") }
        #expect(throws: AutogradError.self) { try t[0..<1].add_(1) }      // a view of one is one
        try inferenceMode { try t.add_(1) }
        #expect(t.value.floats == [2, 2, 2] && !(t + 1).isInference)

        let x = try Tensor([1.0, 1.0, 1.0], requiresGrad: true)
        try (x + t).sum().backward()
        #expect(x.grad?.value.floats == [1, 1, 1])
        x.grad = nil
        try (sin(t) * x).sum().backward()                // sin(t) is a normal tensor
        expectClose(try #require(x.grad).value, [sin(2.0), sin(2.0), sin(2.0)])
        let c = t.clone()
        #expect(!c.isInference)
        let y = x * 1
        #expect(throws: AutogradError.inferenceTensorInGraph(node: "MulBackward0")) { try y.mul_(t) }
        #expect(throws: AutogradError.inferenceTensorInGraph(node: "SavingProductBackward")) {
            try SavingProduct.apply(x, t)
        }
        #expect(try Probe.apply(x, t).requiresGrad)      // saves nothing: recorded
        #expect(Tensor.where(x .> 0, x, t).gradFn?.name == "WhereBackward0")   // saves the condition only
    }

    @Test("an operator that would save an inference tensor stops at the forward call")
    func operatorStops() async {
        await #expect(processExitsWith: .failure) {
            let t = inferenceMode { Tensor.ones([3]) }
            let x = try Tensor([1.0, 1.0, 1.0], requiresGrad: true)
            _ = x * t
        }
        let line = #line + 1
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let t = inferenceMode { Tensor.ones([3]) }
            _ = dot(try Tensor([1.0, 1.0, 1.0], requiresGrad: true), t)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("Fluxion: DotBackward0: inference tensors cannot be saved for backward"), "\(text)")
        #expect(text.contains("called at FluxionTests/TensorFidelityTests.swift:\(line)"), "\(text)")
    }
}

@Suite("Fidelity: anomaly mode's forward line")
struct AnomalyFidelityTests {
    @Test("a custom Function and a function with file and line report the caller's line exactly")
    func forwardLine() throws {
        let x = try Tensor([1.0, 2.0], requiresGrad: true)
        try detectAnomaly {
            let applied = #line + 1
            let y = try SavingProduct.apply(x, x).sum()
            #expect {
                try y.backward()
            } throws: { error in
                guard case let .anomaly(node, _, _, forward)? = error as? AutogradError else { return false }
                return node == "SavingProductBackward" && forward == "FluxionTests/TensorFidelityTests.swift:\(applied)"
            }
            let singular = try Tensor(NDArray.zeros([2, 2], dtype: .float64), requiresGrad: true)
            let inverted = #line + 1
            let n = inverse(singular).sum()          // LAPACK gives NaN for a singular matrix
            #expect {
                try n.backward()
            } throws: { error in
                guard case let .anomaly(_, _, _, forward)? = error as? AutogradError else { return false }
                return forward == "FluxionTests/TensorFidelityTests.swift:\(inverted)"
            }
        }
    }
}

@Suite("Fidelity: overwriting a 0-d tensor")
struct ScalarOverwriteTests {
    @Test("zero_, fill_ and copy_ on a 0-d tensor that requires grad")
    func scalar() throws {
        let x = try Tensor(2.0, requiresGrad: true)
        let y = x * x
        try y.fill_(5)
        #expect(y.item() == 5 && y.gradFn?.name == "FillBackward2")
        let z = x * 1
        try z.copy_(x * 3)
        try z.backward()
        #expect(x.grad?.item() == 3)
    }
}
