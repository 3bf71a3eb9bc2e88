// The loop machinery every elementwise kernel shares.
//
// An N-d strided iteration is reduced to rows: adjacent dimensions that are laid out
// contiguously for every operand are merged, and the innermost merged dimension becomes a row
// that the caller's loop runs over with a fixed stride (1, 0 for a broadcast operand, or any).
// Row loops with unit and zero strides vectorise. Large contiguous loops split across cores,
// on Fluxion's own threads (ThreadPool.swift).

/// The loop machinery every elementwise kernel shares: strided iteration reduced to rows, and
/// large loops split across cores.
public enum Loops {
    /// Calls `body(outOffset, aOffset, bOffset, n, strideA, strideB)` once per row of an
    /// iteration over `shape`, where the output is contiguous and inputs a and b are read with
    /// strides `sa` and `sb` (0 for broadcast dimensions).
    @inlinable
    public static func forEachRow(
        shape: [Int], _ sa: [Int], _ sb: [Int],
        _ body: (_ out: Int, _ a: Int, _ b: Int, _ n: Int, _ strideA: Int, _ strideB: Int) -> Void
    ) {
        var dims: [Int] = []
        var ta: [Int] = []
        var tb: [Int] = []
        dims.reserveCapacity(shape.count)
        ta.reserveCapacity(shape.count)
        tb.reserveCapacity(shape.count)
        for i in 0..<shape.count {
            let n = shape[i]
            if n == 0 { return }
            if n == 1 { continue }
            if let last = dims.last, ta[ta.count - 1] == sa[i] &* n, tb[tb.count - 1] == sb[i] &* n {
                dims[dims.count - 1] = last &* n
                ta[ta.count - 1] = sa[i]
                tb[tb.count - 1] = sb[i]
            } else {
                dims.append(n)
                ta.append(sa[i])
                tb.append(sb[i])
            }
        }
        guard let inner = dims.last else {
            body(0, 0, 0, 1, 0, 0)
            return
        }
        let ia = ta[ta.count - 1], ib = tb[tb.count - 1]
        let outer = dims.count - 1
        if outer == 0 {
            body(0, 0, 0, inner, ia, ib)
            return
        }
        var index = [Int](repeating: 0, count: outer)
        var oa = 0, ob = 0, oo = 0
        while true {
            body(oo, oa, ob, inner, ia, ib)
            oo &+= inner
            var d = outer - 1
            while d >= 0 {
                index[d] &+= 1
                oa &+= ta[d]
                ob &+= tb[d]
                if index[d] < dims[d] { break }
                oa &-= ta[d] &* dims[d]
                ob &-= tb[d] &* dims[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }

    /// The work (in simple operations, an addition or a product of two elements) from which a
    /// loop is split across cores: about 15 µs on one core. Handing a range to a waiting worker
    /// of `ThreadPool` costs about a microsecond.
    public static let parallelWork = 1 << 16

    /// Runs `body(start, end)` over `0..<count`, split into one range per core (on
    /// `ThreadPool`'s threads) when the work (`count * costPerElement`) reaches `parallelWork`.
    @inlinable
    public static func parallelRanges(count: Int, costPerElement: Int = 1, _ body: (Int, Int) -> Void) {
        if count &* costPerElement < parallelWork || cores == 1 {
            body(0, count)
            return
        }
        let threads = cores
        let chunk = (count + threads - 1) / threads
        ThreadPool.shared.run(tasks: threads) { t in
            let start = t * chunk
            if start < count { body(start, Swift.min(start + chunk, count)) }
        }
    }

    /// The number of cores loops split across: `FLUXION_NUM_THREADS` when set to a positive
    /// number, else the processors this process may run on (its CPU affinity, as `taskset` or
    /// `mpirun`'s core binding set it), at most 8.
    public static let cores: Int = Swift.max(1, System.requestedThreads ?? Swift.min(System.activeProcessors, 8))
}

@usableFromInline
enum System {
    /// The processors this process may run on: its affinity mask's size, or every online
    /// processor where the mask cannot be read.
    @usableFromInline static var activeProcessors: Int {
        #if canImport(Glibc)
        // A mask of 1024 processors, glibc's cpu_set_t.
        var mask = [UInt64](repeating: 0, count: 16)
        let read = mask.withUnsafeMutableBytes { affinity(0, $0.count, $0.baseAddress!) }
        let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        if read == 0 && count > 0 { return count }
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }

    /// `FLUXION_NUM_THREADS`, when it is a positive number.
    static var requestedThreads: Int? {
        guard let text = getenv("FLUXION_NUM_THREADS"), let n = Int(String(cString: text)), n > 0 else { return nil }
        return n
    }
}

#if canImport(Glibc)
import Glibc

/// Linux's `sched_getaffinity(pid, size, mask)`, which the Glibc module leaves out (it is a GNU
/// extension).
@_silgen_name("sched_getaffinity")
private func affinity(_ pid: Int32, _ size: Int, _ mask: UnsafeMutableRawPointer) -> Int32
#endif
