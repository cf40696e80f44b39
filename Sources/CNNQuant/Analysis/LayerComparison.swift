import Foundation

/// Signal-to-quantization-noise ratio of int8 tensors against the float model's, accumulated over
/// inputs: 10·log10(Σ f² / Σ (f − q)²) in dB. Each int8 op's output is compared with the float value
/// of the same name in two ways: end to end (`sqnr`: both models run whole, so the figure includes the
/// error inherited from earlier layers), and alone (`ownSQNR`: the op runs on its float inputs
/// quantized, so the figure is the error the layer itself adds — the one that names the culprit;
/// measured on the first 64 inputs).
public struct LayerComparison {
    public struct Layer: Sendable {
        public var op: Int
        public var name: String
        public var kind: String
        public var tensor: String
        var signal = 0.0, noise = 0.0, ownSignal = 0.0, ownNoise = 0.0
        public var sqnr: Double { noise == 0 ? .infinity : 10 * log10(signal / noise) }
        public var ownSQNR: Double { ownNoise == 0 ? .infinity : 10 * log10(ownSignal / ownNoise) }
    }

    public private(set) var layers: [Layer]
    public private(set) var samples = 0
    static let ownSamples = 64
    /// Samples whose first output has its largest value at the same index in both models (top-1
    /// agreement, for classifiers).
    public private(set) var topOneMatches = 0
    /// For a class map (a first output of H×W > 1 pixels and several channels, as a segmenter
    /// gives, or of L > 1 rows [N, L, C], as a detector's anchors): pixels (rows) whose largest
    /// channel is the same in both models, and pixels (rows) compared. Top-1 agreement means nothing there.
    public private(set) var pixelMatches = 0, pixels = 0
    /// The first output is a map (H×W > 1) or rows (L > 1), where top-1 agreement means nothing.
    public private(set) var mapOutput = false
    /// What `pixels` counts: "pixels" of a map, "rows" of an [N, L, C] output.
    public private(set) var agreementUnit = "pixels"
    /// `pixelMatches` as a percentage of `pixels`; nil unless the output is a class map.
    public var pixelAgreement: Double? { pixels > 0 ? 100 * Double(pixelMatches) / Double(pixels) : nil }
    /// The five highest-scoring classes of the first output, per sample, in each model.
    public private(set) var rankings: [(float: [Int], int8: [Int])] = []
    /// Values of the first output per sample (a classifier's classes), once a sample was added.
    public private(set) var classCount = 0
    /// The first output's Σ f² and Σ (f − q)² on each sample, in order: a pooled SQNR can be one
    /// image's (an input past every calibration range), which the per-layer figures do not tell.
    public private(set) var outputErrors: [(signal: Double, noise: Double)] = []

    /// SQNR of the model's first output.
    public var outputSQNR: Double { outputSQNRs.first?.sqnr ?? .nan }
    /// SQNR of each output, by name (an SSD head has two: box offsets and class logits).
    public var outputSQNRs: [(name: String, sqnr: Double)] {
        outputTensors.map { name in (name, layers.last { $0.tensor == name }?.sqnr ?? .nan) }
    }
    let outputTensors: [String]

    /// Index in `layers` of each op compared.
    let position: [Int: Int]

    /// Every op the interpreter runs in turn: a fused block is one layer (its inner tensors never
    /// exist; the quantizer's report compares the unfused model, `QuantizationPipeline.Result.layers`).
    public init(model: Int8Model) {
        outputTensors = (0..<model.view.outputCount).map { model.name(ofTensor: model.view.output($0)) }
        let ops = model.topLevelOps
        layers = ops.map { o in
            let op = model.view.op(o)
            return Layer(op: o, name: model.name(ofOp: o), kind: "\(op.kind)", tensor: model.name(ofTensor: op.output))
        }
        position = Dictionary(uniqueKeysWithValues: zip(ops, ops.indices))
    }

