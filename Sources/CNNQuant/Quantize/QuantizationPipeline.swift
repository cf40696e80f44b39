import Foundation
import CNNQKernels
import CNNQRuntime

/// Inputs for calibration and evaluation, produced one at a time so that thousands of images never
/// sit in memory together.
public protocol SampleSource {
    var count: Int { get }
    /// Name of sample `i` for messages (a file name).
    func name(_ i: Int) -> String
    /// Sample `i` as a float tensor in the model's input layout (NCHW).
    func sample(_ i: Int) throws(CNNQError) -> Tensor
    /// The class of sample `i` when the source knows it.
    func label(_ i: Int) -> Int?
    /// Whether its samples are images made into tensors by a `Preprocessing` (not arrays given
    /// ready), so that the model file can record it.
    var fromImages: Bool { get }
}

extension SampleSource {
    public func label(_ i: Int) -> Int? { nil }
    public var fromImages: Bool { false }
}

/// A folder of images, or an IDX image file (with its labels when `labels` names an IDX label file).
/// `skipBad`: see `ImageFolder`.
public func openSamples(
    _ path: String, labels: String? = nil, preprocessing: Preprocessing, inputShape: [Int],
    limit: Int? = nil, skipBad: ((CNNQError) -> Void)? = nil
) throws(CNNQError) -> any SampleSource {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
        return try IDXImages(
            path: path, labels: labels, preprocessing: preprocessing, inputShape: inputShape, limit: limit)
    }
    return try ImageFolder(
        path: path, preprocessing: preprocessing, inputShape: inputShape, limit: limit, skipBad: skipBad)
}

/// A fixed list of tensors (tests, generated inputs).
public struct TensorSamples: SampleSource {
    public var tensors: [Tensor]
    public init(_ tensors: [Tensor]) { self.tensors = tensors }
    public var count: Int { tensors.count }
    public func name(_ i: Int) -> String { "tensor \(i)" }
    public func sample(_ i: Int) throws(CNNQError) -> Tensor { tensors[i] }
}

/// Float ONNX graph + calibration samples → `.cnnq` bytes and a report, in the order the CLI runs:
/// prepare the graph, [equalize], calibrate, quantize, plan the arena, write, then load the file
/// through the device's validator and compare every layer with the float model on held-out samples.
public struct QuantizationPipeline {
    public struct Options: Sendable {
        public var method: CalibrationMethod = .auto
        public var biasCorrection = false
        public var crossLayerEqualization = false
        /// See `Quantizer.Options.perTensorDepthwise`.
        public var perTensorDepthwise = false
        /// See `Quantizer.Options.exclude`.
        public var exclude: Set<String> = []
        /// Samples kept out of calibration for the per-layer SQNR.
        public var heldOut = 8
        /// Compare every layer with the float model after writing (the SQNR report). Off when the
        /// caller evaluates the model itself.
        public var compareLayers = true
        /// What was done to the calibration images, recorded in the file for `cnnq_prepare_image`.
        public var inputPipeline: ImagePipeline?
        /// Fuse inverted-residual blocks (`QuantizedModel.fusingInvertedResiduals`); off, every
        /// layer is its own op, as before format 3.1.
        public var fuseBlocks = true
        /// Bytes the float model may take for one input (`Graph.checkMemory`), checked before
        /// calibration allocates anything.
        public var maxMemory = Graph.defaultMemoryBudget
        public init() {}
    }

    public struct Result {
        public var bytes: [UInt8]
        public var model: QuantizedModel
        /// The written bytes as the device loads them (validated).
        public var int8: Int8Model
        /// The model with every layer its own op, which the per-layer comparison runs (the same as
        /// `int8` without fused blocks); its outputs were checked byte-identical to `int8`'s.
        public var layers: Int8Model
        public var plan: ArenaPlan
        public var comparison: LayerComparison
        public var calibrationSamples: Int
        /// The method the ranges came from: `Options.method`, or the one `auto` started from.
        public var method: CalibrationMethod
        /// Tensors whose range `auto`'s per-tensor search took from another method than `method`.
        public var rangesChanged: Int
        public var notes: [String]
        public var outputSQNR: Double { comparison.outputSQNR }
    }

    /// The float graph as the int8 model computes it: prepared, elementwise chains fused into
    /// functions, a final Softmax left out. Float and int8 results are compared on this graph.
    public static func floatGraph(_ imported: Graph) throws(CNNQError) -> (graph: Graph, notes: [String]) {
        var graph = imported
        try graph.prepare()
        graph.fuseElementwiseFunctions()
        let removed = graph.removeOutputSoftmax()
        try graph.validate()
        return (graph, removed.map { "Softmax '\($0)' left out: the int8 model outputs logits (same class order)" })
    }

