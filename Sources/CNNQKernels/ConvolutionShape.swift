/// Geometry of an NHWC convolution. Weights are OHWI: [outputChannels][kh][kw][inputChannels / groups].
public struct ConvolutionShape: Equatable, Sendable {
    public var batch: Int
    public var inputHeight: Int, inputWidth: Int, inputChannels: Int
    public var outputHeight: Int, outputWidth: Int, outputChannels: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var dilationHeight: Int, dilationWidth: Int
    public var padTop: Int, padLeft: Int
    public var groups: Int

    /// Output size follows from the explicit pads: out = (in + padBegin + padEnd − effectiveKernel) / stride + 1.
    public init(
        batch: Int = 1, inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
        kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
        dilationHeight: Int = 1, dilationWidth: Int = 1,
        padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0, groups: Int = 1
    ) {
        self.batch = batch
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.groups = groups
        outputHeight = (inputHeight + padTop + padBottom - (kernelHeight - 1) * dilationHeight - 1) / strideHeight + 1
        outputWidth = (inputWidth + padLeft + padRight - (kernelWidth - 1) * dilationWidth - 1) / strideWidth + 1
    }

    public var isDepthwise: Bool { groups == inputChannels && groups == outputChannels }
    public var inputCount: Int { batch * inputHeight * inputWidth * inputChannels }
    public var outputCount: Int { batch * outputHeight * outputWidth * outputChannels }
    public var weightCount: Int { outputChannels * kernelHeight * kernelWidth * (inputChannels / groups) }
    public var macs: Int { outputCount * kernelHeight * kernelWidth * (inputChannels / groups) }
}
