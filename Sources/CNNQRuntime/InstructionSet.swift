import CNNQCPU
import CNNQKernels

/// The instruction-set levels that have their own kernels; raw values are cnnq.h's `CNNQ_ISA_*`.
/// A context runs the best level its CPU has (`best`), or a lower one it was told to
/// (`cnnq_context_set_isa`, the host tool's `CNNQ_ISA`). Every level gives the same bytes.
public enum InstructionSet: Int32, CaseIterable, Sendable {
    /// The portable kernels: SSE2 on x86_64, Advanced SIMD on aarch64, NEON on armv7.
    case baseline = 0
    /// x86_64 AVX2: the portable GEMM, depthwise, add, multiply and average pool bodies compiled with
    /// AVX2 (256-bit `vpmaddwd`).
    case avx2 = 5
    /// x86_64 AVX-VNNI: 256-bit `vpdpbusd`.
    case avxVNNI = 1
    /// x86_64 AVX-512 VNNI: 512-bit `vpdpbusd`.
    case avx512VNNI = 2
    /// aarch64 Armv8.2 dot product: `sdot`.
    case dotProduct = 3
    /// aarch64 Armv8.6 int8 matrix multiply: `smmla`.
    case i8mm = 4

    /// Its name in `CNNQ_ISA` and in what the tools print.
    public var name: StaticString {
        switch self {
        case .baseline:
            #if arch(x86_64)
                "sse2"
            #else
                "neon"
            #endif
        case .avx2: "avx2"
        case .avxVNNI: "avx-vnni"
        case .avx512VNNI: "avx512-vnni"
        case .dotProduct: "dotprod"
        case .i8mm: "i8mm"
        }
    }

    /// Whether this build has the level's kernels and this CPU can run them.
    public var isAvailable: Bool { Self.isAvailable(self, features: cnnq_cpu_features()) }

    static func isAvailable(_ level: InstructionSet, features: Int32) -> Bool {
        switch level {
        case .baseline: return true
        #if arch(x86_64) && !CNNQ_PROFILE_SMALL
            case .avx2: return features & Int32(CNNQ_CPU_AVX2) != 0
            case .avxVNNI: return features & Int32(CNNQ_CPU_AVX_VNNI) != 0
            case .avx512VNNI: return features & Int32(CNNQ_CPU_AVX512_VNNI) != 0
        #elseif arch(arm64) && !CNNQ_PROFILE_SMALL
            case .dotProduct: return features & Int32(CNNQ_CPU_DOTPROD) != 0
            case .i8mm: return features & Int32(CNNQ_CPU_I8MM) != 0
        #endif
        default: return false
        }
    }

    /// The fastest level this CPU runs: AVX-512 VNNI over AVX-VNNI (both `vpdpbusd`, twice the lanes)
    /// over AVX2 over SSE2 on x86_64, i8mm over dotprod over Advanced SIMD on aarch64 (`smmla` does
    /// twice an `sdot`'s MACs).
    public static var best: InstructionSet {
        let features = cnnq_cpu_features()
        if isAvailable(.avx512VNNI, features: features) { return .avx512VNNI }
        if isAvailable(.avxVNNI, features: features) { return .avxVNNI }
        if isAvailable(.avx2, features: features) { return .avx2 }
        if isAvailable(.i8mm, features: features) { return .i8mm }
        if isAvailable(.dotProduct, features: features) { return .dotProduct }
        return .baseline
    }

    /// Every kernel of the level, for the interpreter.
    public var kernels: LevelKernels {
        LevelKernels(
            gemm: gemm, depthwise: depthwise, lookup: lookup, add: add, multiply: multiply, globalAverage: globalAverage
        )
    }

    /// Whether this x86_64 level runs AVX2's elementwise loops (every level above SSE2).
    private var hasAVX2: Bool { self == .avx2 || self == .avxVNNI || self == .avx512VNNI }

    /// AVX2's residual add for every x86_64 level above SSE2, or nil for the portable loop.
    public var add: Add.Kernel? {
        #if arch(x86_64) && !CNNQ_PROFILE_SMALL
            if hasAVX2 {
                return Add.Kernel { a, b, count, parameters, output in cnnq_add_avx2(a, b, count, parameters, output) }
            }
        #endif
        return nil
    }

