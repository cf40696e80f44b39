import CNNQuant
import Testing

/// The float executor against onnxruntime on torchvision-exported MobileNets (see make_fixtures.py):
/// different exporters and opsets 7–21, BatchNorm kept or folded, hard-swish as an op or as
/// HardSigmoid·x, TensorFlow's "same" padding computed by shape arithmetic, weights in an external
/// data file; Resize: a torch head upsampling to a size read from a shape, and a chain of every mode,
/// rounding and coordinate transformation cnnq reads, Upsample as opsets 7 and 9 write it; ConvTranspose in the forms decoders use;
/// torchvision's SSDLite head (Reshape, Transpose, Concat of [N, L, K] values; two outputs).
@Suite struct FloatParityTests {
    @Test(arguments: [
        "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "mobilenet_v2_tf_same",
        "mobilenet_v3_small_external", "upsampling_head", "resize_chain", "upsample_7", "upsample_9", "opset9_head",
        "transposed_head", "ssd_head",
    ])
    func matchesOnnxRuntime(model: String) throws {
        var graph = try ONNXImporter.load(path: Fixtures.path("parity/\(model)/model.onnx"))
        try graph.prepare()
        let input = try ONNXImporter.loadTensor(path: Fixtures.path("parity/\(model)/input_0.pb"))
        let outputs = try FloatExecutor(graph: graph).run([graph.inputs[0].name: input])
        for (i, name) in graph.outputs.enumerated() {
            let expected = try ONNXImporter.loadTensor(path: Fixtures.path("parity/\(model)/output_\(i).pb"))
            let logits = try #require(outputs[name])
            #expect(logits.shape == expected.shape)
            let error = zip(logits.floats, expected.floats).map { abs($0 - $1) }.max() ?? .infinity
            let magnitude = expected.floats.map(abs).max() ?? 0
            #expect(magnitude > 0.5, "\(name) should be large enough for the bound to mean something")
            #expect(error <= 1e-4, "\(name): max abs error \(error) on values up to \(magnitude)")
        }
    }

    @Test func batchNormIsFoldedAndActivationsFused() throws {
        var graph = try ONNXImporter.load(path: Fixtures.path("parity/mobilenet_v1/model.onnx"))
        #expect(graph.nodes.contains { $0.op.name == "BatchNormalization" })
        try graph.prepare()
        let names = Set(graph.nodes.map(\.op.name))
        #expect(names == ["Conv", "GlobalAveragePool", "Flatten", "Gemm"], "left: \(names)")
    }

    /// The run-time "same" pads become constants, and each Pad folds into the convolution after it:
    /// on an even size a stride-2 3×3 convolution pads one pixel, at the bottom and right only.
    @Test func computedPadsFoldIntoConvolutions() throws {
        var graph = try ONNXImporter.load(path: Fixtures.path("parity/mobilenet_v2_tf_same/model.onnx"))
        #expect(graph.nodes.contains { $0.op.name == "ConstantOfShape" })
        try graph.prepare()
        #expect(!graph.nodes.contains { $0.op.name == "Pad" })
        let windows = graph.nodes.compactMap { node -> Window? in
            if case let .conv(window, _, _) = node.op { window } else { nil }
        }
        #expect(windows.first?.pads == [0, 0, 1, 1], "96 px → 48 at stride 2")
        #expect(windows.dropFirst().first?.pads == [1, 1, 1, 1], "stride 1: one each side")
    }

    /// TF-slim's MobileNet V1 through tf2onnx: a depthwise Conv whose BatchNorm is left as Mul and
    /// Add by per-channel constants, ReLU6 as Clip, and logits squeezed from [N, C, 1, 1]. The Mul and
    /// Add fold into the Conv (one with a bias, one without), the Squeeze stays as a relabelling, and
    /// the float result does not change; one channel has near-zero weights and a bias (a BatchNorm
    /// γ of ~0), which int8 must carry without overflowing its 32-bit bias.
    @Test func tfSlimDepthwiseMulAddAndSqueeze() throws {
        var random = SystemRandomNumberGenerator()
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &random) } }
        let window = Window(kernel: [3, 3], pads: [1, 1, 1, 1])
        var depthwiseWeights = values(4 * 9)
        for i in 0..<9 { depthwiseWeights[9 + i] *= 1e-9 }
        let initializers: [String: Tensor] = [
            "dw.w": Tensor(shape: [4, 1, 3, 3], floats: depthwiseWeights),
            "bn.scale": Tensor(shape: [1, 4, 1, 1], floats: [0.5, 2, 1.5, 0.25]),
            "bn.shift": Tensor(shape: [4, 1, 1], floats: [0.1, 3, -0.2, 0.4]),
            "pw.w": Tensor(shape: [3, 4, 1, 1], floats: values(12)), "pw.b": Tensor(shape: [3], floats: values(3)),
            "pw.scale": Tensor(shape: [1, 3, 1, 1], floats: [1, -2, 0.5]),
        ]
        let nodes = [
            Node(
                name: "dw", op: .conv(window: window, group: 4, clamp: .none), inputs: ["x", "dw.w"], outputs: ["dw.y"]),
            Node(name: "bn.mul", op: .mul, inputs: ["dw.y", "bn.scale"], outputs: ["bn.m"]),
            Node(name: "bn.add", op: .add, inputs: ["bn.shift", "bn.m"], outputs: ["bn.y"]),
            Node(name: "relu6", op: .clip(.relu6), inputs: ["bn.y"], outputs: ["r"]),
            Node(name: "pool", op: .globalAveragePool, inputs: ["r"], outputs: ["p"]),
            Node(
                name: "pw", op: .conv(window: Window(kernel: [1, 1]), group: 1, clamp: .none),
                inputs: ["p", "pw.w", "pw.b"], outputs: ["pw.y"]),
            Node(name: "pw.mul", op: .mul, inputs: ["pw.y", "pw.scale"], outputs: ["pw.m"]),
            Node(name: "squeeze", op: .squeeze(axes: [2, 3]), inputs: ["pw.m"], outputs: ["logits"]),
        ]
        let graph = Graph(
            name: "tf-slim", inputs: [("x", [1, 4, 6, 6])], outputs: ["logits"], nodes: nodes,
            initializers: initializers, opset: 13)
        var shapesOnly = graph
        try shapesOnly.foldConstantsAndInferShapes()
        var prepared = graph
        try prepared.prepare()
        #expect(prepared.nodes.map(\.op.name) == ["Conv", "GlobalAveragePool", "Conv", "Squeeze"])
        let x = Tensor(shape: [1, 4, 6, 6], floats: values(144))
        let expected = try #require(try FloatExecutor(graph: shapesOnly).run(["x": x])["logits"])
        let folded = try #require(try FloatExecutor(graph: prepared).run(["x": x])["logits"])
        #expect(folded.shape == [1, 3])
        #expect(
            zip(folded.floats, expected.floats).allSatisfy { abs($0 - $1) <= 1e-5 },
            "\(folded.floats) vs \(expected.floats)")

        var options = QuantizationPipeline.Options()
        options.heldOut = 0
        let samples = TensorSamples((0..<8).map { _ in Tensor(shape: [1, 4, 6, 6], floats: values(144)) })
        let result = try QuantizationPipeline.run(graph, samples: samples, options: options)
        #expect(result.outputSQNR > 30, "output SQNR \(result.outputSQNR) dB")
    }
}
