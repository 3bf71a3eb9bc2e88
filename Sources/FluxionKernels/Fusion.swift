// Fused elementwise loops: a chain of floating elementwise functions over arrays of one shape,
// run block by block of elements, so that the values between the functions live in small
// buffers that stay in cache instead of arrays allocated, written and read back one function
// at a time — and a chain of functions of scalars costs one call instead of one per function.
// Each function is computed by the same element kernel the array loops use
// (`Elementwise.withKernel`), so every element is bit for bit what the unfused loops give.

/// A fused chain of floating elementwise functions over arrays of one shape and dtype.
///
/// Operands are the chain's inputs — arrays of any layout whose shape broadcasts to the loop's
/// (a bias, a scalar, a transposed view) — and its own values, numbered from 0 in order of
/// definition; each instruction defines the next value. `run` returns the values listed as
/// outputs, contiguous.
public struct FusedElementwise: Sendable {
    /// An operand of an instruction.
    public enum Operand: Sendable, Equatable {
        /// The chain's input at this position.
        case input(Int)
        /// A value the chain defined earlier.
        case value(Int)
    }

    /// One function applied elementwise, defining the next value.
    public enum Instruction: Sendable {
        /// `f(a)`, elementwise.
        case unary(UnaryFunction, Operand)
        /// `f(a, b)`, elementwise.
        case binary(BinaryFunction, Operand, Operand)
    }

    /// The dtype of every input, value and output.
    public let dtype: DType
    /// The shape of every value and output (inputs broadcast to it).
    public let shape: [Int]
    /// The functions, in order; the i-th defines value i.
    public let instructions: [Instruction]
    /// The values returned, in order.
    public let outputs: [Int]
    /// A sum of one value over a middle block of the loop's dimensions, returned after the
    /// outputs, or nil.
    public let reduction: Reduction?
    /// Each value's buffer among the block buffers, or -1 for an output (written straight
    /// into its array).
    private let buffer: [Int]
    /// Each value's position among the results, or -1.
    private let result: [Int]
    private let bufferCount: Int
    /// The elements' total cost in simple operations, to decide when to use both cores.
    private let cost: Int

    /// A value of the loop summed over a middle block of its dimensions (`MiddleSum`) as the
    /// loop makes it, a segment of whole sums at a time, so that the summed value need never be
    /// an array: a product summed over the directions of a forward Laplacian. The sums are those
    /// `Summation.reduce` gives, bit for bit.
    public struct Reduction: Sendable {
        /// The value summed.
        public let value: Int
        /// The sum over the loop's shape.
        public let sums: MiddleSum
        /// The result's shape (the loop's without the reduced dimensions).
        public let shape: [Int]

        /// The sum of `value` described by `sums`, returned with shape `shape`.
        public init(value: Int, sums: MiddleSum, shape: [Int]) {
            (self.value, self.sums, self.shape) = (value, sums, shape)
        }

        /// The elements of one segment — the terms of `inner` whole sums — which a loop's
        /// blocks must keep together.
        var segment: Int { sums.middle * sums.inner }
    }

    /// Segments longer than this (in elements) are summed unfused: a block holding one would
    /// no longer stay in cache.
    public static let longestSegment = 16 * block

    /// A chain over arrays of `shape` and `dtype` (float32 or float64), returning `outputs`
    /// and, when given, the sum `reduction` (whose segments are at most `longestSegment`).
    public init(dtype: DType, shape: [Int], instructions: [Instruction], outputs: [Int], reduction: Reduction? = nil) {
        guard dtype.isFloatingPoint else { kernelFailure("a fused loop is floating-point only, not \(dtype)") }
        if let reduction {
            guard reduction.sums.dtype == dtype, reduction.sums.outer * reduction.segment == shape.reduce(1, *),
                  reduction.segment <= Self.longestSegment, instructions.indices.contains(reduction.value) else {
                kernelFailure("fused loop: a sum of \(reduction.sums.outer)×\(reduction.sums.middle)×\(reduction.sums.inner) elements in a loop over \(shape)")
            }
        }
        self.dtype = dtype
        self.shape = shape
        self.instructions = instructions
        self.outputs = outputs
        self.reduction = reduction
        // Buffers are reused once the value in them is read for the last time.
        var lastUse = [Int](repeating: -1, count: instructions.count)
        for (i, instruction) in instructions.enumerated() {
            for case .value(let v) in instruction.operands { lastUse[v] = i }
        }
        var result = [Int](repeating: -1, count: instructions.count)
        for (k, v) in outputs.enumerated().reversed() { result[v] = k }
        var buffer = [Int](repeating: -1, count: instructions.count)
        var free: [Int] = [], count = 0
        for (i, instruction) in instructions.enumerated() {
            if result[i] < 0 {
                if let reused = free.popLast() {
                    buffer[i] = reused
                } else {
                    buffer[i] = count
                    count += 1
                }
            }
            // Released after the instruction that reads them last (not before it is written:
            // an instruction's result never shares a buffer with its own operands).
            // (Once each: `x · x` reads x twice.)
            for v in Set(instruction.operands.compactMap { if case .value(let v) = $0 { v } else { nil } })
            where lastUse[v] == i && buffer[v] >= 0 {
                free.append(buffer[v])
            }
            if lastUse[i] < 0 && buffer[i] >= 0 { free.append(buffer[i]) }
        }
        self.buffer = buffer
        bufferCount = count
        self.result = result
        cost = instructions.reduce(0) { total, instruction in
            switch instruction {
            case .unary(let f, _): total + f.cost
            case .binary(let f, _, _): total + f.cost
            }
        }
    }

