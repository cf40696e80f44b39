import ArgumentParser
import CNNQuant
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a .cnnq model through the runtime: latency, GMAC/s, memory, and every layer's time.",
        discussion: """
            The model runs through the same interpreter and kernels as on a device, batch 1, on a fixed \
            input, --warmup times untimed and then --runs times timed. Prints the latency (min, median, \
            90th percentile), effective GMAC/s (convolution MACs over the median), the arena and model \
            bytes, and each layer's median time, slowest first, with its share of the run and its GMAC/s. \
            The kernels are the CPU's best instruction-set level, or the one CNNQ_ISA names (sse2, avx2, \
            avx-vnni, avx512-vnni; neon, dotprod, i8mm). Build with -c release for meaningful numbers.

            Several models, or several --threads counts, are timed interleaved: each round runs every \
            configuration in turn, once untimed and once timed, so that a shared machine's drift falls \
            on all of them alike. \
            The table then gives each configuration's latency and its time over the first \
            configuration's in the same round (median, 10th–90th percentile over the rounds), the \
            figure to compare: `bench fused.cnnq unfused.cnnq --threads 1 2`. --json prints an \
            array, one entry per configuration with its layers.
            """
    )

    @Argument(help: "The int8 models (.cnnq).")
    var models: [String]

    @Option(parsing: .upToNextOption, help: "Thread counts for the kernels (each model at each).")
    var threads: [Int] = [1]

    @Option(help: "Timed runs (the median is reported).")
    var runs: Int = 50

    @Option(help: "Untimed runs before timing.")
    var warmup: Int = 5

    @Option(help: "Layers shown (all with 0).")
    var layers: Int = 15

    @Flag(help: "Print the result as JSON instead of tables.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(CNNQError) in
            guard !models.isEmpty, !threads.isEmpty, threads.allSatisfy({ $0 >= 1 }), runs >= 1, warmup >= 0,
                layers >= 0
            else {
                throw .invalidArgument(
                    "give at least one model; --threads and --runs must be at least 1, --warmup and --layers at least 0"
                )
            }
            let loaded = try models.map { path throws(CNNQError) in try Int8Model(path: path) }
            let configurations = loaded.indices.flatMap { m in threads.map { (m, $0) } }
            let results = try ModelBenchmark.interleaved(
                configurations.map { (loaded[$0.0], $0.1) }, runs: runs, warmup: warmup)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let data = results.count == 1 ? try? encoder.encode(results[0]) : try? encoder.encode(results)
                print(String(decoding: data ?? Data(), as: UTF8.self))
                return
            }
            if results.count == 1 {
                print(Self.render(results[0], model: models[0], layers: layers))
            } else {
                print(Self.render(results, models: configurations.map { models[$0.0] }))
            }
        }
        warnIfDebugBuild()  // after the figures, and not before an error line
    }

    /// The interleaved configurations' latencies and paired ratios.
    static func render(_ results: [ModelBenchmark], models: [String]) -> String {
        let ms = { (s: Double) in String(format: "%.3f", s * 1e3) }
        var table = TextTable(
            header: ["model", "threads", "kernels", "min ms", "median ms", "p90 ms", "arena bytes", "time / first's"],
            rightAligned: [1, 3, 4, 5, 6])
        for (r, model) in zip(results, models) {
            let ratio = r.againstFirst.map { String(format: "%.3f (%.3f–%.3f)", $0.median, $0.p10, $0.p90) } ?? "1"
            table.add([
                model, "\(r.threads)", r.isa, ms(r.minSeconds), ms(r.medianSeconds), ms(r.p90Seconds),
                grouped(r.arenaBytes), ratio,
            ])
        }
        return """
            \(results.count) configurations interleaved: \(results[0].runs) rounds, each an untimed and a timed run of every configuration in turn
            \(table.render())
            time / first's: each round's time over the first configuration's in that round, median (10th–90th percentile)
            """
    }

    static func render(_ r: ModelBenchmark, model: String, layers: Int) -> String {
        let ms = { (s: Double) in String(format: "%.3f", s * 1e3) }
        var table = TextTable(
            header: ["#", "layer", "op", "ms", "share", "MMACs", "GMAC/s"], rightAligned: [0, 3, 4, 5, 6])
        for layer in layers == 0 ? r.layers : Array(r.layers.prefix(layers)) {
            table.add([
                "\(layer.index)", layer.name, layer.kind, ms(layer.seconds),
                String(format: "%.1f%%", 100 * layer.share),
                layer.macs == 0 ? "" : String(format: "%.2f", Double(layer.macs) / 1e6),
                layer.gmacs.map { String(format: "%.1f", $0) } ?? "",
            ])
        }
        var byKind: [String: (seconds: Double, macs: Int)] = [:]
        for layer in r.layers {
            byKind[layer.kind, default: (0, 0)].seconds += layer.seconds;
            byKind[layer.kind, default: (0, 0)].macs += layer.macs
        }
        let kinds = byKind.sorted { $0.value.seconds > $1.value.seconds }.map { kind, v in
            "\(kind) \(String(format: "%.1f%%", 100 * v.seconds / max(r.layers.reduce(0) { $0 + $1.seconds }, 1e-12)))"
                + (v.macs == 0 ? "" : " (\(String(format: "%.1f", Double(v.macs) / v.seconds / 1e9)) GMAC/s)")
        }
        return """
            \(model): \(r.threads) thread(s), \(r.isa) kernels, \(r.runs) runs
            latency: min \(ms(r.minSeconds)) ms, median \(ms(r.medianSeconds)) ms, p90 \(ms(r.p90Seconds)) ms
            \(grouped(r.macs)) MACs: \(String(format: "%.1f", r.gmacs)) GMAC/s at the median
            memory: arena \(grouped(r.arenaBytes)) bytes, model \(grouped(r.modelBytes)) bytes
            time by op kind: \(kinds.joined(separator: ", "))

            \(layers == 0 || layers >= r.layers.count ? "every layer" : "the \(layers) slowest of \(r.layers.count) layers (--layers 0 lists all)"):
            \(table.render())
            """
    }
}
