// swift-tools-version: 6.0
import Foundation
import PackageDescription

// Benchmarks live in their own package so that their tooling never slows the library's build.
// Run: swift run -c release --package-path Benchmarks FluxionBenchmarks [--only NAME ...]

// A path dependency is identified by its folder's name, which is whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "FluxionBenchmarks",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "FluxionBenchmarks",
            dependencies: [.product(name: "Fluxion", package: root), .product(name: "FluxionNN", package: root)]
        ),
    ]
)