    /// Runs both models on one input and adds every layer's error.
    public mutating func add(_ feeds: [String: Tensor], float executor: FloatExecutor, int8 model: Int8Model)
        throws(CNNQError)
    {
        let wanted = Set(layers.map(\.tensor)).union(
            (0..<model.view.inputCount).map { model.name(ofTensor: model.view.input($0)) })
        var reference: [String: [Float]] = [:]
        _ = try executor.run(feeds) { name, values in if wanted.contains(name) { reference[name] = values } }
        try model.setInputs(feeds)
        var layers = self.layers
        let position = self.position
        try model.invoke { o in
            guard let k = position[o], let f = reference[layers[k].tensor] else { return }
            let q = model.dequantized(model.view.op(o).output)
            for (a, b) in zip(f, q) {
                layers[k].signal += Double(a) * Double(a)
                layers[k].noise += Double(a - b) * Double(a - b)
            }
        }
        let output = model.view.output(0)
        if let k = layers.lastIndex(where: { $0.tensor == outputTensors[0] }) {
            outputErrors.append((layers[k].signal - self.layers[k].signal, layers[k].noise - self.layers[k].noise))
        }
        if let f = reference[model.name(ofTensor: output)] {
            let q = Array(model.values(output))
            classCount = f.count
            // Ties go to the lower class in both, so an int8 tie is not counted as a disagreement by chance.
            let float = Array(f.indices.sorted { f[$0] > f[$1] || (f[$0] == f[$1] && $0 < $1) }.prefix(5))
            let int8 = Array(q.indices.sorted { q[$0] > q[$1] || (q[$0] == q[$1] && $0 < $1) }.prefix(5))
            if float.first == int8.first { topOneMatches += 1 }
            rankings.append((float, int8))
            let info = model.view.tensor(output)
            mapOutput = (info.rank == 4 || info.rank == 3) && info.height * info.width > 1
            agreementUnit = info.rank == 3 ? "rows" : "pixels"
            if mapOutput, info.channels > 1 {
                let c = info.channels
                for start in stride(from: 0, to: f.count, by: c) {
                    let range = start..<(start + c)
                    // The first largest, in both.
                    let a = range.max { f[$0] < f[$1] || (f[$0] == f[$1] && $0 > $1) }
                    let b = range.max { q[$0] < q[$1] || (q[$0] == q[$1] && $0 > $1) }
                    if a == b { pixelMatches += 1 }
                }
                pixels += f.count / c
            }
        }
        // Each op alone, its inputs quantized from the float model's values: on the first
        // `ownSamples` inputs only, where the per-layer figures have settled (it doubles the cost).
        for k in layers.indices where samples < Self.ownSamples {
            let o = layers[k].op
            let op = model.view.op(o)
            guard let f = reference[layers[k].tensor] else { continue }
            for i in 0..<op.inputCount {
                let t = model.view.input(of: op, i)
                guard let x = reference[model.name(ofTensor: t)] else { continue }
                model.setTensor(t, nhwc: x)
            }
            try model.invoke(op: o)
            for (a, b) in zip(f, model.dequantized(op.output)) {
                layers[k].ownSignal += Double(a) * Double(a)
                layers[k].ownNoise += Double(a - b) * Double(a - b)
            }
        }
        self.layers = layers
        samples += 1
    }

    /// Every layer's figures in op order, as reports and evaluations keep them.
    public var summaries: [LayerSQNR] {
        layers.map {
            LayerSQNR(
                index: $0.op, name: $0.name, kind: $0.kind, tensor: $0.tensor, sqnrDB: $0.sqnr.isFinite ? $0.sqnr : nil,
                ownSQNRDB: $0.ownSQNR.isFinite ? $0.ownSQNR : nil)
        }
    }

    /// Layers from the lowest SQNR up.
    public var worstFirst: [Layer] { layers.sorted { $0.sqnr < $1.sqnr } }
}

/// One layer's SQNR as reports, evaluations and baselines keep it (JSON).
public struct LayerSQNR: Codable, Sendable {
    public var index: Int
    public var name: String
    public var kind: String
    public var tensor: String
    /// End to end; nil when the layer's output matched the float model exactly.
    public var sqnrDB: Double?
    /// The layer alone on its float inputs: the error it adds itself.
    public var ownSQNRDB: Double?

    /// `#52 name (pointwise) 11.4/3.7 dB`: own, then end-to-end SQNR.
    public var description: String { "#\(index) \(name) (\(kind)) \(decibels(ownSQNRDB))/\(decibels(sqnrDB)) dB" }
}

/// One decimal, or `exact` for a layer without error.
func decibels(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "exact" }
