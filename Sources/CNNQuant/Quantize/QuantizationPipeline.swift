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
        /// With `biasCorrection`, measure the correction of layers with no activation clamp on the
        /// int8 model (`EmpiricalBiasCorrection`).
        public var measuredBiasCorrection = false
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
        /// Whether the biases were corrected: `Options.biasCorrection`, unless `auto` judged the
        /// model better without.
        public var biasCorrection: Bool
        /// Layers whose correction was measured on the int8 model (`EmpiricalBiasCorrection`).
        public var measuredBiasLayers: Int
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
            try model.setInputs(feeds)
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

        let calibrator = Calibrator(
            executor: executor, inputMeansOf: options.biasCorrection ? InputMeansRequest.requests(in: graph) : [])
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
        let means = calibrator.inputMeans
        let quantizerOptions = Quantizer.Options(
            biasCorrection: options.biasCorrection, perTensorDepthwise: options.perTensorDepthwise,
            exclude: options.exclude)
        var method = options.method
        var model: QuantizedModel
        var rangesChanged = 0
        var biasCorrection = options.biasCorrection, measuredBiasLayers = 0
        if method == .auto {
            let auto = AutoCalibration(
                graph: graph, calibrator: calibrator, means: means, options: quantizerOptions,
                measureCorrection: options.measuredBiasCorrection, executor: executor)
            let choice = try auto.choose(calibration: calibration, feeds: feeds, progress: progress)
            (method, model, rangesChanged) = (choice.method, choice.model, choice.rangesChanged)
            biasCorrection = choice.biasCorrection
            measuredBiasLayers = choice.measured.count
            notes += choice.notes
        } else if options.biasCorrection && options.measuredBiasCorrection {
            let corrected = try EmpiricalBiasCorrection(
                graph: graph, ranges: calibrator.ranges(method), means: means, options: quantizerOptions,
                executor: executor
            ).run(calibration: calibration, feeds: feeds) { done, total in
                progress("measuring bias corrections", done, total)
            }
            (model, measuredBiasLayers) = (corrected.model, corrected.measured.count)
            notes += corrected.note.map { [$0] } ?? []
        } else {
            model = try Quantizer.quantize(
                graph, ranges: calibrator.ranges(method), inputMeans: means, options: quantizerOptions)
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
            biasCorrection: biasCorrection, measuredBiasLayers: measuredBiasLayers,
            notes: notes + model.notes)
    }
}
