// A catalogue of misuse that stops the program, each case with the message fragments it must
// print. The debug test suite runs every case as an exit test (MisuseMessageTests.swift); the
// FluxionReleaseChecks executable runs them again from an optimised build, where Swift's
// `precondition` would have dropped its message, so that both configurations are held to the
// same words.

import Fluxion
import FluxionCheck
import FluxionNN

/// One misuse: what it runs and what its message must contain.
public struct MisuseCase: Sendable {
    public let name: String
    /// Fragments the message must contain, in any order.
    public let expected: [String]
    let body: @Sendable () throws -> Void

    init(_ name: String, _ expected: [String], _ body: @escaping @Sendable () throws -> Void) {
        self.name = name
        self.expected = expected
        self.body = body
    }
}

/// Runs the case named `name` (which should stop the program); returns if it does not.
public func runMisuseCase(named name: String) {
    guard let misuse = misuseCases.first(where: { $0.name == name }) else {
        print("no misuse case named \(name)")
        return
    }
    do { try misuse.body() } catch { print("threw instead of stopping: \(error)") }
}

public let misuseCases: [MisuseCase] = MisuseCase.inPlace + [
    MisuseCase("crossEntropy label out of range",
               ["Fluxion: crossEntropy: class index 5 is out of range for 3 classes", "MisuseCases.swift:", "Fix: use class indices in 0..<3"]) {
        _ = crossEntropy(NDArray.zeros([2, 3]), NDArray([0, 5]))
    },
    MisuseCase("cdist rows of different lengths",
               ["Fluxion: cdist: rows of shapes [3, 2] and [4, 3] cannot be compared", "MisuseCases.swift:", "Fix: pass a of shape [..., P, M]"]) {
        _ = cdist(NDArray.zeros([3, 2]), NDArray.zeros([4, 3]))
    },
    MisuseCase("cosineSimilarity of vectors at PyTorch's default dimension",
               ["Fluxion: cosineSimilarity: dimension 1 is out of range for inputs of shapes [3] and [3]", "Fix: pick a dimension between -1 and 0"]) {
        _ = cosineSimilarity(NDArray.zeros([3]), NDArray.zeros([3]))
    },
    MisuseCase("median of an empty array", ["Fluxion: median: the median of an empty array of shape [0, 2] is undefined"]) {
        _ = NDArray.zeros([0, 2]).median()
    },
    MisuseCase("amax over a dimension that does not exist", ["Fluxion: amax: dimension 2 is out of range for an array of shape [2, 3]"]) {
        _ = NDArray.zeros([2, 3]).amax(dims: [2])
    },
    MisuseCase("nllLoss label out of range", ["Fluxion: nllLoss: class index -1 is out of range for 3 classes"]) {
        _ = nllLoss(NDArray.zeros([2, 3]), NDArray([-1, 0]))
    },
    MisuseCase("gather index out of range",
               ["Fluxion: gather: index 3 is out of range for dimension 1 of size 3", "MisuseCases.swift:", "Fix: use indices in 0..<3"]) {
        _ = NDArray.zeros([2, 3]).gather(dim: 1, index: NDArray([[3], [0]]))
    },
    MisuseCase("gather index out of range inside vmap", ["Fluxion: gather: index 4 is out of range for dimension", "of size 3"]) {
        let table = NDArray.zeros([3])
        _ = try vmap { (i: NDArray) in table.gather(dim: 0, index: i.unsqueeze(0)) }(NDArray([0, 4]))
    },
    MisuseCase("indexSelect index out of range", ["Fluxion: indexSelect: index 2 is out of range for dimension 0 of size 2"]) {
        _ = NDArray.zeros([2, 3]).indexSelect(dim: 0, index: NDArray([2]))
    },
    MisuseCase("embedding index out of range", ["Fluxion: embedding: index 10 is out of range for a table of 4 rows"]) {
        _ = embedding(NDArray([1, 10]), weight: NDArray.zeros([4, 2]))
    },
    MisuseCase("Dropout probability", ["Fluxion: Dropout: p = 1.5 is not a probability", "MisuseCases.swift:", "Fix: "]) {
        _ = Dropout(p: 1.5)
    },
    MisuseCase("StepLR step size", ["Fluxion: StepLR: stepSize is 0", "MisuseCases.swift:"]) {
        _ = StepLR(SGD([], lr: 0.1), stepSize: 0)
    },
    MisuseCase("CosineAnnealingLR period", ["Fluxion: CosineAnnealingLR: tMax is 0"]) {
        _ = CosineAnnealingLR(SGD([], lr: 0.1), tMax: 0)
    },
    MisuseCase("LBFGS step without a closure", ["Fluxion: LBFGS.step: L-BFGS evaluates the loss several times per step", "Fix: call step {"]) {
        LBFGS([]).step()
    },
    MisuseCase("LBFGS closure returning a non-scalar",
               ["Fluxion: LBFGS.step: the closure returned a loss of shape [2]; L-BFGS minimises a single number", "MisuseCases.swift:",
                "Fix: return a scalar loss"]) {
        let w = try Tensor([1.0, 2.0], requiresGrad: true)
        let optimizer = LBFGS([w])
        try optimizer.step {
            optimizer.zeroGrad()
            let loss = w * w
            try loss.sum().backward()
            return loss
        }
    },
    MisuseCase("SGD Nesterov without momentum", ["Fluxion: SGD: Nesterov momentum needs a positive momentum"]) {
        _ = SGD([], lr: 0.1, nesterov: true)
    },
    MisuseCase("gradient of another shape", ["Fluxion: grad: a gradient of shape [2] was assigned to a tensor of shape [3]"]) {
        let w = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        w.grad = try Tensor([1.0, 2.0])
    },
    MisuseCase("in-place operator on a leaf", ["Fluxion: -=:", "leaf tensor that requires grad"]) {
        let w = try Tensor([1.0, 2.0], requiresGrad: true)
        w -= try Tensor([1.0, 1.0])
    },
    MisuseCase("softmax dimension", ["Fluxion: softmax: dimension 2 is out of range for an array of shape [2, 2]", "MisuseCases.swift:"]) {
        _ = softmax(NDArray.zeros([2, 2]), dim: 2)
    },
    MisuseCase("shape overflow", ["Fluxion: full: the result would have shape [4294967296, 4294967296]", "more than an array can hold"]) {
        _ = NDArray.ones([1 << 32, 1 << 32])
    },
    MisuseCase("integer to a negative power", ["Fluxion: pow: an int64 array can only be raised to a non-negative integral power"]) {
        _ = NDArray([2, 3]) ** NDArray([-1, 1])
    },
    MisuseCase("matmul shapes", ["Fluxion: matmul: shapes [2, 3] and [4, 5] cannot be multiplied", "MisuseCases.swift:", "Fix: "]) {
        _ = matmul(NDArray.zeros([2, 3]), NDArray.zeros([4, 5]))
    },
    MisuseCase("reading a value inside vmap", ["Fluxion: reading elements: a value inside vmap (shape []) stands for a whole batch of values"]) {
        _ = try vmap { (x: NDArray) in x * x.item() }(NDArray.zeros([3]))
    },
    MisuseCase("a traced value used after its transform", ["Fluxion:", "belongs to a grad that has already returned"]) {
        nonisolated(unsafe) var leaked: NDArray?
        _ = try grad { (x: NDArray) in
            leaked = x
            return x.sum()
        }(NDArray.ones([2]))
        _ = leaked! + 1
    },
    MisuseCase("checkDerivatives order", ["Fluxion: checkDerivatives: order 4 is not checked", "Fix: pass order 1, 2 or 3"]) {
        try checkDerivatives({ (x: NDArray) in x.sum() }, at: NDArray.ones([2], dtype: .float64), order: 4)
    },
]

