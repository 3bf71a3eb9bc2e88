// Random arrays from explicit keys (JAX style): a key determines the values, `split` derives
// independent keys. For convenience a process-wide seeded key stream is used when no key is
// given; `RandomKey.seed(_:)` resets it (like `torch.manual_seed`).

import FluxionKernels
import Synchronization

/// A key for counter-based random numbers (Threefry-2x32). The same key gives the same values.
public struct RandomKey: Sendable, Hashable, CustomStringConvertible {
    public let words: (UInt32, UInt32)

    /// A key from a seed.
    public init(seed: UInt64) {
        words = Threefry.hash(0, 0, UInt32(truncatingIfNeeded: seed >> 32), UInt32(truncatingIfNeeded: seed))
    }

    init(words: (UInt32, UInt32)) { self.words = words }

    /// `count` new keys, independent of each other and of this one.
    public func split(into count: Int) -> [RandomKey] {
        (0..<count).map { i in RandomKey(words: Threefry.hash(words.0, words.1, 0x5EED_5EED, UInt32(truncatingIfNeeded: i))) }
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
        checkRandom("normal", shape, dtype, file, line)
        return bind(RandomNormal(key: key ?? .next(), shape: shape, dtype: dtype), [])[0]
    }

    /// Uniform samples in [low, high).
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, key: RandomKey? = nil,
                               dtype: DType = .float32, file: StaticString = #fileID, line: UInt = #line) -> NDArray {
        checkRandom("uniform", shape, dtype, file, line)
        return bind(RandomUniform(key: key ?? .next(), shape: shape, dtype: dtype, low: low, high: high), [])[0]
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

    private static func checkRandom(_ op: String, _ shape: [Int], _ dtype: DType, _ file: StaticString, _ line: UInt) {
        guard dtype.isFloatingPoint else {
            fail(op, "samples must be float32 or float64, not \(dtype)", fix: "sample floats and convert with .to(\(dtype))", file: file, line: line)
        }
        checkShape(shape, op, file: file, line: line)
    }
}
