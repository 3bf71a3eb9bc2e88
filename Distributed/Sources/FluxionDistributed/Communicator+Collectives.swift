// Collectives over arrays and trees of arrays: allReduce, broadcast, allGather.
//
// One buffer per call. A tree's leaves are packed into one contiguous buffer per dtype (one for
// the usual single-dtype tree) and reduced or broadcast by a single MPI call, as DDP's gradient
// buckets and Horovod's tensor fusion do: on a network each call costs a latency α, so a model
// of dozens of parameter arrays pays it once instead of dozens of times. The results are views
// into the reduced buffer (no copy out). A single array is reduced straight from its own
// storage into the result's, with no copy at all.
//
// Agreement: MPI requires every rank to pass the same counts and types, and does undefined
// things (a hang, a crash, garbage) otherwise. So each call first reduces a small signature —
// a hash of the structure, shapes and dtypes, and the element count — with MPI_MAX over
// (v, −v): if the maximum and minimum differ, every rank learns it at once and throws the same
// `DistributedError`. It costs one extra 32-byte collective (one latency) per call.
//
// Order: a sum over ranks is computed by MPI in an order it chooses (it depends on the number
// of ranks and the algorithm), so results agree with a one-rank sum up to rounding, and are
// bit-identical on every rank of one call.
//
// Values only: these are operations on concrete arrays (gradients, losses, parameters), not
// primitives; they are not differentiated or batched, and a tracer passed in is read as its
// value.

import CMPI
import Fluxion

/// How `allReduce` combines the ranks' values, elementwise.
public enum ReductionOperation: Sendable, CustomStringConvertible {
    /// Σ over ranks.
    case sum
    /// Σ over ranks / size.
    case mean
    /// The largest value over ranks.
    case max

    /// The operation's name: `sum`, `mean` or `max`.
    public var description: String {
        switch self {
        case .sum: "sum"
        case .mean: "mean"
        case .max: "max"
        }
    }

    var mpiOp: MPI_Op { self == .max ? cmpi_op_max() : cmpi_op_sum() }
}

/// MPI counts are 32-bit: longer buffers go in pieces of this many elements.
let maxCountPerCall = Int(Int32.max)

// MARK: - allReduce

extension Communicator {
    /// The elementwise sum, mean or maximum of `x` over every rank of the group
    /// (`MPI_Allreduce`), the same on every rank.
    ///
    /// ```
    /// sum:  y = Σ_r x_r      mean: y = (1/size) Σ_r x_r      max: y = max_r x_r
    /// ```
    ///
    /// - Parameters:
    ///   - x: a float32 or float64 array of the same shape and dtype on every rank.
    ///   - op: `.sum` (the default), `.mean` or `.max`.
    /// - Returns: an array of `x`'s shape and dtype.
    /// - Throws: `DistributedError` when the ranks' shapes or dtypes differ, for another dtype,
    ///   or when MPI fails.
    public func allReduce(_ x: NDArray, _ op: ReductionOperation = .sum) throws -> NDArray {
        let operation = "allReduce(\(op))"
        try requireFloating([x], operation)
        try agree(on: [x], operation)
        switch x.dtype {
        case .float32: return try allReduce(x, op, as: Float.self, operation)
        default: return try allReduce(x, op, as: Double.self, operation)
        }
    }

    private func allReduce<T: MPIFloat>(_ x: NDArray, _ op: ReductionOperation, as _: T.Type, _ operation: String) throws -> NDArray {
        try NDArray(shape: x.shape, unsafeUninitializedElementsOf: T.self) { out in
            try x.withUnsafeBufferPointer(as: T.self) { input in
                try reduce(from: UnsafeRawPointer(input.baseAddress), into: out, op.mpiOp, operation)
            }
            if op == .mean { scale(out, by: T(1) / T(size)) }
        }
    }

    /// The elementwise sum, mean or maximum over every rank of each array of a tree (a
    /// gradient struct, a dictionary of arrays, an array of them), by one MPI call for the
    /// whole tree (per dtype it holds), the same on every rank.
    ///
    /// ```
    /// leafᵢ ← Σ_r leafᵢ,r   (or the mean, or the maximum), for every leaf i at once
    /// ```
    ///
    /// - Parameters:
    ///   - tree: float32 and float64 leaves, of the same structure, shapes and dtypes on every rank.
    ///   - op: `.sum` (the default), `.mean` or `.max`.
    /// - Returns: a tree of `tree`'s structure; its leaves are views of one reduced buffer.
    /// - Throws: `DistributedError` when the ranks' trees differ, for a leaf of another dtype,
    ///   or when MPI fails.
    public func allReduce<Tree: ArrayTree>(_ tree: Tree, _ op: ReductionOperation = .sum) throws -> Tree {
        let operation = "allReduce(\(op))"
        let leaves = tree.leaves
        try requireFloating(leaves, operation)
        try agree(on: leaves, structure: tree.treeStructure, operation)
        let reduced = try fusedAllReduce(leaves, op.mpiOp, extras: [], operation) { _ in op == .mean ? 1 / Double(size) : 1 }
        return tree.rebuilt(with: reduced.leaves)
    }

