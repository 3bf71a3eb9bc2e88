// Counter-based random bits: the Threefry-2x32 block cipher (20 rounds), as JAX uses. A key is
// two 32-bit words; the bits for element i are the cipher of counter i under the key, so a
// stream is reproducible and can be split without shared state.
//
// Uniform floats take the top mantissa bits of a word (float32: 23 bits, float64: 52 bits of
// two words) giving values in [0, 1); normals use Box–Muller on pairs of uniforms, with the
// first uniform moved into (0, 1] so its log is finite.

import RealModule

/// The Threefry-2x32 block cipher (20 rounds), as JAX uses: counter-based random bits.
public enum Threefry {
    /// Threefry-2x32 of the counter (c0, c1) under key (k0, k1).
    @inlinable
    public static func hash(_ k0: UInt32, _ k1: UInt32, _ c0: UInt32, _ c1: UInt32) -> (UInt32, UInt32) {
        let k2 = k0 ^ k1 ^ 0x1BD1_1BDA
        let ks = (k0, k1, k2)
        let r0: (UInt32, UInt32, UInt32, UInt32) = (13, 15, 26, 6)
        let r1: (UInt32, UInt32, UInt32, UInt32) = (17, 29, 16, 24)
        var x0 = c0 &+ ks.0, x1 = c1 &+ ks.1
        @inline(__always) func round(_ r: UInt32) {
            x0 = x0 &+ x1
            x1 = (x1 << r) | (x1 >> (32 - r))
            x1 ^= x0
        }
        @inline(__always) func rounds(_ r: (UInt32, UInt32, UInt32, UInt32)) {
            round(r.0); round(r.1); round(r.2); round(r.3)
        }
        rounds(r0); x0 = x0 &+ ks.1; x1 = x1 &+ ks.2 &+ 1
        rounds(r1); x0 = x0 &+ ks.2; x1 = x1 &+ ks.0 &+ 2
        rounds(r0); x0 = x0 &+ ks.0; x1 = x1 &+ ks.1 &+ 3
        rounds(r1); x0 = x0 &+ ks.1; x1 = x1 &+ ks.2 &+ 4
        rounds(r0); x0 = x0 &+ ks.2; x1 = x1 &+ ks.0 &+ 5
        return (x0, x1)
    }

    /// `count` random 32-bit words under the key.
    @inlinable
    public static func bits(_ k0: UInt32, _ k1: UInt32, count: Int) -> [UInt32] {
        var out = [UInt32](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { o in
            var i = 0
            while i < count {
                let c = UInt64(i / 2)
                let (a, b) = hash(k0, k1, UInt32(truncatingIfNeeded: c >> 32), UInt32(truncatingIfNeeded: c))
                o[i] = a
                if i + 1 < count { o[i + 1] = b }
                i += 2
            }
        }
        return out
    }
}

/// Random arrays from Threefry bits: uniform floats, normals (Box–Muller), integers, Bernoulli
/// masks and key splitting.
public enum RandomKernels {
    /// Uniform values in [low, high) of `dtype` (float32 or float64).
    public static func uniform(key: (UInt32, UInt32), shape: [Int], dtype: DType, low: Double, high: Double) -> StridedArray {
        let n = Shape.count(shape)
        switch dtype {
        case .float32:
            let words = Threefry.bits(key.0, key.1, count: n)
            // lo + span·u can round up to `high`; the largest float below it stands in then.
            let lo = Float(low), span = Float(high - low), top = Float(high).nextDown
            return StridedArray(contiguous: Storage.make(words.map { Swift.min(lo + span * unit32($0), top) }), shape: shape)
        case .float64:
            let words = Threefry.bits(key.0, key.1, count: 2 * n)
            let top = high.nextDown
            return StridedArray(contiguous: Storage.make((0..<n).map { Swift.min(low + (high - low) * unit64(words[2 * $0], words[2 * $0 + 1]), top) }), shape: shape)
        default:
            kernelFailure("uniform needs a floating dtype, got \(dtype)")
        }
    }

