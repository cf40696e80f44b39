import CNNQKernels
import CNNQRuntime
import Foundation

/// Times each inverted-residual block of a graph fused (`InvertedResidual`) and as separate kernels
/// with whole intermediate tensors, on the same random data.
public enum BlockBenchmark {
    public struct Block: Sendable {
        public var name: String
        public var expand: ConvolutionShape?
        public var depthwise: ConvolutionShape
        public var project: ConvolutionShape
        public var residual: Bool
        public var macs: Int { (expand?.macs ?? 0) + depthwise.macs + project.macs }
    }

    public struct Result: Sendable {
        public var block: Block
        public var unfused: Double, fused: Double
        /// Bytes of intermediate tensors (expanded, depthwise output) unfused; the fused workspace.
        public var unfusedBytes: Int, fusedBytes: Int
    }

    /// Blocks found in a prepared graph: [1×1 →] depthwise → 1×1 [→ Add with the block input].
    public static func blocks(of graph: Graph) -> [Block] {
        let convolutions = Dictionary(
            KernelBenchmark.shapes(of: graph).map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        let nodes = graph.nodes
        var blocks: [Block] = []
        for (i, node) in nodes.enumerated() {
            guard let dw = convolutions[node.name], dw.isDepthwise, i + 1 < nodes.count,
                let project = convolutions[nodes[i + 1].name], nodes[i + 1].inputs.first == node.outputs[0],
                KernelBenchmark.kernel(for: project) == .pointwise
            else { continue }
            var expand: ConvolutionShape?
            var blockInput = node.inputs[0]
            if i > 0, let e = convolutions[nodes[i - 1].name], nodes[i - 1].outputs[0] == node.inputs[0],
                KernelBenchmark.kernel(for: e) == .pointwise
            {
                expand = e
                blockInput = nodes[i - 1].inputs[0]
            }
            let residual =
                i + 2 < nodes.count && nodes[i + 2].op == .add
                && Set(nodes[i + 2].inputs) == [nodes[i + 1].outputs[0], blockInput]
            blocks.append(
                Block(
                    name: String(node.name.split(separator: ".").first ?? Substring(node.name)),
                    expand: expand, depthwise: dw, project: project, residual: residual))
        }
        return blocks
    }

    /// Both forms with the kernels of `isa`.
    public static func run(_ block: Block, runs: Int, warmup: Int, isa: InstructionSet) -> Result {
        let gemm = isa.gemm
        var random = SeededRandom(seed: UInt64(block.macs))
        let dw = block.depthwise
        let (cin, e, cout) = (
            block.expand?.inputChannels ?? dw.inputChannels, dw.inputChannels, block.project.outputChannels
        )
        let (h, w, oh, ow) = (dw.inputHeight, dw.inputWidth, dw.outputHeight, dw.outputWidth)
        func bytes(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8.random(in: -128...127, using: &random) } }
        func weights(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8.random(in: -127...127, using: &random) } }
        let input = bytes(h * w * cin)
        let we = weights(e * cin), wd = weights(e * dw.kernelHeight * dw.kernelWidth), wp = weights(cout * e)
        let bias = [Int32](repeating: 100, count: max(e, cout))
        let scales = [Float](repeating: 1e-3, count: max(e, cout) + 16)
        var pe = [Int8](repeating: 0, count: GEMM.Layout(outputChannels: e, depth: cin).weightCount)
        var qe = [Int32](repeating: 0, count: GEMM.Layout(outputChannels: e, depth: 1).biasCount)
        var pp = [Int8](repeating: 0, count: GEMM.Layout(outputChannels: cout, depth: e).weightCount)
        var qp = [Int32](repeating: 0, count: GEMM.Layout(outputChannels: cout, depth: 1).biasCount)
        var pd = [Int8](
            repeating: 0,
            count: Depthwise.Layout(channels: e, kernelHeight: dw.kernelHeight, kernelWidth: dw.kernelWidth).weightCount
        )
        GEMM.pack(
            weights: we, bias: bias, outputChannels: e, inputChannels: cin, inputZeroPoint: 3, packedWeights: &pe,
            packedBias: &qe)
        GEMM.pack(
            weights: wp, bias: bias, outputChannels: cout, inputChannels: e, inputZeroPoint: -4, packedWeights: &pp,
            packedBias: &qp)
        Depthwise.pack(
            weights: wd, channels: e, kernelHeight: dw.kernelHeight, kernelWidth: dw.kernelWidth, packed: &pd)
        let add =
            block.residual
            ? AddParameters(inputScales: (0.04, 0.05), inputZeroPoints: (2, 3), outputScale: 0.07, outputZeroPoint: 1)
            : nil
        var expanded = [Int8](repeating: 0, count: h * w * e), depthwiseOut = [Int8](repeating: 0, count: oh * ow * e)
        var output = [Int8](repeating: 0, count: oh * ow * cout)
        var rows = [Int8](repeating: 0, count: GEMM.workspaceCount(depth: max(cin, e), threads: threadCount))
        return scales.withUnsafeBufferPointer { scales in
            let stage = OutputStage(scales: scales.baseAddress!, zeroPoint: -4, lower: -4, upper: 127)
            let unfused = KernelBenchmark.median(runs: runs, warmup: warmup) {
                var source = input
                if block.expand != nil {
                    Pointwise.run(
                        input: input, pixels: h * w, inputChannels: cin, packedWeights: pe, packedBias: qe,
                        outputChannels: e,
                        stage: stage, kernel: gemm, workspace: &rows, output: &expanded)
                    source = expanded
                }
                Depthwise.run(
                    input: source, inputZeroPoint: -4, packedWeights: pd, bias: bias, shape: dw, stage: stage,
                    output: &depthwiseOut, kernel: isa.depthwise)
                Pointwise.run(
                    input: depthwiseOut, pixels: oh * ow, inputChannels: e, packedWeights: pp, packedBias: qp,
                    outputChannels: cout,
                    stage: stage, kernel: gemm, workspace: &rows, output: &output)
                if let add {
                    Add.run(output, input, count: output.count, parameters: add, output: &output, kernel: isa.add)
                }
            }
            let fusedBlock = InvertedResidual(
                expand: block.expand.map {
                    .init(shape: $0, packedWeights: pe, packedBias: qe, stage: stage)
                },
                inputZeroPoint: 3, depthwise: dw, depthwiseInputZeroPoint: -4,
                depthwiseWeights: pd, depthwiseBias: bias, depthwiseStage: stage,
                project: .init(shape: block.project, packedWeights: pp, packedBias: qp, stage: stage), residual: add)
            var workspace = [UInt8](repeating: 0, count: threadCount * fusedBlock.workspacePerThread!)
            let fused = KernelBenchmark.median(runs: runs, warmup: warmup) {
                workspace.withUnsafeMutableBytes {
                    fusedBlock.run(input: input, workspace: $0.baseAddress!, output: &output, kernels: isa.kernels)
                }
            }
            return Result(
                block: block, unfused: unfused, fused: fused,
                unfusedBytes: (block.expand == nil ? 0 : expanded.count) + depthwiseOut.count,
                fusedBytes: workspace.count)
        }
    }
}