    /// The sum, mean or maximum of one number over every rank (a loss, a count).
    ///
    /// - Throws: `DistributedError` when MPI fails.
    public func allReduce(_ value: Double, _ op: ReductionOperation = .sum) throws -> Double {
        var v = value
        try call("allReduce(\(op))") { MPI_Allreduce(cmpi_in_place(), &v, 1, cmpi_double(), op.mpiOp, handle) }
        return op == .mean ? v / Double(size) : v
    }

    /// Reduces `leaves` by `op` in one buffer per dtype, with `extras` (numbers reduced
    /// alongside, in the first buffer) appended; leaves are multiplied by `preScale` as they are
    /// packed and by `postScale(reduced extras)` after the reduction.
    func fusedAllReduce(_ leaves: [NDArray], _ op: MPI_Op, preScale: Double = 1, extras: [Double], _ operation: String,
                        postScale: ([Double]) -> Double) throws -> (leaves: [NDArray], extras: [Double]) {
        var out = [NDArray?](repeating: nil, count: leaves.count)
        var reducedExtras = extras
        var groups = fusedGroups(leaves)
        if groups.isEmpty { groups = [(.float64, [])] }  // extras alone still travel
        for (g, (dtype, members)) in groups.enumerated() {
            let carried = g == 0 ? extras : []
            let group = members.map { leaves[$0] }
            let views: [NDArray]
            var back: [Double]
            switch dtype {
            case .float32:
                (views, back) = try fusedAllReduce(group, op, as: Float.self, preScale: preScale, extras: carried, operation, postScale: postScale)
            default:
                (views, back) = try fusedAllReduce(group, op, as: Double.self, preScale: preScale, extras: carried, operation, postScale: postScale)
            }
            for (i, v) in zip(members, views) { out[i] = v }
            if g == 0 { reducedExtras = back }
        }
        return (out.map { $0! }, reducedExtras)
    }

    private func fusedAllReduce<T: MPIFloat>(_ leaves: [NDArray], _ op: MPI_Op, as _: T.Type, preScale: Double, extras: [Double],
                                             _ operation: String, postScale: ([Double]) -> Double) throws -> ([NDArray], [Double]) {
        let total = leaves.reduce(extras.count) { $0 + $1.count }
        var back = extras
        let fused = try NDArray(shape: [total], unsafeUninitializedElementsOf: T.self) { buffer in
            var offset = pack(leaves, into: buffer, scale: T(preScale))
            for e in extras { buffer[offset] = T(e); offset += 1 }
            try reduce(from: nil, into: buffer, op, operation)
            back = (0..<extras.count).map { Double(buffer[offset - extras.count + $0]) }
            let post = postScale(back)
            if post != 1 { scale(UnsafeMutableBufferPointer(rebasing: buffer[..<(offset - extras.count)]), by: T(post)) }
        }
        return (views(of: fused, shapes: leaves.map(\.shape)), back)
    }

    /// `MPI_Allreduce` of `buffer.count` elements from `input` (or in place, for nil) into
    /// `buffer`, in pieces MPI's 32-bit counts can express.
    func reduce<T: MPIFloat>(from input: UnsafeRawPointer?, into buffer: UnsafeMutableBufferPointer<T>, _ op: MPI_Op,
                             _ operation: String) throws {
        var start = 0
        repeat {
            let n = Swift.min(maxCountPerCall, buffer.count - start)
            let source = input.map { UnsafeRawPointer($0 + start * MemoryLayout<T>.stride) } ?? UnsafeRawPointer(cmpi_in_place())
            try call(operation) { MPI_Allreduce(source, buffer.baseAddress.map { $0 + start }, Int32(n), T.mpiType, op, handle) }
            start += n
        } while start < buffer.count
    }
}

// MARK: - broadcast

