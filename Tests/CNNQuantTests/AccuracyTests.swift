import CNNQuant
import Foundation
import Testing

/// Accuracy-drop regression on real labelled data: MobileNets trained on Fashion-MNIST by
/// calibration/train_fashion_mnist.py (committed in Fixtures/fashion-mnist with the float accuracy
/// they reached), quantized with the default recipe on training images, evaluated on all 10,000 test
/// images through the device's interpreter. A failure names the worst layers.
@Suite struct AccuracyTests {
    static let data = "/usr/share/datasets/fashion-mnist"
    static let available = FileManager.default.fileExists(atPath: data + "/t10k-images-idx3-ubyte.gz")
    static let models: [String] = {
        let summary = Fixtures.path("fashion-mnist/accuracy.json")
        guard let data = FileManager.default.contents(atPath: summary),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return json.keys.sorted()
    }()

    @Test(.enabled(if: available, "needs Debian's dataset-fashion-mnist (.ci/run installs it)"), arguments: models)
    func fashionMNIST(model: String) throws {
        let graph = try ONNXImporter.load(path: Fixtures.path("fashion-mnist/\(model).onnx"))
        let shape = graph.inputs[0].shape
        let preprocessing = Preprocessing.preset(.fashionMNIST)
        let calibration = try IDXImages(path: Self.data + "/train-images-idx3-ubyte.gz", labels: nil, preprocessing: preprocessing,
                                        inputShape: shape, limit: 200)
        var options = QuantizationPipeline.Options()
        options.biasCorrection = true
        options.heldOut = 0
        options.compareLayers = false
        let result = try QuantizationPipeline.run(graph, samples: calibration, options: options)
        let int8 = try Int8Model(bytes: result.bytes)
        let test = try IDXImages(path: Self.data + "/t10k-images-idx3-ubyte.gz", labels: Self.data + "/t10k-labels-idx1-ubyte.gz",
                                 preprocessing: preprocessing, inputShape: shape)
        let evaluation = try Evaluation.run(float: QuantizationPipeline.floatGraph(graph).graph, int8: int8, images: test, label: test.label)
        let worst = evaluation.worstLayers.map { "\($0.name) (\($0.kind)) \($0.sqnrDB.map { String(format: "%.1f dB", $0) } ?? "exact")" }
        let summary = String(format: "float %.2f%%, int8 %.2f%%, drop %.2f pts, agreement %.2f%%, output SQNR %.1f dB",
                             evaluation.floatTop1 ?? 0, evaluation.int8Top1 ?? 0, evaluation.top1Drop ?? 0, evaluation.agreement,
                             evaluation.outputSQNRDB ?? .infinity)
        print("\(model): \(summary)")
        #expect((evaluation.floatTop1 ?? 0) > 80, "the float model should be trained: \(summary)")
        #expect((evaluation.top1Drop ?? .infinity) <= 0.5, "\(model): \(summary); worst layers: \(worst.joined(separator: ", "))")
        #expect((evaluation.outputSQNRDB ?? .infinity) >= 15, "\(model): \(summary); worst layers: \(worst.joined(separator: ", "))")
    }
}
