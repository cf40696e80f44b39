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

    /// `warmup` untimed runs, then `runs` timed ones on a fixed pseudo-random input (int8 kernels take
    /// the same time whatever the values).
    public static func run(_ model: Int8Model, threads: Int, runs: Int, warmup: Int) throws(CNNQError) -> ModelBenchmark
    {
        let saved = threadCount
        setThreadCount(threads)
        defer { setThreadCount(saved) }
        let view = model.view
        for i in 0..<view.inputCount {
            let t = view.input(i)
            var random = SeededRandom(seed: UInt64(i + 1))
            model.setTensor(t, nhwc: (0..<view.tensor(t).count).map { _ in Float(random.next() % 2001) / 1000 - 1 })
        }
        for _ in 0..<warmup { try model.invoke() }
        var totals: [Double] = [], perOp = [[Double]](repeating: [], count: view.opCount)
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            var last = start
            try model.invoke { o in
                let now = DispatchTime.now().uptimeNanoseconds
                perOp[o].append(Double(now - last) / 1e9)
                last = now
            }
            totals.append(Double(last - start) / 1e9)
        }
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        // Inner ops of fused blocks are never observed: they run inside their block.
        let opSeconds = perOp.map { $0.isEmpty ? 0 : median($0) }
        let sum = max(opSeconds.reduce(0, +), .leastNonzeroMagnitude)
        let layers = model.topLevelOps.map { o in
            Layer(
                index: o, name: model.name(ofOp: o), kind: "\(view.op(o).kind)", macs: model.macs(op: o),
                seconds: opSeconds[o], share: opSeconds[o] / sum)
        }
        let sorted = totals.sorted()
        return ModelBenchmark(
            threads: threads, isa: model.isa.description, runs: runs, minSeconds: sorted[0],
            medianSeconds: median(totals),
            p90Seconds: sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.9).rounded(.up)) - 1)],
            macs: layers.reduce(0) { $0 + $1.macs }, arenaBytes: view.arenaSize(threads: threads),
            modelBytes: view.fileSize,
            layers: layers.sorted { $0.seconds > $1.seconds })
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
