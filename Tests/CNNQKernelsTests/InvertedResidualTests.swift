import CNNQKernels
import CNNQTestSupport
import CNNQuant
import Testing

/// The fused, row-streamed inverted-residual block against the unfused reference kernels on whole
/// tensors, bit for bit.
@Suite struct InvertedResidualTests {
    struct Case: CustomStringConvertible, Sendable {
        var size: Int, inputChannels: Int, expanded: Int, outputChannels: Int, kernel: Int, stride: Int, se: Bool
        var expands: Bool { expanded != inputChannels }
        var description: String {
            "\(size)² \(inputChannels)→\(expanded)→\(outputChannels) k\(kernel) s\(stride)\(se ? " SE" : "")"
        }
    }

    static let cases: [Case] = [
        // V2, stride 2
        Case(size: 9, inputChannels: 16, expanded: 96, outputChannels: 24, kernel: 3, stride: 2, se: false),
        // V2 with residual
        Case(size: 8, inputChannels: 24, expanded: 144, outputChannels: 24, kernel: 3, stride: 1, se: false),
        // V2 block 1 (no expand)
        Case(size: 7, inputChannels: 32, expanded: 32, outputChannels: 16, kernel: 3, stride: 1, se: false),
        // V3 with SE and residual
        Case(size: 10, inputChannels: 40, expanded: 120, outputChannels: 40, kernel: 5, stride: 1, se: true),
        // V3 stride 2 with SE
        Case(size: 11, inputChannels: 24, expanded: 96, outputChannels: 40, kernel: 5, stride: 2, se: true),
        // V3-Small block 1
        Case(size: 6, inputChannels: 16, expanded: 16, outputChannels: 16, kernel: 3, stride: 2, se: true),
        // odd channels
        Case(size: 5, inputChannels: 7, expanded: 19, outputChannels: 7, kernel: 3, stride: 1, se: false),
        // 1×1 input
        Case(size: 1, inputChannels: 17, expanded: 33, outputChannels: 9, kernel: 5, stride: 2, se: true),
    ]

