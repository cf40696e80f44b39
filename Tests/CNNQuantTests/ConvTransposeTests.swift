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
    /// convolution, each strided layer becomes one zero insertion or a depth-to-space, and int8
    /// follows float.
    @Test func quantizedHeadFollowsTheFloatOne() throws {
        let (graph, result) = try Fixtures.quantizedOnRandomInputs("transposed_head", seed: 14)
        var prepared = graph
        try prepared.prepare()
        #expect(!prepared.nodes.contains { $0.op.name == "BatchNormalization" || $0.op.name == "ConvTranspose" })
        #expect(result.model.ops.filter { $0.kind == .insertZeros }.count == 4)
        // The last one (k2 s2, no BatchNorm after it) multiplies no zeros: a 1×1 convolution to its
        // four taps' channels, then a depth-to-space.
        #expect(result.model.ops.filter { $0.kind == .depthToSpace }.count == 1)
        let probability = try #require(result.comparison.outputSQNRs.last)
        #expect(probability.sqnr > 30, "\(probability.name): \(probability.sqnr) dB")
        #expect(result.outputSQNR > 30, "output SQNR \(result.outputSQNR) dB")
    }

    /// A k2 s2 ConvTranspose with its bias as a separate Add (as Paddle exports it) becomes a 1×1
    /// convolution with that bias and a depth-to-space; the same layer with a BatchNorm after it
    /// keeps the zero-insertion form. Both give the same values.
    @Test func subPixelFormAbsorbsTheBiasAndMatchesZeroInsertion() throws {
        var random = SeededRandom(seed: 19)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &random) } }
        let window = Window(kernel: [2, 2], strides: [2, 2])
        let weight = Tensor(shape: [3, 5, 2, 2], floats: values(60))
        let bias = Tensor(shape: [1, 5, 1, 1], floats: values(5))
        func prepared(_ after: Node, _ initializers: [String: Tensor]) throws -> Graph {
            let up = Node(
                name: "up", op: .convTranspose(window: window, group: 1, outputPadding: [0, 0]), inputs: ["x", "w"],
                outputs: ["t"])
            var graph = Graph(
                name: "t", inputs: [("x", [1, 3, 4, 6])], outputs: ["y"], nodes: [up, after],
                initializers: initializers.merging(["w": weight]) { a, _ in a }, opset: 17)
            try graph.prepare()
            return graph
        }
        let added = try prepared(Node(name: "bias", op: .add, inputs: ["t", "b"], outputs: ["y"]), ["b": bias])
        #expect(added.nodes.map(\.op.name) == ["Conv", "DepthToSpace"])
        let ones = Tensor(shape: [5], floats: Array(repeating: 1, count: 5))
        let zeros = Tensor(shape: [5], floats: Array(repeating: 0, count: 5))
        let normalised = try prepared(
            Node(name: "bn", op: .batchNorm(epsilon: 0), inputs: ["t", "g", "b", "m", "v"], outputs: ["y"]),
            ["g": ones, "b": Tensor(shape: [5], floats: bias.floats), "m": zeros, "v": ones])
        #expect(normalised.nodes.map(\.op.name) == ["InsertZeros", "Conv"])
        let x = Tensor(shape: [1, 3, 4, 6], floats: values(72))
        let a = try #require(try FloatExecutor(graph: added).run(["x": x])["y"])
        let b = try #require(try FloatExecutor(graph: normalised).run(["x": x])["y"])
        #expect(a.shape == [1, 5, 8, 12] && a.shape == b.shape)
        #expect(zip(a.floats, b.floats).allSatisfy { abs($0 - $1) < 1e-5 })
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
