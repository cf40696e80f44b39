import CNNQuant
import Foundation

/// Paths of the committed test fixtures (see Fixtures/make_fixtures.py for how they were made).
enum Fixtures {
    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// A parity fixture's model quantized on 24 inputs uniform in [−2, 2] (16 to calibrate, 8 held
    /// out for the output SQNR).
    static func quantizedOnRandomInputs(_ model: String, seed: UInt64) throws -> (Graph, QuantizationPipeline.Result) {
        let graph = try ONNXImporter.load(path: path("parity/\(model)/model.onnx"))
        let shape = graph.inputs[0].shape
        var random = SeededRandom(seed: seed)
        let samples = TensorSamples(
            (0..<24).map { _ in
                Tensor(
                    shape: shape,
                    floats: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -2...2, using: &random) })
            })
        var options = QuantizationPipeline.Options()
        options.heldOut = 8
        return (graph, try QuantizationPipeline.run(graph, samples: samples, options: options))
    }
}
