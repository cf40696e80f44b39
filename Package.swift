// swift-tools-version: 6.1
import PackageDescription

// The portable kernels are built for the architecture's baseline (x86_64: SSE2), so the host tool
// and the device library run on any CPU of it; each instruction-set level above it is a module of
// its own with its own flags, run only where `cnnq_cpu_features` finds the level (Swift has no
// per-function target attribute). The device build in targets/ sets the same flags per board.
#if arch(x86_64)
    let avx2Settings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2"])]
    let avxVNNISettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mavxvnni"])]
    let avx512VNNISettings: [SwiftSetting] = [
        .unsafeFlags([
            "-Xcc", "-mavx512f", "-Xcc", "-mavx512bw", "-Xcc", "-mavx512vl", "-Xcc", "-mavx512vnni", "-Xcc",
            "-mavx512vbmi",
        ])
    ]
    let dotProductSettings: [SwiftSetting] = []
    let i8mmSettings: [SwiftSetting] = []
#elseif arch(arm64)
    let avx2Settings: [SwiftSetting] = []
    let avxVNNISettings: [SwiftSetting] = []
    let avx512VNNISettings: [SwiftSetting] = []
    let dotProductSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=armv8.2-a+dotprod"])]
    let i8mmSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=armv8.6-a+i8mm"])]
#else
    let avx2Settings: [SwiftSetting] = []
    let avxVNNISettings: [SwiftSetting] = []
    let avx512VNNISettings: [SwiftSetting] = []
    let dotProductSettings: [SwiftSetting] = []
    let i8mmSettings: [SwiftSetting] = []
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
        // CPU feature detection, and the intrinsics Swift cannot name as static inline C wrappers.
        .target(name: "CNNQCPU"),
        .target(
            name: "CNNQKernels", dependencies: ["CNNQThreads", "CNNQCPU"], swiftSettings: optimised),
        .target(
            name: "CNNQKernelsAVX2", dependencies: ["CNNQKernels", "CNNQCPU"], swiftSettings: avx2Settings + optimised),
        .target(
            name: "CNNQKernelsAVXVNNI", dependencies: ["CNNQKernels", "CNNQCPU"],
            swiftSettings: avxVNNISettings + optimised),
        .target(
            name: "CNNQKernelsAVX512VNNI", dependencies: ["CNNQKernels", "CNNQCPU"],
            swiftSettings: avx512VNNISettings + optimised),
        .target(
            name: "CNNQKernelsDotProd", dependencies: ["CNNQKernels", "CNNQCPU"],
            swiftSettings: dotProductSettings + optimised),
        .target(
            name: "CNNQKernelsI8MM", dependencies: ["CNNQKernels", "CNNQCPU"], swiftSettings: i8mmSettings + optimised),
        .target(name: "CNNQKernelsNEON", dependencies: ["CNNQKernels", "CNNQCPU"], swiftSettings: optimised),
        .target(
            name: "CNNQRuntime",
            dependencies: [
                "CNNQKernels", "CNNQCPU", "CNNQKernelsAVX2", "CNNQKernelsAVXVNNI", "CNNQKernelsAVX512VNNI",
                "CNNQKernelsDotProd",
                "CNNQKernelsI8MM", "CNNQKernelsNEON",
            ],
            swiftSettings: optimised),
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
        .testTarget(
            name: "CNNQKernelsTests", dependencies: ["CNNQKernels", "CNNQRuntime", "CNNQuant", "CNNQTestSupport"]),
        .testTarget(
            name: "CNNQuantTests",
            dependencies: ["CNNQuant", "CNNQRuntime", "CNNQKernels", "CNNQTestSupport"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