    /// The outputs for `inputs`, each of the loop's dtype and of a shape that broadcasts to its,
    /// then the reduction's sum if there is one.
    public func run(_ inputs: [StridedArray]) -> [StridedArray] {
        switch dtype {
        case .float32: run(inputs, Float.self)
        default: run(inputs, Double.self)
        }
    }

    /// Elements per block: enough to amortise an instruction's dispatch, few enough that the
    /// buffers stay in the first-level cache.
    private static let block = 256

    private func run<T: FloatingElement>(_ inputs: [StridedArray], _: T.Type) -> [StridedArray] {
        let n = shape.reduce(1, *)
        for x in inputs {
            guard x.dtype == dtype else { kernelFailure("fused loop: a \(x.dtype) input in a \(dtype) loop") }
        }
        if n == 1 { return runScalars(inputs, T.self) }
        let layout = LoopLayout(shape: shape, inputs: inputs)
        let sources = inputs.map { $0.pointer(T.self) }
        let results = outputs.map { _ in Storage.allocate(dtype, count: n) }
        let resultPointers = results.map { $0.pointer(T.self) }
        // Tasks are pieces of rows (the innermost extent after merging dimensions; a row of one
        // array of the loop's shape is the whole array, cut into blocks) or, where rows are
        // shorter than a block (a bias broadcast over a batch leaves rows as long as the bias),
        // runs of whole rows, so that each function is dispatched once per block, not per row.
        // With a reduction, a block holds whole segments: rows and segments are both runs of
        // the loop's last dimensions, so the shorter divides the longer.
        let inner = layout.inner
        let segment = reduction?.segment ?? 1
        let block = segment * Swift.max(1, Self.block / segment)
        let rowsPerTask = inner >= block ? 1 : Swift.max(1, Swift.min(block / Swift.max(inner, 1), layout.rows))
        let piecesPerRow = rowsPerTask > 1 ? 1 : (inner + block - 1) / block
        let tasks = rowsPerTask > 1 ? (layout.rows + rowsPerTask - 1) / rowsPerTask : layout.rows * piecesPerRow
        let width = rowsPerTask > 1 ? rowsPerTask * inner : Swift.min(block, inner)
        // Where rows are short (a bias broadcast over a batch keeps the loop from merging its
        // dimensions), an instruction whose operands all run evenly through the loop — values,
        // arrays in the loop's own order, scalars — still covers a block in one call.
        let wholeBlock: [Bool] = rowsPerTask > 1
            ? instructions.map { $0.operands.allSatisfy { if case .input(let i) = $0 { layout.evenStride[i] != nil } else { true } } }
            : instructions.map { _ in false }
        let body = { (first: Int, last: Int, accumulators: MiddleSum.Accumulators?) in
            // Where each value is written: its buffer, or its result array (which advances
            // with the block). Unsafe buffers keep reference counting out of the loop; they live
            // in the thread's scratch space, so a call allocates nothing for them.
            let values = Swift.max(self.instructions.count, 1)
            let rowStarts = Swift.max(sources.count * rowsPerTask, 1)
            let bufferBytes = (self.bufferCount * width * MemoryLayout<T>.stride + 63) & ~63
            let pointerBytes = MemoryLayout<UnsafeMutablePointer<T>>.stride
            let scratch = KernelThreadState.current.scratch(bytes: bufferBytes + (2 * values + rowStarts) * pointerBytes)
            let buffers = scratch.bindMemory(to: T.self, capacity: self.bufferCount * width)
            let base = (scratch + bufferBytes).bindMemory(to: UnsafeMutablePointer<T>.self, capacity: values)
            let advances = (scratch + bufferBytes + values * pointerBytes).bindMemory(to: Int.self, capacity: values)
            // Where each input's rows of the task start: input i's row r at [i · rowsPerTask + r].
            let inputRows = (scratch + bufferBytes + 2 * values * pointerBytes).bindMemory(to: UnsafeMutablePointer<T>.self, capacity: rowStarts)
            for v in self.instructions.indices {
                let k = self.result[v]
                base[v] = k >= 0 ? resultPointers[k] : buffers + self.buffer[v] * width
                advances[v] = k >= 0 ? 1 : 0
            }
            layout.innerStrides.withUnsafeBufferPointer { innerStride in
                self.instructions.withUnsafeBufferPointer { instructions in
                    for task in first..<last {
                        let row = rowsPerTask > 1 ? task * rowsPerTask : task / piecesPerRow
                        let column = rowsPerTask > 1 ? 0 : (task % piecesPerRow) * block
                        let rows = Swift.min(rowsPerTask, layout.rows - row)
                        let m = rowsPerTask > 1 ? inner : Swift.min(block, inner - column)
                        let start = row * inner + column
                        for (i, source) in sources.enumerated() {
                            layout.rowOffsets(from: row, count: rows, input: i) { r, offset in
                                inputRows[i * rowsPerTask + r] = source + offset + column * innerStride[i]
                            }
                        }
                        @inline(__always) func operand(_ o: Operand) -> Rows<T> {
                            switch o {
                            case .input(let i): Rows(starts: inputRows + i * rowsPerTask, first: nil, stride: innerStride[i])
                            case .value(let v): Rows(starts: nil, first: base[v] + start * advances[v], stride: 1)
                            }
                        }
                        /// The operand as one run through the block's rows.
                        @inline(__always) func run(_ o: Operand) -> Rows<T> {
                            switch o {
                            case .input(let i): Rows(starts: nil, first: inputRows[i * rowsPerTask], stride: layout.evenStride[i]!)
                            case .value(let v): Rows(starts: nil, first: base[v] + start * advances[v], stride: 1)
                            }
                        }
                        for i in 0..<instructions.count {
                            let destination = base[i] + start * advances[i]
                            let whole = wholeBlock[i]
                            let (blockRows, count) = whole ? (1, rows * m) : (rows, m)
                            switch instructions[i] {
                            case let .unary(f, a):
                                Elementwise.withKernel(f, UnaryBlock<T>(source: whole ? run(a) : operand(a), destination: destination,
                                                                        rows: blockRows, count: count))
                            case let .binary(f, a, c):
                                Elementwise.withKernel(f, BinaryBlock<T>(a: whole ? run(a) : operand(a), b: whole ? run(c) : operand(c),
                                                                         destination: destination, rows: blockRows, count: count))
                            }
                        }
                        // The block's values are laid out in loop order, so its segments of the
                        // summed value follow one another.
                        if let accumulators, let v = self.reduction?.value {
                            let values = UnsafeRawPointer(base[v] + start * advances[v])
                            for j in 0..<(rows * m / segment) {
                                accumulators.add(values + j * segment * MemoryLayout<T>.stride, outer: start / segment + j,
                                                 columns: 0..<accumulators.sums.inner)
                            }
                        }
                    }
                }
            }
        }
        func runTasks(_ sums: MiddleSum.Accumulators?) {
            if tasks == 1 {
                body(0, 1, sums)
            } else {
                Loops.parallelRanges(count: tasks, costPerElement: cost * width) { body($0, $1, sums) }
            }
        }
        let sum = reduction.map { reduction in
            StridedArray(contiguous: reduction.sums.compute { runTasks($0) }, shape: reduction.shape)
        }
        if reduction == nil { runTasks(nil) }
        withExtendedLifetime(inputs) {}
        // An output listed twice is the same array twice.
        return outputs.map { StridedArray(contiguous: results[result[$0]], shape: shape) } + (sum.map { [$0] } ?? [])
    }
}

