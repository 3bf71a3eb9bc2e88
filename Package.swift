// swift-tools-version: 6.0
import PackageDescription

// Layers, bottom up (see README): CBLAS, CVectorMaps → FluxionKernels → FluxionCore → FluxionAutograd →
// Fluxion (umbrella) → FluxionNN (modules, losses, optimizers; imported on its own, as torch.nn).
// Kernels know nothing of differentiation; everything users touch is re-exported by `Fluxion`.
let package = Package(
    name: "Fluxion",
    products: [
        .library(name: "Fluxion", targets: ["Fluxion"]),
        .library(name: "FluxionCheck", targets: ["FluxionCheck"]),
        .library(name: "FluxionNN", targets: ["FluxionNN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // `swift package generate-documentation`: the DocC catalogs of the public modules (README, "Documentation").
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        // exp, tanh and sigmoid over contiguous runs, compiled for each x86-64 vector width.
        .target(name: "CVectorMaps"),
        .target(
            name: "FluxionKernels",
            dependencies: ["CBLAS", "CVectorMaps", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "FluxionCore",
            dependencies: ["FluxionKernels", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(name: "FluxionAutograd", dependencies: ["FluxionCore"]),
        .target(name: "Fluxion", dependencies: ["FluxionCore", "FluxionAutograd"]),
        .target(name: "FluxionCheck", dependencies: ["Fluxion", .product(name: "PropertyBased", package: "swift-property-based")]),
        .target(name: "FluxionNN", dependencies: ["Fluxion", "FluxionCore", "FluxionAutograd"]),
        .target(name: "NotebookSupport", dependencies: ["Fluxion"], path: "Notebooks/NotebookSupport"),
        .executableTarget(name: "Tour", dependencies: ["Fluxion", "NotebookSupport"], path: "Notebooks/Tour"),
        .executableTarget(name: "AutogradBasics", dependencies: ["Fluxion", "NotebookSupport"], path: "Notebooks/AutogradBasics"),
        .executableTarget(name: "AutogradInternals", dependencies: ["Fluxion", "FluxionNN", "FluxionCheck", "NotebookSupport"],
                          path: "Notebooks/AutogradInternals"),
        .executableTarget(name: "PerSampleGradients", dependencies: ["Fluxion", "FluxionNN", "NotebookSupport"],
                          path: "Notebooks/PerSampleGradients"),
        .executableTarget(name: "JacobiansAndHessians", dependencies: ["Fluxion", "NotebookSupport"],
                          path: "Notebooks/JacobiansAndHessians"),
        .executableTarget(name: "PINN", dependencies: ["Fluxion", "FluxionNN", "NotebookSupport"], path: "Notebooks/PINN"),
        .executableTarget(name: "HighDimensionalPoisson", dependencies: ["Fluxion", "FluxionNN", "NotebookSupport"],
                          path: "Notebooks/HighDimensionalPoisson"),
        .executableTarget(name: "MAML", dependencies: ["Fluxion", "NotebookSupport"], path: "Notebooks/MAML"),
        .executableTarget(name: "GradientPenalty", dependencies: ["Fluxion", "FluxionNN", "FluxionCheck", "NotebookSupport"],
                          path: "Notebooks/GradientPenalty"),
        .executableTarget(name: "Training", dependencies: ["Fluxion", "FluxionNN", "NotebookSupport"], path: "Notebooks/Training"),
        .executableTarget(name: "AutodiffCookbook", dependencies: ["Fluxion", "FluxionCheck", "NotebookSupport"],
                          path: "Notebooks/AutodiffCookbook"),
        .executableTarget(name: "DPTraining", dependencies: ["Fluxion", "FluxionNN", "NotebookSupport"], path: "Notebooks/DPTraining"),
        .executableTarget(name: "ModelEnsembling", dependencies: ["Fluxion", "FluxionNN", "NotebookSupport"],
                          path: "Notebooks/ModelEnsembling"),
        .executableTarget(name: "NeuralTangentKernels", dependencies: ["Fluxion", "FluxionNN", "NotebookSupport"],
                          path: "Notebooks/NeuralTangentKernels"),
        .executableTarget(name: "StagedPrograms", dependencies: ["Fluxion", "NotebookSupport"], path: "Notebooks/StagedPrograms"),
        .executableTarget(name: "Burgers", dependencies: ["Fluxion", "FluxionNN", "NotebookSupport"], path: "Notebooks/Burgers"),
        // Misuse that must stop with its message, run by the test suite and, from an optimised
        // build, by FluxionReleaseChecks (`swift run -c release FluxionReleaseChecks`).
        .target(name: "MisuseCases", dependencies: ["Fluxion", "FluxionNN", "FluxionCheck"], path: "Tests/MisuseCases"),
        .executableTarget(name: "FluxionReleaseChecks", dependencies: ["Fluxion", "MisuseCases"], path: "Tests/ReleaseChecks"),
        .testTarget(name: "FluxionTests", dependencies: ["Fluxion", "FluxionKernels", "FluxionCheck", "MisuseCases",
                                                         .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "FluxionCheckTests", dependencies: ["FluxionCheck", "FluxionKernels", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "FluxionNNTests", dependencies: ["FluxionNN", "Fluxion"]),
        .testTarget(name: "NotebookSupportTests", dependencies: ["NotebookSupport"], path: "Tests/NotebookSupportTests"),
    ]
)
