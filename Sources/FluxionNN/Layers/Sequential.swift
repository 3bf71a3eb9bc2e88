// A chain of modules (`nn.Sequential`): each one's output is the next one's input. Children
// are named by position (`0.weight`, `2.bias`), as in PyTorch.

import Fluxion

/// Modules applied in order.
///
/// ```swift
/// let model = Sequential(Linear(784, 256), ReLU(), Linear(256, 10))
/// model[0]                        // the first Linear
/// model.namedParameters()[0].name // "0.weight"
/// ```
public final class Sequential: Module, @unchecked Sendable {
    /// The layers, applied in order.
    public private(set) var layers: [Module]

    /// The layers, applied in order; their parameters are named by position (`0.weight`).
    public init(_ layers: [Module]) {
        self.layers = layers
    }

    /// The layers, applied in order; their parameters are named by position (`0.weight`).
    public convenience init(_ layers: Module...) {
        self.init(layers)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { x, layer in layer(x) }
    }

    public override var namedChildren: [(name: String, module: Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    /// The layer at `index`.
    public subscript(index: Int) -> Module { layers[index] }

    /// The number of layers.
    public var count: Int { layers.count }

    /// Adds `module` at the end.
    public func append(_ module: Module) { layers.append(module) }
}
