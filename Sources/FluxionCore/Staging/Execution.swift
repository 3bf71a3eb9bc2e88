// How a program runs on concrete arrays: planned once when the program is made, then each call
// walks the plan. Values live in slots (variables first, then constants); each step reads and
// writes slots, and every slot is released after the step that reads it last.
//
// Runs of floating elementwise equations over one shape and dtype — what a chain of scalar
// operations, an activation and its derivative, or an optimizer's update stage to — become one
// fused step (`FusedElementwise`): the values between them are never allocated as arrays, and a
// chain of functions of scalars costs one call instead of one per function. A fused run computes
// each element with the same kernel as the unfused equations, so results are bit for bit the
// same. Operands from outside a run may be broadcast (a bias, a scalar) or strided (a transposed
// view); the loop reads them in place. A run need not be consecutive: it gathers the fusible
// equations of its type until something outside it reads one of its values (derivatives
// interleave the chains of several shapes with reshapes and products); a run of one equation
// runs unfused. A sum of a run's value over a middle block of its dimensions — a product summed
// over the directions of a forward Laplacian — ends the run and is added up as the loop makes
// the value, which then need not exist as an array; the sums are bit for bit
// `Summation.reduce`'s (`MiddleSum`).
//
// Memory is planned by reuse: each plan has a `StoragePool`, which hands the blocks of one call
// to the next once nothing else references them — intermediates after their last reader,
// results once the caller has dropped them — so that after its first calls a plan makes no new
// storage, and within a call a block is reused as soon as its value is dead.

import FluxionKernels

/// A program's equations as steps over slots.
struct ExecutionPlan: @unchecked Sendable {
    enum Step {
        case unary(any UnaryPrimitive, Int, Int)
        case binary(any BinaryPrimitive, Int, Int, Int)
        case fused(FusedElementwise, inputs: [Int], outputs: [Int])
        case general(any Primitive, [Int], [Int])

        /// The slots the step reads.
        var reads: [Int] {
            switch self {
            case let .unary(_, a, _): [a]
            case let .binary(_, a, b, _): [a, b]
            case let .fused(_, inputs, _): inputs
            case let .general(_, inputs, _): inputs
            }
        }

        /// The step with every slot `s` replaced by `slot(s)`.
        func renumbered(_ slot: (Int) -> Int) -> Step {
            switch self {
            case let .unary(p, a, y): .unary(p, slot(a), slot(y))
            case let .binary(p, a, b, y): .binary(p, slot(a), slot(b), slot(y))
            case let .fused(loop, inputs, outputs): .fused(loop, inputs: inputs.map(slot), outputs: outputs.map(slot))
            case let .general(p, inputs, outputs): .general(p, inputs.map(slot), outputs.map(slot))
            }
        }

        /// The slots the step writes.
        var writes: [Int] {
            switch self {
            case let .unary(_, _, y), let .binary(_, _, _, y): [y]
            case let .fused(_, _, outputs): outputs
            case let .general(_, _, outputs): outputs
            }
        }
    }

    /// How many slots a call uses: one per value that exists as an array during a call (the
    /// inputs, the constants the steps read, every result of an unfused step, the results a
    /// fused step hands on), not one per variable of the program.
    let slotCount: Int
    /// The input slots, in order.
    let inputs: [Int]
    /// The constants the steps read (or return), by position in the program, and their slots.
    let constantSlots: [(constant: Int, slot: Int)]
    let steps: [Step]
    /// Slots released after each step (their last use), never outputs or constants.
    let releases: [[Int]]
    let outputs: [Int]
    /// The blocks of the last call, handed out again by the next.
    let pool = StoragePool()

    init(types: [ArrayType], inputs: [Int], constantTypes: [ArrayType], equations: [Program.Equation], outputs: [Program.Atom]) {
        // Values are first named by variable number, constants after the variables.
        let name = { (atom: Program.Atom) -> Int in
            switch atom {
            case .variable(let v): v
            case .constant(let c): types.count + c
            }
        }
        let type = { (atom: Program.Atom) -> ArrayType in
            switch atom {
            case .variable(let v): types[v]
            case .constant(let c): constantTypes[c]
            }
        }
        let outputNames = outputs.map(name)
        let named = Self.steps(types: types, equations: equations, outputSlots: Set(outputNames), slot: name, type: type)

        // Then numbered densely, in order of first appearance.
        var slotOf: [Int: Int] = [:]
        func slot(_ name: Int) -> Int {
            if let s = slotOf[name] { return s }
            slotOf[name] = slotOf.count
            return slotOf.count - 1
        }
        self.inputs = inputs.map(slot)
        steps = named.map { $0.renumbered(slot) }
        self.outputs = outputNames.map(slot)
        constantSlots = slotOf.filter { $0.key >= types.count }.map { (constant: $0.key - types.count, slot: $0.value) }
        slotCount = slotOf.count

        var lastUse = [Int](repeating: -1, count: slotCount)
        for (i, step) in steps.enumerated() {
            for s in step.reads { lastUse[s] = i }
        }
        let kept = Set(self.outputs).union(constantSlots.map(\.slot))
        var releases = [[Int]](repeating: [], count: steps.count)
        for s in 0..<slotCount where lastUse[s] >= 0 && !kept.contains(s) { releases[lastUse[s]].append(s) }
        // A value no step reads is released as soon as it is made.
        for (i, step) in steps.enumerated() {
            for s in step.writes where lastUse[s] < 0 && !kept.contains(s) { releases[i].append(s) }
        }
        self.releases = releases
    }

