import CNNQuant
import Foundation
import Testing

/// Bad input must give a specific CNNQError, never a crash.
@Suite struct ImportErrorTests {
    static let model = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("parity/mobilenet_v1/model.onnx")))

    static func failure(_ data: Data) -> CNNQError? {
        do {
            var graph = try ONNXImporter.load(data: data)
            try graph.prepare()
            return nil
        } catch { return error }
    }

    @Test(arguments: [0.999, 0.9, 0.5, 0.1, 0.01, 0.001])
    func truncatedModelIsAnError(fraction: Double) {
        let error = Self.failure(Self.model.prefix(Int(Double(Self.model.count) * fraction)))
        #expect(error != nil, "a model cut to \(fraction) of its size was accepted")
    }

    @Test func emptyAndForeignFilesAreErrors() {
        #expect(Self.failure(Data()) == .malformedModel("the file is empty"))
        #expect(Self.failure(Data("this is not a model\n".utf8)) != nil)
        #expect(Self.failure(Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })) != nil)
    }

    @Test func corruptedBytesNeverCrash() {
        // Flip bytes all over a valid model; every outcome must be a value or a thrown error.
        var random = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var data = Self.model
            for _ in 0..<8 {
                data[Int.random(in: 0..<data.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            _ = Self.failure(data)
        }
    }

    @Test func unsupportedOperatorNamesNodeAndOp() {
        #expect(throws: CNNQError.unsupportedOperator(node: "erf_1", op: "Erf", domain: "")) {
            try ONNXImporter.load(path: Fixtures.path("errors/unsupported_op.onnx"))
        }
    }

    @Test func unsupportedAttributeNamesNode() {
        #expect(
            throws: CNNQError.unsupportedAttribute(
                node: "conv_1d", op: "Conv", detail: "only 2-D windows are supported (kernel_shape [3])")
        ) {
            try ONNXImporter.load(path: Fixtures.path("errors/conv1d.onnx"))
        }
    }

    @Test func localResponseNormalisationIsRefusedWithAReason() {
        #expect(
            throws: CNNQError.unsupportedAttribute(
                node: "lrn_1", op: "LRN",
                detail:
                    "local response normalisation has no int8 kernel; export torchvision's AlexNet or GoogLeNet (which have none) or retrain without LRN"
            )
        ) {
            try ONNXImporter.load(path: Fixtures.path("errors/lrn.onnx"))
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: CNNQError.self) { try ONNXImporter.load(path: "/nonexistent/model.onnx") }
    }

    /// A model whose weights live in `model.onnx.data`: without that file, with it cut short, or
    /// naming a file outside its folder, the error says which.
    @Test func externalDataProblemsAreNamed() throws {
        let fixture = Fixtures.path("parity/mobilenet_v3_small_external")
        let model = try Data(contentsOf: URL(fileURLWithPath: fixture + "/model.onnx"))
        let weights = try Data(contentsOf: URL(fileURLWithPath: fixture + "/model.onnx.data"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cnnq-external-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func message(_ model: Data, weights: Data?) throws -> String {
            try model.write(to: URL(fileURLWithPath: folder + "/model.onnx"))
            try? FileManager.default.removeItem(atPath: folder + "/model.onnx.data")
            try weights?.write(to: URL(fileURLWithPath: folder + "/model.onnx.data"))
            do { _ = try ONNXImporter.load(path: folder + "/model.onnx") } catch { return "\(error)" }
            return "loaded"
        }
        #expect(try message(model, weights: weights) == "loaded")
        #expect(try message(model, weights: nil).contains("which cannot be read beside the model"))
        #expect(try message(model, weights: weights.prefix(weights.count / 2)).contains("may be truncated"))
        #expect(throws: CNNQError.self) { try ONNXImporter.load(data: model) }
        // Same length, so the protobuf stays well formed.
        let escaping = Data(model.replacing(Data("model.onnx.data".utf8), with: Data("../el.onnx.data".utf8)))
        #expect(escaping != model)
        #expect(try message(escaping, weights: weights).contains("outside the model's folder"))
    }

    /// Values a hostile file can put where a shape is computed: each an error, never a trap in an
    /// integer conversion or a gigabyte allocation.
    @Test func hostileShapeOperandsAreErrors() {
        let nodes = [
            Node(
                name: "resize",
                op: .resize(ResizeAttributes(mode: .linear, coordinates: .halfPixel, scales: [1, 1, .nan, 1e30])),
                inputs: ["x"], outputs: ["y"])
        ]
        var resize = Graph(
            name: "r", inputs: [("x", [1, 2, 4, 4])], outputs: ["y"], nodes: nodes, initializers: [:], opset: 17)
        #expect(throws: CNNQError.self) { try resize.prepare() }
        let fill = [
            Node(
                name: "fill", op: .constantOfShape(value: Tensor(shape: [1], floats: [0])), inputs: ["s"],
                outputs: ["y"])
        ]
        var huge = Graph(
            name: "c", inputs: [("x", [1, 2, 4, 4])], outputs: ["y"], nodes: fill,
            initializers: ["s": Tensor(shape: [3], ints: [65_535, 65_535, 65_535])], opset: 17)
        #expect(throws: CNNQError.self) { try huge.prepare() }
    }
}