extension Communicator {
    /// Rank `root`'s `x` on every rank (`MPI_Bcast`): the way to start every rank from the same
    /// initial parameters. Every rank passes an array of the same shape and dtype (its own
    /// values are replaced; e.g. zeros, or its own initialisation).
    ///
    /// - Parameters:
    ///   - x: an array of any dtype, the same shape and dtype on every rank.
    ///   - root: the rank whose values everyone receives, 0 ..< size.
    /// - Returns: root's array (on root, `x` itself).
    /// - Throws: `DistributedError` for a root out of range, when the ranks' shapes or dtypes
    ///   differ, or when MPI fails.
    public func broadcast(_ x: NDArray, root: Int = 0) throws -> NDArray {
        try requireRoot(root, "broadcast")
        try agree(on: [x], structure: "root \(root)", "broadcast")
        return try broadcastFused([x], root: root, "broadcast")[0]
    }

    /// Rank `root`'s tree on every rank, by one MPI call per dtype the tree holds: after
    /// `let p = try world.broadcast(initialParameters)` every rank starts from the same values.
    ///
    /// - Parameters:
    ///   - tree: the same structure, shapes and dtypes on every rank.
    ///   - root: the rank whose values everyone receives, 0 ..< size.
    /// - Returns: root's tree (on root, `tree` itself).
    /// - Throws: `DistributedError` for a root out of range, when the ranks' trees differ, or
    ///   when MPI fails.
    public func broadcast<Tree: ArrayTree>(_ tree: Tree, root: Int = 0) throws -> Tree {
        try requireRoot(root, "broadcast")
        let leaves = tree.leaves
        try agree(on: leaves, structure: "root \(root) " + tree.treeStructure, "broadcast")
        let received = try broadcastFused(leaves, root: root, "broadcast")
        return rank == root ? tree : tree.rebuilt(with: received)
    }

    func broadcastFused(_ leaves: [NDArray], root: Int, _ operation: String) throws -> [NDArray] {
        var out = leaves
        for (dtype, members) in fusedGroups(leaves, floatingOnly: false) {
            let group = members.map { leaves[$0] }
            let received: [NDArray]
            switch dtype {
            case .float32: received = try broadcastFused(group, as: Float.self, root: root, operation)
            case .float64: received = try broadcastFused(group, as: Double.self, root: root, operation)
            case .int64: received = try broadcastFused(group, as: Int64.self, root: root, operation)
            case .bool: received = try broadcastFused(group, as: Bool.self, root: root, operation)
            }
            for (i, r) in zip(members, received) { out[i] = r }
        }
        return out
    }

    private func broadcastFused<T: Element>(_ leaves: [NDArray], as _: T.Type, root: Int, _ operation: String) throws -> [NDArray] {
        let total = leaves.reduce(0) { $0 + $1.count }
        let bytes = total * MemoryLayout<T>.stride
        if rank == root {
            if leaves.count == 1 {
                try leaves[0].withUnsafeBufferPointer(as: T.self) { try broadcastBytes(UnsafeMutableRawPointer(mutating: $0.baseAddress), bytes, root, operation) }
            } else {
                let packed = UnsafeMutableBufferPointer<T>.allocate(capacity: total)
                defer { packed.deallocate() }
                _ = pack(leaves, into: packed)
                try broadcastBytes(UnsafeMutableRawPointer(packed.baseAddress), bytes, root, operation)
            }
            return leaves
        }
        let fused = try NDArray(shape: [total], unsafeUninitializedElementsOf: T.self) { buffer in
            try broadcastBytes(UnsafeMutableRawPointer(buffer.baseAddress), bytes, root, operation)
        }
        return views(of: fused, shapes: leaves.map(\.shape))
    }

    /// `MPI_Bcast` of `bytes` bytes, in pieces MPI's 32-bit counts can express.
    private func broadcastBytes(_ pointer: UnsafeMutableRawPointer?, _ bytes: Int, _ root: Int, _ operation: String) throws {
        var start = 0
        repeat {
            let n = Swift.min(maxCountPerCall, bytes - start)
            try call(operation) { MPI_Bcast(pointer.map { $0 + start }, Int32(n), cmpi_byte(), Int32(root), handle) }
            start += n
        } while start < bytes
    }

    private func requireRoot(_ root: Int, _ operation: String) throws {
        guard (0..<size).contains(root) else {
            throw DistributedError(operation: operation, problem: "root \(root) is not a rank of this communicator of size \(size)",
                                   fix: "pass a root in 0 ..< \(size)")
        }
    }
}

// MARK: - allGather

