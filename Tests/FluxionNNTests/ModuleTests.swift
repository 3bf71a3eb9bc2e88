// Modules: parameters found by reflection with PyTorch's dotted names, children, modes,
// zeroGrad both ways, state dictionaries and printing.

import Testing
import Fluxion
import FluxionNN

/// A block with an array of children and an optional child.
final class Block: Module, @unchecked Sendable {
    let layers: [Linear]
    let norm: LayerNorm?
    init(_ width: Int, normalized: Bool) {
        layers = [Linear(width, width, key: RandomKey(seed: 1)), Linear(width, width, bias: false, key: RandomKey(seed: 2))]
        norm = normalized ? LayerNorm(width) : nil
    }
    override func forward(_ x: Tensor) -> Tensor {
        let h = layers.reduce(x) { relu($1($0)) }
        return norm.map { $0(h) } ?? h
    }
}

/// A model with its own parameter, a child, and a dictionary of children.
final class Net: Module, @unchecked Sendable {
    @Parameter var scale: Tensor
    let encoder: Block
    let heads: [String: Linear]
    let activation = Tanh()
    override init() {
        scale = Tensor.ones([3])
        encoder = Block(3, normalized: true)
        heads = ["b": Linear(3, 1, key: RandomKey(seed: 3)), "a": Linear(3, 2, key: RandomKey(seed: 4))]
    }
    override func forward(_ x: Tensor) -> Tensor { heads["a"]!(activation(encoder(x * scale))) }
}

final class WithoutForward: Module, @unchecked Sendable {}

/// A tensor stored without @Parameter: not a parameter (a warning says so once).
final class PlainTensor: Module, @unchecked Sendable {
    let weight = try! Tensor([1.0, 2.0], requiresGrad: true)
    @Parameter var scale = Tensor.ones([2])
}

@Suite("Modules: parameters, children, modes, state")
struct ModuleTests {
    @Test("parameters are found by declaration, with dotted names, own parameters first")
    func namedParameters() {
        let net = Net()
        #expect(net.namedParameters().map(\.name) == [
            "scale",
            "encoder.layers.0.weight", "encoder.layers.0.bias", "encoder.layers.1.weight",
            "encoder.norm.weight", "encoder.norm.bias",
            "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias",
        ])
        #expect(net.parameters().allSatisfy { $0.requiresGrad && $0.isLeaf })
        #expect(net.parameterCount == 3 + (9 + 3) + 9 + (3 + 3) + (6 + 2) + (3 + 1))
        #expect(net.namedParameters(recurse: false).map(\.name) == ["scale"])
        #expect(net.namedParameters(prefix: "model").first?.name == "model.scale")
    }

    @Test("a plain stored Tensor is not a parameter; @Parameter with an initial value is")
    func plainTensor() {
        let module = PlainTensor()
        #expect(module.namedParameters().map(\.name) == ["scale"])
        #expect(module.scale.requiresGrad)
    }

    @Test("children and modules: direct children by name; every module once")
    func children() {
        let net = Net()
        #expect(net.namedChildren.map(\.name) == ["encoder", "heads.a", "heads.b", "activation"])
        #expect(net.children.count == 4)
        #expect(net.namedModules().map(\.name) == [
            "", "encoder", "encoder.layers.0", "encoder.layers.1", "encoder.norm", "heads.a", "heads.b", "activation",
        ])
        #expect(Block(2, normalized: false).namedChildren.map(\.name) == ["layers.0", "layers.1"])
    }

    @Test("Sequential names its children 0, 1, …, as PyTorch")
    func sequentialNames() {
        let model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(model[2] is Linear)
        #expect(model.count == 3)
        let outer = Sequential(model, Sigmoid())
        #expect(outer.namedParameters().map(\.name) == ["0.0.weight", "0.0.bias", "0.2.weight", "0.2.bias"])
    }

    @Test("a shared layer and tied weights are listed once")
    func sharing() {
        let shared = Linear(2, 2)
        let model = Sequential(shared, ReLU(), shared)
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias"])
        let a = Linear(2, 2), b = Linear(2, 2)
        b.weight = a.weight
        #expect(Sequential(a, b).namedParameters().map(\.name) == ["0.weight", "0.bias", "1.bias"])
    }

    @Test("train() and eval() set the mode of every module below")
    func modes() {
        let net = Net()
        #expect(net.modules().allSatisfy { $0.training })
        net.eval()
        #expect(net.modules().allSatisfy { !$0.training })
        net.encoder.train()
        #expect(net.encoder.modules().allSatisfy { $0.training } && !net.training)
        #expect(net.train().training)
    }

    @Test("zeroGrad(setToNone: true) leaves grad nil; setToNone: false leaves zeros")
    func zeroGrad() throws {
        let model = Sequential(Linear(2, 3), Tanh(), Linear(3, 1))
        try model(Tensor.ones([4, 2])).sum().backward()
        #expect(model.parameters().allSatisfy { $0.grad != nil })
        model.zeroGrad(setToNone: false)
        for p in model.parameters() {
            #expect(p.grad?.shape == p.shape)
            #expect(try p.grad?.doubles().allSatisfy { $0 == 0 } == true)
        }
        try model(Tensor.ones([4, 2])).sum().backward()
        #expect(try model.parameters()[3].grad?.doubles() == [4])
        model.zeroGrad()
        #expect(model.parameters().allSatisfy { $0.grad == nil })
        // Where no gradient exists, setToNone: false leaves it nil, as PyTorch.
        model.zeroGrad(setToNone: false)
        #expect(model.parameters().allSatisfy { $0.grad == nil })
    }

    @Test("stateDict holds detached values; loadStateDict copies into the same tensors")
    func stateDict() throws {
        let a = Sequential(Linear(2, 2, key: RandomKey(seed: 5))), b = Sequential(Linear(2, 2, key: RandomKey(seed: 6)))
        let state = a.stateDict()
        #expect(state.keys.sorted() == ["0.bias", "0.weight"])
        #expect(state.values.allSatisfy { !$0.requiresGrad })
        let weight = b.parameters()[0]
        try b.loadStateDict(state)
        #expect(b.parameters()[0] === weight)
        #expect(weight.requiresGrad && weight.version == 1)
        #expect(try weight.detach().floats() == state["0.weight"]!.floats())
        #expect(throws: ModuleError.self) { try b.loadStateDict(["0.weight": state["0.weight"]!]) }
        #expect(throws: ModuleError.self) { try b.loadStateDict(["0.weight": Tensor.zeros([3, 2])], strict: false) }
        try b.loadStateDict(["0.bias": Tensor.zeros([2])], strict: false)
        #expect(try b.parameters()[1].detach().floats() == [0, 0])
    }

    @Test("printing follows PyTorch's module text")
    func printing() {
        let model = Sequential(Linear(784, 256), ReLU(), Dropout(p: 0.2), Linear(256, 10, bias: false))
        #expect(model.description == """
            Sequential(
              (0): Linear(in_features=784, out_features=256, bias=True)
              (1): ReLU()
              (2): Dropout(p=0.2, inplace=False)
              (3): Linear(in_features=256, out_features=10, bias=False)
            )
            """)
        #expect(Conv2d(3, 8, kernelSize: 3, padding: 1).description == "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))")
        #expect(LayerNorm(4).description == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)")
    }

    @Test("a module without forward stops with a message naming it")
    func missingForward() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = WithoutForward()(Tensor.ones([1]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("WithoutForward does not override forward(_:)"), "\(text)")
    }
}
