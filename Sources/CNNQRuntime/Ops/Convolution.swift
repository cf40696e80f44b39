import CNNQKernels

/// Int8 convolutions: k×k (`convolution`, im2col into the GEMM), 1×1 (`pointwise`, also fully
/// connected on [N, C]), `depthwise`, and k×k with several groups (`groupedConvolution`).
public enum ConvolutionOp {
    /// Geometry, the fused clamp, and byte offsets of the packed weights, the int32 packed bias and
    /// the fp32 requantization scales (each `PackedLayout.channelSlots` entries); a grouped
    /// convolution adds its group count.
    public struct Parameters: OpParameters {
        public var geometry = ConvolutionGeometry()
        public var lower: Int32 = -128, upper: Int32 = 127
        public var weights: Int32 = 0, bias: Int32 = 0, scales: Int32 = 0
        /// A word of its own only in a grouped convolution's record.
        public var groups: Int32?

        public init(kind: ModelFormat.OpKind) { groups = kind == .groupedConvolution ? 2 : nil }

        public mutating func code<C: ParameterCoder>(_ c: inout C) {
            geometry.code(&c)
            c.code(&lower); c.code(&upper)
            c.code(constant: &weights); c.code(constant: &bias); c.code(constant: &scales)
            if var g = groups {
                c.code(&g)
                groups = g
            }
        }
    }

    /// The sizes of what the kernel of `kind` reads for `shape`: the one place the quantizer, the
    /// loader and the runtime take them from. Nil when they overflow `Int`.
    public struct PackedLayout {
        /// Int8 entries of packed weights.
        public let weightCount: Int
        /// Entries of the requantization scales.
        public let channelSlots: Int
        /// Entries of the packed bias.
        public let biasCount: Int
        /// Kernel scratch bytes per thread.
        public let workspaceBytesPerThread: Int
        let standard: StandardConvolution.Layout?

        public init?(kind: ModelFormat.OpKind, shape s: ConvolutionShape) {
            if kind == .depthwise {
                guard
                    let layout = Depthwise.Layout(
                        checkedChannels: s.outputChannels, kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth)
                else { return nil }
                (weightCount, channelSlots, biasCount, workspaceBytesPerThread, standard) = (
                    layout.weightCount, layout.channelSlots, layout.channelSlots, 0, nil
                )
            } else {
                guard let layout = StandardConvolution.Layout(checkedShape: s) else { return nil }
                (weightCount, channelSlots, biasCount, standard) = (
                    layout.weightCount, layout.channelSlots, layout.biasCount, layout
                )
                workspaceBytesPerThread = layout.workspacePerThread
            }
        }

        /// Index of output channel `c` in the bias and the scales.
        public func channelSlot(_ c: Int) -> Int { standard?.channelSlot(c) ?? c }
    }

    /// The group count of `kind`, checked.
    static func groups(_ p: Parameters, _ kind: ModelFormat.OpKind, _ x: TensorInfo) throws(Status) -> Int {
        switch kind {
        case .depthwise: return x.channels
        case .groupedConvolution:
            guard let g = p.groups, g >= 2, g <= 65_535 else { throw .malformed }
            return Int(g)
        default: return 1
        }
    }

    /// Checks the record and returns the kernel's scratch bytes per thread.
    static func validate(_ c: OpCheck) throws(Status) -> Int {
        let kind = c.op.kind
        try c.inputs(1)
        let p = try c.parameters(Parameters(kind: kind))
        let s = try shape(p, kind, c.x, c.out)
        try c.clamp(p.lower, p.upper)
        switch kind {
        case .pointwise:
            guard s.kernelHeight == 1, s.kernelWidth == 1, s.strideHeight == 1, s.strideWidth == 1, s.padTop == 0,
                s.padLeft == 0,
                s.outputHeight == s.inputHeight, s.outputWidth == s.inputWidth
            else { throw .malformed }
        case .depthwise:
            guard s.outputChannels == s.inputChannels else { throw .malformed }
        default:
            // A 1×1 layer's depth is its input channels (at most 65,535); the im2col depth is bounded.
            guard s.kernelHeight * s.kernelWidth * (s.inputChannels / s.groups) <= 1 << 16 else { throw .malformed }
        }
        guard let layout = PackedLayout(kind: kind, shape: s),
            let scaleBytes = CheckedSize.product(4, layout.channelSlots),
            let biasBytes = CheckedSize.product(4, layout.biasCount)
        else {
            throw .malformed
        }
        try c.constant(p.weights, bytes: layout.weightCount, alignment: 1)
        // Weights lie in −127 … 127: Arm's GEMM and depthwise kernels add two products in int16, which
        // two products of −128 · −128 would overflow.
        let weights = c.model.constant(p.weights, as: Int8.self)
        for i in 0..<layout.weightCount where weights[i] == -128 { throw .malformed }
        try c.constant(p.bias, bytes: biasBytes, alignment: 4)
        try c.constant(p.scales, bytes: scaleBytes, alignment: 4)
        let scales = c.model.constant(p.scales, as: Float.self)
        for i in 0..<layout.channelSlots { try c.scale(scales[i]) }
        return layout.workspaceBytesPerThread
    }

    /// The validated shape of `op`.
    static func shape(_ model: ModelView, _ op: OpInfo) throws(Status) -> ConvolutionShape {
        try shape(
            OpContext.read(Parameters(kind: op.kind), model, op), op.kind, model.tensor(model.input(of: op, 0)),
            model.tensor(op.output))
    }

    static func shape(_ p: Parameters, _ kind: ModelFormat.OpKind, _ x: TensorInfo, _ out: TensorInfo) throws(Status)
        -> ConvolutionShape
    {
        try p.geometry.shape(groups: groups(p, kind, x), x, out)
    }

    static func run(_ c: OpContext) {
        let x = c.tensor(input: 0), out = c.outputTensor
        let p = c.parameters(Parameters(kind: c.op.kind))
        let s = try! shape(p, c.op.kind, x, out)  // validated at load
        let stage = OutputStage(
            scales: c.constant(p.scales, as: Float.self), zeroPoint: out.zeroPoint, lower: p.lower, upper: p.upper)
        let weights = c.constant(p.weights, as: Int8.self), bias = c.constant(p.bias, as: Int32.self)
        let rows = c.workspace.assumingMemoryBound(to: Int8.self)
        let kind = c.op.kind
        switch kind {
        case .pointwise where kind.isBuiltIn:
            Pointwise.run(
                input: c.input(0), pixels: x.batch * x.height * x.width, inputChannels: x.channels,
                packedWeights: weights,
                packedBias: bias, outputChannels: out.channels, stage: stage, kernel: c.kernels.gemm, workspace: rows,
                output: c.output)
        case .depthwise where kind.isBuiltIn:
            Depthwise.run(
                input: c.input(0), inputZeroPoint: x.zeroPoint, packedWeights: weights, bias: bias, shape: s,
                stage: stage, output: c.output, kernel: c.kernels.depthwise)
        case .convolution where kind.isBuiltIn, .groupedConvolution where kind.isBuiltIn:
            StandardConvolution.run(
                input: c.input(0), inputZeroPoint: x.zeroPoint, packedWeights: weights, packedBias: bias, shape: s,
                stage: stage, kernel: c.kernels.gemm, workspace: rows, output: c.output)
        default: break  // refused at load
        }
    }
}
