import CNNQKernels
import CNNQRuntime
import CNNQTestSupport
import CNNQuant
import Testing

/// The depthwise kernels (specialised 3×3/5×5 and generic) against the reference convolution, with the
/// row bodies of every instruction-set level this machine runs.
@Suite struct DepthwiseTests {
    static func check(
        channels c: Int, height h: Int, width w: Int, kernel: Int, stride: Int, dilation: Int = 1,
        pads: (Int, Int, Int, Int), seed: UInt64
    ) {
        var random = SeededRandom(seed: seed)
        let shape = ConvolutionShape(
            inputHeight: h, inputWidth: w, inputChannels: c, outputChannels: c,
            kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
            dilationHeight: dilation, dilationWidth: dilation,
            padTop: pads.0, padLeft: pads.1, padBottom: pads.2, padRight: pads.3, groups: c)
        guard shape.outputHeight >= 1, shape.outputWidth >= 1 else { return }
        let zero = random.zeroPoint()
        let input = random.int8s(shape.inputCount)
        let weights = random.weights(shape.weightCount)
        let bias = (0..<c).map { _ in Int32.random(in: -5_000...5_000, using: &random) }
        let stage = StageStorage(channels: c, depth: kernel * kernel, random: &random)
        let expected = referenceConvolution(input, zero: zero, weights, bias, shape, stage)

        var packed = [Int8](
            repeating: 0, count: Depthwise.Layout(channels: c, kernelHeight: kernel, kernelWidth: kernel).weightCount)
        Depthwise.pack(weights: weights, channels: c, kernelHeight: kernel, kernelWidth: kernel, packed: &packed)
        for isa in InstructionSet.available {
            let (one, two) = withOneAndTwoThreads { () -> [Int8] in
                var output = [Int8](repeating: 0, count: shape.outputCount)
                stage.withStage { stage in
                    Depthwise.run(
                        input: input, inputZeroPoint: zero, packedWeights: packed, bias: bias, shape: shape,
                        stage: stage, output: &output, kernel: isa.depthwise)
                }
                return output
            }
            // The first difference, not the arrays (the expectation's operands would be printed whole).
            let differs = (0..<expected.count).first { one[$0] != expected[$0] }
            #expect(
                differs == nil,
                "\(isa): c \(c) \(h)×\(w) k\(kernel) s\(stride) d\(dilation) pads \(pads) zero \(zero) seed \(seed)")
            let threadsDiffer = two != one
            #expect(!threadsDiffer, "\(isa): thread count changed the result")
        }
    }

    @Test(arguments: [3, 5], [1, 2])
    func specialisedKernels(kernel: Int, stride: Int) {
        var random = SeededRandom(seed: UInt64(kernel * 10 + stride))
        for c in 1...67 {
            let h = Int.random(in: 1...33, using: &random), w = Int.random(in: 1...33, using: &random)
            let p = kernel / 2
            // Symmetric "same" padding most of the time, otherwise any padding up to the kernel size.
            let pads =
                c % 3 == 0
                ? (
                    Int.random(in: 0..<kernel, using: &random), Int.random(in: 0..<kernel, using: &random),
                    Int.random(in: 0..<kernel, using: &random), Int.random(in: 0..<kernel, using: &random)
                )
                : (p, p, p, p)
            Self.check(channels: c, height: h, width: w, kernel: kernel, stride: stride, pads: pads, seed: UInt64(c))
        }
    }

    @Test func genericGeometries() {
        var random = SeededRandom(seed: 99)
        for index in 0..<60 {
            let kernel = Int.random(in: 1...7, using: &random)
            let dilation = Int.random(in: 1...2, using: &random)
            let stride = Int.random(in: 1...3, using: &random)
            let pad = Int.random(in: 0...kernel, using: &random)
            Self.check(
                channels: Int.random(in: 1...40, using: &random), height: Int.random(in: 1...20, using: &random),
                width: Int.random(in: 1...20, using: &random), kernel: kernel, stride: stride, dilation: dilation,
                pads: (pad, pad, pad, pad), seed: UInt64(500 + index))
        }
    }

    @Test func everyMobileNetWidth() {
        for (index, c) in mobileNetChannelCounts.enumerated() {
            Self.check(
                channels: c, height: 7 + index % 5, width: 9 - index % 4, kernel: index % 2 == 0 ? 3 : 5,
                stride: 1 + index % 2, pads: index % 2 == 0 ? (1, 1, 1, 1) : (2, 2, 2, 2), seed: UInt64(2000 + index))
        }
    }
}
