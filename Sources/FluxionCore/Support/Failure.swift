// Stopping with a message: misuse that is a programming error (a shape or dtype that does not
// fit, an index out of range, an argument outside its domain) stops the program, as an
// out-of-range `Array` index does, with a message that names the operation the user called,
// what was wrong, where the call was made, and how to fix it.
//
// Every stop goes through `fatalError`, whose message survives optimised builds;
// `precondition` and `assert` are not used for user-facing checks because `-O` drops the
// message of the one and the whole check of the other. Misuse of the transforms and of
// autograd state is thrown instead (`TransformError`, `AutogradError`), because it can be
// recovered from.

import FluxionKernels

/// The modules of this package: a source location in one of them is never the user's call
/// site (operators and internal calls cannot pass the user's location on).
package let libraryModules: Set<String> = ["FluxionKernels", "FluxionCore", "FluxionAutograd", "FluxionNN", "FluxionCheck"]

/// Whether `path` (a `#fileID` such as `FluxionCore/NDArray.swift`, or a full path) lies in
/// one of the package's modules.
package func isLibrarySource(_ path: String) -> Bool {
    let parts = path.split(separator: "/")
    if parts.count == 2 { return libraryModules.contains(String(parts[0])) }
    return parts.dropLast().contains { libraryModules.contains(String($0)) }
}

/// Stops with a message that names the operation, what was wrong, where the caller is, and
/// how to fix it:
///
/// ```
/// Fluxion: matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 ≠ 4) (called at App/Model.swift:12). Fix: …
/// ```
@usableFromInline
package func fail(_ operation: String, _ problem: String, fix: String, file: StaticString, line: UInt) -> Never {
    fail(operation, problem, fix: fix, at: CallSite(file: file, line: line))
}

/// `fail` for a location kept as a `CallSite` (the transforms record where they were made).
package func fail(_ operation: String, _ problem: String, fix: String, at site: CallSite) -> Never {
    let location = isLibrarySource(site.file) ? "" : " (called at \(site.file):\(site.line))"
    fatalError("Fluxion: \(operation): \(problem)\(location). Fix: \(fix)")
}

/// Stops unless `shape` is a valid array shape — sizes of 0 or more, and no more elements
/// (counting the non-zero sizes) than an array can hold — naming `operation` and the shapes
/// it was made from.
@usableFromInline
package func checkShape(_ shape: [Int], _ operation: String, from inputs: [[Int]] = [], file: StaticString, line: UInt) {
    if Shape.checkedExtent(shape) != nil { return }
    let made = inputs.isEmpty ? "" : " (from " + inputs.map(describe).joined(separator: " and ") + ")"
    if let negative = shape.first(where: { $0 < 0 }) {
        fail(operation, "shape \(describe(shape))\(made) has the negative size \(negative)", fix: "use sizes of 0 or more", file: file, line: line)
    }
    let elements = shape.reduce(1.0) { $0 * Double(Swift.max($1, 1)) }
    fail(operation, "the result would have shape \(describe(shape))\(made): about \(elements) elements, more than an array can hold (at most 2^60 - 1)",
         fix: "use smaller sizes, or split the work into pieces", file: file, line: line)
}

/// `a + b` for sizes, stopping with `operation`'s name where the sum does not fit.
func checkedSum(_ a: Int, _ b: Int, _ operation: String, file: StaticString, line: UInt) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    if overflow || sum > Shape.maxCount {
        fail(operation, "a size of \(a) + \(b) is more than an array can hold (at most 2^60 - 1)", fix: "use smaller sizes", file: file, line: line)
    }
    return sum
}

/// A shape as `[2, 3]`.
@usableFromInline
package func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
