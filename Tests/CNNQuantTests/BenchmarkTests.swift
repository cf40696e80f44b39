import CNNQuant
import Foundation
import Testing

/// What the benchmarks report, not how fast anything is: numbers that must hold together whatever
/// the machine (timings themselves belong in `cnn-quantize bench`, never in a test).
@Suite struct BenchmarkTests {
    @Test func layerTimesAddUpAndEveryOpIsListed() throws {
        let result = try ExclusionTests.quantize(excluding: [])
        let b = try ModelBenchmark.run(result.int8, threads: 1, runs: 5, warmup: 1)
        // Every op the interpreter runs in turn: a fused block is one layer, its inner ops run inside it.
        let ops = result.int8.topLevelOps
        #expect(ops.count < result.int8.view.opCount, "the model has fused blocks")
        #expect(Set(b.layers.map(\.index)) == Set(ops) && b.layers.count == ops.count)
        #expect(abs(b.layers.reduce(0) { $0 + $1.share } - 1) < 1e-9)
        #expect(zip(b.layers, b.layers.dropFirst()).allSatisfy { $0.seconds >= $1.seconds }, "slowest first")
        #expect(b.minSeconds <= b.medianSeconds && b.medianSeconds <= b.p90Seconds)
        #expect(b.macs == result.model.macs, "MACs read back from the file equal the quantizer's count")
        #expect(b.modelBytes == result.bytes.count && b.arenaBytes == result.int8.view.arenaSize(threads: 1))
    }

    /// `bench-kernels --blocks` finds every block of MobileNet V3-Large, through its h-swish layers,
    /// and the squeeze-excite ones as the quantizer fuses them: up to the depthwise.
    @Test func blockBenchmarkFindsEveryInvertedResidualBlock() throws {
        var graph = try MobileNet.v3Large.build(alpha: 0.35, resolution: 32, classes: 10, seed: 1)
        try graph.prepare()
        let blocks = BlockBenchmark.blocks(of: graph)
        #expect(blocks.map(\.name) == (1...15).map { "block\($0)" })
        #expect(blocks.filter { $0.project == nil }.map(\.name) == [4, 5, 6, 11, 12, 13, 14, 15].map { "block\($0)" })
        #expect(blocks.filter { $0.expand == nil }.map(\.name) == ["block1"])
        #expect(blocks.filter(\.residual).map(\.name) == [1, 3, 8, 9, 10].map { "block\($0)" })
    }

    @Test func benchCommandPrintsJSONAndTables() throws {
        let work = CommandLineTests.temporary("bench")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try Data(ExclusionTests.quantize(excluding: []).bytes).write(to: URL(fileURLWithPath: work + "/m.cnnq"))
        let json = try CommandLineTests.run(["bench", work + "/m.cnnq", "--runs", "3", "--warmup", "0", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let decoded = try JSONDecoder().decode(ModelBenchmark.self, from: Data(json.stdout.utf8))
        #expect(decoded.runs == 3 && decoded.threads == 1)
        let text = try CommandLineTests.run(["bench", work + "/m.cnnq", "--runs", "3", "--layers", "0"])
        #expect(text.status == 0)
        for expected in ["latency: min", "GMAC/s", "arena", "time by op kind: ", "every layer"] {
            #expect(text.stdout.contains(expected), "missing '\(expected)' in \(text.stdout)")
        }
        // Two models at two thread counts, interleaved: every configuration in the order given, each
        // timed against the first in the same rounds.
        let pair = try CommandLineTests.run([
            "bench", work + "/m.cnnq", work + "/m.cnnq", "--threads", "1", "2", "--runs", "3", "--warmup", "0",
            "--json",
        ])
        #expect(pair.status == 0, "\(pair.stderr)")
        let configurations = try JSONDecoder().decode([ModelBenchmark].self, from: Data(pair.stdout.utf8))
        #expect(configurations.map(\.threads) == [1, 2, 1, 2] && configurations.allSatisfy { $0.runs == 3 })
        #expect(configurations[0].againstFirst == nil)
        for c in configurations.dropFirst() {
            let r = try #require(c.againstFirst)
            #expect(r.median > 0 && r.p10 <= r.median && r.median <= r.p90)
        }
        let table = try CommandLineTests.run([
            "bench", work + "/m.cnnq", work + "/m.cnnq", "--runs", "3", "--warmup", "0",
        ])
        #expect(table.status == 0 && table.stdout.contains("2 configurations interleaved: 3 rounds"))
        #expect(table.stdout.contains("time / first's"))
        let noThreads = try CommandLineTests.run(["bench", work + "/m.cnnq", "--threads", "0"])
        #expect(noThreads.status != 0 && noThreads.stderr.contains("--threads"))
        let missing = try CommandLineTests.run(["bench", work + "/none.cnnq"])
        #expect(missing.status == 1 && missing.stderr.hasPrefix("error: ") && missing.stderr.contains("none.cnnq"))
    }

    /// Every convolution of RegNetY, grouped ones included, runs through the kernel the runtime uses.
    @Test func kernelBenchmarkTimesGroupedConvolutions() throws {
        let model = Fixtures.path("fashion-mnist/regnet_y_400mf_0.25_32.onnx")
        let layers = try KernelBenchmark.shapes(
            of: QuantizationPipeline.floatGraph(ONNXImporter.load(path: model)).graph)
        let grouped = try #require(layers.first { $0.shape.groups > 1 && !$0.shape.isDepthwise })
        #expect(KernelBenchmark.kernel(for: grouped.shape) == .standard)
        let result = KernelBenchmark.run(grouped, runs: 1, warmup: 0, isa: .best)
        #expect(result.seconds > 0 && result.kernel == .standard)
    }

    @Test func sweepWritesTableCSVAndPlot() throws {
        let work = CommandLineTests.temporary("sweep")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let result = try CommandLineTests.run([
            "bench-sweep", "--architectures", "mobilenet-v3-small", "--resolutions", "32", "48",
            "--threads", "1", "2", "--runs", "1", "--warmup", "0", "-o", work,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let csv = try String(contentsOfFile: work + "/sweep.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 4 * 2, "header + 4 widths × 2 resolutions")
        #expect(csv[0].hasPrefix("architecture,alpha,resolution") && csv[0].contains("median_ms_2t"))
        let markdown = try String(contentsOfFile: work + "/sweep.md", encoding: .utf8)
        #expect(markdown.contains("| mobilenet-v3-small | 0.35 | 32 |") && markdown.contains("2t speed-up"))
        let svg = try String(contentsOfFile: work + "/sweep.svg", encoding: .utf8)
        #expect(
            svg.hasPrefix("<svg") && svg.components(separatedBy: "<circle").count - 1 == 8 + 1,
            "8 points and one legend mark")
    }
}
