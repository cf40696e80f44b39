import ArgumentParser
import CNNQClock
import CNNQKernels
import CNNQRuntime
import CNNQuant
import Foundation

struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Time the int8 convolution kernels on a model's layer shapes (MobileNet V2 1.0/224 by default).",
        discussion: """
            Each convolution of the model runs with random int8 data through the kernel the runtime would \
            pick (packed pointwise GEMM, specialised depthwise, im2col + GEMM for other convolutions, grouped \
            ones included), with the GEMM kernel of the CPU's best instruction-set level or of CNNQ_ISA \
            (sse2, avx2, avx-vnni, avx512-vnni; neon, dotprod, i8mm). Prints the median time per layer, \
            GMAC/s, and the share of the level's floor in int8 MACs per cycle (sse2: 16, two pmaddwd; avx2: \
            32, two vpmaddwd; avx-vnni: 64, two vpdpbusd; \
            avx512-vnni: 64 per 512-bit vpdpbusd the core retires per cycle, measured: one on Zen 4, two on Zen 5) \
            at the core's clock, measured before the layers run by a chain of dependent adds (one per cycle), \
            or --clock-ghz. Build with -c release for meaningful numbers.
            """
    )

    @Option(help: "A float ONNX model whose convolutions to time; default: the zoo's MobileNet V2 1.0/224.")
    var model: String?

    @Option(help: "Threads for the kernels.")
    var threads: Int = 1

    @Option(help: "Timed runs per layer (the median is reported).")
    var runs: Int = 20

    @Option(help: "Untimed runs per layer before timing.")
    var warmup: Int = 3

    @Flag(
        help: """
            Time each inverted-residual block fused against the same work as separate kernels, the two \
            alternately (a squeeze-excite block up to its depthwise: "SE" in the out C column).
            """)
    var blocks = false

    @Option(help: "Core clock in GHz for the floor; default: measured.")
    var clockGhz: Double?

    func run() throws {
        try reportingErrors { () throws(CNNQError) in
            guard threads >= 1, runs >= 1, warmup >= 0, (clockGhz ?? 1) > 0 else {
                throw .invalidArgument(
                    "--threads and --runs must be at least 1, --warmup at least 0, --clock-ghz positive")
            }
            var graph = if let model { try ONNXImporter.load(path: model) } else { try MobileNet.v2.build() }
            try graph.prepare()
            setThreadCount(threads)
            let isa = try InstructionSet.selected()
            if blocks {
                benchmarkBlocks(graph, isa: isa)
                return
            }
            let clock = clockGhz ?? cnnq_clock_ghz()
            guard clock > 0 else {
                throw .invalidArgument("the core clock cannot be measured on this architecture; give --clock-ghz")
            }
            let macsPerCycle = Self.floorMACsPerCycle(isa, clock: clock)
            let floor = Double(macsPerCycle) * clock * Double(threads)
            var table = TextTable(
                header: ["layer", "kernel", "in (H×W×C)", "out C", "k/s", "MMACs", "µs", "GMAC/s", "% floor"],
                rightAligned: [3, 5, 6, 7, 8])
            var totals: [KernelBenchmark.Kernel: (macs: Int, seconds: Double)] = [:]
            let layers = KernelBenchmark.shapes(of: graph)
            for (index, layer) in layers.enumerated() {
                if isatty(STDERR_FILENO) != 0 {
                    FileHandle.standardError.write(Data("\r[\(index + 1)/\(layers.count)] \(layer.name)\u{1B}[K".utf8))
                }
                let r = KernelBenchmark.run(layer, runs: runs, warmup: warmup, isa: isa)
                let s = r.shape
                table.add([
                    r.layer, r.kernel.rawValue, "\(s.inputHeight)×\(s.inputWidth)×\(s.inputChannels)",
                    "\(s.outputChannels)",
                    "\(s.kernelHeight)/\(s.strideHeight)", String(format: "%.2f", Double(s.macs) / 1e6),
                    String(format: "%.0f", r.seconds * 1e6), String(format: "%.1f", r.gmacs),
                    String(format: "%.0f", 100 * r.gmacs / floor),
                ])
                totals[r.kernel, default: (0, 0)].macs += s.macs
                totals[r.kernel, default: (0, 0)].seconds += r.seconds
            }
            if isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            print(table.render())
            let source = clockGhz == nil ? " (measured)" : ""
            print(
                "\nlevel \(isa.description), GEMM kernel \(isa.gemm.name); floor: \(macsPerCycle) MAC/cycle\(isa == .avx512VNNI ? " (measured)" : "") × \(String(format: "%.2f", clock)) GHz\(source) × \(threads) thread(s) = \(String(format: "%.1f", floor)) GMAC/s"
            )
            for kernel in KernelBenchmark.Kernel.allCases {
                guard let total = totals[kernel] else { continue }
                let gmacs = Double(total.macs) / total.seconds / 1e9
                print(
                    "\(kernel.rawValue): \(String(format: "%.1f", Double(total.macs) / 1e6)) MMACs in \(String(format: "%.2f", total.seconds * 1e3)) ms = \(String(format: "%.1f", gmacs)) GMAC/s (\(String(format: "%.0f", 100 * gmacs / floor))% of floor)"
                )
            }
        }
        warnIfDebugBuild()  // after the figures, and not before an error line
    }

    /// The level's nominal int8 MACs per cycle (`peakMACsPerCycle`), except AVX-512 VNNI's, measured:
    /// a core retires one 512-bit `vpdpbusd` per cycle (Zen 4, which runs them in two passes) or two
    /// (Zen 5, Intel), and the machine kind changes under this project.
    static func floorMACsPerCycle(_ isa: InstructionSet, clock: Double) -> Int {
        guard isa == .avx512VNNI else { return isa.peakMACsPerCycle }
        let perCycle = cnnq_zmm_dpbusd_per_second() / (clock * 1e9)
        return 64 * max(1, Int(perCycle.rounded()))
    }

    func benchmarkBlocks(_ graph: Graph, isa: InstructionSet) {
        var table = TextTable(
            header: [
                "block", "in (H×W×C)", "expanded", "out C", "k/s", "MMACs", "unfused µs", "fused µs", "speed-up",
                "unfused KiB", "fused KiB",
            ],
            rightAligned: [2, 3, 5, 6, 7, 8, 9, 10])
        var totals = (unfused: 0.0, fused: 0.0)
        for block in BlockBenchmark.blocks(of: graph) {
            let r = BlockBenchmark.run(block, runs: runs, warmup: warmup, isa: isa)
            let dw = block.depthwise
            table.add([
                block.name + (block.residual ? " (+)" : ""),
                "\(dw.inputHeight)×\(dw.inputWidth)×\(block.expand?.inputChannels ?? dw.inputChannels)",
                "\(dw.inputChannels)", block.project.map { "\($0.outputChannels)" } ?? "SE",
                "\(dw.kernelHeight)/\(dw.strideHeight)",
                String(format: "%.2f", Double(block.macs) / 1e6), String(format: "%.0f", r.unfused * 1e6),
                String(format: "%.0f", r.fused * 1e6), String(format: "%.2f×", r.unfused / r.fused),
                "\(r.unfusedBytes / 1024)", "\(r.fusedBytes / 1024)",
            ])
            totals.unfused += r.unfused
            totals.fused += r.fused
        }
        print(table.render())
        print(
            "\nlevel \(isa.description); all blocks: unfused \(String(format: "%.2f", totals.unfused * 1e3)) ms, fused \(String(format: "%.2f", totals.fused * 1e3)) ms (\(String(format: "%.2f", totals.unfused / totals.fused))×), \(threads) thread(s)"
        )
    }
}
