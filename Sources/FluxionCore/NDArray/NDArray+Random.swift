// Random arrays from explicit keys (JAX style): a key determines the values, `split` derives
// independent keys. A key is a `RandomKey` value, or as an array (`key.array`, int64 `[2]`) an
// ordinary input that transforms carry: `vmap` over an array of keys `[n, 2]` draws with each.
// For convenience a process-wide seeded key stream is used when no key is given;
// `RandomKey.seed(_:)` resets it (like `torch.manual_seed`).

import FluxionKernels
import Synchronization

/// A key for counter-based random numbers (Threefry-2x32). The same key gives the same values.
public struct RandomKey: Sendable, Hashable, CustomStringConvertible {
    /// The key's two 32-bit words, the Threefry key.
    public let words: (UInt32, UInt32)

    /// A key from a seed.
    public init(seed: UInt64) {
        words = Threefry.hash(0, 0, UInt32(truncatingIfNeeded: seed >> 32), UInt32(truncatingIfNeeded: seed))
    }

    init(words: (UInt32, UInt32)) { self.words = words }

    /// `count` new keys, independent of each other and of this one.
    public func split(into count: Int) -> [RandomKey] {
        (0..<count).map { i in RandomKey(words: Threefry.split(words.0, words.1, index: i)) }
    }

    /// The key as an array: int64 `[2]`, the two words (what `splitKeys` and the draw
    /// functions taking `key: NDArray` use, and what a `vmap` can map over when stacked).
    public var array: NDArray {
        NDArray(StridedArray(contiguous: Storage.make([Int64(words.0), Int64(words.1)]), shape: [2]))
    }

    /// Two new keys.
    public func split() -> (RandomKey, RandomKey) {
        let keys = split(into: 2)
        return (keys[0], keys[1])
    }

    public static func == (a: RandomKey, b: RandomKey) -> Bool { a.words == b.words }
    public func hash(into hasher: inout Hasher) { hasher.combine(words.0); hasher.combine(words.1) }
    public var description: String { "RandomKey(\(words.0), \(words.1))" }

    private static let stream = Mutex(RandomKey(seed: 0))

    /// Restarts the default key stream from `seed`.
    public static func seed(_ seed: UInt64) {
        stream.withLock { $0 = RandomKey(seed: seed) }
    }

    /// The next key of the default stream.
    public static func next() -> RandomKey {
        stream.withLock { key in
            let (next, use) = key.split()
            key = next
            return use
        }
    }
}

extension NDArray {
    /// Standard normal samples (mean 0, variance 1).
    public static func normal(_ shape: [Int], key: RandomKey? = nil, dtype: DType = .float32,
                              file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        normal(shape, key: (key ?? .next()).array, dtype: dtype, file: file, line: line)
    }

    /// Standard normal samples of `shape` for each key of the int64 key array `key` (`[2]`, or
    /// `[..., 2]` for several keys, giving `[...] + shape`).
    public static func normal(_ shape: [Int], key: NDArray, dtype: DType = .float32,
                              file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkRandom("normal", shape, dtype, key, file, line)
        return bind(RandomNormal(shape: shape, dtype: dtype), keyFollowingVmaps(key, operation: "normal"))
    }

    /// Uniform samples in [low, high).
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, key: RandomKey? = nil,
                               dtype: DType = .float32, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        uniform(shape, low: low, high: high, key: (key ?? .next()).array, dtype: dtype, file: file, line: line)
    }

    /// Uniform samples in [low, high) of `shape` for each key of the int64 key array `key`.
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, key: NDArray,
                               dtype: DType = .float32, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkRandom("uniform", shape, dtype, key, file, line)
        return bind(RandomUniform(shape: shape, dtype: dtype, low: low, high: high), keyFollowingVmaps(key, operation: "uniform"))
    }

    /// Random integers drawn uniformly from `low..<high`, int64 (`torch.randint`,
    /// `jax.random.randint`): ⌊low + (high − low)·u⌋ for float64 uniforms u, exact for ranges up
    /// to 2^52.
    public static func randint(low: Int = 0, high: Int, _ shape: [Int], key: RandomKey? = nil,
                               file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        randint(low: low, high: high, shape, key: (key ?? .next()).array, file: file, line: line)
    }

    /// Random integers in `low..<high` for each key of the int64 key array `key`.
    public static func randint(low: Int = 0, high: Int, _ shape: [Int], key: NDArray,
                               file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard high > low else {
            fail("randint", "the range \(low)..<\(high) is empty", fix: "pass high greater than low", file: file, line: line)
        }
        let u = uniform(shape, low: Double(low), high: Double(high), key: key, dtype: .float64, file: file, line: line)
        // The top of the range can round up to `high`: keep it below.
        return FluxionCore.floor(u).clamp(max: Double(high - 1)).to(.int64)
    }

    /// Samples that are 1 with probability `p` and 0 otherwise.
    public static func bernoulli(_ shape: [Int], p: Double, key: RandomKey? = nil, dtype: DType = .float32,
                                 file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        guard (0...1).contains(p) else {
            fail("bernoulli", "probability \(p) is outside [0, 1]", fix: "pass p between 0 and 1", file: file, line: line)
        }
        let u = uniform(shape, key: key, dtype: dtype.floatingOrDefault, file: file, line: line)
        return (u .< NDArray(p, dtype: u.dtype)).to(dtype)
    }

    private static func checkRandom(_ op: String, _ shape: [Int], _ dtype: DType, _ key: NDArray, _ file: StaticString, _ line: UInt) {
        guard dtype.isFloatingPoint else {
            fail(op, "samples must be float32 or float64, not \(dtype)", fix: "sample floats and convert with .to(\(dtype))", file: file, line: line)
        }
        checkShape(shape, op, file: file, line: line)
        checkKey(key, op, file, line)
    }

    fileprivate static func checkKey(_ key: NDArray, _ op: String, _ file: StaticString, _ line: UInt) {
        guard key.dtype == .int64, key.shape.last == 2 else {
            fail(op, "a key array must be int64 of shape [..., 2], got \(key.dtype) \(describe(key.shape))",
                 fix: "pass RandomKey(seed:).array, or keys made by splitKeys", file: file, line: line)
        }
    }
}

/// `count` new keys from each key of the int64 key array `key` (`[2]` → `[count, 2]`, or
/// `[..., 2]` → `[..., count, 2]`), as `jax.random.split`; the same keys as
/// `RandomKey.split(into:)`.
public func splitKeys(_ key: NDArray, into count: Int, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    NDArray.checkKey(key, "splitKeys", file, line)
    checkShape(key.shape.dropLast() + [count, 2], "splitKeys", from: [key.shape], file: file, line: line)
    return bind(RandomSplit(count: count), key)
}
