import CNNQKernels
import CNNQRuntime
import CNNQuant
import Foundation
import Testing

/// ConvTranspose: lowered to zero insertion and a convolution, then run by the int8 runtime.
@Suite struct ConvTransposeTests {
    @Test func insertZerosMatchesPlainLoops() {
        var random = SeededRandom(seed: 13)
        for _ in 0..<50 {
            let (n, h, w, c) = (
                Int.random(in: 1...2, using: &random), Int.random(in: 1...6, using: &random),
                Int.random(in: 1...6, using: &random), Int.random(in: 1...19, using: &random)
            )
            let (sh, sw) = (Int.random(in: 1...4, using: &random), Int.random(in: 1...4, using: &random))
            let value = Int8.random(in: -128...127, using: &random)
            let input = (0..<(n * h * w * c)).map { _ in Int8.random(in: -128...127, using: &random) }
            let (oh, ow) = ((h - 1) * sh + 1, (w - 1) * sw + 1)
            var output = [Int8](repeating: 0, count: n * oh * ow * c)
            InsertZeros.run(
                input, batch: n, height: h, width: w, channels: c, strideHeight: sh, strideWidth: sw, value: value,
                output: &output)
            var expected = [Int8](repeating: value, count: output.count)
            for b in 0..<n {
                for y in 0..<h {
                    for x in 0..<w {
                        for ch in 0..<c {
                            expected[((b * oh + y * sh) * ow + x * sw) * c + ch] = input[((b * h + y) * w + x) * c + ch]
                        }
                    }
                }
            }
            #expect(output == expected)
        }
    }

    /// DCR order: input channel (i·s + j)·C + c of pixel (y, x) is channel c of pixel (s·y + i, s·x + j).
    @Test func depthToSpaceMatchesPlainLoops() {
        var random = SeededRandom(seed: 17)
        for _ in 0..<50 {
            let (n, h, w, c) = (
                Int.random(in: 1...2, using: &random), Int.random(in: 1...6, using: &random),
                Int.random(in: 1...6, using: &random), Int.random(in: 1...19, using: &random)
            )
            let s = Int.random(in: 1...4, using: &random)
            let input = (0..<(n * h * w * s * s * c)).map { _ in Int8.random(in: -128...127, using: &random) }
            var output = [Int8](repeating: 0, count: input.count), expected = output
            DepthToSpace.run(input, batch: n, height: h, width: w, channels: c, blockSize: s, output: &output)
            for b in 0..<n {
                for y in 0..<h {
                    for x in 0..<w {
                        for k in 0..<(s * s * c) {
                            let (i, j, ch) = (k / (s * c), k / c % s, k % c)
                            expected[((b * h * s + y * s + i) * w * s + x * s + j) * c + ch] =
                                input[((b * h + y) * w + x) * s * s * c + k]
                        }
                    }
                }
            }
            #expect(output == expected)
        }
    }

    /// The parity fixture (k2 s2 with BatchNorm, k4 s2 p1, k3 s2 with output padding in 2 groups, k3
    /// s1 dilated, k4 s4 depthwise; k2 s2 into a sigmoid): the BatchNorm folds into the lowered
    /// convolution, each other strided layer becomes one zero insertion, and int8 follows float.
    @Test func quantizedHeadFollowsTheFloatOne() throws {
        let (graph, result) = try Fixtures.quantizedOnRandomInputs("transposed_head", seed: 14)
        var prepared = graph
        try prepared.prepare()
        #expect(!prepared.nodes.contains { $0.op.name == "BatchNormalization" || $0.op.name == "ConvTranspose" })
        // The two k2 s2 layers multiply no zeros: a 1×1 convolution to their four taps' channels,
        // then a depth-to-space (the first one's BatchNorm and ReLU fold into the convolution).
        #expect(result.model.ops.filter { $0.kind == .insertZeros }.count == 3)
        #expect(result.model.ops.filter { $0.kind == .depthToSpace }.count == 2)
        let probability = try #require(result.comparison.outputSQNRs.last)
        #expect(probability.sqnr > 30, "\(probability.name): \(probability.sqnr) dB")
        #expect(result.outputSQNR > 30, "output SQNR \(result.outputSQNR) dB")
    }

    /// A k2 s2 ConvTranspose becomes a 1×1 convolution and a depth-to-space; its bias as a separate
    /// Add (as Paddle exports it), a BatchNorm and a ReLU after it move before the depth-to-space
    /// and fold into the convolution. The values are the transposed convolution's by its definition.
    @Test func subPixelFormFoldsWhatFollowsAndMatchesTheDefinition() throws {
        var random = SeededRandom(seed: 19)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &random) } }
        let (w, bias, gamma) = (values(60), values(5), values(5).map { $0 + 2 })
        let nodes = [
            Node(
                name: "up",
                op: .convTranspose(window: Window(kernel: [2, 2], strides: [2, 2]), group: 1, outputPadding: [0, 0]),
                inputs: ["x", "w"], outputs: ["t"]),
            Node(name: "bias", op: .add, inputs: ["t", "b"], outputs: ["u"]),
            Node(name: "bn", op: .batchNorm(epsilon: 0), inputs: ["u", "g", "z", "z", "one"], outputs: ["v"]),
            Node(name: "relu", op: .clip(.relu), inputs: ["v"], outputs: ["y"]),
        ]
        var graph = Graph(
            name: "t", inputs: [("x", [1, 3, 4, 6])], outputs: ["y"], nodes: nodes,
            initializers: [
                "w": Tensor(shape: [3, 5, 2, 2], floats: w), "b": Tensor(shape: [1, 5, 1, 1], floats: bias),
                "g": Tensor(shape: [5], floats: gamma), "z": Tensor(shape: [5], floats: Array(repeating: 0, count: 5)),
                "one": Tensor(shape: [5], floats: Array(repeating: 1, count: 5)),
            ], opset: 17)
        try graph.prepare()
        #expect(graph.nodes.map(\.op.name) == ["Conv", "DepthToSpace"])
        let x = values(72)
        let y = try #require(try FloatExecutor(graph: graph).run(["x": Tensor(shape: [1, 3, 4, 6], floats: x)])["y"])
        #expect(y.shape == [1, 5, 8, 12])
        var largest: Float = 0
        for o in 0..<5 {
            for oy in 0..<8 {
                for ox in 0..<12 {
                    var sum = bias[o]
                    for c in 0..<3 {
                        sum += x[(c * 4 + oy / 2) * 6 + ox / 2] * w[((c * 5 + o) * 2 + oy % 2) * 2 + ox % 2]
                    }
                    let expected = max(0, sum * gamma[o])
                    largest = max(largest, abs(y.floats[(o * 8 + oy) * 12 + ox] - expected))
                }
            }
        }
        #expect(largest < 1e-5, "largest difference \(largest)")
    }

    @Test func padsBeyondTheKernelAreRefused() throws {
        let node = Node(
            name: "up",
            op: .convTranspose(
                window: Window(kernel: [2, 2], strides: [2, 2], pads: [2, 0, 0, 0]),
                group: 1, outputPadding: [0, 0]), inputs: ["x", "w"], outputs: ["y"])
        var graph = Graph(
            name: "t", inputs: [("x", [1, 2, 4, 4])], outputs: ["y"], nodes: [node],
            initializers: ["w": Tensor(shape: [2, 3, 2, 2], floats: Array(repeating: 0.5, count: 24))], opset: 17)
        let error = #expect(throws: CNNQError.self) { try graph.prepare() }
        #expect("\(error.map { "\($0)" } ?? "")".contains("beyond the dilated kernel"))
    }
}
