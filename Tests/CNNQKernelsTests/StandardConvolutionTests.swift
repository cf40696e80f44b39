import CNNQKernels
import CNNQRuntime
import CNNQTestSupport
import CNNQuant
import Testing

/// The im2col + GEMM convolution against the reference, bit for bit, with the GEMM kernel of every
/// instruction-set level this machine runs.
@Suite struct StandardConvolutionTests {
    static func check(_ shape: ConvolutionShape, seed: UInt64) {
        guard shape.outputHeight >= 1, shape.outputWidth >= 1 else { return }
        var random = SeededRandom(seed: seed)
        let zero = random.zeroPoint()
        let input = random.int8s(shape.inputCount)
        let weights = random.weights(shape.weightCount)
        let bias = (0..<shape.outputChannels).map { _ in Int32.random(in: -20_000...20_000, using: &random) }
        let k = shape.kernelHeight * shape.kernelWidth * shape.inputChannels / shape.groups
        let stage = StageStorage(channels: shape.outputChannels, depth: k, random: &random)
        let expected = referenceConvolution(input, zero: zero, weights, bias, shape, stage)

        var packedWeights = [Int8](repeating: 0, count: StandardConvolution.Layout(shape: shape).weightCount)
        let slots = StandardConvolution.Layout(shape: shape).channelSlots
        var packedBias = [Int32](repeating: 0, count: StandardConvolution.Layout(shape: shape).biasCount)
        StandardConvolution.pack(
            weights: weights, bias: bias, shape: shape, inputZeroPoint: zero, packedWeights: &packedWeights,
            packedBias: &packedBias)
        // The kernel reads multipliers and shifts in the per-group padded layout the model file holds.
        let slotted = StageStorage(stage, count: slots) { StandardConvolution.Layout(shape: shape).channelSlot($0) }
        var workspace = [Int8](
            repeating: 0, count: StandardConvolution.Layout(shape: shape).group.workspaceCount(threads: 2))
        for isa in InstructionSet.available {
            let (one, two) = withOneAndTwoThreads { () -> [Int8] in
                var output = [Int8](repeating: 0, count: shape.outputCount)
                slotted.withStage { stage in
                    StandardConvolution.run(
                        input: input, inputZeroPoint: zero, packedWeights: packedWeights, packedBias: packedBias,
                        shape: shape, stage: stage, kernel: isa.gemm, workspace: &workspace, output: &output)
                }
                return output
            }
            #expect(one == expected, "\(isa): \(shape) zero \(zero) seed \(seed)")
            #expect(two == one, "\(isa): thread count changed the result")
        }
    }

    @Test(arguments: [8, 16, 24, 32, 40])
    func mobileNetStem(channels: Int) {
        // 3×3 stride 2 over RGB with "same" padding, at odd and even sizes.
        for size in [1, 2, 7, 32, 33] {
            Self.check(
                ConvolutionShape(
                    inputHeight: size, inputWidth: size, inputChannels: 3, outputChannels: channels,
                    kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                    padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), seed: UInt64(channels * 100 + size))
        }
    }

    /// Grouped convolutions: RegNet's 3×3 groups of 8 and 16 at strides 1 and 2, and random group
    /// counts, widths (odd ones included) and geometries, depthwise with a channel multiplier among them.
    @Test func grouped() {
        for (channels, groupWidth, stride) in [(24, 8, 1), (48, 8, 2), (64, 16, 1), (56, 8, 2), (40, 8, 1)] {
            Self.check(
                ConvolutionShape(
                    inputHeight: 9, inputWidth: 8, inputChannels: channels, outputChannels: channels,
                    kernelHeight: 3, kernelWidth: 3, strideHeight: stride, strideWidth: stride,
                    padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: channels / groupWidth),
                seed: UInt64(channels * 10 + stride))
        }
        var random = SeededRandom(seed: 77)
        for index in 0..<60 {
            let groups = Int.random(in: 1...6, using: &random)
            let k = Int.random(in: 1...5, using: &random), stride = Int.random(in: 1...2, using: &random)
            let pad = Int.random(in: 0..<k, using: &random)
            Self.check(
                ConvolutionShape(
                    inputHeight: Int.random(in: 1...12, using: &random),
                    inputWidth: Int.random(in: 1...12, using: &random),
                    inputChannels: groups * Int.random(in: 1...9, using: &random),
                    outputChannels: groups * Int.random(in: 1...21, using: &random),
                    kernelHeight: k, kernelWidth: k, strideHeight: stride, strideWidth: stride,
                    padTop: pad, padLeft: pad, padBottom: pad, padRight: pad, groups: groups),
                seed: UInt64(5000 + index))
        }
    }

    @Test func randomGeometries() {
        var random = SeededRandom(seed: 21)
        for index in 0..<80 {
            let kh = Int.random(in: 1...7, using: &random), kw = Int.random(in: 1...7, using: &random)
            let stride = Int.random(in: 1...4, using: &random), dilation = Int.random(in: 1...2, using: &random)
            let pads = (0..<4).map { _ in Int.random(in: 0..<max(kh, kw), using: &random) }
            Self.check(
                ConvolutionShape(
                    inputHeight: Int.random(in: 1...20, using: &random),
                    inputWidth: Int.random(in: 1...20, using: &random),
                    inputChannels: Int.random(in: 1...20, using: &random),
                    outputChannels: Int.random(in: 1...67, using: &random),
                    kernelHeight: kh, kernelWidth: kw, strideHeight: stride, strideWidth: stride,
                    dilationHeight: dilation, dilationWidth: dilation,
                    padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3]),
                seed: UInt64(3000 + index))
        }
    }
}
