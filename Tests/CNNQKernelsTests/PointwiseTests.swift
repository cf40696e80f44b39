import CNNQKernels
import CNNQRuntime
import CNNQTestSupport
import CNNQuant
import Testing

/// The packed pointwise GEMM against the reference convolution, bit for bit, with the GEMM kernel of
/// every instruction-set level this machine runs (the lower ones forced).
@Suite struct PointwiseTests {
    static func check(pixels: Int, k: Int, n: Int, seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let zero = random.zeroPoint()
        let input = random.int8s(pixels * k)
        let weights = random.weights(n * k)
        let bias = (0..<n).map { _ in Int32.random(in: -20_000...20_000, using: &random) }
        let stage = StageStorage(channels: n, depth: k, random: &random)
        let shape = ConvolutionShape(
            inputHeight: 1, inputWidth: pixels, inputChannels: k, outputChannels: n, kernelHeight: 1, kernelWidth: 1)
        let expected = referenceConvolution(input, zero: zero, weights, bias, shape, stage)

        var packedWeights = [Int8](repeating: 0, count: GEMM.Layout(outputChannels: n, depth: k).weightCount)
        var packedBias = [Int32](repeating: 0, count: GEMM.Layout(outputChannels: n, depth: 1).biasCount)
        GEMM.pack(
            weights: weights, bias: bias, outputChannels: n, inputChannels: k, inputZeroPoint: zero,
            packedWeights: &packedWeights, packedBias: &packedBias)
        var workspace = [Int8](repeating: 0, count: GEMM.workspaceCount(depth: k, threads: 2))
        for isa in InstructionSet.available {
            let (one, two) = withOneAndTwoThreads { () -> [Int8] in
                var output = [Int8](repeating: 0, count: pixels * n)
                stage.withStage { stage in
                    Pointwise.run(
                        input: input, pixels: pixels, inputChannels: k, packedWeights: packedWeights,
                        packedBias: packedBias, outputChannels: n, stage: stage, kernel: isa.gemm,
                        workspace: &workspace, output: &output)
                }
                return output
            }
            #expect(one == expected, "\(isa): pixels \(pixels), k \(k), n \(n), zero point \(zero), seed \(seed)")
            #expect(two == one, "\(isa): thread count changed the result: pixels \(pixels), k \(k), n \(n)")
        }
    }

    @Test(arguments: 1...67)
    func oddAndEvenChannelCounts(k: Int) {
        for n in [1, 7, 16, 17, 33, 67] {
            Self.check(pixels: (k * 7 + n) % 33 + 1, k: k, n: n, seed: UInt64(k * 100 + n))
        }
    }

    @Test func everyMobileNetWidth() {
        let counts = mobileNetChannelCounts
        for (index, n) in counts.enumerated() {
            let k = counts[(index * 7 + 3) % counts.count]
            Self.check(pixels: 1 + index % 20, k: k, n: n, seed: UInt64(10_000 + index))
        }
    }

    @Test func largeLayer() {
        // A V2 expand layer of 14×14 pixels, V2's head (7×7: 7 tiles of 8, so two threads take
        // channel blocks), and a fully connected layer (one pixel).
        Self.check(pixels: 196, k: 64, n: 384, seed: 77)
        Self.check(pixels: 49, k: 320, n: 1280, seed: 79)
        Self.check(pixels: 1, k: 1280, n: 1000, seed: 78)
    }
}
