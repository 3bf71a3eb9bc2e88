// Misuse stops the process with a message naming the operation, the shapes or dtypes involved,
// the caller's file and line (functions and subscripts take them as default arguments;
// operators cannot), and a fix. Each case runs as an exit test in a child process; the
// first ones also read what the child wrote to standard error.

import Testing
import Fluxion

/// The text a child process wrote to standard error.
private func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

@Suite struct ErrorMessageTests {
    @Test func broadcastMismatchNamesTheOperationShapesAndFix() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([2, 3]) + NDArray.zeros([4])
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: add: shapes [2, 3] and [4] do not broadcast"), "\(text)")
        #expect(text.contains("Fix: "), "\(text)")
        // An operator cannot know its caller, so no location inside Fluxion is passed off as one.
        #expect(!text.contains("called at FluxionCore/"), "\(text)")
    }

    @Test func matmulMismatchNamesTheShapesCallerAndFix() async {
        let line = #line + 1  // an exit test reports the line of its #expect
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(NDArray.zeros([2, 3]), NDArray.zeros([4, 5]))
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 ≠ 4)"), "\(text)")
        #expect(text.contains("called at FluxionTests/ErrorTests.swift:\(line)"), "\(text)")
        #expect(text.contains("Fix: the last dimension of the left operand must equal the second-to-last of the right"), "\(text)")
    }

    @Test func reshapeMessage() async {
        let line = #line + 1  // an exit test reports the line of its #expect
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([2, 3]).reshape([4, 2])
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: reshape: shape [2, 3] (6 elements) cannot become [4, 2] (8 elements)"), "\(text)")
        #expect(text.contains("called at FluxionTests/ErrorTests.swift:\(line)"), "\(text)")
        #expect(text.contains("Fix: choose a shape with 6 elements"), "\(text)")
    }

    @Test func subscriptMessageNamesTheCaller() async {
        let line = #line + 1  // an exit test reports the line of its #expect
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([2, 3])[0, 5]
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: subscript: index 5 is out of range for dimension 1 of size 3 (shape [2, 3])"), "\(text)")
        #expect(text.contains("called at FluxionTests/ErrorTests.swift:\(line)"), "\(text)")
        #expect(text.contains("Fix: use an index in -3..<3"), "\(text)")
    }

    @Test func dtypeMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([2, 3]).gather(dim: 1, index: NDArray([[0.0, 1.0], [1.0, 2.0]]))
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: gather: indices must be int64, got float32"), "\(text)")
        #expect(text.contains("Fix: convert them with .to(.int64)"), "\(text)")
    }

    @Test func itemMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray.zeros([2, 3]).item()
        }
        let text = standardError(result)
        #expect(text.contains("Fluxion: item: only a one-element array converts to a scalar; this one has shape [2, 3]"), "\(text)")
        #expect(text.contains("Fix: "), "\(text)")
    }
}