    func run(_ inputValues: [NDArray], constants: [NDArray]) -> [NDArray] {
        pool.withBlocks { runSteps(inputValues, constants: constants) }
    }

    private func runSteps(_ inputValues: [NDArray], constants: [NDArray]) -> [NDArray] {
        var slots = [NDArray?](repeating: nil, count: slotCount)
        for (c, s) in constantSlots { slots[s] = constants[c] }
        for (s, x) in zip(inputs, inputValues) { slots[s] = x }
        for (i, step) in steps.enumerated() {
            switch step {
            case let .unary(p, a, y):
                slots[y] = NDArray(p.evaluate(slots[a]!.elements))
            case let .binary(p, a, b, y):
                slots[y] = NDArray(p.evaluate(slots[a]!.elements, slots[b]!.elements))
            case let .fused(loop, ins, outs):
                let results = loop.run(ins.map { slots[$0]!.elements })
                for (v, r) in zip(outs, results) { slots[v] = NDArray(r) }
            case let .general(p, ins, outs):
                let results = p.evaluate(ins.map { slots[$0]! })
                for (v, r) in zip(outs, results) { slots[v] = r }
            }
            for v in releases[i] { slots[v] = nil }
        }
        return outputs.map { slots[$0]! }
    }

    /// One line per step, in order: the primitive a kernel call runs, or a fused loop's type and
    /// functions (ending in `sum` when it sums one of its values).
    var description: String {
        steps.map { step in
            switch step {
            case let .unary(p, _, _): p.name
            case let .binary(p, _, _, _): p.name
            case let .general(p, _, _): p.name
            case let .fused(loop, _, outputs):
                "fused \(ArrayType(shape: loop.shape, dtype: loop.dtype)): " + loop.instructions.map { instruction in
                    switch instruction {
                    case .unary(let f, _): "\(f)"
                    case .binary(let f, _, _): "\(f)"
                    }
                }.joined(separator: " ") + (loop.reduction == nil ? "" : " sum")
                    + " → \(outputs.count) result\(outputs.count == 1 ? "" : "s")"
            }
        }.joined(separator: "\n")
    }

    // MARK: - Planning

    /// The steps of `equations`: fusible equations gathered into runs, one per result type, the
    /// others one step each.
    ///
    /// A run stays open across equations of other kinds and types, so that a chain interleaved
    /// with reshapes, products or another shape's chain — as derivatives interleave them — still
    /// fuses. It closes, becoming one step at that point, when an equation outside it reads one
    /// of its values; its equations then run after the ones between them, which is safe because
    /// none of those read the run's values, and the run's own operands were all made before.
    private static func steps(types: [ArrayType], equations: [Program.Equation], outputSlots: Set<Int>,
                              slot: (Program.Atom) -> Int, type: (Program.Atom) -> ArrayType) -> [Step] {
        // The equations reading each variable, to tell which values of a run are needed after it.
        var readers = [[Int]](repeating: [], count: types.count)
        for (i, equation) in equations.enumerated() {
            for case .variable(let v) in equation.inputs { readers[v].append(i) }
        }
        var steps: [Step] = []
        var runs: [ArrayType: [Int]] = [:]
        var runOf: [Int: ArrayType] = [:]    // variable → the open run defining it
        func close(_ type: ArrayType) {
            guard let run = runs.removeValue(forKey: type) else { return }
            for i in run { runOf[equations[i].outputs[0]] = nil }
            guard run.count > 1 else {
                steps += run.map { unfused(equations[$0], slot: slot) }
                return
            }
            steps.append(fused(run.map { equations[$0] }, members: Set(run), types: types,
                               readers: readers, outputSlots: outputSlots, slot: slot))
        }
        for (i, equation) in equations.enumerated() {
            // A sum over a middle block of a run's value ends that run, made as the loop runs.
            if let summed = summedRun(equation, types: types, runOf: runOf) {
                runs[summed]!.append(i)
                close(summed)
                continue
            }
            let result = fusibleType(equation, types: types, type: type)
            // Runs whose values this equation reads close first (unless it joins that run).
            for case .variable(let v) in equation.inputs {
                if let open = runOf[v], open != result { close(open) }
            }
            guard let result else {
                steps.append(unfused(equation, slot: slot))
                continue
            }
            runs[result, default: []].append(i)
            runOf[equation.outputs[0]] = result
        }
        // Then the open runs, in order of their first equations.
        for type in runs.sorted(by: { $0.value[0] < $1.value[0] }).map(\.key) { close(type) }
        return steps
    }

