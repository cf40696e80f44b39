import CNNQuant
import Foundation
import Testing

/// The MobileNet builder against torchvision's architecture (counts made by make_fixtures.py) and
/// the V1 paper.
@Suite struct ZooTests {
    static let widths = [0.35, 0.5, 0.75, 1.0, 1.4]
    static let torchvision: [String: [String: Int]] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("torchvision-counts.json")))
        return try! JSONDecoder().decode([String: [String: Int]].self, from: data)
    }()

    static func totals(_ graph: Graph) -> (params: Int, macs: Int) {
        let stats = LayerStatistics.of(graph)
        return (stats.map(\.params).reduce(0, +), stats.map(\.macs).reduce(0, +))
    }

    @Test(arguments: [MobileNet.v2, .v3Small, .v3Large], widths)
    func countsEqualTorchvision(architecture: MobileNet, alpha: Double) throws {
        let key = "\(architecture.rawValue.replacingOccurrences(of: "-", with: "_"))@\(alpha)"
        let expected = try #require(Self.torchvision[key], "no reference counts for \(key)")
        let (params, macs) = Self.totals(try architecture.build(alpha: alpha, resolution: 224))
        #expect(params == expected["params"], "\(key) params")
        #expect(macs == expected["macs"], "\(key) MACs")
    }

    @Test func mobileNetV1MatchesThePaper() throws {
        // Howard et al. 2017, Table 1/8: 1.0 MobileNet-224 has 4.2 M parameters and 569 M mult-adds.
        let (params, macs) = Self.totals(try MobileNet.v1.build(alpha: 1, resolution: 224))
        #expect((Double(params) / 1e5).rounded() == 42, "params \(params)")
        #expect((Double(macs) / 1e6).rounded() == 569, "MACs \(macs)")
    }

    @Test(arguments: MobileNet.allCases)
    func writtenModelReimportsAndRuns(architecture: MobileNet) throws {
        let graph = try architecture.build(alpha: 0.5, resolution: 96, classes: 10, seed: 7)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-\(architecture.rawValue).onnx")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ONNXWriter.write(graph, to: path)
        var imported = try ONNXImporter.load(path: path)
        imported.removeIdentities()
        try imported.foldConstantsAndInferShapes()
        #expect(Self.totals(imported) == Self.totals(graph))
        try imported.prepare()
        #expect(!imported.nodes.contains { $0.op.name == "BatchNormalization" })
        let input = Tensor(shape: [1, 3, 96, 96], floats: (0..<(3 * 96 * 96)).map { Float($0 % 255) / 255 - 0.5 })
        let logits = try #require(try FloatExecutor(graph: imported).run(["input": input])[imported.outputs[0]])
        #expect(logits.shape == [1, 10])
        let finite = logits.floats.allSatisfy { $0.isFinite }
        #expect(finite)
    }

    @Test func sameSeedSameBytes() throws {
        let a = try ONNXWriter.serialize(try MobileNet.v3Small.build(alpha: 0.35, resolution: 64, seed: 3))
        let b = try ONNXWriter.serialize(try MobileNet.v3Small.build(alpha: 0.35, resolution: 64, seed: 3))
        let c = try ONNXWriter.serialize(try MobileNet.v3Small.build(alpha: 0.35, resolution: 64, seed: 4))
        #expect(a == b)
        #expect(a != c)
    }

    @Test func makeDivisibleRoundsAsTorchvision() {
        #expect(MobileNet.makeDivisible(32 * 0.35) == 16)
        #expect(MobileNet.makeDivisible(16 * 0.35) == 8)
        #expect(MobileNet.makeDivisible(96 * 0.35) == 32)
        #expect(MobileNet.makeDivisible(1280 * 1.4) == 1792)
        #expect(MobileNet.makeDivisible(72 * 0.75) == 56)
        #expect(MobileNet.makeDivisible(24 * 0.75) == 24)
    }
}