extension FusedElementwise {
    /// The loop over one element — a chain of scalar operations, as a scalar loss and its
    /// gradient stage to: each value is computed into a register-sized slot by its kernel, with
    /// no blocks, rows or layout.
    private func runScalars<T: FloatingElement>(_ inputs: [StridedArray], _: T.Type) -> [StridedArray] {
        let values = KernelThreadState.current.scratch(bytes: Swift.max(instructions.count, 1) * MemoryLayout<T>.stride)
            .bindMemory(to: T.self, capacity: Swift.max(instructions.count, 1))
        let sources = inputs.map { $0.pointer(T.self) }
        sources.withUnsafeBufferPointer { sources in
            instructions.withUnsafeBufferPointer { instructions in
                @inline(__always) func value(_ o: Operand) -> T {
                    switch o {
                    case .input(let i): sources[i].pointee
                    case .value(let v): values[v]
                    }
                }
                for i in 0..<instructions.count {
                    switch instructions[i] {
                    case let .unary(f, a): values[i] = Elementwise.withKernel(f, UnaryScalar(x: value(a)))
                    case let .binary(f, a, b): values[i] = Elementwise.withKernel(f, BinaryScalar(a: value(a), b: value(b)))
                    }
                }
            }
        }
        withExtendedLifetime(inputs) {}
        return outputs.map { v in
            let storage = Storage.allocate(dtype, count: 1)
            storage.pointer(T.self).pointee = values[v]
            return StridedArray(contiguous: storage, shape: shape)
        }
    }
}

