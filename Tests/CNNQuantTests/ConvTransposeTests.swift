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

    /// The parity fixture (k2 s2 with BatchNorm, k4 s2 p1, k3 s2 with output padding in 2 groups, k3
    /// s1 dilated, k4 s4 depthwise): the BatchNorm folds into the lowered convolution, each strided
    /// layer becomes one zero insertion, and int8 follows float.
    @Test func quantizedHeadFollowsTheFloatOne() throws {
        let (graph, result) = try Fixtures.quantizedOnRandomInputs("transposed_head", seed: 14)
        var prepared = graph
        try prepared.prepare()
        #expect(!prepared.nodes.contains { $0.op.name == "BatchNormalization" || $0.op.name == "ConvTranspose" })
        #expect(result.model.ops.filter { $0.kind == .insertZeros }.count == 4)
        #expect(result.outputSQNR > 30, "output SQNR \(result.outputSQNR) dB")
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
