// swift-tools-version: 6.1
import PackageDescription

// The kernels use AVX2 on x86_64 hosts (every x86_64 machine we build on has it); the device build in
// targets/ sets its own instruction set per board.
#if arch(x86_64)
    let vectorSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma"])]
#else
    let vectorSettings: [SwiftSetting] = []
#endif
// The kernels, the runtime and the host library are optimised in debug builds too: the accuracy
// tests run thousands of images through them, which unoptimised SIMD code makes ten times slower.
let optimised: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

// CNNQKernels and CNNQRuntime are written in the Embedded Swift subset: they build here as ordinary
// modules for the host tools and tests, and as freestanding objects for devices (see targets/).
let package = Package(
    name: "cnnq",
    products: [
        .executable(name: "cnn-quantize", targets: ["cnn-quantize"]),
        .library(name: "CNNQuant", targets: ["CNNQuant"]),
        .library(name: "CNNQRuntime", targets: ["CNNQRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // OpenMP parallel-for shim; compiles to a serial loop where OpenMP is absent (devices).
        .target(
            name: "CNNQThreads",
            cSettings: [.unsafeFlags(["-fopenmp"])],
            linkerSettings: [.linkedLibrary(":libomp.so.5", .when(platforms: [.linux]))]
        ),
        // JPEG/PNG decoding and gzip reading for calibration data (host only): libjpeg-turbo, libpng, zlib.
        .target(
            name: "CNNQImageIO", linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16"), .linkedLibrary("z")]),
        // The core's effective clock, measured, for bench-kernels' floor (host only).
        .target(name: "CNNQClock"),
        .target(name: "CNNQKernels", dependencies: ["CNNQThreads"], swiftSettings: vectorSettings + optimised),
        .target(name: "CNNQRuntime", dependencies: ["CNNQKernels"], swiftSettings: optimised),
        .target(
            name: "CNNQuant",
            dependencies: [
                "CNNQKernels", "CNNQRuntime", "CNNQThreads", "CNNQImageIO",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["ONNX/regenerate-onnx-proto.sh"],
            swiftSettings: optimised
        ),
        .executableTarget(
            name: "cnn-quantize",
            dependencies: ["CNNQuant", "CNNQClock", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Shared by the test targets: the reference convolution every optimised one is checked
        // against, seeded data and stages; not part of the products.
        .target(name: "CNNQTestSupport", dependencies: ["CNNQKernels", "CNNQuant"], swiftSettings: optimised),
        .testTarget(name: "CNNQKernelsTests", dependencies: ["CNNQKernels", "CNNQuant", "CNNQTestSupport"]),
        .testTarget(
            name: "CNNQuantTests",
            dependencies: ["CNNQuant", "CNNQRuntime", "CNNQKernels"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