/// A unary kernel applied to one element.
private struct UnaryScalar<T: FloatingElement>: FloatingUnaryKernelUse {
    typealias Element = T
    let x: T
    @inline(__always) func apply<K: UnaryKernel>(_ kernel: K, cost: Int) -> T where K.Input == T, K.Output == T { kernel(x) }
}

/// A binary kernel applied to one pair of elements.
private struct BinaryScalar<T: FloatingElement>: FloatingBinaryKernelUse {
    typealias Element = T
    let a: T, b: T
    @inline(__always) func apply<K: BinaryKernel>(_ kernel: K, cost: Int) -> T where K.Input == T, K.Output == T { kernel(a, b) }
}

/// How a fused loop walks its inputs: the loop's dimensions merged wherever every input (and the
/// contiguous output) steps through them as one — an array of the loop's shape and row-major
/// layout is one row — leaving rows of `inner` elements, each input with its stride along a row
/// (0 for one broadcast along it) and its offset at the start of each row.
private struct LoopLayout {
    /// The merged dimensions but the last, outermost first.
    let outer: [Int]
    /// Each input's stride along each of `outer`.
    let outerStrides: [[Int]]
    /// The last merged dimension: the length of a row.
    let inner: Int
    /// Each input's stride along a row.
    let innerStrides: [Int]

    /// Each input's stride through the whole loop in row-major order, where it has one: 1 for an
    /// array laid out in the loop's order, 0 for one element broadcast to all; nil otherwise.
    let evenStride: [Int?]

    var rows: Int { outer.reduce(1, *) }

    init(shape: [Int], inputs: [StridedArray]) {
        // Each input's strides over the loop's dimensions: 0 where it is broadcast.
        let aligned: [[Int]] = inputs.map { x in
            let lead = shape.count - x.rank
            return shape.indices.map { d in
                let k = d - lead
                guard k >= 0, x.shape[k] != 1 else { return 0 }
                guard x.shape[k] == shape[d] else { kernelFailure("fused loop: an input of shape \(x.shape) in a loop over \(shape)") }
                return x.strides[k]
            }
        }
        let output = Shape.contiguousStrides(shape)
        var extents: [Int] = []
        var strides: [[Int]] = inputs.map { _ in [] }
        var outputStrides: [Int] = []
        for d in shape.indices where shape[d] != 1 {
            if let last = extents.last,
               outputStrides.last! == output[d] * shape[d],
               inputs.indices.allSatisfy({ strides[$0].last! == aligned[$0][d] * shape[d] }) {
                // Merged with the dimension before it.
                extents[extents.count - 1] = last * shape[d]
                outputStrides[outputStrides.count - 1] = output[d]
                for i in inputs.indices { strides[i][strides[i].count - 1] = aligned[i][d] }
            } else {
                extents.append(shape[d])
                outputStrides.append(output[d])
                for i in inputs.indices { strides[i].append(aligned[i][d]) }
            }
        }
        if extents.isEmpty {
            extents = [1]
            strides = inputs.map { _ in [0] }
        }
        outer = Array(extents.dropLast())
        inner = extents.last!
        outerStrides = strides.map { Array($0.dropLast()) }
        innerStrides = strides.map { $0.last! }
        let rowMajor = Shape.contiguousStrides(extents).dropLast()
        evenStride = strides.map { s in
            if s.allSatisfy({ $0 == 0 }) { return 0 }
            return s.last == 1 && zip(s.dropLast(), rowMajor).allSatisfy { $0 == $1 } ? 1 : nil
        }
    }