/// One exit test per kind of misuse.
@Suite struct PreconditionTests {
    @Test func broadcastMismatch() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]) * NDArray.zeros([2]) }
        await #expect(processExitsWith: .failure) { _ = maximum(NDArray.zeros([3, 1]), NDArray.zeros([2, 4])) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([0, 3]) - NDArray.zeros([2, 3]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2]) .< NDArray.zeros([3]) }
        await #expect(processExitsWith: .failure) {
            _ = NDArray.where(NDArray([true, false, true]), NDArray.zeros([2]), NDArray.zeros([2]))
        }
    }

    @Test func matmulMismatch() async {
        await #expect(processExitsWith: .failure) { _ = matmul(NDArray.zeros([3]), NDArray.zeros([4])) }
        await #expect(processExitsWith: .failure) { _ = matmul(NDArray.zeros([2, 3, 4]), NDArray.zeros([3, 4, 5])) }
        await #expect(processExitsWith: .failure) { _ = matmul(NDArray(1.0), NDArray.zeros([2])) }
        await #expect(processExitsWith: .failure) { _ = dot(NDArray.zeros([2]), NDArray.zeros([3])) }
        await #expect(processExitsWith: .failure) { _ = einsum("ij,jk->ik", NDArray.zeros([2, 3]), NDArray.zeros([4, 5])) }
    }

    @Test func reshapeToAWrongCount() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).reshape([5]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).reshape([4, -1]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).reshape([-1, -1]) }
        await #expect(processExitsWith: .failure) { _ = NDArray(shape: [2, 2], scalars: [1.0, 2.0, 3.0]) }
    }

    @Test func outOfRangeDimension() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).sum(dim: 2) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).max(dims: [-3]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).transpose(0, 2) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).unsqueeze(3) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).cumsum(dim: -3) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).permute([0, 0]) }
        await #expect(processExitsWith: .failure) { _ = concat([NDArray.zeros([2, 3]), NDArray.zeros([2, 3])], dim: 2) }
    }

    @Test func outOfRangeSubscript() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3])[2] }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3])[-3] }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3])[0, 0, 0] }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3])[.ellipsis, 0, .ellipsis] }
        await #expect(processExitsWith: .failure) {
            var y = NDArray.zeros([2, 3])
            y[0] = NDArray.zeros([2])
        }
    }

    @Test func integerIndexingMisuse() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).gather(dim: 1, index: NDArray([[0.0], [1.0]])) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).gather(dim: 1, index: NDArray([[3], [0]])) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).gather(dim: 1, index: NDArray([0, 1])) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).indexSelect(dim: 0, index: NDArray([2])) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).indexSelect(dim: 0, index: NDArray([0.0])) }
        await #expect(processExitsWith: .failure) {
            _ = NDArray.zeros([2, 3]).scatterAdd(dim: 1, index: NDArray([[0], [1], [2]]), source: NDArray.ones([3, 1]))
        }
        await #expect(processExitsWith: .failure) {
            _ = NDArray.zeros([2, 3]).scatterAdd(dim: 1, index: NDArray([[0], [3]]), source: NDArray.ones([2, 1]))
        }
        await #expect(processExitsWith: .failure) { _ = oneHot(NDArray([0.0, 1.0]), numClasses: 2) }
    }

    @Test func itemOfANonScalar() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2]).item() }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([0]).item() }
    }

    @Test func shapeMisuse() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).broadcast(to: [3, 3]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).expand([2]) }
        await #expect(processExitsWith: .failure) { _ = concat([NDArray.zeros([2, 3]), NDArray.zeros([3, 2])]) }
        await #expect(processExitsWith: .failure) { _ = concat([NDArray]()) }
        await #expect(processExitsWith: .failure) { _ = stack([NDArray.zeros([2]), NDArray.zeros([3])]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([5]).split(sizes: [2, 2]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([5]).narrow(dim: 0, start: 3, length: 3) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, 3]).pad([(1, 1), (1, 1), (1, 1)]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([3]).mT }
        await #expect(processExitsWith: .failure) { _ = NDArray([[1.0, 2.0], [3.0]]) }
        await #expect(processExitsWith: .failure) { let _: NDArray = [[1, 2], [3]] }
    }

    @Test func reductionMisuse() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([0, 3]).max(dim: 0) }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([0]).argmax() }
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([3, 0]).argmin(dim: 1) }
    }

    @Test func linearAlgebraMisuse() async {
        await #expect(processExitsWith: .failure) { _ = cholesky(NDArray.zeros([2, 3])) }
        await #expect(processExitsWith: .failure) { _ = inverse(NDArray.zeros([3])) }
        await #expect(processExitsWith: .failure) { _ = det(NDArray([[1, 2], [3, 4]])) }
        await #expect(processExitsWith: .failure) { _ = solve(NDArray.eye(2), NDArray.zeros([3])) }
        await #expect(processExitsWith: .failure) { _ = triangularSolve(NDArray.eye(3), NDArray.zeros([2, 2])) }
    }

    @Test func creationAndRandomMisuse() async {
        await #expect(processExitsWith: .failure) { _ = NDArray.zeros([2, -1]) }
        await #expect(processExitsWith: .failure) { _ = NDArray.arange(0, 5, step: 0) }
        await #expect(processExitsWith: .failure) { _ = NDArray.normal([2], key: RandomKey(seed: 1), dtype: .int64) }
        await #expect(processExitsWith: .failure) { _ = NDArray.uniform([-1], key: RandomKey(seed: 1)) }
        await #expect(processExitsWith: .failure) { _ = NDArray.bernoulli([2], p: 1.5, key: RandomKey(seed: 1)) }
    }
}
