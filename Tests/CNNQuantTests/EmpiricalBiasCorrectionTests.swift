import Testing

@testable import CNNQuant

/// The bias correction measured on the int8 model (`EmpiricalBiasCorrection`).
@Suite struct EmpiricalBiasCorrectionTests {
    /// Per output channel of `tensor`, the mean of int8 − float over the images, in output steps.
    static func meanErrors(
        _ model: QuantizedModel, _ graph: Graph, _ inputs: [[String: Tensor]], tensor name: String
    ) throws -> [Double] {
        let int8 = try PerTensorRangeSearch.load(model)
        let executor = try FloatExecutor(graph: graph)
        let t = try #require(model.tensors.firstIndex { $0.name == name })
        let channels = model.tensors[t].channels
        var sums = [Double](repeating: 0, count: channels)
        var count = 0
        for input in inputs {
            try int8.setInputs(input)
            var quantized: [Float] = []
            // Read when written: the arena reuses its memory.
            try int8.invoke { o in if model.ops[o].output == t { quantized = int8.dequantized(t) } }
            _ = try executor.run(input) { value, float in
                guard value == name else { return }
                for (i, v) in float.enumerated() { sums[i % channels] += Double(quantized[i] - v) }
                count += float.count / channels
            }
        }
        return sums.map { $0 / Double(count) / model.tensors[t].scale }
    }

    /// MobileNet V2's projections have no activation, so their int8 output is the accumulator
    /// rounded and clipped to its range: once each layer absorbs its whole mean error, measured with
    /// the layers before it corrected, what is left of a channel's mean error on the calibration
    /// images is the rounding's and the clipping's. With percentile ranges (clipped, so each layer
    /// inherits a mean error) it is 0.09 of an output step (root mean square over every channel of
    /// every projection and the classifier) where the correction from float means leaves 0.16.
    @Test func linearLayersKeepNoMeanErrorOnTheCalibrationImages() throws {
        let (graph, calibrator, inputs) = try Self.calibrated()
        let ranges = calibrator.ranges(.percentile)
        let corrected = try Self.correction(graph, calibrator).run(
            calibration: inputs.count, feeds: { inputs[$0] }, progress: { _, _ in })
        let fromFloatMeans = try Quantizer.quantize(
            graph, ranges: ranges, inputMeans: calibrator.inputMeans, options: Quantizer.Options(biasCorrection: true))

        let linear = graph.nodes.filter { $0.op.fusedClamp == Clamp.none }
        #expect(linear.count >= 5)
        #expect(Set(corrected.measured.keys) == Set(linear.map(\.name)))
        #expect(corrected.note == nil)
        let (after, before) = (
            try Self.rms(corrected.model, graph, inputs, linear), try Self.rms(fromFloatMeans, graph, inputs, linear)
        )
        #expect(after < 0.65 * before, "\(after) against \(before) steps")
    }

    /// Where the snapshots of only some calibration images fit, the correction is measured on
    /// those, with the float means taken again on the same images: their mean errors shrink as on
    /// all (0.09 of a step against 0.16 on the first 6 of 10). Where fewer than the minimum fit, the
    /// model is the one corrected from float means, and a note says why.
    @Test func measuresOnTheImagesWhoseSnapshotsFit() throws {
        let (graph, calibrator, inputs) = try Self.calibrated()
        let fromFloatMeans = try Quantizer.quantize(
            graph, ranges: calibrator.ranges(.percentile), inputMeans: calibrator.inputMeans,
            options: Quantizer.Options(biasCorrection: true))
        let arena = try PerTensorRangeSearch.load(fromFloatMeans).arena.count
        var correction = Self.correction(graph, calibrator)
        correction.minimumImages = 4
        correction.snapshotBytes = 6 * arena
        let six = try correction.run(calibration: inputs.count, feeds: { inputs[$0] }, progress: { _, _ in })
        let linear = graph.nodes.filter { $0.op.fusedClamp == Clamp.none }
        #expect(six.measured.count == linear.count && six.note == nil)
        let first = Array(inputs.prefix(6))
        let (after, before) = (
            try Self.rms(six.model, graph, first, linear), try Self.rms(fromFloatMeans, graph, first, linear)
        )
        #expect(after < 0.65 * before, "\(after) against \(before) steps")

        correction.snapshotBytes = 3 * arena
        let three = try correction.run(calibration: inputs.count, feeds: { inputs[$0] }, progress: { _, _ in })
        #expect(three.measured.isEmpty && three.note != nil)
        #expect(PerTensorRangeSearch.firstDifference(three.model, fromFloatMeans) == nil)
    }

    /// A fixed method measures the correction only when asked (`--measured-bias-correction`), for
    /// every layer without a clamp, and then writes other biases.
    @Test func pipelineMeasuresOnlyWhenAsked() throws {
        let imported = try ONNXImporter.load(path: Fixtures.path("parity/mobilenet_v2/model.onnx"))
        let linear = try QuantizationPipeline.floatGraph(imported).graph.nodes.filter {
            $0.op.fusedClamp == Clamp.none
        }
        var options = QuantizationPipeline.Options()
        (options.heldOut, options.biasCorrection, options.method) = (0, true, .percentile)
        let samples = try QuantizationTests.samples("mobilenet_v2")
        let plain = try QuantizationPipeline.run(imported, samples: samples, options: options)
        options.measuredBiasCorrection = true
        let measured = try QuantizationPipeline.run(imported, samples: samples, options: options)
        #expect(plain.measuredBiasLayers == 0 && measured.measuredBiasLayers == linear.count)
        #expect(measured.bytes != plain.bytes)
    }

    /// The parity MobileNet V2 and its 10 samples, calibrated with the input means correction needs.
    static func calibrated() throws -> (Graph, Calibrator, [[String: Tensor]]) {
        let (graph, _) = try QuantizationPipeline.floatGraph(
            ONNXImporter.load(path: Fixtures.path("parity/mobilenet_v2/model.onnx")))
        let inputs = try QuantizationTests.samples("mobilenet_v2").tensors.map { [graph.inputs[0].name: $0] }
        let calibrator = Calibrator(
            executor: try FloatExecutor(graph: graph), inputMeansOf: InputMeansRequest.requests(in: graph))
        for input in inputs { try calibrator.observeRange(input) }
        for input in inputs { try calibrator.observeHistogram(input) }
        return (graph, calibrator, inputs)
    }

    /// Percentile ranges: clipped, so that every layer inherits a mean error.
    static func correction(_ graph: Graph, _ calibrator: Calibrator) -> EmpiricalBiasCorrection {
        EmpiricalBiasCorrection(
            graph: graph, ranges: calibrator.ranges(.percentile), means: calibrator.inputMeans,
            options: Quantizer.Options(biasCorrection: true), executor: calibrator.executor)
    }

    /// Root mean square of `meanErrors` over every channel of `layers`.
    static func rms(_ model: QuantizedModel, _ graph: Graph, _ inputs: [[String: Tensor]], _ layers: [Node]) throws
        -> Double
    {
        let errors = try layers.flatMap { try meanErrors(model, graph, inputs, tensor: $0.outputs[0]) }
        return (errors.reduce(0) { $0 + $1 * $1 } / Double(errors.count)).squareRoot()
    }
}