    /// Calls `body(r, offset)` with where input `i`'s elements of rows `first`, `first + 1`, …
    /// start, relative to its first element: one division for the first row, then counting.
    @inline(__always)
    func rowOffsets(from first: Int, count: Int, input i: Int, _ body: (Int, Int) -> Void) {
        var offset = offset(ofRow: first, input: i)
        body(0, offset)
        guard count > 1 else { return }
        // The outer index of `first`, then advanced row by row like an odometer.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: outer.count) { index in
            var rest = first
            for d in outer.indices.reversed() {
                index[d] = rest % outer[d]
                rest /= outer[d]
            }
            for r in 1..<count {
                var d = outer.count - 1
                while d >= 0 {
                    index[d] += 1
                    offset += outerStrides[i][d]
                    if index[d] < outer[d] { break }
                    offset -= outerStrides[i][d] * outer[d]
                    index[d] = 0
                    d -= 1
                }
                body(r, offset)
            }
        }
    }

    /// Where input `i`'s elements of row `row` start, relative to its first element.
    @inline(__always)
    func offset(ofRow row: Int, input i: Int) -> Int {
        var rest = row, offset = 0
        var d = outer.count - 1
        while d >= 0 {
            let extent = outer[d]
            offset += (rest % extent) * outerStrides[i][d]
            rest /= extent
            d -= 1
        }
        return offset
    }
}

extension FusedElementwise.Instruction {
    /// The instruction's operands, in order.
    var operands: [FusedElementwise.Operand] {
        switch self {
        case .unary(_, let a): [a]
        case .binary(_, let a, let b): [a, b]
        }
    }
}

/// One operand's rows in a block: each row's start from a table (an input, read in place), or
/// rows one after another from `first` (a value, contiguous in its buffer or result); elements
/// `stride` apart along a row.
private struct Rows<T> {
    let starts: UnsafeMutablePointer<UnsafeMutablePointer<T>>?
    let first: UnsafeMutablePointer<T>?
    let stride: Int

    @inline(__always) func row(_ r: Int, length: Int) -> UnsafeMutablePointer<T> {
        starts?[r] ?? first! + r &* length
    }
}

/// A unary kernel over one block: `rows` rows of `count` elements, written one after another
/// from `destination`.
private struct UnaryBlock<T: FloatingElement>: FloatingUnaryKernelUse {
    typealias Element = T
    let source: Rows<T>
    let destination: UnsafeMutablePointer<T>, rows: Int, count: Int
    func apply<K: UnaryKernel>(_ kernel: K, cost: Int) where K.Input == T, K.Output == T {
        for r in 0..<rows {
            let x = source.row(r, length: count), y = destination + r &* count
            switch source.stride {
            case 0:
                let v = kernel(x[0])
                for k in 0..<count { y[k] = v }
            default: kernel.map(x, stride: source.stride, y, count: count)
            }
        }
    }
}

/// A binary kernel over one block: `rows` rows of `count` elements from each operand, written
/// one after another from `destination`.
private struct BinaryBlock<T: FloatingElement>: FloatingBinaryKernelUse {
    typealias Element = T
    let a: Rows<T>, b: Rows<T>
    let destination: UnsafeMutablePointer<T>, rows: Int, count: Int
    func apply<K: BinaryKernel>(_ kernel: K, cost: Int) where K.Input == T, K.Output == T {
        for r in 0..<rows {
            let x = a.row(r, length: count), z = b.row(r, length: count), y = destination + r &* count
            if VectorMaps.zip(kernel, x, a.stride, z, b.stride, y, count: count) { continue }
            switch (a.stride, b.stride) {
            case (1, 1): for k in 0..<count { y[k] = kernel(x[k], z[k]) }
            case (1, 0): for k in 0..<count { y[k] = kernel(x[k], z[0]) }
            case (0, 1): for k in 0..<count { y[k] = kernel(x[0], z[k]) }
            case (0, 0):
                let v = kernel(x[0], z[0])
                for k in 0..<count { y[k] = v }
            default: for k in 0..<count { y[k] = kernel(x[k &* a.stride], z[k &* b.stride]) }
            }
        }
    }
}
