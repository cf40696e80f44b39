import CNNQKernels
import CNNQRuntime
import Foundation

/// Times each inverted-residual block of a graph fused (`InvertedResidual`) and as separate kernels
/// with whole intermediate tensors, on the same random data, the two forms alternately so that a
/// shared machine's drift falls on both. Activation tables are left out of both.
public enum BlockBenchmark {
    public struct Block: Sendable {
        public var name: String
        public var expand: ConvolutionShape?
        public var depthwise: ConvolutionShape
        /// Nil for a squeeze-excite block, whose fused part stops after the depthwise.
        public var project: ConvolutionShape?
        public var residual: Bool
        public var macs: Int { (expand?.macs ?? 0) + depthwise.macs + (project?.macs ?? 0) }
    }

    public struct Result: Sendable {
        public var block: Block
        public var unfused: Double, fused: Double
        /// Bytes of intermediate tensors (expanded, depthwise output) unfused; the fused workspace.
        public var unfusedBytes: Int, fusedBytes: Int
    }

    /// Blocks found in a prepared graph: [1×1 →] depthwise → 1×1 [→ Add with the block input], each
    /// arrow through at most one activation; and 1×1 → depthwise with no 1×1 after it (the part of a
    /// squeeze-excite block that the quantizer fuses).
    public static func blocks(of graph: Graph) -> [Block] {
        let convolutions = Dictionary(
            KernelBenchmark.shapes(of: graph).map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        let nodes = graph.nodes
        func isActivation(_ node: Node) -> Bool {
            switch node.op {
            case .clip, .hardSwish, .sigmoid, .function: node.inputs.count == 1
            default: false
            }
        }
        /// The pointwise convolution that feeds node i (directly or through one activation).
        func pointwise(before i: Int) -> Int? {
            var j = i - 1, value = nodes[i].inputs[0]
            if j >= 0, isActivation(nodes[j]), nodes[j].outputs[0] == value {
                value = nodes[j].inputs[0]
                j -= 1
            }
            guard j >= 0, let e = convolutions[nodes[j].name], KernelBenchmark.kernel(for: e) == .pointwise,
                nodes[j].outputs[0] == value
            else { return nil }
            return j
        }
        /// The pointwise convolution that node i feeds (directly or through one activation).
        func pointwise(after i: Int) -> Int? {
            var j = i + 1, value = nodes[i].outputs[0]
            if j < nodes.count, isActivation(nodes[j]), nodes[j].inputs[0] == value {
                value = nodes[j].outputs[0]
                j += 1
            }
            guard j < nodes.count, let p = convolutions[nodes[j].name], KernelBenchmark.kernel(for: p) == .pointwise,
                nodes[j].inputs.first == value
            else { return nil }
            return j
        }
        var blocks: [Block] = []
        for (i, node) in nodes.enumerated() {
            guard let dw = convolutions[node.name], dw.isDepthwise else { continue }
            let e = pointwise(before: i), p = pointwise(after: i)
            guard e != nil || p != nil else { continue }
            let blockInput = e.map { nodes[$0].inputs[0] } ?? node.inputs[0]
            let residual = p.map { p in
                p + 1 < nodes.count && nodes[p + 1].op == .add
                    && Set(nodes[p + 1].inputs) == [nodes[p].outputs[0], blockInput]
            }
            blocks.append(
                Block(
                    name: String(node.name.split(separator: ".").first ?? Substring(node.name)),
                    expand: e.flatMap { convolutions[nodes[$0].name] }, depthwise: dw,
                    project: p.flatMap { convolutions[nodes[$0].name] }, residual: residual ?? false))
        }
        return blocks
    }

    /// Both forms with the kernels of `isa`.
    public static func run(_ block: Block, runs: Int, warmup: Int, isa: InstructionSet) -> Result {
        let gemm = isa.gemm
        var random = SeededRandom(seed: UInt64(block.macs))
        let dw = block.depthwise
        let (cin, e, cout) = (
            block.expand?.inputChannels ?? dw.inputChannels, dw.inputChannels,
            block.project?.outputChannels ?? dw.inputChannels
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
            let fusedBlock = InvertedResidual(
                expand: block.expand.map {
                    .init(shape: $0, packedWeights: pe, packedBias: qe, stage: stage)
                },
                inputZeroPoint: 3, depthwise: dw, depthwiseInputZeroPoint: -4,
                depthwiseWeights: pd, depthwiseBias: bias, depthwiseStage: stage,
                project: block.project.map { .init(shape: $0, packedWeights: pp, packedBias: qp, stage: stage) },
                residual: add)
            var workspace = [UInt8](repeating: 0, count: threadCount * fusedBlock.workspacePerThread!)
            let (unfused, fused) = alternatingMedians(runs: runs, warmup: warmup) {
                var source = input
                if block.expand != nil {
                    Pointwise.run(
                        input: input, pixels: h * w, inputChannels: cin, packedWeights: pe, packedBias: qe,
                        outputChannels: e,
                        stage: stage, kernel: gemm, workspace: &rows, output: &expanded)
                    source = expanded
                }
                guard let project = block.project else {
                    return Depthwise.run(
                        input: source, inputZeroPoint: -4, packedWeights: pd, bias: bias, shape: dw, stage: stage,
                        output: &output, kernel: isa.depthwise)
                }
                Depthwise.run(
                    input: source, inputZeroPoint: -4, packedWeights: pd, bias: bias, shape: dw, stage: stage,
                    output: &depthwiseOut, kernel: isa.depthwise)
                Pointwise.run(
                    input: depthwiseOut, pixels: oh * ow, inputChannels: e, packedWeights: pp, packedBias: qp,
                    outputChannels: project.outputChannels,
                    stage: stage, kernel: gemm, workspace: &rows, output: &output)
                if let add {
                    Add.run(output, input, count: output.count, parameters: add, output: &output, kernel: isa.add)
                }
            } _: {
                workspace.withUnsafeMutableBytes {
                    fusedBlock.run(input: input, workspace: $0.baseAddress!, output: &output, kernels: isa.kernels)
                }
            }
            return Result(
                block: block, unfused: unfused, fused: fused,
                unfusedBytes: (block.expand == nil ? 0 : expanded.count)
                    + (block.project == nil ? 0 : depthwiseOut.count),
                fusedBytes: workspace.count)
        }
    }

    /// The median times of `a` and `b`, run one after the other in each of `runs` rounds.
    static func alternatingMedians(runs: Int, warmup: Int, _ a: () -> Void, _ b: () -> Void) -> (Double, Double) {
        for _ in 0..<warmup {
            a()
            b()
        }
        func time(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var times: ([Double], [Double]) = ([], [])
        for _ in 0..<runs {
            times.0.append(time(a))
            times.1.append(time(b))
        }
        return (times.0.sorted()[runs / 2], times.1.sorted()[runs / 2])
    }
}