    @Test(arguments: cases)
    func fusedMatchesUnfused(c: Case) {
        var random = SeededRandom(seed: UInt64(c.size * 7919 + c.expanded))
        let pad = c.kernel / 2
        let x = random.int8s(c.size * c.size * c.inputChannels)
        let zx = random.zeroPoint()
        let pointwiseShape = { (size: Int, cin: Int, cout: Int) in
            ConvolutionShape(
                inputHeight: size, inputWidth: size, inputChannels: cin, outputChannels: cout, kernelHeight: 1,
                kernelWidth: 1)
        }
        let dwShape = ConvolutionShape(
            inputHeight: c.size, inputWidth: c.size, inputChannels: c.expanded, outputChannels: c.expanded,
            kernelHeight: c.kernel, kernelWidth: c.kernel, strideHeight: c.stride, strideWidth: c.stride,
            padTop: pad, padLeft: pad, padBottom: pad, padRight: pad, groups: c.expanded)
        let outSize = dwShape.outputHeight

        let we = random.weights(c.expanded * c.inputChannels),
            be = (0..<c.expanded).map { _ in Int32.random(in: -3000...3000, using: &random) }
        let wd = random.weights(c.expanded * c.kernel * c.kernel),
            bd = (0..<c.expanded).map { _ in Int32.random(in: -3000...3000, using: &random) }
        let wp = random.weights(c.outputChannels * c.expanded),
            bp = (0..<c.outputChannels).map { _ in Int32.random(in: -3000...3000, using: &random) }
        let stageE = StageStorage(channels: c.expanded, depth: c.inputChannels, random: &random)
        let stageD = StageStorage(channels: c.expanded, depth: c.kernel * c.kernel, random: &random)
        let stageP = StageStorage(channels: c.outputChannels, depth: c.expanded, random: &random)
        let zExpanded = c.expands ? stageE.zeroPoint : zx
        let residual =
            c.stride == 1 && c.inputChannels == c.outputChannels
            ? AddParameters(
                inputScales: (0.04, 0.05), inputZeroPoints: (stageP.zeroPoint, zx), outputScale: 0.07,
                outputZeroPoint: random.zeroPoint())
            : nil

        // SE parameters, shared by both paths (the SE kernel has its own reference test).
        let squeeze = max(8, c.expanded / 4)
        let pool = Pooling.AverageParameters(
            inputScale: 0.05, inputZeroPoint: stageD.zeroPoint, outputScale: 0.04, outputZeroPoint: random.zeroPoint(),
            pixels: outSize * outSize)
        let w1 = random.weights(squeeze * c.expanded), w2 = random.weights(c.expanded * squeeze)
        let b1 = (0..<squeeze).map { _ in Int32.random(in: -3000...3000, using: &random) },
            b2 = (0..<c.expanded).map { _ in Int32.random(in: -3000...3000, using: &random) }
        let reduce = StageStorage(channels: squeeze, depth: c.expanded, random: &random)
        let excite = StageStorage(channels: c.expanded, depth: squeeze, random: &random)
        var table = [Int8](repeating: 0, count: 256)
        LookupTable.build(
            { min(max($0 / 6 + 0.5, 0), 1) }, inputScale: 0.1, inputZeroPoint: excite.zeroPoint, outputScale: 1.0 / 256,
            outputZeroPoint: -128, table: &table)
        let scale = MultiplyParameters(
            inputScale: 0.05, inputZeroPoint: stageD.zeroPoint, gateScale: 1.0 / 256, gateZeroPoint: -128,
            outputScale: 0.05, outputZeroPoint: random.zeroPoint())
        let zProjectInput = c.se ? scale.output.zeroPoint : stageD.zeroPoint
        let (p1, q1) = packPointwise(w1, b1, n: squeeze, k: c.expanded, zero: pool.output.zeroPoint)
        let (p2, q2) = packPointwise(w2, b2, n: c.expanded, k: squeeze, zero: reduce.zeroPoint)
        func withSE<R>(_ body: (SqueezeExcite?) -> R) -> R {
            guard c.se else { return body(nil) }
            return reduce.withStage { r in
                excite.withStage { e in
                    body(
                        SqueezeExcite(
                            channels: c.expanded, squeeze: squeeze, pool: pool, reduceWeights: p1, reduceBias: q1,
                            reduceStage: r,
                            expandWeights: p2, expandBias: q2, expandStage: e, gateTable: table, scale: scale))
                }
            }
        }

        // Unfused reference chain on whole tensors.
        let expanded =
            c.expands
            ? referenceConvolution(x, zero: zx, we, be, pointwiseShape(c.size, c.inputChannels, c.expanded), stageE) : x
        var dw = referenceConvolution(expanded, zero: zExpanded, wd, bd, dwShape, stageD)
        if c.se {
            var seWorkspace = [UInt8](
                repeating: 0, count: SqueezeExcite.workspaceCount(channels: c.expanded, squeeze: squeeze))
            let source = dw
            withSE { se in
                seWorkspace.withUnsafeMutableBytes {
                    se!.run(source, pixels: outSize * outSize, workspace: $0.baseAddress!, output: &dw)
                }
            }
        }
        var expected = referenceConvolution(
            dw, zero: zProjectInput, wp, bp, pointwiseShape(outSize, c.expanded, c.outputChannels), stageP)
        if let residual {
            let projected = expected
            Add.reference(projected, x, count: projected.count, parameters: residual, output: &expected)
        }

        // Fused.
        let (pe, qe) = packPointwise(we, be, n: c.expanded, k: c.inputChannels, zero: zx)
        let (pp, qp) = packPointwise(wp, bp, n: c.outputChannels, k: c.expanded, zero: zProjectInput)
        var pd = [Int8](
            repeating: 0,
            count: Depthwise.Layout(channels: c.expanded, kernelHeight: c.kernel, kernelWidth: c.kernel).weightCount)
        Depthwise.pack(weights: wd, channels: c.expanded, kernelHeight: c.kernel, kernelWidth: c.kernel, packed: &pd)
        let (one, two) = withOneAndTwoThreads { () -> [Int8] in
            var output = [Int8](repeating: 0, count: expected.count)
            stageE.withStage { se in
                stageD.withStage { sd in
                    stageP.withStage { sp in
                        withSE { squeezeExcite in
                            let block = InvertedResidual(
                                depthwise: dwShape, inputChannels: c.inputChannels, outputChannels: c.outputChannels,
                                expand: c.expands ? .init(packedWeights: pe, packedBias: qe, stage: se) : nil,
                                expandedZeroPoint: zExpanded,
                                depthwiseWeights: pd, depthwiseBias: bd, depthwiseStage: sd,
                                squeezeExcite: squeezeExcite,
                                project: .init(packedWeights: pp, packedBias: qp, stage: sp), residual: residual)
                            var workspace = [UInt8](repeating: 0xA5, count: block.workspaceCount(threads: 2))
                            workspace.withUnsafeMutableBytes {
                                block.run(input: x, workspace: $0.baseAddress!, output: &output)
                            }
                        }
                    }
                }
            }
            return output
        }
        #expect(one == expected, "\(c)")
        #expect(two == one, "thread count changed the result: \(c)")
    }

    func packPointwise(_ w: [Int8], _ b: [Int32], n: Int, k: Int, zero: Int32) -> ([Int8], [Int32]) {
        var packed = [Int8](repeating: 0, count: GEMM.Layout(outputChannels: n, depth: k).weightCount)
        var bias = [Int32](repeating: 0, count: GEMM.Layout(outputChannels: n, depth: 1).biasCount)
        GEMM.pack(
            weights: w, bias: b, outputChannels: n, inputChannels: k, inputZeroPoint: zero, packedWeights: &packed,
            packedBias: &bias)
        return (packed, bias)
    }
}
