// Shapes whose element count does not fit stop with a message naming the operation and the
// shapes, instead of wrapping around to a small count (NDArray.ones([2^32, 2^32]) used to be an
// empty array whose subscripts crashed); transforms throw `resultTooLarge`.

import Testing
import Fluxion

private func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

@Suite("Shapes that do not fit")
struct ShapeOverflowTests {
    @Test func creationNamesTheShape() async {
        let line = #line + 1
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.ones([1 << 32, 1 << 32])
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: full: the result would have shape [4294967296, 4294967296]"), "\(text)")
        #expect(text.contains("more than an array can hold"), "\(text)")
        #expect(text.contains("called at FluxionTests/ShapeOverflowTests.swift:\(line)"), "\(text)")
    }

    @Test func reshapeToAShapeWhoseCountWrapsToTheSameCount() async {
        // 2^32 · 2^32 wraps to 0, the count of the empty array being reshaped.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([0]).reshape([1 << 32, 1 << 32, 0])
        }
        #expect(standardError(result).contains("Fluxion: reshape: the result would have shape [4294967296, 4294967296, 0]"))
    }

    @Test func broadcastAndElementwise() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([1 << 31, 0, 1]) + NDArray.zeros([1, 0, 1 << 31])
        }
        #expect(standardError(result).contains("Fluxion: add: the result would have shape [2147483648, 0, 2147483648] (from [2147483648, 0, 1] and [1, 0, 2147483648])"))
        let expanded = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([1, 0]).broadcast(to: [1 << 62, 0, 1 << 62])
        }
        #expect(standardError(expanded).contains("Fluxion: broadcast: the result would have shape"))
    }

    @Test func matmulOfEmptyOperandsWithHugeOuterSizes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(NDArray.zeros([1 << 40, 0]), NDArray.zeros([0, 1 << 40]))
        }
        #expect(standardError(result).contains("Fluxion: matmul: the result would have shape [1099511627776, 1099511627776] (from [1099511627776, 0] and [0, 1099511627776])"))
    }

    @Test func concatPadEyeArangeAndOneHot() async {
        let concatenated = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = NDArray.zeros([0, 1 << 59])
            _ = concat([x, x, x], dim: 1)
        }
        #expect(standardError(concatenated).contains("Fluxion: concat:"))
        let padded = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([0, 3]).pad([(Int.max - 1, 5)])
        }
        #expect(standardError(padded).contains("Fluxion: pad:"))
        let identity = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.eye(1 << 32)
        }
        #expect(standardError(identity).contains("Fluxion: eye: the result would have shape [4294967296, 4294967296]"))
        let range = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.arange(0, 1e30)
        }
        #expect(standardError(range).contains("Fluxion: arange:"))
        let classes = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = oneHot(NDArray(shape: [1 << 40, 0], scalars: [Int]()), numClasses: 1 << 40)
        }
        #expect(standardError(classes).contains("Fluxion: oneHot: the result would have shape"))
    }

    @Test func anAllocationThatCannotBeMadeSaysSo() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([1 << 50], dtype: .float64)
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: out of memory: an array of 1125899906842624 float64 elements needs"), "\(text)")
        #expect(text.contains("Fix: "), "\(text)")
    }

    @Test("vmap and the Jacobians throw resultTooLarge")
    func transformsThrow() throws {
        let huge = NDArray.zeros([1 << 40, 0])
        let error = #expect(throws: TransformError.self) {
            try vmap({ (_: NDArray) in NDArray.zeros([0, 1 << 40]) })(huge)
        }
        guard case let .resultTooLarge(transform, shape, _, _)? = error else {
            Issue.record("expected .resultTooLarge, got \(String(describing: error))")
            return
        }
        #expect(transform == "vmap" && shape == [1 << 40, 0, 1 << 40])
        let jacobian = #expect(throws: TransformError.self) {
            try jacrev({ (x: NDArray) in x.broadcast(to: [1 << 31]) })(NDArray.zeros([1]))
        }
        guard case .resultTooLarge("jacrev", _, _, _)? = jacobian else {
            Issue.record("expected .resultTooLarge from jacrev, got \(String(describing: jacobian))")
            return
        }
    }
}
