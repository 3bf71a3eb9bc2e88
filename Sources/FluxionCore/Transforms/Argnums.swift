// Which arguments a transform differentiates (JAX's `argnums`), checked by the compiler: a
// selection names arguments of a function of two or three arguments, and its type says what
// the transform returns — the gradient of the one argument selected, or a tuple of gradients
// for several. Selecting an argument the function does not have, or one that is not an array
// tree, does not compile.
//
// ```swift
// func loss(_ w: NDArray, _ x: NDArray, _ y: NDArray) -> NDArray { ... }
// let dx = try grad(loss, argnums: .second)(w, x, y)              // ∂loss/∂x
// let (dw, dy) = try grad(loss, argnums: .firstAndThird)(w, x, y)
// ```
//
// A selection reads the selected arguments' leaves, puts new leaves in their place, and builds
// the transform's result from one array per selected leaf.

/// A choice of arguments of a function of two arguments, with the type `Selected` a transform
/// returns for them: `.first`, `.second`, or `.both` (a tuple).
public struct Argnums2<A, B, Selected> {
    let leaves: (A, B) -> [NDArray]
    let substituting: (A, B, [NDArray]) -> (A, B)
    let result: (A, B, [NDArray]) -> Selected
}

extension Argnums2 where A: ArrayTree, Selected == A {
    /// The first argument (JAX's `argnums=0`, the default).
    public static var first: Self {
        Self(leaves: { a, _ in a.leaves }, substituting: { a, b, l in (a.rebuilt(with: l), b) }, result: { a, _, l in a.rebuilt(with: l) })
    }
}

extension Argnums2 where B: ArrayTree, Selected == B {
    /// The second argument (`argnums=1`).
    public static var second: Self {
        Self(leaves: { _, b in b.leaves }, substituting: { a, b, l in (a, b.rebuilt(with: l)) }, result: { _, b, l in b.rebuilt(with: l) })
    }
}

extension Argnums2 where A: ArrayTree, B: ArrayTree, Selected == (A, B) {
    /// Both arguments (`argnums=(0, 1)`): a tuple of results.
    public static var both: Self {
        func split(_ a: A, _ b: B, _ l: [NDArray]) -> (A, B) {
            let n = a.leaves.count
            return (a.rebuilt(with: Array(l[..<n])), b.rebuilt(with: Array(l[n...])))
        }
        return Self(leaves: { a, b in a.leaves + b.leaves }, substituting: split, result: split)
    }
}

/// A choice of arguments of a function of three arguments, with the type `Selected` a
/// transform returns for them: `.first`, `.second`, `.third`, two of them, or `.all` (tuples).
public struct Argnums3<A, B, C, Selected> {
    let leaves: (A, B, C) -> [NDArray]
    let substituting: (A, B, C, [NDArray]) -> (A, B, C)
    let result: (A, B, C, [NDArray]) -> Selected
}

extension Argnums3 where A: ArrayTree, Selected == A {
    /// The first argument (JAX's `argnums=0`, the default).
    public static var first: Self {
        Self(leaves: { a, _, _ in a.leaves }, substituting: { a, b, c, l in (a.rebuilt(with: l), b, c) },
             result: { a, _, _, l in a.rebuilt(with: l) })
    }
}

extension Argnums3 where B: ArrayTree, Selected == B {
    /// The second argument (`argnums=1`).
    public static var second: Self {
        Self(leaves: { _, b, _ in b.leaves }, substituting: { a, b, c, l in (a, b.rebuilt(with: l), c) },
             result: { _, b, _, l in b.rebuilt(with: l) })
    }
}

extension Argnums3 where C: ArrayTree, Selected == C {
    /// The third argument (`argnums=2`).
    public static var third: Self {
        Self(leaves: { _, _, c in c.leaves }, substituting: { a, b, c, l in (a, b, c.rebuilt(with: l)) },
             result: { _, _, c, l in c.rebuilt(with: l) })
    }
}

extension Argnums3 where A: ArrayTree, B: ArrayTree, Selected == (A, B) {
    /// The first two arguments (`argnums=(0, 1)`).
    public static var firstAndSecond: Self {
        func split(_ a: A, _ b: B, _ l: [NDArray]) -> (A, B) {
            let n = a.leaves.count
            return (a.rebuilt(with: Array(l[..<n])), b.rebuilt(with: Array(l[n...])))
        }
        return Self(leaves: { a, b, _ in a.leaves + b.leaves },
                    substituting: { a, b, c, l in let (x, y) = split(a, b, l); return (x, y, c) },
                    result: { a, b, _, l in split(a, b, l) })
    }
}

extension Argnums3 where A: ArrayTree, C: ArrayTree, Selected == (A, C) {
    /// The first and third arguments (`argnums=(0, 2)`).
    public static var firstAndThird: Self {
        func split(_ a: A, _ c: C, _ l: [NDArray]) -> (A, C) {
            let n = a.leaves.count
            return (a.rebuilt(with: Array(l[..<n])), c.rebuilt(with: Array(l[n...])))
        }
        return Self(leaves: { a, _, c in a.leaves + c.leaves },
                    substituting: { a, b, c, l in let (x, z) = split(a, c, l); return (x, b, z) },
                    result: { a, _, c, l in split(a, c, l) })
    }
}

extension Argnums3 where B: ArrayTree, C: ArrayTree, Selected == (B, C) {
    /// The second and third arguments (`argnums=(1, 2)`).
    public static var secondAndThird: Self {
        func split(_ b: B, _ c: C, _ l: [NDArray]) -> (B, C) {
            let n = b.leaves.count
            return (b.rebuilt(with: Array(l[..<n])), c.rebuilt(with: Array(l[n...])))
        }
        return Self(leaves: { _, b, c in b.leaves + c.leaves },
                    substituting: { a, b, c, l in let (y, z) = split(b, c, l); return (a, y, z) },
                    result: { _, b, c, l in split(b, c, l) })
    }
}

extension Argnums3 where A: ArrayTree, B: ArrayTree, C: ArrayTree, Selected == (A, B, C) {
    /// All three arguments (`argnums=(0, 1, 2)`).
    public static var all: Self {
        func split(_ a: A, _ b: B, _ c: C, _ l: [NDArray]) -> (A, B, C) {
            let (n, m) = (a.leaves.count, b.leaves.count)
            return (a.rebuilt(with: Array(l[..<n])), b.rebuilt(with: Array(l[n..<(n + m)])), c.rebuilt(with: Array(l[(n + m)...])))
        }
        return Self(leaves: { a, b, c in a.leaves + b.leaves + c.leaves }, substituting: split, result: split)
    }
}
