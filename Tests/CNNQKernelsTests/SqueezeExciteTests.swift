import CNNQKernels
import CNNQTestSupport
import CNNQuant
import Testing

/// The SE block against the same chain of reference kernels.
@Suite struct SqueezeExciteTests {
    @Test(arguments: [(16, 8, 1), (72, 24, 49), (120, 32, 25), (17, 5, 9), (576, 144, 49), (960, 240, 4)])
    func matchesReferenceChain(channels: Int, squeeze: Int, pixels: Int) {
        var random = SeededRandom(seed: UInt64(channels * 1000 + squeeze))
        let x = random.int8s(pixels * channels)
        let pool = Pooling.AverageParameters(
            inputScale: 0.05, inputZeroPoint: random.zeroPoint(), outputScale: 0.04,
            outputZeroPoint: random.zeroPoint(), pixels: pixels)
        let w1 = random.weights(squeeze * channels), w2 = random.weights(channels * squeeze)
        let b1 = (0..<squeeze).map { _ in Int32.random(in: -3000...3000, using: &random) }
        let b2 = (0..<channels).map { _ in Int32.random(in: -3000...3000, using: &random) }
        let reduce = StageStorage(channels: squeeze, depth: channels, random: &random)
        let expand = StageStorage(channels: channels, depth: squeeze, random: &random)
        var table = [Int8](repeating: 0, count: 256)
        LookupTable.build(
            { min(max($0 / 6 + 0.5, 0), 1) }, inputScale: 0.1, inputZeroPoint: expand.zeroPoint,
            outputScale: 1.0 / 256, outputZeroPoint: -128, table: &table)
        let scale = MultiplyParameters(
            inputScale: 0.05, inputZeroPoint: random.zeroPoint(), gateScale: 1.0 / 256, gateZeroPoint: -128,
            outputScale: 0.05, outputZeroPoint: random.zeroPoint())

        // Reference chain.
        var pooled = [Int8](repeating: 0, count: channels), gate = pooled,
            expected = [Int8](repeating: 0, count: x.count)
        Pooling.globalAverageReference(x, pixels: pixels, channels: channels, parameters: pool, output: &pooled)
        let fc1 = ConvolutionShape(
            inputHeight: 1, inputWidth: 1, inputChannels: channels, outputChannels: squeeze, kernelHeight: 1,
            kernelWidth: 1)
        let fc2 = ConvolutionShape(
            inputHeight: 1, inputWidth: 1, inputChannels: squeeze, outputChannels: channels, kernelHeight: 1,
            kernelWidth: 1)
        let hidden = referenceConvolution(pooled, zero: pool.output.zeroPoint, w1, b1, fc1, reduce)
        let preGate = referenceConvolution(hidden, zero: reduce.zeroPoint, w2, b2, fc2, expand)
        LookupTable.run(table: table, input: preGate, count: channels, output: &gate)
        Multiply.reference(x, gate: gate, pixels: pixels, channels: channels, parameters: scale, output: &expected)

        // The SE kernel.
        var p1 = [Int8](repeating: 0, count: GEMM.Layout(outputChannels: squeeze, depth: channels).weightCount)
        var q1 = [Int32](repeating: 0, count: GEMM.Layout(outputChannels: squeeze, depth: 1).biasCount)
        var p2 = [Int8](repeating: 0, count: GEMM.Layout(outputChannels: channels, depth: squeeze).weightCount)
        var q2 = [Int32](repeating: 0, count: GEMM.Layout(outputChannels: channels, depth: 1).biasCount)
        GEMM.pack(
            weights: w1, bias: b1, outputChannels: squeeze, inputChannels: channels,
            inputZeroPoint: pool.output.zeroPoint,
            packedWeights: &p1, packedBias: &q1)
        GEMM.pack(
            weights: w2, bias: b2, outputChannels: channels, inputChannels: squeeze, inputZeroPoint: reduce.zeroPoint,
            packedWeights: &p2, packedBias: &q2)
        var workspace = [UInt8](repeating: 0, count: SqueezeExcite.workspaceCount(channels: channels, squeeze: squeeze))
        var actual = [Int8](repeating: 0, count: x.count)
        reduce.withStage { reduceStage in
            expand.withStage { expandStage in
                let se = SqueezeExcite(
                    channels: channels, squeeze: squeeze, pool: pool, reduceWeights: p1, reduceBias: q1,
                    reduceStage: reduceStage,
                    expandWeights: p2, expandBias: q2, expandStage: expandStage, gateTable: table, scale: scale)
                workspace.withUnsafeMutableBytes {
                    se.run(x, pixels: pixels, workspace: $0.baseAddress!, output: &actual)
                }
            }
        }
        #expect(actual == expected)
    }
}