extension Communicator {
    /// Every rank's `x` joined along the first axis, in rank order (`MPI_Allgatherv`): the
    /// per-example results of a sharded batch (norms, losses) as one array for the whole batch.
    /// The first axis may differ between ranks; the other axes and the dtype may not. A 0-d
    /// `x` counts as one row, so a scalar per rank gathers into `[size]`.
    ///
    /// ```
    /// y = concat([x_0, x_1, …, x_{size−1}], dim: 0)     [Σ_r n_r, ...] from [n_r, ...]
    /// ```
    ///
    /// - Throws: `DistributedError` when the ranks' trailing shapes or dtypes differ, when a
    ///   rank's part exceeds MPI's 32-bit counts, or when MPI fails.
    public func allGather(_ x: NDArray) throws -> NDArray {
        let operation = "allGather"
        let rows = x.rank == 0 ? 1 : x.shape[0]
        let trailing = x.rank == 0 ? [] : Array(x.shape.dropFirst())
        try agree(signature: [stableHash("\(x.dtype)\(trailing)")], operation,
                  what: "dtype and trailing shape (this rank: \(x.dtype), \(trailing))")
        var counts = [Int64](repeating: 0, count: size)
        var mine = Int64(rows)
        try call(operation) { MPI_Allgather(&mine, 1, cmpi_int64(), &counts, 1, cmpi_int64(), handle) }
        let rowSize = trailing.reduce(1, *)
        let bytesPerRow = rowSize * x.dtype.byteSize
        let byteCounts = counts.map { Int($0) * bytesPerRow }
        guard byteCounts.allSatisfy({ $0 <= maxCountPerCall }) else {
            throw DistributedError(operation: operation, problem: "a rank's part is \(byteCounts.max()!) bytes, more than MPI's 32-bit counts allow",
                                   fix: "gather in smaller pieces (slices of the first axis)")
        }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<Swift.max(size, 1) { displacements[r] = displacements[r - 1] + Int32(byteCounts[r - 1]) }
        let counts32 = byteCounts.map { Int32($0) }
        let total = counts.reduce(0) { $0 + Int($1) }
        let shape = [total] + trailing
        func gather<T: Element>(_: T.Type) throws -> NDArray {
            try NDArray(shape: shape, unsafeUninitializedElementsOf: T.self) { out in
                try x.withUnsafeBufferPointer(as: T.self) { input in
                    try call(operation) {
                        MPI_Allgatherv(input.baseAddress, counts32[rank], cmpi_byte(), out.baseAddress, counts32, displacements, cmpi_byte(), handle)
                    }
                }
            }
        }
        switch x.dtype {
        case .float32: return try gather(Float.self)
        case .float64: return try gather(Double.self)
        case .int64: return try gather(Int64.self)
        case .bool: return try gather(Bool.self)
        }
    }
}

// MARK: - Agreement between ranks

extension Communicator {
    /// Throws the same error on every rank unless every rank has the same structure, shapes
    /// and dtypes (and whatever else `structure` describes, such as a broadcast's root).
    func agree(on leaves: [NDArray], structure: String = "*", _ operation: String) throws {
        let description = leaves.map { "\($0.dtype)\($0.shape)" }.joined(separator: ",")
        let shown = leaves.count == 1 ? "shape \(leaves[0].shape), \(leaves[0].dtype)"
            : "\(leaves.count) arrays, \(leaves.reduce(0) { $0 + $1.count }) elements"
        try agree(signature: [stableHash(structure + "|" + description), Int64(leaves.reduce(0) { $0 + $1.count })], operation,
                  what: "structure, shapes and dtypes (this rank: \(shown))")
    }

    /// Throws the same error on every rank unless `signature` is the same on every rank: one
    /// MPI_MAX reduction of (v, −v) gives the largest and the smallest of each entry.
    func agree(signature: [Int64], _ operation: String, what: String) throws {
        var buffer = signature + signature.map { 0 &- $0 }
        try call(operation) { MPI_Allreduce(cmpi_in_place(), &buffer, Int32(buffer.count), cmpi_int64(), cmpi_op_max(), handle) }
        let k = signature.count
        guard (0..<k).allSatisfy({ buffer[$0] == 0 &- buffer[k + $0] }) else {
            throw DistributedError(operation: operation, problem: "the ranks passed different \(what); rank \(rank) of \(size) reports this",
                                   fix: "call it on every rank with the same shapes and dtypes (shard the data, not the parameters)")
        }
    }

