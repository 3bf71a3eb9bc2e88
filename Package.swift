// swift-tools-version: 6.0
import PackageDescription

// Layers, bottom up (see README): CBLAS → FluxionKernels → FluxionCore → FluxionAutograd →
// Fluxion (umbrella) → FluxionNN (modules, losses, optimizers; imported on its own, as torch.nn).
// Kernels know nothing of differentiation; everything users touch is re-exported by `Fluxion`.
let package = Package(
    name: "Fluxion",
    products: [
        .library(name: "Fluxion", targets: ["Fluxion"]),
        .library(name: "FluxionNN", targets: ["FluxionNN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .target(
            name: "FluxionKernels",
            dependencies: ["CBLAS", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "FluxionCore",
            dependencies: ["FluxionKernels", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(name: "FluxionAutograd", dependencies: ["FluxionCore", "FluxionKernels"]),
        .target(name: "Fluxion", dependencies: ["FluxionCore", "FluxionAutograd"]),
        .target(name: "FluxionNN", dependencies: ["Fluxion", "FluxionCore", "FluxionAutograd", "FluxionKernels"]),
        .executableTarget(name: "Tour", dependencies: ["Fluxion"], path: "Notebooks/Tour"),
        .executableTarget(name: "Training", dependencies: ["Fluxion", "FluxionNN"], path: "Notebooks/Training"),
        .testTarget(name: "FluxionTests", dependencies: ["Fluxion", "FluxionKernels"]),
        .testTarget(name: "FluxionNNTests", dependencies: ["FluxionNN", "Fluxion"]),
    ]
)
