import Foundation

/// Latency across the MobileNet family: each architecture × width multiplier × resolution built by the
/// zoo, quantized (on seeded random inputs: the calibration does not change the kernels' speed), and
/// timed through the runtime at each thread count.
public struct Sweep: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var architecture: String
        public var alpha: Double
        public var resolution: Int
        public var parameters: Int
        public var macs: Int
        public var modelBytes: Int
        /// Arena with 1 thread: fused blocks (as written), and with every layer its own op.
        public var arenaBytes: Int, unfusedArenaBytes: Int
        /// Per thread count (in the order of `threads`): the benchmark's latencies in seconds.
        public var minSeconds: [Double], medianSeconds: [Double], p90Seconds: [Double]
        /// GMAC/s at the median of thread count `i`.
        public func gmacs(_ i: Int) -> Double { Double(macs) / medianSeconds[i] / 1e9 }
    }

    public var threads: [Int]
    public var runs: Int
    public var rows: [Row] = []

    public init(threads: [Int], runs: Int) {
        self.threads = threads
        self.runs = runs
    }

    /// The width multipliers of the issue: V1 comes in 0.25 rather than 0.35.
    public static func alphas(_ architecture: MobileNet) -> [Double] {
        architecture == .v1 ? [0.25, 0.5, 0.75, 1.0] : [0.35, 0.5, 0.75, 1.0]
    }

    public static func measure(
        _ architecture: MobileNet, alpha: Double, resolution: Int, threads: [Int], runs: Int,
        warmup: Int
    ) throws(CNNQError) -> Row {
        let graph = try architecture.build(alpha: alpha, resolution: resolution)
        var random = SeededRandom(seed: 17)
        let inputs = (0..<2).map { _ in
            Tensor(
                shape: [1, 3, resolution, resolution],
                floats: (0..<(3 * resolution * resolution)).map { _ in Float(random.next() % 2001) / 1000 - 1 })
        }
        var options = QuantizationPipeline.Options()
        options.method = .minmax
        options.heldOut = 0
        options.compareLayers = false
        let result = try QuantizationPipeline.run(graph, samples: TensorSamples(inputs), options: options)
        var row = Row(
            architecture: architecture.rawValue, alpha: alpha, resolution: resolution, parameters: result.model.weights,
            macs: result.model.macs, modelBytes: result.bytes.count, arenaBytes: result.int8.view.arenaSize(threads: 1),
            unfusedArenaBytes: result.layers.view.arenaSize(threads: 1),
            minSeconds: [], medianSeconds: [], p90Seconds: [])
        for n in threads {
            let b = try ModelBenchmark.run(result.int8, threads: n, runs: runs, warmup: warmup)
            row.minSeconds.append(b.minSeconds)
            row.medianSeconds.append(b.medianSeconds)
            row.p90Seconds.append(b.p90Seconds)
        }
        return row
    }

    public func csv() -> String {
        var header = [
            "architecture", "alpha", "resolution", "parameters", "macs", "model_bytes", "arena_bytes",
            "arena_bytes_unfused",
        ]
        for n in threads { header += ["min_ms_\(n)t", "median_ms_\(n)t", "p90_ms_\(n)t", "gmacs_\(n)t"] }
        var lines = [header.joined(separator: ",")]
        for r in rows {
            var fields = [
                r.architecture, "\(r.alpha)", "\(r.resolution)", "\(r.parameters)", "\(r.macs)", "\(r.modelBytes)",
                "\(r.arenaBytes)", "\(r.unfusedArenaBytes)",
            ]
            for i in threads.indices {
                fields += [r.minSeconds[i], r.medianSeconds[i], r.p90Seconds[i]].map {
                    String(format: "%.4f", $0 * 1e3)
                }
                fields.append(String(format: "%.2f", r.gmacs(i)))
            }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Latency cells read "median (min)": on a shared machine the minimum shows what the code can
    /// do, the median what a user saw.
    public func markdown() -> String {
        var header = ["model", "α", "ρ", "params", "MMACs", "file KiB", "arena KiB: fused (unfused)"]
        for n in threads { header += ["ms \(n)t, median (min)", "GMAC/s \(n)t"] }
        if threads.count > 1 { header.append("\(threads.last!)t speed-up, median (min)") }
        var lines = [
            "| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count),
        ]
        for r in rows {
            var fields = [
                r.architecture, "\(r.alpha)", "\(r.resolution)", String(format: "%.2f M", Double(r.parameters) / 1e6),
                String(format: "%.0f", Double(r.macs) / 1e6), "\(r.modelBytes / 1024)",
                "\(r.arenaBytes / 1024) (\(r.unfusedArenaBytes / 1024))",
            ]
            for i in threads.indices {
                fields += [
                    String(format: "%.2f (%.2f)", r.medianSeconds[i] * 1e3, r.minSeconds[i] * 1e3),
                    String(format: "%.1f", r.gmacs(i)),
                ]
            }
            if threads.count > 1 {
                let last = threads.count - 1
                fields.append(
                    String(
                        format: "%.2f× (%.2f×)", r.medianSeconds[0] / r.medianSeconds[last],
                        r.minSeconds[0] / r.minSeconds[last]))
            }
            lines.append("| " + fields.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Median latency against MACs on log–log axes, one colour per architecture, for the first
    /// thread count.
    public func svg() -> String {
        let (left, top, width, height) = (70.0, 40.0, 560.0, 360.0)
        let points = rows.map { (Double($0.macs), $0.medianSeconds[0] * 1e3, $0) }
        guard let minX = points.map(\.0).min(), let maxX = points.map(\.0).max(), let minY = points.map(\.1).min(),
            let maxY = points.map(\.1).max()
        else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"
        }
        let (lx0, lx1) = (floor(log10(minX)), ceil(log10(maxX))), (ly0, ly1) = (floor(log10(minY)), ceil(log10(maxY)))
        func x(_ v: Double) -> Double { left + width * (log10(v) - lx0) / max(lx1 - lx0, 1) }
        func y(_ v: Double) -> Double { top + height * (1 - (log10(v) - ly0) / max(ly1 - ly0, 1)) }
        let colours = [
            "mobilenet-v1": "#1f77b4", "mobilenet-v2": "#ff7f0e", "mobilenet-v3-small": "#2ca02c",
            "mobilenet-v3-large": "#d62728",
        ]
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(left + width + 200))" height="\(Int(top + height + 60))" font-family="sans-serif" font-size="11">
            <text x="\(left)" y="20" font-size="14">cnnq int8 latency vs MACs (median, \(threads[0]) thread\(threads[0] == 1 ? "" : "s"), batch 1)</text>

            """
        for e in Int(lx0)...Int(lx1) {
            let v = pow(10, Double(e))
            svg += "<line x1=\"\(x(v))\" x2=\"\(x(v))\" y1=\"\(top)\" y2=\"\(top + height)\" stroke=\"#ddd\"/>"
            svg +=
                "<text x=\"\(x(v))\" y=\"\(top + height + 16)\" text-anchor=\"middle\">\(String(format: "%g", v / 1e6)) M</text>\n"
        }
        for e in Int(ly0)...Int(ly1) {
            let v = pow(10, Double(e))
            svg += "<line x1=\"\(left)\" x2=\"\(left + width)\" y1=\"\(y(v))\" y2=\"\(y(v))\" stroke=\"#ddd\"/>"
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(y(v) + 4)\" text-anchor=\"end\">\(String(format: "%g", v)) ms</text>\n"
        }
        for (mx, ms, r) in points {
            svg += "<circle cx=\"\(x(mx))\" cy=\"\(y(ms))\" r=\"4\" fill=\"\(colours[r.architecture] ?? "#7f7f7f")\">"
            svg +=
                "<title>\(r.architecture) α \(r.alpha) ρ \(r.resolution): \(String(format: "%.0f", mx / 1e6)) MMACs, \(String(format: "%.2f", ms)) ms</title></circle>\n"
        }
        svg +=
            "<text x=\"\(left + width / 2)\" y=\"\(top + height + 40)\" text-anchor=\"middle\">multiply-accumulates per image</text>\n"
        for (i, arch) in colours.keys.sorted().enumerated() where rows.contains(where: { $0.architecture == arch }) {
            svg +=
                "<circle cx=\"\(left + width + 26)\" cy=\"\(top + 10 + Double(i) * 18)\" r=\"4\" fill=\"\(colours[arch]!)\"/>"
            svg += "<text x=\"\(left + width + 36)\" y=\"\(top + 14 + Double(i) * 18)\">\(arch)</text>\n"
        }
        return svg + "</svg>\n"
    }
}
