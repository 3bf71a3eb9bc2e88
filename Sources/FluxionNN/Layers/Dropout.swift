// Dropout: in training, each element is zeroed with probability p and the survivors scaled by
// 1/(1 − p), so the expected value is unchanged; in evaluation (`eval()`), the identity.
//
// Randomness comes from explicit keys. A layer built with a key draws from its own stream
// (the key split once per call, under a lock, so calls from several threads get distinct
// masks); without one it draws from the default stream (`RandomKey.seed`). Inside `vmap`,
// drawing follows the vmap's `randomness` argument: pass `.different` for a mask per example.

import Fluxion
import FluxionCore
import Synchronization

/// Zeroes elements with probability `p` in training mode, scaling the rest by 1/(1 − p).
public final class Dropout: Module, @unchecked Sendable {
    /// The probability of zeroing an element in training mode.
    public let p: Double
    private let stream: Mutex<RandomKey?>

    /// - Parameters:
    ///   - p: the probability of zeroing an element, in 0...1.
    ///   - key: the layer's own key stream (default: the process-wide stream).
    ///   - file: the caller's file, named in error messages (default: the call site).
    ///   - line: the caller's line, named in error messages (default: the call site).
    public init(p: Double = 0.5, key: RandomKey? = nil, file: StaticString = #fileID, line: UInt = #line) {
        if !(0...1).contains(p) {
            fail("Dropout", "p = \(p) is not a probability", fix: "pass the probability of zeroing an element, in 0...1", file: file, line: line)
        }
        self.p = p
        stream = Mutex(key)
    }

    /// The key for the next mask.
    private func nextKey() -> RandomKey {
        stream.withLock { key in
            guard let current = key else { return RandomKey.next() }
            let (next, use) = current.split()
            key = next
            return use
        }
    }

    public override func forward(_ input: Tensor) -> Tensor {
        guard training, p > 0 else { return input }
        return dropout(input, p: p, key: nextKey())
    }

    public override var extraDescription: String { "p=\(p), inplace=False" }
}

/// `input` with elements zeroed with probability `p` and the rest scaled by 1/(1 − p), the
/// mask drawn from `key` (`torch.nn.functional.dropout` in training mode).
public func dropout(_ input: NDArray, p: Double, key: RandomKey? = nil) -> NDArray {
    if p == 0 { return input }
    if p == 1 { return input * 0 }
    let keep = NDArray.bernoulli(input.shape, p: 1 - p, key: key, dtype: input.dtype.isFloatingPoint ? input.dtype : .float32)
    return input * (keep / (1 - p))
}

/// Dropout on a tensor, recorded as one node (`NativeDropoutBackward0`).
public func dropout(_ input: Tensor, p: Double, key: RandomKey? = nil) -> Tensor {
    Tensor.composite("NativeDropoutBackward0", [input]) { dropout($0[0], p: p, key: key) }
}
