import CNNQuant
import Foundation
import Testing

/// ONNX files edited as an attacker (or a broken exporter) would: numeric values and attributes the
/// converter used to trap on, abort on while allocating, or carry silently into the file. Each must
/// end `cnn-quantize quantize` with status 1, one `error:` line naming the problem, and no file.
@Suite struct HostileONNXTests {
    typealias CLI = CommandLineTests

    enum Edit: String, CaseIterable, Sendable {
        case nanWeight, infiniteWeight, negativeVariance, nanVariance, hugeStride, hugePads, hugeInput
        case padsNotSmallerThanKernel, overMemoryBudget
    }

    static func edited(_ edit: Edit) throws -> Graph {
        var graph = try MobileNet.v2.build(alpha: 0.35, resolution: 32, classes: 10, seed: 3)
        let convs = graph.nodes.indices.filter { if case .conv = graph.nodes[$0].op { true } else { false } }
        let batchNorm = try #require(graph.nodes.first { if case .batchNorm = $0.op { true } else { false } })
        func setWindow(_ node: Int, _ change: (inout Window) -> Void) {
            guard case .conv(var window, let group, let clamp) = graph.nodes[node].op else { return }
            change(&window)
            graph.nodes[node].op = .conv(window: window, group: group, clamp: clamp)
        }
        func poison(_ name: String, _ value: Float) {
            var floats = graph.initializers[name]!.floats
            floats[0] = value
            graph.initializers[name] = Tensor(shape: graph.initializers[name]!.shape, floats: floats)
        }
        switch edit {
        case .nanWeight: poison(graph.nodes[convs[2]].inputs[1], .nan)
        case .infiniteWeight: poison(graph.nodes[convs[3]].inputs[1], .infinity)
        case .negativeVariance: poison(batchNorm.inputs[4], -1)
        case .nanVariance: poison(batchNorm.inputs[4], .nan)
        case .hugeStride: setWindow(convs[0]) { $0.strides = [1 << 40, 1] }
        case .hugePads: setWindow(convs[0]) { $0.pads = [1 << 62, 0, 0, 0] }
        case .hugeInput: graph.inputs[0].shape = [1, 3, 100_000, 100_000]
        case .padsNotSmallerThanKernel:
            let pointwise = try #require(
                convs.first { if case .conv(let w, 1, _) = graph.nodes[$0].op { w.kernel == [1, 1] } else { false } })
            setWindow(pointwise) { $0.pads = [2, 0, 0, 0] }
        case .overMemoryBudget: break
        }
        return graph
    }

    @Test(arguments: Edit.allCases)
    func converterRefusesWithOneErrorLine(edit: Edit) throws {
        let folder = CLI.temporary("hostile-\(edit.rawValue)")
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try ONNXWriter.write(try Self.edited(edit), to: folder + "/m.onnx")
        var arguments = [
            "quantize", folder + "/m.onnx", "--calibration", Fixtures.path("images/imagenet"), "--preset", "unit",
            "-o", folder + "/m.cnnq", "--samples", "2", "--held-out", "0",
        ]
        if edit == .overMemoryBudget { arguments += ["--max-memory", "64K"] }
        let result = try CLI.run(arguments)
        let lines = result.stderr.split(separator: "\n")
        #expect(result.status == 1, "\(edit): status \(result.status), \(result.stderr)")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "\(edit): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/m.cnnq"), "\(edit) wrote a file")
    }
}
