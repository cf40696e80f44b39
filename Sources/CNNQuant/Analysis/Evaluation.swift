import Foundation

/// Float model against int8 model on a folder of images: top-1/top-5 accuracy when labels are known,
/// top-1 agreement, output SQNR and the worst layers. The int8 model runs through the device's
/// interpreter and kernels. Its JSON (`eval --json`) is also a baseline: a later evaluation names the
/// layers whose own SQNR fell below it (`layerRegressions`).
public struct Evaluation: Codable, Sendable {
    public var images: Int
    public var labelled: Int
    /// Percentages over the labelled images; nil without labels.
    public var floatTop1: Double?, floatTop5: Double?, int8Top1: Double?, int8Top5: Double?
    /// Percentage points lost by int8 in top-1 accuracy.
    public var top1Drop: Double?
    /// Percentage of images where both models pick the same top-1 class; for a class map
    /// (`perPixel`), of pixels where they pick the same class.
    public var agreement: Double
    public var perPixel: Bool?
    /// With `perPixel`: "pixels" of a map or "rows" of an [N, L, C] output.
    public var agreementUnit: String?
    public var outputSQNRDB: Double?
    /// Every layer, in op order.
    public var layers: [LayerSQNR]
    /// The images carrying the most of the first output's squared error, the most first (nil in
    /// evaluations saved before it was kept).
    public var worstImages: [ImageError]?

    /// One image's share of the output error.
    public struct ImageError: Codable, Sendable {
        public var name: String
        /// Percentage of the squared error summed over all images.
        public var share: Double
        /// The image's own output SQNR; nil when its output was exact.
        public var sqnrDB: Double?

        /// `t10k.idx[38] 69% (3.6 dB)`: the file name without its folder.
        public var description: String {
            "\((name as NSString).lastPathComponent) \(String(format: "%.0f%%", share)) (\(decibels(sqnrDB)) dB)"
        }
    }

    /// The `count` samples with the largest output error; `errors` are (Σ f², Σ (f − q)²) per sample.
    public static func worstImages(_ errors: [(signal: Double, noise: Double)], names: (Int) -> String, count: Int = 3)
        -> [ImageError]
    {
        let total = errors.reduce(0) { $0 + $1.noise }
        guard total > 0 else { return [] }
        return errors.indices.sorted { errors[$0].noise > errors[$1].noise }.prefix(count).map { i in
            let (signal, noise) = errors[i]
            return ImageError(
                name: names(i), share: 100 * noise / total, sqnrDB: noise == 0 ? nil : 10 * log10(signal / noise))
        }
    }

    /// The five layers that add the most error themselves (lowest own SQNR), worst first.
    public var worstLayers: [LayerSQNR] {
        Array(layers.sorted { ($0.ownSQNRDB ?? .infinity) < ($1.ownSQNRDB ?? .infinity) }.prefix(5))
    }

