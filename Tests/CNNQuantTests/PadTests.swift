import CNNQKernels
import CNNQRuntime
import CNNQuant
import Foundation
import Testing

/// Constant Pad: ONNX writer and importer, shape inference, float executor, the int8 op and its
/// kernel, end to end through the device's interpreter.
@Suite struct PadTests {
    /// x [1, 3, 12, 10] → 3×3 convolution (no padding) → ReLU → Pad → 3×3 convolution → y.
    static func graph(pads: [Int], value: Float) -> Graph {
        var random = SeededRandom(seed: 7)
        func weights(_ shape: [Int]) -> Tensor {
            Tensor(
                shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -0.5...0.5, using: &random) }
            )
        }
        let window = Window(kernel: [3, 3])
        let nodes = [
            Node(
                name: "conv1", op: .conv(window: window, group: 1, clamp: .none), inputs: ["x", "w1"], outputs: ["c"]),
            Node(name: "relu", op: .clip(.relu), inputs: ["c"], outputs: ["a"]),
            Node(name: "pad", op: .pad(pads: pads, value: value), inputs: ["a"], outputs: ["b"]),
            Node(
                name: "conv2", op: .conv(window: window, group: 1, clamp: .none), inputs: ["b", "w2"], outputs: ["y"]),
        ]
        return Graph(
            name: "pad", inputs: [("x", [1, 3, 12, 10])], outputs: ["y"], nodes: nodes,
            initializers: ["w1": weights([8, 3, 3, 3]), "w2": weights([8, 8, 3, 3])], opset: 17)
    }

    static func samples() -> TensorSamples {
        var random = SeededRandom(seed: 8)
        return TensorSamples(
            (0..<12).map { _ in
                Tensor(shape: [1, 3, 12, 10], floats: (0..<360).map { _ in Float.random(in: -1...1, using: &random) })
            })
    }

    /// A Pad of zeros is folded into the convolution after it; any other value stays an int8 Pad.
    @Test(arguments: [Float(0), 0.25])
    func padsThroughTheInt8Runtime(value: Float) throws {
        // Written as ONNX and read back, so the importer's Pad (pads and value as inputs) is on the path.
        let data = try ONNXWriter.serialize(Self.graph(pads: [0, 0, 1, 2, 0, 0, 2, 1], value: value))
        let imported = try ONNXImporter.load(data: data)
        var options = QuantizationPipeline.Options()
        options.heldOut = 4
        let result = try QuantizationPipeline.run(imported, samples: Self.samples(), options: options)
        #expect(result.outputSQNR > 25, "output SQNR \(result.outputSQNR) dB")
        guard value != 0 else {
            #expect(result.model.ops.map(\.kind) == [.convolution, .convolution])
            return
        }
        #expect(result.model.ops.map(\.kind) == [.convolution, .pad, .convolution])
        let pad = result.model.ops[1]
        #expect(
            result.model.tensors[pad.output].height == 10 + 1 + 2 && result.model.tensors[pad.output].width == 8 + 2 + 1
        )
    }

    /// Folding a Pad of zeros into the convolution's own padding leaves the float outputs as they were;
    /// a Pad that something else reads, or of another value, is kept.
    @Test func foldingKeepsTheFloatOutputs() throws {
        let pads = [0, 0, 1, 2, 0, 0, 2, 1]
        var folded = Self.graph(pads: pads, value: 0)
        try folded.prepare()
        #expect(!folded.nodes.contains { if case .pad = $0.op { true } else { false } })
        guard case let .conv(window, _, _) = folded.nodes.last?.op else { Issue.record("no convolution"); return }
        #expect(window.pads == [1, 2, 2, 1])
        var kept = Self.graph(pads: pads, value: 0.25)
        try kept.prepare()
        #expect(kept.nodes.contains { if case .pad = $0.op { true } else { false } })

        var unfolded = Self.graph(pads: pads, value: 0)
        try unfolded.foldConstantsAndInferShapes()
        let (a, b) = (try FloatExecutor(graph: folded), try FloatExecutor(graph: unfolded))
        for sample in Self.samples().tensors {
            let (x, y) = (try a.run(["x": sample])["y"]!.floats, try b.run(["x": sample])["y"]!.floats)
            #expect(x == y)
        }
    }

    @Test func refusesPaddingOtherAxes() throws {
        let data = try ONNXWriter.serialize(Self.graph(pads: [1, 0, 0, 0, 0, 0, 0, 0], value: 0))
        let imported = try ONNXImporter.load(data: data)
        var options = QuantizationPipeline.Options()
        options.heldOut = 0
        let error = #expect(throws: CNNQError.self) {
            try QuantizationPipeline.run(imported, samples: Self.samples(), options: options)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("rows and columns"), "\(String(describing: error))")
    }

    @Test func kernelMatchesPlainLoops() {
        var random = SeededRandom(seed: 9)
        for _ in 0..<50 {
            let (n, h, w, c) = (
                Int.random(in: 1...2, using: &random), Int.random(in: 1...6, using: &random),
                Int.random(in: 1...6, using: &random), Int.random(in: 1...19, using: &random)
            )
            let p = Pad.Pads(
                top: Int.random(in: 0...3, using: &random), left: Int.random(in: 0...3, using: &random),
                bottom: Int.random(in: 0...3, using: &random), right: Int.random(in: 0...3, using: &random))
            let value = Int8.random(in: -128...127, using: &random)
            let input = (0..<(n * h * w * c)).map { _ in Int8.random(in: -128...127, using: &random) }
            let (oh, ow) = (h + p.top + p.bottom, w + p.left + p.right)
            var output = [Int8](repeating: 0, count: n * oh * ow * c)
            Pad.run(input, batch: n, height: h, width: w, channels: c, pads: p, value: value, output: &output)
            var expected = [Int8](repeating: value, count: output.count)
            for b in 0..<n {
                for y in 0..<h {
                    for x in 0..<w {
                        for ch in 0..<c {
                            expected[((b * oh + y + p.top) * ow + x + p.left) * c + ch] =
                                input[((b * h + y) * w + x) * c + ch]
                        }
                    }
                }
            }
            #expect(output == expected)
        }
    }
}
