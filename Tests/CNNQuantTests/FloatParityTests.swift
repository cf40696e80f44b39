import CNNQuant
import Testing

/// The float executor against onnxruntime on torchvision-exported MobileNets (see make_fixtures.py):
/// different exporters and opsets 11–21, BatchNorm kept or folded, hard-swish as an op or as
/// HardSigmoid·x.
@Suite struct FloatParityTests {
    @Test(arguments: ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"])
    func matchesOnnxRuntime(model: String) throws {
        var graph = try ONNXImporter.load(path: Fixtures.path("parity/\(model)/model.onnx"))
        try graph.prepare()
        let input = try ONNXImporter.loadTensor(path: Fixtures.path("parity/\(model)/input_0.pb"))
        let expected = try ONNXImporter.loadTensor(path: Fixtures.path("parity/\(model)/output_0.pb"))
        let outputs = try FloatExecutor(graph: graph).run([graph.inputs[0].name: input])
        let logits = try #require(outputs[graph.outputs[0]])
        #expect(logits.shape == expected.shape)
        let error = zip(logits.floats, expected.floats).map { abs($0 - $1) }.max() ?? .infinity
        let magnitude = expected.floats.map(abs).max() ?? 0
        #expect(magnitude > 0.5, "logits should be large enough for the bound to mean something")
        #expect(error <= 1e-4, "max abs error \(error) on logits up to \(magnitude)")
    }

    @Test func batchNormIsFoldedAndActivationsFused() throws {
        var graph = try ONNXImporter.load(path: Fixtures.path("parity/mobilenet_v1/model.onnx"))
        #expect(graph.nodes.contains { $0.op.name == "BatchNormalization" })
        try graph.prepare()
        let names = Set(graph.nodes.map(\.op.name))
        #expect(names == ["Conv", "GlobalAveragePool", "Flatten", "Gemm"], "left: \(names)")
    }
}
