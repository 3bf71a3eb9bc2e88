// Trees of arrays (JAX's pytrees): the structures transforms accept and return. A tree is an
// array, an array or dictionary of trees, or a user struct that lists its tree-valued stored
// properties. Transforms flatten trees to lists of arrays, run once over the flat list, and
// rebuild the same structure: `grad` of a function of a parameter struct returns a struct of
// the same type.
//
// Order: arrays in element order, dictionaries by sorted key, structs in the order their
// properties are listed.

/// A structure holding arrays.
public protocol ArrayTree {
    /// The arrays, in a fixed order.
    var leaves: [NDArray] { get }
    /// The same structure with its arrays taken, in order, from `leaves`.
    func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> Self
    /// The structure without the arrays, as text: two trees with the same structure hold their
    /// leaves in the same places (`jit` keys its programs on it). The default is the type and
    /// the number of leaves.
    var treeStructure: String { get }
}

extension ArrayTree {
    public var treeStructure: String { "\(Self.self)#\(leaves.count)" }

    /// The same structure holding `leaves` (as many as this tree has).
    public func rebuilt(with leaves: [NDArray]) -> Self {
        var iterator = leaves.makeIterator()
        return rebuilt(from: &iterator)
    }

    /// The same structure with `transform` applied to each array.
    public func mapLeaves(_ transform: (NDArray) throws -> NDArray) rethrows -> Self {
        rebuilt(with: try leaves.map(transform))
    }
}

extension NDArray: ArrayTree {
    public var treeStructure: String { "*" }
    public var leaves: [NDArray] { [self] }
    public func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> NDArray { leaves.next()! }
}

extension Array: ArrayTree where Element: ArrayTree {
    public var treeStructure: String { "[" + map(\.treeStructure).joined(separator: ",") + "]" }
    public var leaves: [NDArray] { flatMap(\.leaves) }
    public func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> [Element] {
        map { $0.rebuilt(from: &leaves) }
    }
}

extension Dictionary: ArrayTree where Key: Comparable, Value: ArrayTree {
    public var treeStructure: String {
        "{" + keys.sorted().map { "\($0):\(self[$0]!.treeStructure)" }.joined(separator: ",") + "}"
    }
    public var leaves: [NDArray] { keys.sorted().flatMap { self[$0]!.leaves } }
    public func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> [Key: Value] {
        var out: [Key: Value] = [:]
        for key in keys.sorted() { out[key] = self[key]!.rebuilt(from: &leaves) }
        return out
    }
}

/// One tree-valued stored property of a struct, for `ArrayStruct`.
public struct ArrayProperty<Root> {
    let read: (Root) -> [NDArray]
    let write: (inout Root, inout IndexingIterator<[NDArray]>) -> Void
    let structure: (Root) -> String

    /// The property at `keyPath`.
    public init<Value: ArrayTree>(_ keyPath: WritableKeyPath<Root, Value>) {
        read = { $0[keyPath: keyPath].leaves }
        structure = { $0[keyPath: keyPath].treeStructure }
        write = { root, leaves in root[keyPath: keyPath] = root[keyPath: keyPath].rebuilt(from: &leaves) }
    }
}

/// A struct that is a tree through the stored properties it lists:
///
/// ```swift
/// struct Layer: ArrayStruct {
///     var weight: NDArray
///     var bias: NDArray
///     static var arrayProperties: [ArrayProperty<Layer>] { [.init(\.weight), .init(\.bias)] }
/// }
/// ```
public protocol ArrayStruct: ArrayTree {
    /// The array-valued stored properties the transforms differentiate, batch and rebuild, in a
    /// fixed order; other properties travel unchanged.
    static var arrayProperties: [ArrayProperty<Self>] { get }
}

extension ArrayStruct {
    public var treeStructure: String {
        "\(Self.self){" + Self.arrayProperties.map { $0.structure(self) }.joined(separator: ",") + "}"
    }
    public var leaves: [NDArray] { Self.arrayProperties.flatMap { $0.read(self) } }
    public func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> Self {
        var copy = self
        for property in Self.arrayProperties { property.write(&copy, &leaves) }
        return copy
    }
}

// MARK: - Flattening functions

/// Two trees as one: the leaves of `first`, then those of `second` (a function's value and its
/// auxiliary outputs, two arguments).
struct TreePair<First: ArrayTree, Second: ArrayTree>: ArrayTree {
    var first: First
    var second: Second

    init(first: First, second: Second) {
        self.first = first
        self.second = second
    }

    /// A pair of trees from a tuple.
    init(_ tuple: (First, Second)) {
        (first, second) = tuple
    }

    /// The pair as a tuple.
    var tuple: (First, Second) { (first, second) }

    var treeStructure: String { "(\(first.treeStructure),\(second.treeStructure))" }
    var leaves: [NDArray] { first.leaves + second.leaves }
    func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> TreePair {
        TreePair(first: first.rebuilt(from: &leaves), second: second.rebuilt(from: &leaves))
    }
}

/// A function of trees as a function of flat lists of arrays, which remembers the structure of
/// its output (autodidax's `flatten_fun`): each transform is written once over flat lists, runs
/// the flattened function, and rebuilds its results with the structure of `input` (for
/// gradients and tangents of the input) and of the output.
final class Flattened<T: ArrayTree, R: ArrayTree> {
    let input: T
    private let body: (T) throws -> R
    /// The output of the last call.
    private(set) var output: R?

    init(_ body: @escaping (T) throws -> R, at input: T) {
        self.body = body
        self.input = input
    }

    /// The input's leaves, where the transform starts.
    var inputLeaves: [NDArray] { input.leaves }

    /// `body` on the input's structure filled with `leaves`, as leaves.
    func callAsFunction(_ leaves: [NDArray]) throws -> [NDArray] {
        let y = try body(input.rebuilt(with: leaves))
        output = y
        return y.leaves
    }

    /// The output's structure holding `leaves` (after a call).
    func outputTree(_ leaves: [NDArray]) -> R { output!.rebuilt(with: leaves) }

    /// The input's structure holding `leaves`.
    func inputTree(_ leaves: [NDArray]) -> T { input.rebuilt(with: leaves) }
}
