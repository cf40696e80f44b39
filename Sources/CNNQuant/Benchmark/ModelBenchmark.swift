import CNNQKernels
import CNNQRuntime
import Foundation

/// Whole-model latency of a `.cnnq` model through the device's interpreter, and the time of each op
/// within it (read between the interpreter's per-op callbacks, so the layers add up to the run).
public struct ModelBenchmark: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var index: Int
        public var name: String
        public var kind: String
        public var macs: Int
        /// Median over the timed runs.
        public var seconds: Double
        /// Of the sum of all layers' medians.
        public var share: Double
        public var gmacs: Double? { macs == 0 || seconds == 0 ? nil : Double(macs) / seconds / 1e9 }
    }

    /// A configuration's time in a round over the first configuration's in the same round: the
    /// median and the 10th and 90th percentiles over the rounds.
    public struct PairedRatio: Codable, Sendable {
        public var median: Double, p10: Double, p90: Double
    }

    public var threads: Int
    /// The instruction-set level whose kernels ran.
    public var isa: String
    public var runs: Int
    public var minSeconds: Double, medianSeconds: Double, p90Seconds: Double
    public var macs: Int
    public var gmacs: Double { Double(macs) / medianSeconds / 1e9 }
    public var arenaBytes: Int
    public var modelBytes: Int
    /// Slowest first.
    public var layers: [Layer]
    /// Against the first configuration timed with it (`interleaved`); nil for the first.
    public var againstFirst: PairedRatio?

    /// `warmup` untimed runs, then `runs` timed ones on a fixed pseudo-random input (int8 kernels take
    /// the same time whatever the values).
    public static func run(_ model: Int8Model, threads: Int, runs: Int, warmup: Int) throws(CNNQError) -> ModelBenchmark
    {
        try interleaved([(model, threads)], runs: runs, warmup: warmup)[0]
    }

    /// Several configurations (a model and a thread count; the same model may come twice) timed in
    /// rounds, each round a run of every configuration in turn, so that the shared machine's drift
    /// (a quarter from one minute to the next) falls on all alike and the ratio of two configurations
    /// within a round holds where their separate medians do not. Results in the order given.
    public static func interleaved(
        _ configurations: [(model: Int8Model, threads: Int)], runs: Int, warmup: Int
    ) throws(CNNQError) -> [ModelBenchmark] {
        let saved = threadCount
        defer { setThreadCount(saved) }
        for (model, _) in configurations {
            let view = model.view
            for i in 0..<view.inputCount {
                let t = view.input(i)
                var random = SeededRandom(seed: UInt64(i + 1))
                model.setTensor(
                    t, nhwc: (0..<view.tensor(t).count).map { _ in Float(random.next() % 2001) / 1000 - 1 })
            }
        }
        for _ in 0..<warmup {
            for (model, threads) in configurations {
                setThreadCount(threads)
                try model.invoke()
            }
        }
        var totals = [[Double]](repeating: [], count: configurations.count)
        var perOp = configurations.map { [[Double]](repeating: [], count: $0.model.view.opCount) }
        for _ in 0..<runs {
            for (c, (model, threads)) in configurations.enumerated() {
                setThreadCount(threads)
                // Each timed run after an untimed one of its own, as a lone configuration's runs
                // follow each other: caches and threads as it leaves them, not as the one before did.
                if configurations.count > 1 { try model.invoke() }
                let start = DispatchTime.now().uptimeNanoseconds
                var last = start
                try model.invoke { o in
                    let now = DispatchTime.now().uptimeNanoseconds
                    perOp[c][o].append(Double(now - last) / 1e9)
                    last = now
                }
                totals[c].append(Double(last - start) / 1e9)
            }
        }
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        let percentile = { (sorted: [Double], p: Double) in
            sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
        }
        return configurations.enumerated().map { c, configuration in
            let (model, threads) = configuration
            let view = model.view
            // Inner ops of fused blocks are never observed: they run inside their block.
            let opSeconds = perOp[c].map { $0.isEmpty ? 0 : median($0) }
            let sum = max(opSeconds.reduce(0, +), .leastNonzeroMagnitude)
            let layers = model.topLevelOps.map { o in
                Layer(
                    index: o, name: model.name(ofOp: o), kind: "\(view.op(o).kind)", macs: model.macs(op: o),
                    seconds: opSeconds[o], share: opSeconds[o] / sum)
            }
            let sorted = totals[c].sorted()
            let ratios = zip(totals[c], totals[0]).map { $0 / $1 }.sorted()
            return ModelBenchmark(
                threads: threads, isa: model.isa.description, runs: runs, minSeconds: sorted[0],
                medianSeconds: median(totals[c]), p90Seconds: percentile(sorted, 0.9),
                macs: layers.reduce(0) { $0 + $1.macs }, arenaBytes: view.arenaSize(threads: threads),
                modelBytes: view.fileSize, layers: layers.sorted { $0.seconds > $1.seconds },
                againstFirst: c == 0
                    ? nil
                    : PairedRatio(median: median(ratios), p10: percentile(ratios, 0.1), p90: percentile(ratios, 0.9)))
        }
    }
}

extension Int8Model {
    /// The ops the interpreter runs in turn: a fused block's inner ops run inside it.
    public var topLevelOps: [Int] {
        Array(sequence(first: 0) { self.view.next(after: $0) }.prefix { $0 < self.view.opCount })
    }

    /// Multiply-accumulates of op `o`: convolutions of every kind, a fused block's inner ones; 0 for the rest.
    public func macs(op o: Int) -> Int {
        let op = view.op(o)
        switch op.kind {
        case .invertedResidual:
            return ((o + 1)..<view.next(after: o)).reduce(0) { $0 + macs(op: $1) }
        case .convolution, .pointwise, .depthwise, .groupedConvolution, .floatConvolution:
            // The model was validated at load; its geometry cannot fail here.
            return try! view.convolutionShape(op).macs
        default:
            return 0
        }
    }
}