    /// Throws the same error on every rank unless every rank holds bit-identical values:
    /// parameters after a broadcast or a data-parallel step, noise drawn from a shared key.
    /// Hashes every element, so it is for checks, not for every step.
    ///
    /// - Throws: `DistributedError` naming `what` when the values differ.
    public func checkIdentical<Tree: ArrayTree>(_ tree: Tree, _ what: String = "values") throws {
        var hash = FNV1a()
        for leaf in tree.leaves {
            hash.add("\(leaf.dtype)\(leaf.shape)")
            switch leaf.dtype {
            case .float32: leaf.withUnsafeBufferPointer(as: Float.self) { hash.add(UnsafeRawBufferPointer($0)) }
            case .float64: leaf.withUnsafeBufferPointer(as: Double.self) { hash.add(UnsafeRawBufferPointer($0)) }
            case .int64: leaf.withUnsafeBufferPointer(as: Int64.self) { hash.add(UnsafeRawBufferPointer($0)) }
            case .bool: leaf.withUnsafeBufferPointer(as: Bool.self) { hash.add(UnsafeRawBufferPointer($0)) }
            }
        }
        try agree(signature: [hash.value], "checkIdentical", what: "\(what) (they should be bit-identical on every rank)")
    }
}

// MARK: - Buffers

/// The floating-point element types collectives reduce, with their MPI datatypes.
protocol MPIFloat: Element, BinaryFloatingPoint {
    static var mpiType: MPI_Datatype { get }
}

extension Float: MPIFloat {
    static var mpiType: MPI_Datatype { cmpi_float() }
}

extension Double: MPIFloat {
    static var mpiType: MPI_Datatype { cmpi_double() }
}

/// Throws unless every array is float32 or float64.
func requireFloating(_ leaves: [NDArray], _ operation: String) throws {
    if let other = leaves.first(where: { $0.dtype != .float32 && $0.dtype != .float64 }) {
        throw DistributedError(operation: operation, problem: "it reduces float32 and float64 arrays, not \(other.dtype) (shape \(other.shape))",
                               fix: "convert with .to(.float32) or .to(.float64) first")
    }
}

/// The positions of `leaves` grouped by dtype, float32 first: one fused buffer each.
func fusedGroups(_ leaves: [NDArray], floatingOnly: Bool = true) -> [(DType, [Int])] {
    let order: [DType] = floatingOnly ? [.float32, .float64] : [.float32, .float64, .int64, .bool]
    return order.compactMap { dtype in
        let members = leaves.indices.filter { leaves[$0].dtype == dtype }
        return members.isEmpty ? nil : (dtype, members)
    }
}

/// Copies `leaves` (converted to `T`) one after another into `buffer`; returns the elements written.
func pack<T: Element>(_ leaves: [NDArray], into buffer: UnsafeMutableBufferPointer<T>) -> Int {
    var offset = 0
    for leaf in leaves {
        leaf.withUnsafeBufferPointer(as: T.self) { source in
            guard let from = source.baseAddress, let to = buffer.baseAddress else { return }
            (to + offset).update(from: from, count: source.count)
        }
        offset += leaf.count
    }
    return offset
}

/// `pack`, multiplying by `scale` on the way.
func pack<T: MPIFloat>(_ leaves: [NDArray], into buffer: UnsafeMutableBufferPointer<T>, scale: T) -> Int {
    guard scale != 1 else { return pack(leaves, into: buffer) }
    var offset = 0
    for leaf in leaves {
        leaf.withUnsafeBufferPointer(as: T.self) { source in
            for i in source.indices { buffer[offset + i] = source[i] * scale }
        }
        offset += leaf.count
    }
    return offset
}

/// Multiplies every element of `buffer` by `factor`, in place.
func scale<T: MPIFloat>(_ buffer: UnsafeMutableBufferPointer<T>, by factor: T) {
    for i in buffer.indices { buffer[i] *= factor }
}

/// The arrays of `shapes`, in order, as views of consecutive elements of the 1-d `fused`.
func views(of fused: NDArray, shapes: [[Int]]) -> [NDArray] {
    var offset = 0
    return shapes.map { shape in
        let n = shape.reduce(1, *)
        defer { offset += n }
        return fused[offset..<(offset + n)].reshape(shape)
    }
}

/// A 64-bit FNV-1a hash: the same on every rank for the same bytes (Swift's `Hasher` is seeded
/// per process, so it cannot compare ranks).
struct FNV1a {
    private(set) var state: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes { state = (state ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    }

    mutating func add(_ text: String) {
        var t = text
        t.withUTF8 { add(UnsafeRawBufferPointer($0)) }
    }

    var value: Int64 { Int64(bitPattern: state) }
}

/// The FNV-1a hash of `text`.
func stableHash(_ text: String) -> Int64 {
    var h = FNV1a()
    h.add(text)
    return h.value
}
