// swift-tools-version: 6.0
import Foundation
import PackageDescription

// Data parallelism over MPI, in its own package so that the library never needs MPI to build.
// Needs Open MPI (Debian: `apt-get install -y openmpi-bin libopenmpi-dev`).
// Test:      swift test --package-path Distributed        (spawns mpirun with 1, 2 and 4 ranks)
// Benchmark: swift build -c release --package-path Distributed --product DistributedBenchmarks
//            mpirun -np 2 Distributed/.build/release/DistributedBenchmarks

// A path dependency is identified by its folder's name, which is whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "FluxionDistributed",
    products: [
        .library(name: "FluxionDistributed", targets: ["FluxionDistributed"]),
    ],
    dependencies: [.package(path: "..")],
    targets: [
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        .target(
            name: "FluxionDistributed",
            dependencies: ["CMPI", .product(name: "Fluxion", package: root), .product(name: "FluxionNN", package: root)]
        ),
        // The checks every rank runs under mpirun; the tests spawn them.
        .executableTarget(
            name: "DistributedChecks",
            dependencies: ["FluxionDistributed", .product(name: "Fluxion", package: root), .product(name: "FluxionNN", package: root)]
        ),
        .executableTarget(
            name: "DistributedBenchmarks",
            dependencies: ["CMPI", "FluxionDistributed", .product(name: "Fluxion", package: root),
                           .product(name: "FluxionNN", package: root)]
        ),
        .testTarget(name: "FluxionDistributedTests", dependencies: ["DistributedChecks"]),
    ]
)