extension MisuseCase {
    /// Cases found in the facade's in-place operations, subscript assignments and views, and
    /// in advanced indexing.
    static let inPlace: [MisuseCase] = [
        MisuseCase("in-place operation that would grow the tensor",
                   ["Fluxion: add_: the result has shape [2, 3], but an in-place operation cannot change the tensor's shape [3]"]) {
            let t = try Tensor([1.0, 2.0, 3.0])
            try t.add_(Tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]))
        },
        MisuseCase("in-place operation storing floats in an integer tensor",
                   ["Fluxion: add_: the result is float32, which cannot be stored in this int64 tensor"]) {
            let t = Tensor(NDArray([1, 2]))
            try t.add_(0.5)
        },
        MisuseCase("subscript assignment into a leaf that requires grad",
                   ["Fluxion: subscript assignment: a view of a leaf Variable that requires grad is being used in an in-place operation",
                    "MisuseCases.swift:", "Fix: "]) {
            let w = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
            w[0] = 5
        },
        MisuseCase("in-place operator on a view of a leaf",
                   ["Fluxion: +=: a view of a leaf Variable that requires grad is being used in an in-place operation"]) {
            let w = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
            w[.all] += 1
        },
        MisuseCase("mask assignment into a leaf that requires grad",
                   ["Fluxion: subscript assignment: a leaf tensor that requires grad is being used in an in-place operation"]) {
            let w = try Tensor([1.0, 2.0, 3.0], requiresGrad: true)
            w[Tensor(NDArray([true, false, true]))] = 0
        },
        MisuseCase("writing an expanded view",
                   ["Fluxion: in-place operation on an expanded tensor: more than one element of the written-to tensor",
                    "MisuseCases.swift:", "Fix: clone() the tensor before performing the operation"]) {
            let t = Tensor.zeros([3])
            try t.expand([2, 3]).add_(1)
        },
        MisuseCase("an operator that would save an inference tensor",
                   ["Fluxion: MulBackward0: inference tensors cannot be saved for backward", "Fix: make a copy outside inferenceMode"]) {
            let t = inferenceMode { Tensor.ones([3]) }
            _ = try Tensor([1.0, 2.0, 3.0], requiresGrad: true) * t
        },
        MisuseCase("subscript assignment repeating a position",
                   ["Fluxion: subscript assignment: an index that repeats a position assigns it more than once", "MisuseCases.swift:"]) {
            var x = NDArray.zeros([3])
            x[NDArray([1, 1])] = NDArray([1.0, 2.0])
        },
        MisuseCase("a mask that does not match the leading dimensions",
                   ["Fluxion: subscript: a mask of shape [3] does not match the leading dimensions of an array of shape [2, 3]"]) {
            _ = NDArray.zeros([2, 3])[NDArray([true, false, true])]
        },
        MisuseCase("an index subscript of another dtype",
                   ["Fluxion: subscript: an array index must be int64 (positions) or bool (a mask), got float32"]) {
            _ = NDArray.zeros([3])[NDArray([0.0, 1.0])]
        },
        MisuseCase("a mask inside vmap selecting elements",
                   ["Fluxion: subscript: a bool mask that a transform traces selects a number of elements that depends on its values"]) {
            _ = try vmap { (row: NDArray) in row[row .> 0] }(NDArray.ones([2, 3]))
        },
    ]
}