    /// `label(i)` gives sample i's class (already offset to the model's numbering), or nil; a label
    /// that is not one of the model's classes is an error naming the sample. A model with fused
    /// blocks runs unfused (`Int8Model.unfused`, the same outputs), so that every layer is compared
    /// and named.
    public static func run(
        float graph: Graph, int8 fused: Int8Model, images: some SampleSource, label: (Int) -> Int?,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws(CNNQError) -> Evaluation {
        let model = try fused.unfused()
        let executor = try FloatExecutor(graph: graph)
        var comparison = LayerComparison(model: model)
        var labels: [Int?] = []
        for i in 0..<images.count {
            try comparison.add([graph.inputs[0].name: images.sample(i)], float: executor, int8: model)
            let (l, classes) = (label(i), comparison.classCount)
            if let l, classes > 0, l < 0 || l >= classes {
                throw .invalidArgument(
                    "\(images.name(i)): label \(l) is not one of the model's \(classes) classes (0–\(classes - 1))")
            }
            labels.append(l)
            progress(i + 1, images.count)
        }
        let rankings = comparison.rankings
        guard rankings.count == images.count else {
            throw .invalidArgument("the int8 model's first output has no float counterpart to compare")
        }
        let known = zip(rankings, labels).compactMap { ranking, label in label.map { (ranking, $0) } }
        func percent(_ hits: Int, _ total: Int) -> Double { total == 0 ? 0 : 100 * Double(hits) / Double(total) }
        func accuracy(_ k: Int, _ pick: ((float: [Int], int8: [Int])) -> [Int]) -> Double? {
            known.isEmpty ? nil : percent(known.filter { pick($0.0).prefix(k).contains($0.1) }.count, known.count)
        }
        let (f1, i1) = (accuracy(1, \.float), accuracy(1, \.int8))
        return Evaluation(
            images: images.count, labelled: known.count, floatTop1: f1, floatTop5: accuracy(5, \.float), int8Top1: i1,
            int8Top5: accuracy(5, \.int8), top1Drop: f1.flatMap { f in i1.map { f - $0 } },
            agreement: comparison.pixelAgreement ?? percent(comparison.topOneMatches, images.count),
            perPixel: comparison.pixelAgreement != nil ? true : nil,
            agreementUnit: comparison.pixelAgreement != nil ? comparison.agreementUnit : nil,
            outputSQNRDB: comparison.outputSQNR.isFinite ? comparison.outputSQNR : nil, layers: comparison.summaries,
            worstImages: worstImages(comparison.outputErrors, names: images.name))
    }

    /// A layer whose own SQNR fell below a baseline's.
    public struct LayerRegression: Sendable {
        public var layer: LayerSQNR
        /// Own SQNR in the baseline; nil: the layer was exact there.
        public var baselineDB: Double?
        /// dB lost (infinity when the layer was exact).
        public var loss: Double { (baselineDB ?? .infinity) - (layer.ownSQNRDB ?? .infinity) }

        /// `#51 name (depthwise) own SQNR 36.3 → 26.4 dB`.
        public var description: String {
            "#\(layer.index) \(layer.name) (\(layer.kind)) own SQNR \(decibels(baselineDB)) → \(decibels(layer.ownSQNRDB)) dB"
        }
    }

    /// The layers (matched by name) whose own SQNR is more than `tolerance` dB below `baseline`'s,
    /// the largest loss first. Own SQNR is the error a layer adds by itself, so a recipe or model
    /// change that hurts a few layers names them even when accuracy barely moves.
    public func layerRegressions(since baseline: Evaluation, tolerance: Double) throws(CNNQError) -> [LayerRegression] {
        let before = Dictionary(
            baseline.layers.map { ($0.name, $0.ownSQNRDB) }, uniquingKeysWith: { first, _ in first })
        guard layers.contains(where: { before[$0.name] != nil }) else {
            throw .invalidArgument(
                "the baseline shares no layer name with this model (\(baseline.layers.count) layers there, \(layers.count) here)"
            )
        }
        return layers.compactMap { layer -> LayerRegression? in
            guard let old = before[layer.name] else { return nil }
            let regression = LayerRegression(layer: layer, baselineDB: old)
            return regression.loss > tolerance ? regression : nil
        }.sorted { $0.loss > $1.loss }
    }

    /// The class in a file name of three or more fields, NAME_…_LABEL, like `imagenet_07_281.jpg`
    /// (foolbox's samples) or `page_l03_p1_180deg_1.png` (calibration/make_text_strips.py): the
    /// digits after the last underscore. A name of two fields that merely ends in digits
    /// (`chicky_512.png`, `IMG_0042.jpg`) has no label.
    public static func labelFromFileName(_ path: String) -> Int? {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let parts = stem.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.allSatisfy({ !$0.isEmpty }), let last = parts.last,
            last.allSatisfy({ ("0"..."9").contains($0) })
        else { return nil }
        return Int(last)
    }

    /// A labels file: one `NAME LABEL` per line (NAME a file name or a path under the data folder).
    public static func labels(file: String) throws(CNNQError) -> [String: Int] {
        guard let text = String(data: try InputFile.read(file), encoding: .utf8) else {
            throw .unreadableFile(path: file, reason: "not UTF-8 text: a labels file has one NAME LABEL per line")
        }
        var labels: [String: Int] = [:]
        for (number, line) in text.split(separator: "\n").enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
            guard fields.count >= 2, let label = Int(fields[fields.count - 1]) else {
                throw .unreadableFile(path: file, reason: "line \(number + 1) is not 'NAME LABEL': \(line)")
            }
            labels[fields[0..<fields.count - 1].joined(separator: " ")] = label
        }
        return labels
    }
}