    /// AVX2's global average pool for every x86_64 level above SSE2, or nil for the portable loop.
    public var globalAverage: Pooling.GlobalAverageKernel? {
        #if arch(x86_64) && !CNNQ_PROFILE_SMALL
            if hasAVX2 {
                return Pooling.GlobalAverageKernel { input, pixels, channels, parameters, output in
                    cnnq_global_average_avx2(input, pixels, channels, parameters, output)
                }
            }
        #endif
        return nil
    }

    /// AVX2's elementwise product (squeeze-excite gates) for every x86_64 level above SSE2, or nil.
    public var multiply: Multiply.Kernel? {
        #if arch(x86_64) && !CNNQ_PROFILE_SMALL
            if hasAVX2 {
                return Multiply.Kernel { x, gate, first, count, channels, parameters, output in
                    cnnq_multiply_avx2(x, gate, first, count, channels, parameters, output)
                }
            }
        #endif
        return nil
    }

    /// The level's own table lookup (`vpermi2b` at AVX-512 VNNI, AVX2's `vpshufb` at AVX2 and
    /// AVX-VNNI), or nil for the portable loop.
    public var lookup: LookupTable.Kernel? {
        switch self {
        #if arch(x86_64) && !CNNQ_PROFILE_SMALL
            case .avx512VNNI:
                return LookupTable.Kernel(name: "64 avx512-vbmi") { table, input, output, count in
                    cnnq_lookup_avx512vnni(table, input, output, count)
                }
            case .avx2, .avxVNNI:
                return LookupTable.Kernel(name: "32 avx2") { table, input, output, count in
                    cnnq_lookup_avx2(table, input, output, count)
                }
        #endif
        default: return nil
        }
    }

    /// The level's own depthwise row body for 3×3 and 5×5, or nil for the portable ones (AVX-VNNI
    /// has no depthwise of its own: it runs AVX2's).
    public var depthwise: Depthwise.RowKernel? {
        switch self {
        #if arch(x86_64) && !CNNQ_PROFILE_SMALL
            case .avx2, .avxVNNI:
                return Depthwise.RowKernel(name: "3x3/5x5 avx2") { rows, row in
                    cnnq_depthwise_avx2(rows, row)
                }
            case .avx512VNNI:
                return Depthwise.RowKernel(name: "3x3/5x5 avx512-vnni") { rows, row in
                    cnnq_depthwise_avx512vnni(rows, row)
                }
        #endif
        default: return nil
        }
    }

    /// The level's GEMM kernel (its module's C entry, with the tile height it is written for and
    /// whether its rows are x + 128): on Arm the baseline too is NEON code of its own
    /// (`Int8GEMM2x16NEON`); the portable kernel for x86_64's baseline (SSE2) and for a level this
    /// build does not have.
    public var gemm: GEMM.Kernel {
        // Each closure names its C entry and captures nothing: a captured function value would need a
        // context allocated on every invoke, which a device must not do (targets/tests/no_alloc.c).
        switch self {
        #if arch(x86_64) && !CNNQ_PROFILE_SMALL
            case .avx2:
                return GEMM.Kernel(name: "4x8 avx2", pixelTile: 4, unsignedRows: false) { tile in
                    cnnq_gemm_4x8_avx2(tile)
                }
            case .avxVNNI:
                return GEMM.Kernel(name: "4x16 avx-vnni", pixelTile: 4, unsignedRows: true) { tile in
                    cnnq_gemm_4x16_avxvnni(tile)
                }
            case .avx512VNNI:
                return GEMM.Kernel(name: "8x16 avx512-vnni", pixelTile: 8, unsignedRows: true) { tile in
                    cnnq_gemm_8x16_avx512vnni(tile)
                }
        #elseif arch(arm64) && !CNNQ_PROFILE_SMALL
            case .dotProduct:
                return GEMM.Kernel(name: "4x16 dotprod", pixelTile: 4, unsignedRows: false) { tile in
                    cnnq_gemm_4x16_dotprod(tile)
                }
            case .i8mm:
                return GEMM.Kernel(name: "4x16 i8mm", pixelTile: 4, unsignedRows: false) { tile in
                    cnnq_gemm_4x16_i8mm(tile)
                }
        #endif
        default:
            #if arch(arm64) || arch(arm)
                return GEMM.Kernel(name: "2x16 neon", pixelTile: 2, unsignedRows: false) { tile in
                    cnnq_gemm_2x16_neon(tile)
                }
            #else
                return .baseline
            #endif
        }
    }
}
