// The documentation articles' Swift blocks cannot drift from the tests: each block of every
// catalog under Sources/ (its imports aside) appears line for line in a test file that compiles
// and runs it and checks what it prints, and a package manifest block names the products the
// manifest declares. The same mechanism keeps the README's blocks (ReadmeSnippetTests.swift).

import Foundation
import Testing

/// The repository's root, found from this file's location.
private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The test files that hold the articles' blocks.
private let articleTestFiles = ["Tests/FluxionTests/ArticleExampleTests.swift", "Tests/FluxionNNTests/ArticleTests.swift",
                                "Tests/FluxionCheckTests/ArticleTests.swift"]

/// Every article of every documentation catalog, by path relative to the repository.
private func articles() throws -> [String] {
    let sources = repository.appendingPathComponent("Sources")
    guard let walker = FileManager.default.enumerator(atPath: sources.path) else { return [] }
    return walker.compactMap { $0 as? String }
        .filter { $0.hasSuffix(".md") && $0.contains(".docc/") }
        .map { "Sources/\($0)" }
        .sorted()
}

/// The Swift blocks of a Markdown text, in order.
func swiftBlocks(_ text: String) -> [String] {
    text.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
}

/// The lines that carry code: trimmed, without blank lines and imports.
private func codeLines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && !$0.hasPrefix("import ") }
}

/// Whether `block`'s code lines appear, consecutive and in order, in one of `files`.
func isVerbatim(_ block: String, inAnyOf files: [[String]]) -> Bool {
    let lines = codeLines(block)
    return files.contains { file in
        file.count >= lines.count && (0...(file.count - lines.count)).contains { Array(file[$0..<($0 + lines.count)]) == lines }
    }
}

private func read(_ path: String) throws -> String {
    try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
}

@Suite("Documentation article blocks")
struct ArticleSnippetTests {
    @Test("every Swift block of every article is in a test, line for line")
    func everyBlockIsTested() throws {
        let paths = try articles()
        #expect(paths.count >= 11, "found only \(paths.count) articles under Sources/*.docc")
        let files = try articleTestFiles.map { codeLines(try read($0)) }
        var blockCount = 0
        for path in paths {
            for block in swiftBlocks(try read(path)) where !block.contains("PackageDescription") {
                blockCount += 1
                let found = isVerbatim(block, inAnyOf: files)
                #expect(found, "this block of \(path) is in none of \(articleTestFiles):\n\(block)")
            }
        }
        #expect(blockCount >= 20, "found only \(blockCount) Swift blocks in the articles")
    }

    @Test("a block that drifted from its test is found, so the check can fail")
    func driftIsFound() throws {
        let files = try articleTestFiles.map { codeLines(try read($0)) }
        let block = try #require(swiftBlocks(try read("Sources/Fluxion/Fluxion.docc/GettingStarted.md")).first { !$0.contains("PackageDescription") })
        let (verbatim, changed, extended) = (isVerbatim(block, inAnyOf: files),
                                             isVerbatim(block.replacingOccurrences(of: "3 * x", with: "4 * x"), inAnyOf: files),
                                             isVerbatim(block + "print(neverInATest)\n", inAnyOf: files))
        #expect(verbatim && !changed && !extended)
    }

    @Test("a package block names products the manifest declares")
    func packageBlocksNameRealProducts() throws {
        let manifest = try read("Package.swift")
        var found = 0
        for path in try articles() {
            for block in swiftBlocks(try read(path)) where block.contains("PackageDescription") {
                let named = block.components(separatedBy: ".product(name: \"").dropFirst().map { $0.components(separatedBy: "\"")[0] }
                #expect(!named.isEmpty, "the package block of \(path) names no product")
                for product in named {
                    found += 1
                    #expect(manifest.contains(".library(name: \"\(product)\""), "\(path) names product \(product), which Package.swift does not declare")
                }
            }
        }
        #expect(found >= 1)
    }
}
