import CNNQKernels
import CNNQRuntime
import CNNQTestSupport
import CNNQuant
import Testing

/// The fused, row-streamed inverted-residual block against the reference kernels on whole tensors,
/// bit for bit, at every instruction-set level this machine runs and with 1 and 2 threads.
@Suite struct InvertedResidualTests {
    struct Case: CustomStringConvertible, Sendable {
        var height: Int, width: Int, inputChannels: Int, expanded: Int, outputChannels: Int
        var kernel: Int, stride: Int, dilation = 1
        /// 0: no expand; 1: a 1×1 expand; 3: a 3×3 stride-2 convolution playing the expand role.
        var expandKernel = 1
        var tables = false, project = true
        var description: String {
            "\(height)×\(width) \(inputChannels)→\(expanded)→\(outputChannels) expand \(expandKernel) k\(kernel) s\(stride)"
                + " d\(dilation)\(tables ? " tables" : "")\(project ? "" : " no project")"
        }
    }

    static let cases: [Case] = [
        // V2, stride 2
        Case(height: 9, width: 9, inputChannels: 16, expanded: 96, outputChannels: 24, kernel: 3, stride: 2),
        // V2's last blocks: 7 rows, the ring holds all of them: two threads expand them once, then
        // split the output rows 4 and 3 (so do blocks whose two rings hold every row)
        Case(height: 7, width: 7, inputChannels: 32, expanded: 192, outputChannels: 32, kernel: 3, stride: 1),
        Case(height: 7, width: 7, inputChannels: 32, expanded: 192, outputChannels: 64, kernel: 3, stride: 1),
        // V2 with residual, taller than one band, two rings holding 16 of its 20 rows (split by rows)
        Case(height: 20, width: 8, inputChannels: 24, expanded: 144, outputChannels: 24, kernel: 3, stride: 1),
        // V2 block 1: no expand
        Case(
            height: 7, width: 7, inputChannels: 32, expanded: 32, outputChannels: 16, kernel: 3, stride: 1,
            expandKernel: 0),
        // V2 stem + block 1: the stem plays the expand role; at 7×5 every row in the ring, its pixels
        // split between threads mid-row; at 17×16 two rings hold 8 of 17 rows (split by rows)
        Case(
            height: 13, width: 9, inputChannels: 3, expanded: 32, outputChannels: 16, kernel: 3, stride: 1,
            expandKernel: 3),
        Case(
            height: 33, width: 31, inputChannels: 3, expanded: 32, outputChannels: 16, kernel: 3, stride: 1,
            expandKernel: 3),
        // V3 with h-swish tables, 5×5, residual
        Case(
            height: 10, width: 10, inputChannels: 40, expanded: 120, outputChannels: 40, kernel: 5, stride: 1,
            tables: true),
        // V3 at 7×7 with tables and residual, 120 channels: the band copied into the GEMM rows, after
        // two threads expanded every row once
        Case(
            height: 7, width: 7, inputChannels: 40, expanded: 120, outputChannels: 40, kernel: 3, stride: 1,
            tables: true),
        // V3 SE blocks: stop after the depthwise; at 7×7 every row in one ring, at 28×12 not in two
        Case(
            height: 7, width: 7, inputChannels: 40, expanded: 120, outputChannels: 120, kernel: 5, stride: 1,
            tables: true, project: false),
        Case(
            height: 28, width: 12, inputChannels: 40, expanded: 120, outputChannels: 120, kernel: 5, stride: 1,
            tables: true, project: false),
        Case(
            height: 11, width: 12, inputChannels: 24, expanded: 96, outputChannels: 96, kernel: 5, stride: 2,
            tables: true, project: false),
        // odd channels, dilation
        Case(
            height: 9, width: 6, inputChannels: 7, expanded: 19, outputChannels: 7, kernel: 3, stride: 1, dilation: 2),
        // 1×1 input
        Case(height: 1, width: 1, inputChannels: 17, expanded: 33, outputChannels: 9, kernel: 5, stride: 2),
    ]

    /// Every level's kernels, then each level's depthwise before every other level's GEMM kernel: the
    /// band the projection reads in place holds x + 128 for a GEMM of unsigned rows, which AVX-VNNI
    /// has after AVX2's depthwise, a pair a machine without AVX-VNNI runs only so.
    static var kernelSets: [(String, LevelKernels)] {
        let levels = InstructionSet.available
        return levels.map { ("\($0)", $0.kernels) }
            + levels.flatMap { d in
                levels.filter { $0 != d }.map { g in
                    ("\(d) depthwise, \(g) GEMM", LevelKernels(gemm: g.gemm, depthwise: d.depthwise, lookup: d.lookup))
                }
            }
    }

