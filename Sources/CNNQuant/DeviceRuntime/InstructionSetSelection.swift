import CNNQRuntime
import Foundation

extension InstructionSet {
    /// Levels this build and CPU run, lowest first.
    public static var available: [InstructionSet] { allCases.filter(\.isAvailable) }

    public var description: String { "\(name)" }

    /// Int8 multiply-adds per cycle of the level's GEMM instruction at two per cycle, the floor
    /// `bench-kernels` compares with (it measures the zmm rate instead: one per cycle on Zen 4):
    /// `pmaddwd` 2 × 8, `vpmaddwd` 2 × 16, `vpdpbusd` 2 × 32 (ymm) or 2 × 64 (zmm);
    /// Arm: `smull`+`sadalp` pairs 2 × 8, `sdot` 2 × 16 (Cortex-A76's two 128-bit pipes), `smmla` 2 × 32.
    public var peakMACsPerCycle: Int {
        switch self {
        case .baseline:
            16
        case .avx2: 32
        case .avxVNNI: 64
        case .avx512VNNI: 128
        case .dotProduct: 32
        case .i8mm: 64
        }
    }

    /// The level named by `CNNQ_ISA` in the environment (sse2, avx2, avx-vnni, avx512-vnni, neon, dotprod, i8mm),
    /// else the CPU's best. A name this build or CPU cannot run is an error, not a silent fallback.
    public static func selected(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CNNQError) -> InstructionSet {
        guard let requested = environment["CNNQ_ISA"], !requested.isEmpty else { return best }
        let names = available.map(\.description).joined(separator: ", ")
        guard let level = allCases.first(where: { $0.description == requested.lowercased() }), level.isAvailable else {
            throw .invalidArgument("CNNQ_ISA=\(requested) is not a level this build and CPU run (available: \(names))")
        }
        return level
    }
}
