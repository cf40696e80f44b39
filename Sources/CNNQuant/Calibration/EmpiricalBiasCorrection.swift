import CNNQRuntime

/// Bias correction measured on the int8 model itself, for the layers with no activation clamp
/// (projections, shortcuts' last convolutions, classifiers): each one's bias absorbs its whole mean
/// output error E[W_q·x_q] − E[W·x], with x_q what the int8 model feeds it, so the error it inherits
/// from the layers before counts as much as its weights' own rounding, which is all the correction
/// from float means (`Quantizer.Options.biasCorrection`) removes. On 2,500 Fashion-MNIST test
/// images with `--method minmax` this gained 10.8 dB over 21 models (V3-Large ×0.35 +4.4, RegNetX
/// +2.0; no loss over 0.21); but the ImageNet V2, calibrated on other photos than it was evaluated
/// on, lost 5.5 dB with `percentile` (on its calibration photos too). So `auto` judges it beside the
/// correction from float means (`AutoCalibration`), and a fixed method uses it only when asked
/// (`--measured-bias-correction`).
///
/// Layers whose output a ReLU or clamp cuts keep the correction from float means: their mean is
/// mostly that of the negatives the clamp removes, and an error that scales the values (a clipped
/// range upstream) moves that mean far from the kept values' (VGG-16 lost 18 dB, AlexNet 4, when
/// every layer was measured).
///
/// Layers are corrected in the order they run, each measured after the ones before it were
/// corrected, on snapshots of the arena as `PerTensorRangeSearch` keeps them: every op runs once
/// per image, and each corrected layer re-quantizes the model (the other layers from the cache).
struct EmpiricalBiasCorrection {
    let graph: Graph
    let ranges: [String: (lower: Float, upper: Float)]
    /// The float model's input means by node, on every calibration image (`InputMeansRequest`).
    let means: [String: [Double]]
    let options: Quantizer.Options
    let executor: FloatExecutor
    let cache = ConvolutionCache()

    /// Arena snapshots, one per image measured on, take at most this many bytes; and below this
    /// many images (or all there are) the correction is not measured. The per-tensor search's
    /// budget: with `auto` the two hold such snapshots one after the other, never together.
    var snapshotBytes = AutoCalibration.perTensorSnapshotBytes
    var minimumImages = AutoCalibration.perTensorMinimumImages

    struct Outcome {
        var model: QuantizedModel
        /// The layers corrected from measurement, by node.
        var measured: [String: Quantizer.MeasuredMeans] = [:]
        /// Why nothing was measured, where that was for want of memory.
        var note: String?
    }

    /// `ranges` quantized with bias correction, measured on the first calibration images whose
    /// snapshots fit (`feeds(i)` for i < `calibration`); with fewer than all of them, the float
    /// means are taken again on those images. `progress(done, total)` after each measured layer.
    func run(
        calibration: Int, feeds: (Int) throws(CNNQError) -> [String: Tensor], progress: (Int, Int) -> Void
    ) throws(CNNQError) -> Outcome {
        var model = try quantize([:])
        var int8 = try PerTensorRangeSearch.load(model)
        let requests = Dictionary(
            InputMeansRequest.requests(in: graph).map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        let linear = Set(graph.nodes.filter { $0.op.fusedClamp == Clamp.none }.map(\.name))
        let kinds: Set<ModelFormat.OpKind> = [.convolution, .pointwise, .depthwise, .groupedConvolution]
        // Each layer's first op (the one that reads the graph's input of the layer).
        var layers: [(op: Int, request: InputMeansRequest)] = []
        for (o, op) in model.ops.enumerated()
        where kinds.contains(op.kind) && linear.contains(op.name) && means[op.name] != nil
            && !layers.contains(where: { model.ops[$0.op].name == op.name })
        {
            guard let request = requests[op.name], let x = op.inputs.first, !model.tensors[x].isFloat else { continue }
            let t = model.tensors[x]
            // A Gemm reading a flattened map sums the map in NHWC order, the order its weights
            // were put in (`fullyConnected`).
            let sameMap = (t.height, t.width, t.channels) == (request.height, request.width, request.channels)
            let flattened =
                request.height == 1 && request.width == 1 && request.channels == t.height * t.width * t.channels
            if sameMap || flattened { layers.append((o, request)) }
        }
        let count = min(calibration, snapshotBytes / int8.arena.count)
        guard !layers.isEmpty else { return Outcome(model: model) }
        let needed = min(calibration, minimumImages)
        guard count >= needed else {
            return Outcome(
                model: model,
                note:
                    "bias correction from the float model's means only: \(needed) images' arena snapshots would take over \(snapshotBytes >> 20) MB"
            )
        }
        let inputs = try (0..<count).map { i throws(CNNQError) in try feeds(i) }
        var floatMeans = means
        if count < calibration {
            let calibrator = Calibrator(executor: executor, inputMeansOf: layers.map(\.request))
            for input in inputs { try calibrator.observeRange(input) }
            floatMeans = calibrator.inputMeans
        }

        var measured: [String: Quantizer.MeasuredMeans] = [:]
        let judge = PerTensorRangeSearch.Judge(inputs: inputs, reference: inputs.map { _ in [] })
        try judge.reset(int8, position: 0)
        for (n, (o, request)) in layers.enumerated() {
            let name = model.ops[o].name, x = model.ops[o].inputs[0]
            let info = model.tensors[x]
            guard let float = floatMeans[name] else { continue }
            try judge.advance(int8, to: o)
            let levels = PerTensorRangeSearch.Judge.levels(scale: Float(info.scale), zeroPoint: info.zeroPoint)
            var sums = [Double](repeating: 0, count: request.taps * request.channels)
            var positions = 0
            for snapshot in judge.snapshots {
                let data = Interpreter.data(int8.view, x, arena: snapshot.baseAddress!)
                positions += request.accumulate((0..<info.count).map { levels[Int(data[$0]) + 128] }, into: &sums)
            }
            progress(n + 1, layers.count)
            guard positions > 0 else { continue }
            measured[name] = .init(float: float, int8: sums.map { $0 / Double(positions) })
            model = try quantize(measured)
            int8 = try PerTensorRangeSearch.load(model)
        }
        return Outcome(model: model, measured: measured)
    }

    func quantize(_ measured: [String: Quantizer.MeasuredMeans]) throws(CNNQError) -> QuantizedModel {
        try Quantizer.quantize(
            graph, ranges: ranges, inputMeans: means, measuredMeans: measured, options: options, cache: cache)
    }
}