    @Test(arguments: cases)
    func fusedMatchesUnfused(c: Case) {
        var random = SeededRandom(seed: UInt64(c.height * 7919 + c.expanded + c.expandKernel))
        let x = random.int8s(c.height * c.width * c.inputChannels)
        let zx = random.zeroPoint()
        let expandShape = ConvolutionShape(
            inputHeight: c.height, inputWidth: c.width, inputChannels: c.inputChannels, outputChannels: c.expanded,
            kernelHeight: max(1, c.expandKernel), kernelWidth: max(1, c.expandKernel),
            strideHeight: c.expandKernel == 3 ? 2 : 1, strideWidth: c.expandKernel == 3 ? 2 : 1,
            padTop: c.expandKernel / 2, padLeft: c.expandKernel / 2, padBottom: c.expandKernel / 2,
            padRight: c.expandKernel / 2)
        let (dh, dw) = c.expandKernel == 0 ? (c.height, c.width) : (expandShape.outputHeight, expandShape.outputWidth)
        let pad = c.kernel / 2 * c.dilation
        let dwShape = ConvolutionShape(
            inputHeight: dh, inputWidth: dw, inputChannels: c.expanded, outputChannels: c.expanded,
            kernelHeight: c.kernel, kernelWidth: c.kernel, strideHeight: c.stride, strideWidth: c.stride,
            dilationHeight: c.dilation, dilationWidth: c.dilation, padTop: pad, padLeft: pad, padBottom: pad,
            padRight: pad, groups: c.expanded)
        let projectShape = ConvolutionShape(
            inputHeight: dwShape.outputHeight, inputWidth: dwShape.outputWidth, inputChannels: c.expanded,
            outputChannels: c.outputChannels, kernelHeight: 1, kernelWidth: 1)
        func bias(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32.random(in: -3000...3000, using: &random) } }
        let we = random.weights(c.expanded * expandShape.kernelHeight * expandShape.kernelWidth * c.inputChannels)
        let be = bias(c.expanded)
        let wd = random.weights(c.expanded * c.kernel * c.kernel), bd = bias(c.expanded)
        let wp = random.weights(c.outputChannels * c.expanded), bp = bias(c.outputChannels)
        let stageE = StageStorage(channels: c.expanded, depth: expandShape.weightCount / c.expanded, random: &random)
        let stageD = StageStorage(channels: c.expanded, depth: c.kernel * c.kernel, random: &random)
        let stageP = StageStorage(channels: c.outputChannels, depth: c.expanded, random: &random)
        let tableE = random.int8s(256), tableD = random.int8s(256)
        let residual =
            c.project && c.stride == 1 && c.expandKernel != 3 && c.inputChannels == c.outputChannels
            ? AddParameters(
                inputScales: (0.04, 0.05), inputZeroPoints: (stageP.zeroPoint, zx), outputScale: 0.07,
                outputZeroPoint: random.zeroPoint())
            : nil

        // Reference chain on whole tensors.
        func lookUp(_ v: [Int8], _ table: [Int8]) -> [Int8] { c.tables ? v.map { table[Int($0) + 128] } : v }
        let zExpanded = c.expandKernel == 0 ? zx : c.tables ? Int32(tableE[0]) : stageE.zeroPoint
        let expanded =
            c.expandKernel == 0 ? x : lookUp(referenceConvolution(x, zero: zx, we, be, expandShape, stageE), tableE)
        let zDepthwise = c.tables ? Int32(tableD[0]) : stageD.zeroPoint
        var expected = lookUp(referenceConvolution(expanded, zero: zExpanded, wd, bd, dwShape, stageD), tableD)
        if c.project {
            expected = referenceConvolution(expected, zero: zDepthwise, wp, bp, projectShape, stageP)
        }
        if let residual {
            let projected = expected
            Add.reference(projected, x, count: projected.count, parameters: residual, output: &expected)
        }

        // Fused, from packed weights.
        var pe = [Int8](repeating: 0, count: StandardConvolution.Layout(shape: expandShape).weightCount)
        var qe = [Int32](repeating: 0, count: StandardConvolution.Layout(shape: expandShape).biasCount)
        StandardConvolution.pack(
            weights: we, bias: be, shape: expandShape, inputZeroPoint: zx, packedWeights: &pe, packedBias: &qe)
        var pp = [Int8](
            repeating: 0, count: GEMM.Layout(outputChannels: c.outputChannels, depth: c.expanded).weightCount)
        var qp = [Int32](repeating: 0, count: GEMM.Layout(outputChannels: c.outputChannels, depth: 1).biasCount)
        GEMM.pack(
            weights: wp, bias: bp, outputChannels: c.outputChannels, inputChannels: c.expanded,
            inputZeroPoint: zDepthwise, packedWeights: &pp, packedBias: &qp)
        var pd = [Int8](
            repeating: 0,
            count: Depthwise.Layout(channels: c.expanded, kernelHeight: c.kernel, kernelWidth: c.kernel).weightCount)
        Depthwise.pack(weights: wd, channels: c.expanded, kernelHeight: c.kernel, kernelWidth: c.kernel, packed: &pd)
        for (isa, kernels) in Self.kernelSets {
            let (one, two) = withOneAndTwoThreads { () -> [Int8] in
                var output = [Int8](repeating: 0, count: expected.count)
                stageE.withStage { se in
                    stageD.withStage { sd in
                        stageP.withStage { sp in
                            let block = InvertedResidual(
                                expand: c.expandKernel == 0
                                    ? nil
                                    : .init(
                                        shape: expandShape, packedWeights: pe, packedBias: qe, stage: se,
                                        table: c.tables ? tableE : nil),
                                inputZeroPoint: zx, depthwise: dwShape, depthwiseInputZeroPoint: zExpanded,
                                depthwiseWeights: pd, depthwiseBias: bd, depthwiseStage: sd,
                                depthwiseTable: c.tables ? tableD : nil,
                                project: c.project
                                    ? .init(shape: projectShape, packedWeights: pp, packedBias: qp, stage: sp) : nil,
                                residual: residual)
                            // Two threads' bytes and 64 more that must stay as they are.
                            let size = 2 * block.workspacePerThread!
                            var workspace = [UInt8](repeating: 0xA5, count: size + 64)
                            workspace.withUnsafeMutableBytes {
                                block.run(input: x, workspace: $0.baseAddress!, output: &output, kernels: kernels)
                            }
                            #expect(workspace[size...].allSatisfy { $0 == 0xA5 }, "workspace overrun: \(c)")
                        }
                    }
                }
                return output
            }
            #expect(one == expected, "\(isa): \(c)")
            #expect(two == one, "\(isa): thread count changed the result: \(c)")
        }
    }
}
