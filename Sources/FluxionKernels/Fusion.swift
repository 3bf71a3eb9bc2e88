// Fused elementwise loops: a chain of floating elementwise functions over arrays of one shape,
// run block by block of elements, so that the values between the functions live in small
// buffers that stay in cache instead of arrays allocated, written and read back one function
// at a time — and a chain of functions of scalars costs one call instead of one per function.
// Each function is computed by the same element kernel the array loops use
// (`Elementwise.withKernel`), so every element is bit for bit what the unfused loops give.

/// A fused chain of floating elementwise functions over arrays of one shape and dtype.
///
/// Operands are the chain's inputs — arrays of the shape, or of one element (broadcast) — and
/// its own values, numbered from 0 in order of definition; each instruction defines the next
/// value. `run` returns the values listed as outputs.
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
    /// The shape of every value and output (inputs have it or one element).
    public let shape: [Int]
    /// The functions, in order; the i-th defines value i.
    public let instructions: [Instruction]
    /// The values returned, in order.
    public let outputs: [Int]
    /// Each value's buffer among the block buffers, or -1 for an output (written straight
    /// into its array).
    private let buffer: [Int]
    /// Each value's position among the results, or -1.
    private let result: [Int]
    private let bufferCount: Int
    /// The elements' total cost in simple operations, to decide when to use both cores.
    private let cost: Int

    /// A chain over arrays of `shape` and `dtype` (float32 or float64).
    public init(dtype: DType, shape: [Int], instructions: [Instruction], outputs: [Int]) {
        guard dtype.isFloatingPoint else { kernelFailure("a fused loop is floating-point only, not \(dtype)") }
        self.dtype = dtype
        self.shape = shape
        self.instructions = instructions
        self.outputs = outputs
        // Buffers are reused once the value in them is read for the last time.
        var lastUse = [Int](repeating: -1, count: instructions.count)
        for (i, instruction) in instructions.enumerated() {
            for case .value(let v) in instruction.operands { lastUse[v] = i }
        }
        let returned = Set(outputs)
        var buffer = [Int?](repeating: nil, count: instructions.count)
        var free: [Int] = [], count = 0
        for (i, instruction) in instructions.enumerated() {
            if !returned.contains(i) {
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
            for v in Set(instruction.operands.compactMap { if case .value(let v) = $0 { v } else { nil } }) where lastUse[v] == i {
                if let b = buffer[v] { free.append(b) }
            }
            if lastUse[i] < 0, let b = buffer[i] { free.append(b) }
        }
        self.buffer = buffer.map { $0 ?? -1 }
        bufferCount = count
        var result = [Int](repeating: -1, count: instructions.count)
        for (k, v) in outputs.enumerated().reversed() { result[v] = k }
        self.result = result
        cost = instructions.reduce(0) { total, instruction in
            switch instruction {
            case .unary(let f, _): total + f.cost
            case .binary(let f, _, _): total + (f == .pow || f == .atan2 ? 16 : 1)
            }
        }
    }

    /// The outputs for `inputs`, each of the chain's shape or of one element, of its dtype.
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
        // Inputs as pointers with a stride: 1 along an array of the shape, 0 for one element.
        // (`held` keeps copies of strided inputs alive while the loop reads them.)
        let held = inputs.map { $0.isContiguous || $0.count == 1 ? $0 : $0.contiguous() }
        let sources: [(pointer: UnsafeMutablePointer<T>, stride: Int)] = held.map { x in
            guard x.dtype == dtype else { kernelFailure("fused loop: a \(x.dtype) input in a \(dtype) loop") }
            if x.count == 1 { return (x.pointer(T.self), 0) }
            guard x.shape == shape else { kernelFailure("fused loop: an input of shape \(x.shape) in a loop over \(shape)") }
            return (x.pointer(T.self), 1)
        }
        let results = outputs.map { _ in Storage.allocate(dtype, count: n) }
        let resultPointers = results.map { $0.pointer(T.self) }
        let blocks = (n + Self.block - 1) / Self.block
        let width = Swift.min(Self.block, n)
        let body = { (first: Int, last: Int) in
            // Where each value is written: its buffer, or its result array (which advances
            // with the block). Unsafe buffers keep reference counting out of the loop.
            let buffers = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(self.bufferCount * width, 1))
            let base = UnsafeMutablePointer<UnsafeMutablePointer<T>>.allocate(capacity: Swift.max(self.instructions.count, 1))
            let advances = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(self.instructions.count, 1))
            defer {
                buffers.deallocate()
                base.deallocate()
                advances.deallocate()
            }
            for v in self.instructions.indices {
                let k = self.result[v]
                base[v] = k >= 0 ? resultPointers[k] : buffers + self.buffer[v] * width
                advances[v] = k >= 0 ? 1 : 0
            }
            sources.withUnsafeBufferPointer { sources in
                self.instructions.withUnsafeBufferPointer { instructions in
                    for b in first..<last {
                        let start = b * Self.block, m = Swift.min(Self.block, n - start)
                        @inline(__always) func operand(_ o: Operand) -> (UnsafeMutablePointer<T>, Int) {
                            switch o {
                            case .input(let i):
                                let s = sources[i]
                                return (s.pointer + start * s.stride, s.stride)
                            case .value(let v): return (base[v] + start * advances[v], 1)
                            }
                        }
                        for i in 0..<instructions.count {
                            let destination = base[i] + start * advances[i]
                            switch instructions[i] {
                            case let .unary(f, a):
                                let (pa, sa) = operand(a)
                                Elementwise.withKernel(f, UnaryBlock<T>(source: pa, stride: sa, destination: destination, count: m))
                            case let .binary(f, a, c):
                                let (pa, sa) = operand(a), (pc, sc) = operand(c)
                                Elementwise.withKernel(f, BinaryBlock<T>(a: pa, strideA: sa, b: pc, strideB: sc, destination: destination, count: m))
                            }
                        }
                    }
                }
            }
        }
        if blocks == 1 {
            body(0, 1)
        } else {
            Loops.parallelRanges(count: blocks, costPerElement: cost * Self.block, body)
        }
        withExtendedLifetime(held) {}
        // An output listed twice is the same array twice.
        return outputs.map { StridedArray(contiguous: results[result[$0]], shape: shape) }
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