    /// The result type of an equation a fused loop can take — a floating elementwise function
    /// whose operands have the result's dtype and a shape that broadcasts to its — or nil.
    private static func fusibleType(_ equation: Program.Equation, types: [ArrayType], type: (Program.Atom) -> ArrayType) -> ArrayType? {
        guard equation.outputs.count == 1 else { return nil }
        let result = types[equation.outputs[0]]
        guard result.dtype.isFloatingPoint else { return nil }
        switch equation.primitive {
        case let p as any UnaryElementwise where p.function != .logicalNot: break
        case let p as any BinaryElementwise where p.function != .logicalAnd && p.function != .logicalOr: break
        default: return nil
        }
        for operand in equation.inputs.map(type) {
            guard operand.dtype == result.dtype, Shape.broadcast(operand.shape, result.shape) == result.shape else { return nil }
        }
        return result
    }

    /// The type of the open run whose value `equation` sums, when it is a float sum over a
    /// middle block of the value's dimensions (`MiddleSum`) with segments a fused loop's block
    /// can hold; nil otherwise.
    private static func summedRun(_ equation: Program.Equation, types: [ArrayType], runOf: [Int: ArrayType]) -> ArrayType? {
        guard let sum = equation.primitive as? ReduceSum, case .variable(let v) = equation.inputs[0],
              let run = runOf[v] else { return nil }
        guard let sums = middleSum(sum, of: run) else { return nil }
        return sums.middle * sums.inner <= FusedElementwise.longestSegment ? run : nil
    }

    /// The sum `sum` over arrays of `type`, when it is over a middle block of dimensions.
    private static func middleSum(_ sum: ReduceSum, of type: ArrayType) -> MiddleSum? {
        var reduced = [Bool](repeating: false, count: type.shape.count)
        for a in sum.axes { reduced[a] = true }
        return MiddleSum(shape: type.shape, reduced: reduced, dtype: type.dtype)
    }

    private static func unfused(_ equation: Program.Equation, slot: (Program.Atom) -> Int) -> Step {
        let ins = equation.inputs.map(slot)
        if ins.count == 1, equation.outputs.count == 1, let p = equation.primitive as? any UnaryPrimitive {
            return .unary(p, ins[0], equation.outputs[0])
        }
        if ins.count == 2, equation.outputs.count == 1, let p = equation.primitive as? any BinaryPrimitive {
            return .binary(p, ins[0], ins[1], equation.outputs[0])
        }
        return .general(equation.primitive, ins, equation.outputs)
    }

    /// One fused step for a run of fusible equations of one result type (`members`, their
    /// positions in the program), the last of which may be a sum of one of their values.
    private static func fused(_ run: [Program.Equation], members: Set<Int>, types: [ArrayType], readers: [[Int]],
                              outputSlots: Set<Int>, slot: (Program.Atom) -> Int) -> Step {
        let type = types[run[0].outputs[0]]
        var value: [Int: Int] = [:]        // variable → the loop's value
        var inputSlots: [Int] = []
        var inputIndex: [Int: Int] = [:]   // slot → the loop's input
        func operand(_ atom: Program.Atom) -> FusedElementwise.Operand {
            if case .variable(let v) = atom, let k = value[v] { return .value(k) }
            let s = slot(atom)
            if let i = inputIndex[s] { return .input(i) }
            inputIndex[s] = inputSlots.count
            inputSlots.append(s)
            return .input(inputSlots.count - 1)
        }
        var instructions: [FusedElementwise.Instruction] = []
        var reduction: FusedElementwise.Reduction?
        var elementwise = run
        if let sum = run.last!.primitive as? ReduceSum, case .variable(let v) = run.last!.inputs[0] {
            elementwise.removeLast()
            reduction = .init(value: elementwise.firstIndex { $0.outputs[0] == v }!, sums: middleSum(sum, of: type)!,
                              shape: types[run.last!.outputs[0]].shape)
        }
        for (k, equation) in elementwise.enumerated() {
            switch equation.primitive {
            case let p as any UnaryElementwise:
                instructions.append(.unary(p.function, operand(equation.inputs[0])))
            case let p as any BinaryElementwise:
                instructions.append(.binary(p.function, operand(equation.inputs[0]), operand(equation.inputs[1])))
            default:
                fatalError("unreachable: only elementwise equations are fused")
            }
            value[equation.outputs[0]] = k
        }
        // Values read after the run, or returned, leave the loop as arrays.
        let leaving = elementwise.indices.filter { k in
            let v = elementwise[k].outputs[0]
            return outputSlots.contains(v) || readers[v].contains { !members.contains($0) }
        }
        let loop = FusedElementwise(dtype: type.dtype, shape: type.shape, instructions: instructions, outputs: leaving,
                                    reduction: reduction)
        return .fused(loop, inputs: inputSlots, outputs: leaving.map { elementwise[$0].outputs[0] } + (reduction.map { _ in run.last!.outputs } ?? []))
    }
}
