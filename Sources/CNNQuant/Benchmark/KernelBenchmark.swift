import CNNQKernels
import CNNQRuntime
import Foundation

/// Times the int8 kernels on the convolution shapes of a float graph (MobileNet V2 1.0/224 by
/// default) with random data: median seconds per layer and the GMAC/s that implies.
public struct KernelBenchmark {
    public enum Kernel: String, Sendable, CaseIterable { case pointwise, depthwise, standard }

    public struct Result: Sendable {
        public var layer: String
        public var kernel: Kernel
        public var shape: ConvolutionShape
        public var seconds: Double
        public var gmacs: Double { Double(shape.macs) / seconds / 1e9 }
    }

    /// Convolution shapes of a prepared graph, NHWC.
    public static func shapes(of graph: Graph) -> [(name: String, shape: ConvolutionShape)] {
        graph.nodes.compactMap { node in
            guard case let .conv(window, group, _) = node.op, let x = graph.shapes[node.inputs[0]],
                let y = graph.shapes[node.outputs[0]]
            else { return nil }
            let shape = ConvolutionShape(
                inputHeight: x[2], inputWidth: x[3], inputChannels: x[1], outputChannels: y[1],
                kernelHeight: window.kernel[0], kernelWidth: window.kernel[1],
                strideHeight: window.strides[0], strideWidth: window.strides[1],
                dilationHeight: window.dilations[0], dilationWidth: window.dilations[1],
                padTop: window.pads[0], padLeft: window.pads[1], padBottom: window.pads[2],
                padRight: window.pads[3], groups: group)
            return (node.name, shape)
        }
    }

    public static func kernel(for shape: ConvolutionShape) -> Kernel {
        if shape.isDepthwise { return .depthwise }
        if shape.kernelHeight == 1 && shape.kernelWidth == 1 && shape.strideHeight == 1 && shape.strideWidth == 1
            && shape.padTop == 0 && shape.padLeft == 0 && shape.groups == 1
        {
            return .pointwise
        }
        return .standard
    }

    /// Median time of `body` over `runs` runs after `warmup` runs.
    static func median(runs: Int, warmup: Int, _ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    /// Times one layer with the kernels of `isa`.
    public static func run(
        _ layer: (name: String, shape: ConvolutionShape), runs: Int, warmup: Int, isa: InstructionSet
    ) -> Result {
        let gemm = isa.gemm
        let s = layer.shape
        var generator = SeededRandom(seed: UInt64(s.macs))
        let input = (0..<s.inputCount).map { _ in Int8.random(in: -128...127, using: &generator) }
        let weights = (0..<s.weightCount).map { _ in Int8.random(in: -127...127, using: &generator) }
        let bias = (0..<s.outputChannels).map { _ in Int32.random(in: -1000...1000, using: &generator) }
        // As the quantizer stores them (real model scales give 1e-4 to 1e-2).
        let channelScales = (0..<s.outputChannels).map { _ in Float.random(in: 1e-4...1e-3, using: &generator) }
        let kind = kernel(for: s)
        // A grouped convolution keeps each group's scales in its own 16-channel slots.
        let slots = kind == .standard ? StandardConvolution.Layout(shape: s).channelSlots : s.outputChannels
        var scales = [Float](repeating: 1, count: slots)
        for (c, scale) in channelScales.enumerated() {
            scales[kind == .standard ? StandardConvolution.Layout(shape: s).channelSlot(c) : c] = scale
        }
        var output = [Int8](repeating: 0, count: s.outputCount)
        let seconds = scales.withUnsafeBufferPointer { scales -> Double in
            let stage = OutputStage(scales: scales.baseAddress!, zeroPoint: -3, lower: -128, upper: 127)
            switch kind {
            case .standard:
                var packed = [Int8](repeating: 0, count: StandardConvolution.Layout(shape: s).weightCount)
                var packedBias = [Int32](repeating: 0, count: StandardConvolution.Layout(shape: s).biasCount)
                StandardConvolution.pack(
                    weights: weights, bias: bias, shape: s, inputZeroPoint: 5, packedWeights: &packed,
                    packedBias: &packedBias)
                var workspace = [Int8](
                    repeating: 0,
                    count: StandardConvolution.Layout(shape: s).group.workspaceCount(threads: threadCount))
                return median(runs: runs, warmup: warmup) {
                    StandardConvolution.run(
                        input: input, inputZeroPoint: 5, packedWeights: packed, packedBias: packedBias,
                        shape: s, stage: stage, kernel: gemm, workspace: &workspace, output: &output)
                }
            case .pointwise:
                let k = s.inputChannels
                var packed = [Int8](
                    repeating: 0, count: GEMM.Layout(outputChannels: s.outputChannels, depth: k).weightCount)
                var packedBias = [Int32](
                    repeating: 0, count: GEMM.Layout(outputChannels: s.outputChannels, depth: 1).biasCount)
                GEMM.pack(
                    weights: weights, bias: bias, outputChannels: s.outputChannels, inputChannels: k,
                    inputZeroPoint: 5, packedWeights: &packed, packedBias: &packedBias)
                var workspace = [Int8](repeating: 0, count: GEMM.workspaceCount(depth: k, threads: threadCount))
                return median(runs: runs, warmup: warmup) {
                    Pointwise.run(
                        input: input, pixels: s.batch * s.inputHeight * s.inputWidth,
                        inputChannels: s.inputChannels,
                        packedWeights: packed, packedBias: packedBias, outputChannels: s.outputChannels,
                        stage: stage, kernel: gemm, workspace: &workspace, output: &output)
                }
            case .depthwise:
                var packed = [Int8](
                    repeating: 0,
                    count: Depthwise.Layout(
                        channels: s.inputChannels, kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth
                    ).weightCount)
                Depthwise.pack(
                    weights: weights, channels: s.inputChannels, kernelHeight: s.kernelHeight,
                    kernelWidth: s.kernelWidth, packed: &packed)
                return median(runs: runs, warmup: warmup) {
                    Depthwise.run(
                        input: input, inputZeroPoint: 5, packedWeights: packed, bias: bias, shape: s, stage: stage,
                        output: &output, kernel: isa.depthwise)
                }
            }
        }
        return Result(layer: layer.name, kernel: kind, shape: s, seconds: seconds)
    }
}