/// A unary kernel over one block: `count` elements from `source` (stride 0 or 1).
private struct UnaryBlock<T: FloatingElement>: FloatingUnaryKernelUse {
    typealias Element = T
    let source: UnsafeMutablePointer<T>, stride: Int
    let destination: UnsafeMutablePointer<T>, count: Int
    func apply<K: UnaryKernel>(_ kernel: K, cost: Int) where K.Input == T, K.Output == T {
        if stride == 0 {
            let v = kernel(source[0])
            for k in 0..<count { destination[k] = v }
        } else {
            for k in 0..<count { destination[k] = kernel(source[k]) }
        }
    }
}

/// A binary kernel over one block: `count` elements from `a` and `b` (strides 0 or 1).
private struct BinaryBlock<T: FloatingElement>: FloatingBinaryKernelUse {
    typealias Element = T
    let a: UnsafeMutablePointer<T>, strideA: Int
    let b: UnsafeMutablePointer<T>, strideB: Int
    let destination: UnsafeMutablePointer<T>, count: Int
    func apply<K: BinaryKernel>(_ kernel: K, cost: Int) where K.Input == T, K.Output == T {
        switch (strideA, strideB) {
        case (1, 1): for k in 0..<count { destination[k] = kernel(a[k], b[k]) }
        case (1, _): for k in 0..<count { destination[k] = kernel(a[k], b[0]) }
        case (_, 1): for k in 0..<count { destination[k] = kernel(a[0], b[k]) }
        default:
            let v = kernel(a[0], b[0])
            for k in 0..<count { destination[k] = v }
        }
    }
}
