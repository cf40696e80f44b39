import CNNQRuntime
import Foundation
@testable import CNNQuant
import Testing

/// Reshape and Transpose of activations kept as relabellings of the NHWC bytes (SSD heads), the
/// concatenation of [N, L, K] values along L, and a model with two rank-3 outputs.
@Suite struct RelabelTests {
    /// torchvision's SSDLite chain on a [1, 24, 5, 7] map (6 anchors × 4 values): Reshape to
    /// [1, 6, 4, 5, 7], Transpose (0, 3, 4, 1, 2), Reshape to [1, 210, 4] reads the NHWC bytes in
    /// order; a reshape that would need the bytes moved is refused.
    @Test func ssdChainReadsTheBytesInOrder() throws {
        let map = ByteView(tensor: 0, shape: [1, 24, 5, 7])
        #expect(!map.isRowMajor)
        let split = try #require(map.reshaped(to: [1, 6, 4, 5, 7]))
        let rows = try #require(split.transposed([0, 3, 4, 1, 2]).reshaped(to: [1, 210, 4]))
        #expect(rows.isRowMajor && rows.shape == [1, 210, 4])
        #expect(map.transposed([0, 2, 3, 1]).isRowMajor, "NCHW → NHWC is the bytes themselves")
        // [1, 24, 35] merges H and W, which lie together in memory: a view, but not in logical order.
        #expect(map.reshaped(to: [1, 24, 35]).map { !$0.isRowMajor } == true)
        // NCHW flatten order interleaves channels with pixels in memory.
        #expect(map.reshaped(to: [1, 840]) == nil)
        #expect(split.reshaped(to: [1, 24, 35]).map { $0.order } == map.reshaped(to: [1, 24, 35]).map { $0.order })
    }

    /// The parity fixture (torchvision's SSDLiteHead on two maps): the relabellings move no bytes,
    /// each output is one concatenation of per-map blocks, and both follow the float model.
    @Test func quantizedSSDHeadFollowsTheFloatOne() throws {
        let (graph, result) = try Fixtures.quantizedOnRandomInputs("ssd_head", seed: 15)
        #expect(graph.nodes.filter { $0.op.name == "Transpose" }.count == 4)
        let model = result.model
        let outputs = model.outputs.map { model.tensors[$0] }
        #expect(outputs.map(\.rank) == [3, 3])
        #expect(outputs.map { [$0.batch, $0.height, $0.width, $0.channels] } == [[1, 1080, 1, 4], [1, 1080, 1, 5]])
        #expect(model.ops.filter { $0.kind == .concat }.count == 2, "one concatenation per output, no copies")
        for output in outputs {
            let sqnr = try #require(result.comparison.layers.last { $0.tensor == output.name }?.sqnr)
            #expect(sqnr > 30, "\(output.name): \(sqnr) dB")
        }
        let float = try FloatExecutor(graph: QuantizationPipeline.floatGraph(graph).graph)
        // Within the calibrated range (the parity input is normal: its tails would be clipped).
        var random = SeededRandom(seed: 16)
        let input = Tensor(
            shape: [1, 3, 24, 24], floats: (0..<1728).map { _ in Float.random(in: -2...2, using: &random) })
        try result.int8.setInput(0, input)
        try result.int8.invoke()
        let expected = try float.run([graph.inputs[0].name: input])
        for (i, name) in graph.outputs.enumerated() {
            let (q, f) = (result.int8.output(i), try #require(expected[name]))
            #expect(q.shape == f.shape)
            let noise = zip(q.floats, f.floats).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
            let signal = f.floats.map { Double($0) * Double($0) }.reduce(0, +)
            #expect(10 * log10(signal / noise) > 30, "\(name) in logical order")
        }
    }

    /// The loader checks what it cannot infer: a rank-3 tensor is N×L×1×C, and the blocks of a
    /// concatenation fill its output exactly.
    @Test func malformedRowTensorsAreRefusedAtLoad() throws {
        let (_, result) = try Fixtures.quantizedOnRandomInputs("ssd_head", seed: 15)
        func loads(_ change: (inout QuantizedModel) -> Void) -> Bool {
            var model = result.model
            change(&model)
            return (try? Int8Model(bytes: ModelFileWriter.bytes(model, plan: ArenaPlan(model)))) != nil
        }
        let boxes = result.model.outputs[0]
        #expect(loads { _ in })
        #expect(!loads { $0.tensors[boxes].height -= 1 }, "the blocks overfill the output")
        #expect(!loads { $0.tensors[boxes].height += 1 }, "the blocks leave rows unwritten")
        #expect(!loads { ($0.tensors[boxes].height, $0.tensors[boxes].width) = (540, 2) }, "rank 3 has width 1")
    }

    /// A value whose bytes are in another order, read by anything but a Concat or the graph's output:
    /// one error naming the node.
    @Test func reorderedValuesReadByOtherOpsAreRefused() throws {
        let nodes = [
            Node(name: "to_nhwc", op: .transpose(perm: [0, 2, 3, 1]), inputs: ["x"], outputs: ["t"]),
            Node(name: "relu", op: .clip(.relu), inputs: ["t"], outputs: ["y"]),
        ]
        let graph = Graph(
            name: "t", inputs: [("x", [1, 4, 3, 3])], outputs: ["y"], nodes: nodes, initializers: [:], opset: 17)
        let samples = TensorSamples([Tensor(shape: [1, 4, 3, 3], floats: (0..<36).map { Float($0 % 7) - 3 })])
        var options = QuantizationPipeline.Options()
        options.heldOut = 0
        let error = #expect(throws: CNNQError.self) {
            try QuantizationPipeline.run(graph, samples: samples, options: options)
        }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("relu") && message.contains("another order"), "\(message)")
    }
}