    /// Fused blocks must not change a byte of the outputs: a guard on every quantization, beside
    /// the tests.
    static func checkSameOutputs(_ a: Int8Model, _ b: Int8Model, _ feeds: [String: Tensor]) throws(CNNQError) {
        for model in [a, b] {
            for i in 0..<model.view.inputCount {
                try model.setInput(i, feeds[model.name(ofTensor: model.view.input(i))]!)
            }
            try model.invoke()
        }
        for i in 0..<a.view.outputCount where !a.values(a.view.output(i)).elementsEqual(b.values(b.view.output(i))) {
            throw .invalidGraph("fused blocks changed output \(i); quantize with --no-fuse, and please report it")
        }
    }

    /// `progress(stage, done, total)` is called after each sample.
    public static func run(
        _ imported: Graph, samples: some SampleSource, options: Options,
        progress: (String, Int, Int) -> Void = { _, _, _ in }
    ) throws(CNNQError) -> Result {
        var (graph, notes) = try floatGraph(imported)
        try graph.checkMemory(budget: options.maxMemory)
        try Quantizer.checkExcluded(options.exclude, in: graph)  // before minutes of calibration
        if options.crossLayerEqualization {
            let pairs = graph.equalizeCrossLayer()
            notes.append("cross-layer equalization: \(pairs) depthwise→pointwise pairs rescaled")
        }
        guard samples.count >= 1 else { throw .invalidArgument("no calibration samples") }
        let heldOut = samples.count > options.heldOut ? options.heldOut : 0
        let calibration = samples.count - heldOut
        let executor = try FloatExecutor(graph: graph)
        guard graph.inputs.count == 1 else {
            throw .invalidArgument("models with \(graph.inputs.count) inputs are not supported (one image input)")
        }
        let inputName = graph.inputs[0].name

        // Per-channel means of convolution inputs, for bias correction.
        var channels: [String: Int] = [:]
        if options.biasCorrection {
            for node in graph.nodes {
                if case .conv = node.op, let shape = graph.shapes[node.inputs[0]] {
                    channels[node.inputs[0]] = shape[1]
                }
                if case .gemm = node.op, let shape = graph.shapes[node.inputs[0]] {
                    channels[node.inputs[0]] = shape[1]
                }
            }
        }
        let calibrator = Calibrator(executor: executor, channelMeansOf: channels)
        func feeds(_ i: Int) throws(CNNQError) -> [String: Tensor] {
            let tensor = try samples.sample(i)
            guard tensor.shape == graph.inputs[0].shape else {
                throw .invalidArgument(
                    "\(samples.name(i)): input of shape \(tensor.shape), the model expects \(graph.inputs[0].shape)")
            }
            return [inputName: tensor]
        }
        for i in 0..<calibration {
            try calibrator.observeRange(feeds(i))
            progress("calibrating (ranges)", i + 1, calibration)
        }
        if options.method.needsHistogram {
            for i in 0..<calibration {
                try calibrator.observeHistogram(feeds(i))
                progress("calibrating (histograms)", i + 1, calibration)
            }
        }
        let means = calibrator.statistics.compactMapValues(\.channelMeans)
        let quantizerOptions = Quantizer.Options(
            biasCorrection: options.biasCorrection, perTensorDepthwise: options.perTensorDepthwise,
            exclude: options.exclude)
        var method = options.method
        var model: QuantizedModel
        var rangesChanged = 0
        if method == .auto {
            let judged = min(calibration, autoSamples)
            let scores = try score(
                graph, calibrator, means, quantizerOptions, executor, count: judged, feeds: feeds
            ) { done, total in progress("choosing the method", done, total) }
            method = scores.max { $0.sqnrDB < $1.sqnrDB }!.method
            let listed = scores.map { "\($0.method) \(String(format: "%.1f", $0.sqnrDB))" }.joined(separator: ", ")
            notes.append("auto chose \(method): output SQNR on \(judged) calibration images \(listed) dB")
            model = try Quantizer.quantize(
                graph, ranges: calibrator.ranges(method), channelMeans: means, options: quantizerOptions)
            let snapshotBytes = try PerTensorRangeSearch.load(model).arena.count
            let count = min(
                judged, perTensorSnapshotBytes / snapshotBytes, perTensorMACs / max(model.macs, 1))
            if count < min(judged, perTensorMinimumImages) {
                notes.append(
                    "auto, per tensor: not run, the model is too large to judge single tensors on \(perTensorMinimumImages) images (over \(perTensorMACs / 1_000_000_000)·10⁹ MACs a trial or \(perTensorSnapshotBytes >> 20) MB of snapshots)"
                )
            } else if calibration >= 2 {
                let search = PerTensorRangeSearch(
                    graph: graph, calibrator: calibrator, means: means, options: quantizerOptions)
                let inputs = try (0..<count).map { i throws(CNNQError) in try feeds(i) }
                let outcome = try search.run(from: method, executor: executor, judged: inputs) { done, total in
                    progress("choosing ranges per tensor", done, total)
                }
                model = outcome.model
                rangesChanged = outcome.changed.count
                let counts = CalibrationMethod.candidates.compactMap { m in
                    let n = outcome.changed.filter { $0.method == m }.count
                    return n == 0 ? nil : "\(n) \(m)"
                }
                notes.append(
                    "auto, per tensor: \(outcome.changed.count) of \(outcome.tried) trials kept"
                        + (counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))")
                        + String(
                            format: "; output SQNR on %d calibration images %.1f → %.1f dB", inputs.count,
                            outcome.sqnrBefore, outcome.sqnrAfter))
            }
        } else {
            model = try Quantizer.quantize(
                graph, ranges: calibrator.ranges(method), channelMeans: means, options: quantizerOptions)
        }
        model.inputPipeline = options.inputPipeline
        let layers = try Int8Model(bytes: ModelFileWriter.bytes(model, plan: ArenaPlan(model)))
        let written = options.fuseBlocks ? model.fusingInvertedResiduals() : model
        let plan = ArenaPlan(written)
        let bytes = ModelFileWriter.bytes(written, plan: plan)
        let int8 = options.fuseBlocks ? try Int8Model(bytes: bytes) : layers
        var comparison = LayerComparison(model: layers)
        let evaluation = !options.compareLayers ? 0..<0 : heldOut > 0 ? calibration..<samples.count : 0..<samples.count
        for (n, i) in evaluation.enumerated() {
            let input = try feeds(i)
            try comparison.add(input, float: executor, int8: layers)
            if options.fuseBlocks { try checkSameOutputs(layers, int8, input) }
            progress("comparing layers", n + 1, evaluation.count)
        }
        if heldOut == 0 && options.compareLayers {
            notes.append("only \(samples.count) samples: per-layer SQNR measured on the calibration samples themselves")
        }
        return Result(
            bytes: bytes, model: written, int8: int8, layers: layers, plan: plan, comparison: comparison,
            calibrationSamples: calibration, method: method, rangesChanged: rangesChanged,
            notes: notes + model.notes)
    }

    /// Calibration images on which `auto` judges each method (200, the default --samples: all of
    /// them). On 32 it chose `percentile` for the Fashion-MNIST V3-Large ×0.35, 3.4 dB below `minmax`
    /// on the test images; on 200, `minmax`.
    static let autoSamples = 200

    /// The per-tensor search judges on the images the methods were judged on, fewer when their
    /// arena snapshots (one per image) would pass `perTensorSnapshotBytes` or one trial on all of
    /// them `perTensorMACs`; and not at all when that leaves fewer than `perTensorMinimumImages` (of
    /// more). Judged on 16 images, it lost 0.9 dB on the TF-slim V1 and 1.6 dB on the PP-OCR
    /// detector (gains of a few images); on 32 of a Fashion-MNIST model's, up to 0.9 dB where on 200
    /// it gained. SSDLite (170 M MACs) gets 58 images; V2 at 224, 33; V1 at 224 and the text
    /// detector, none.
    static let perTensorSnapshotBytes = 512 << 20
    static let perTensorMACs = 10_000_000_000
    static let perTensorMinimumImages = 32

    /// Each method's SQNR of the int8 outputs against the float model's, all outputs together, on
    /// samples `0 ..< count` (`feeds`), one at a time, so memory does not grow with the number of
    /// images.
    static func score(
        _ graph: Graph, _ calibrator: Calibrator, _ means: [String: [Double]], _ options: Quantizer.Options,
        _ executor: FloatExecutor, count: Int, feeds: (Int) throws(CNNQError) -> [String: Tensor],
        progress: (Int, Int) -> Void
    ) throws(CNNQError) -> [(method: CalibrationMethod, sqnrDB: Double)] {
        let methods = CalibrationMethod.candidates
        let models = try methods.map { method throws(CNNQError) in
            try PerTensorRangeSearch.load(
                Quantizer.quantize(graph, ranges: calibrator.ranges(method), channelMeans: means, options: options))
        }
        var signal = 0.0, noise = [Double](repeating: 0, count: methods.count)
        for n in 0..<count {
            let judge = try PerTensorRangeSearch.Judge(models[0], executor: executor, inputs: [feeds(n)])
            signal += judge.signal
            for m in methods.indices { noise[m] += try judge.noise(models[m], fromSnapshots: false).sum() }
            progress(n + 1, count)
        }
        return methods.indices.map { m in (methods[m], noise[m] == 0 ? .infinity : 10 * log10(signal / noise[m])) }
    }
}