    /// Standard normal values of `dtype` (float32 or float64), by Box–Muller in float64.
    public static func normal(key: (UInt32, UInt32), shape: [Int], dtype: DType) -> StridedArray {
        let n = Shape.count(shape)
        let words = Threefry.bits(key.0, key.1, count: 2 * (n + 1))
        var values = [Double](repeating: 0, count: n)
        var i = 0
        while i < n {
            let u1 = 1 - unit64(words[2 * i], words[2 * i + 1])
            let u2 = unit64(words[2 * i + 2], words[2 * i + 3])
            let radius = (-2 * Double.log(u1)).squareRoot()
            values[i] = radius * Double.cos(2 * .pi * u2)
            if i + 1 < n { values[i + 1] = radius * Double.sin(2 * .pi * u2) }
            i += 2
        }
        switch dtype {
        case .float32: return StridedArray(contiguous: Storage.make(values.map { Float($0) }), shape: shape)
        case .float64: return StridedArray(contiguous: Storage.make(values), shape: shape)
        default: kernelFailure("normal needs a floating dtype, got \(dtype)")
        }
    }

    /// A float in [0, 1) from the top 24 bits of a word.
    @inlinable static func unit32(_ w: UInt32) -> Float { Float(w >> 8) * 0x1p-24 }

    /// A double in [0, 1) from the top 53 bits of two words.
    @inlinable static func unit64(_ a: UInt32, _ b: UInt32) -> Double {
        Double((UInt64(a) << 21) ^ UInt64(b >> 11)) * 0x1p-53
    }
}

// MARK: - Key arrays

extension Threefry {
    /// Key `index` of those split from (k0, k1).
    @inlinable
    public static func split(_ k0: UInt32, _ k1: UInt32, index: Int) -> (UInt32, UInt32) {
        hash(k0, k1, 0x5EED_5EED, UInt32(truncatingIfNeeded: index))
    }
}

extension RandomKernels {
    /// The keys of an int64 key array `[..., 2]` (each element a 32-bit word).
    static func keys(_ keys: StridedArray) -> [(UInt32, UInt32)] {
        let c = keys.contiguous()
        return withExtendedLifetime(c) {
            let p = c.pointer(Int64.self)
            return (0..<(c.count / 2)).map { (UInt32(truncatingIfNeeded: p[2 * $0]), UInt32(truncatingIfNeeded: p[2 * $0 + 1])) }
        }
    }

    /// `count` new keys from each key of `keys`: `[..., 2]` → `[..., count, 2]`.
    public static func split(keys: StridedArray, count: Int) -> StridedArray {
        let words = RandomKernels.keys(keys).flatMap { key in
            (0..<count).flatMap { i -> [Int64] in
                let (a, b) = Threefry.split(key.0, key.1, index: i)
                return [Int64(a), Int64(b)]
            }
        }
        return StridedArray(contiguous: Storage.make(words), shape: Array(keys.shape.dropLast()) + [count, 2])
    }

    /// `draw(key)` for each key of `keys` (`[..., 2]`), each of `shape`, side by side: `[...] + shape`.
    public static func perKey(_ keys: StridedArray, shape: [Int], dtype: DType,
                              _ draw: ((UInt32, UInt32)) -> StridedArray) -> StridedArray {
        let lead = Array(keys.shape.dropLast())
        let all = RandomKernels.keys(keys)
        if all.count == 1 { return draw(all[0]).view(shape: lead + shape, strides: Shape.contiguousStrides(lead + shape)) }
        let n = Shape.count(shape)
        let out = Storage.allocate(dtype, count: all.count * n)
        let whole = StridedArray(contiguous: out, shape: [all.count, n])
        for (i, key) in all.enumerated() {
            let sample = draw(key)
            Copy.assign(sample.view(shape: [1, n], strides: [n, 1]), into: whole.view(shape: [1, n], strides: [n, 1], offset: i * n))
        }
        return StridedArray(contiguous: out, shape: lead + shape)
    }
}
