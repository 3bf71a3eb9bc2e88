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
}

extension ArrayTree {
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
    public var leaves: [NDArray] { [self] }
    public func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> NDArray { leaves.next()! }
}

extension Array: ArrayTree where Element: ArrayTree {
    public var leaves: [NDArray] { flatMap(\.leaves) }
    public func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> [Element] {
        map { $0.rebuilt(from: &leaves) }
    }
}

extension Dictionary: ArrayTree where Key: Comparable, Value: ArrayTree {
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

    /// The property at `keyPath`.
    public init<Value: ArrayTree>(_ keyPath: WritableKeyPath<Root, Value>) {
        read = { $0[keyPath: keyPath].leaves }
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
    static var arrayProperties: [ArrayProperty<Self>] { get }
}

extension ArrayStruct {
    public var leaves: [NDArray] { Self.arrayProperties.flatMap { $0.read(self) } }
    public func rebuilt(from leaves: inout IndexingIterator<[NDArray]>) -> Self {
        var copy = self
        for property in Self.arrayProperties { property.write(&copy, &leaves) }
        return copy
    }
}
