// swift-tools-version:6.0
import PackageDescription

// Layers, each depending only downward:
//   CHDF5 / COpenBLAS / CZlib   system libraries (see ../shared/docs/native-stack.md)
//   CKernels                    hand-vectorised C inner loops picked at run time (F16C conversion,
//                               the fused linear merge, AdamW)
//   TVStorage                   tensors, dtypes, checkpoint formats (safetensors, HDF5, PyTorch)
//   TVImage                     PNG encode/decode, raster drawing
//   TVEngine                    task vectors, expressions, merge methods, block weights, LoRA (LAPACK SVD, also TSV/Iso)
//   TVTrainer                   the small pure-Swift diffusion trainer
//   TVSearch                    grid grammar, search strategies, records and the resumable runner
//                               shared by deme, search and landscape
//   TVDeMe                      Decouple-then-Merge: range finetuning, ensemble, weight search, report
//   TVSweep                     landscapes, scriptable grid searches, external evaluators
//   tvtool                      the CLI: parses and delegates
let package = Package(
    name: "tvtool",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tvtool", targets: ["tvtool"]),
        .library(name: "TVStorage", targets: ["TVStorage"]),
        .library(name: "TVEngine", targets: ["TVEngine"]),
        .library(name: "TVTrainer", targets: ["TVTrainer"]),
        .library(name: "TVSearch", targets: ["TVSearch"]),
        .library(name: "TVDeMe", targets: ["TVDeMe"]),
        .library(name: "TVSweep", targets: ["TVSweep"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Optimised in debug builds too: the test suite runs debug, and at -O0 the UNet conv kernels
        // made one CIFAR-shaped cross-check take minutes.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        .target(name: "TVStorage", dependencies: ["CHDF5", "CZlib", "CKernels"]),
        .target(name: "TVImage", dependencies: ["CZlib"]),
        .target(name: "TVEngine", dependencies: ["TVStorage", "CKernels", "COpenBLAS", .product(name: "Yams", package: "Yams")]),
        .target(name: "TVTrainer", dependencies: ["TVStorage", "TVImage", "COpenBLAS", "CKernels"]),
        .target(name: "TVSearch", dependencies: ["TVStorage"]),
        .target(name: "TVDeMe", dependencies: ["TVEngine", "TVTrainer", "TVImage", "TVSearch"]),
        .target(name: "TVSweep", dependencies: ["TVEngine", "TVTrainer", "TVImage", "TVSearch", "COpenBLAS"]),
        .executableTarget(
            name: "tvtool",
            dependencies: [
                "TVStorage", "TVEngine", "TVTrainer", "TVSearch", "TVDeMe", "TVSweep", "TVImage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Test helpers shared by every test target (fixture paths, scratch folders, Python oracles).
        .target(name: "TestSupport", dependencies: ["TVStorage"], path: "Tests/TestSupport"),
        .testTarget(name: "TVStorageTests", dependencies: ["TestSupport", "TVStorage"]),
        .testTarget(name: "TVImageTests", dependencies: ["TestSupport", "TVImage"]),
        .testTarget(name: "TVEngineTests", dependencies: ["TestSupport", "TVEngine"]),
        .testTarget(name: "TVTrainerTests", dependencies: ["TestSupport", "TVTrainer"]),
        .testTarget(name: "TVDeMeTests", dependencies: ["TestSupport", "TVDeMe", "TVTrainer", "TVSearch"]),
        .testTarget(name: "TVSearchTests", dependencies: ["TestSupport", "TVSearch"]),
        .testTarget(name: "TVSweepTests", dependencies: ["TestSupport", "TVSweep", "TVSearch"]),
        .testTarget(name: "tvtoolTests", dependencies: ["TestSupport", "tvtool"]),
    ]
)
