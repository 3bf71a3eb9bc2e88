// The README's Swift blocks cannot drift from the tests: each block (its imports aside) appears
// line for line in a test file that compiles and runs it, and the package block names the
// products the manifest declares.

import Foundation
import Testing

/// The repository's root, found from this file's location.
private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The Swift blocks of the README, in order.
private func readmeBlocks() throws -> [String] {
    let text = try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
    return text.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
}

/// The lines that carry code: trimmed, without blank lines and imports.
private func codeLines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && !$0.hasPrefix("import ") }
}

/// The test files that hold the README's blocks.
private let snippetFiles = ["Tests/FluxionTests/ReadmeExampleTests.swift", "Tests/FluxionCheckTests/ReadmeTests.swift",
                            "Tests/FluxionNNTests/ReadmeTests.swift"]

@Suite("README blocks")
struct ReadmeSnippetTests {
    @Test("every Swift block of the README is in a test, line for line")
    func everyBlockIsTested() throws {
        let blocks = try readmeBlocks()
        #expect(blocks.count >= 5, "found only \(blocks.count) Swift blocks in README.md")
        let files = try snippetFiles.map { codeLines(try String(contentsOf: repository.appendingPathComponent($0), encoding: .utf8)) }
        for block in blocks where !block.contains("PackageDescription") {
            let lines = codeLines(block)
            let found = files.contains { file in
                file.count >= lines.count && (0...(file.count - lines.count)).contains { Array(file[$0..<($0 + lines.count)]) == lines }
            }
            #expect(found, "this README block is in none of \(snippetFiles):\n\(block)")
        }
    }

    @Test("the package block names products the manifest declares")
    func packageBlockNamesRealProducts() throws {
        let block = try #require(try readmeBlocks().first { $0.contains("PackageDescription") })
        let manifest = try String(contentsOf: repository.appendingPathComponent("Package.swift"), encoding: .utf8)
        let named = block.components(separatedBy: ".product(name: \"").dropFirst().map { $0.components(separatedBy: "\"")[0] }
            .filter { block.contains(".product(name: \"\($0)\", package: \"Fluxion\")") }
        #expect(Set(named) == ["Fluxion", "FluxionNN", "FluxionCheck"])
        for product in named { #expect(manifest.contains(".library(name: \"\(product)\""), "Package.swift has no product \(product)") }
    }
}
