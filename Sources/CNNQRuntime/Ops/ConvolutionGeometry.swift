import CNNQKernels

/// The ten geometry words both convolution records start with (int8 and float): kernel, stride and
/// dilation (height, width each), then the pads (top, left, bottom, right).
public struct ConvolutionGeometry: OpParameters, Equatable {
    public var kernelHeight: Int32 = 1, kernelWidth: Int32 = 1
    public var strideHeight: Int32 = 1, strideWidth: Int32 = 1
    public var dilationHeight: Int32 = 1, dilationWidth: Int32 = 1
    public var padTop: Int32 = 0, padLeft: Int32 = 0, padBottom: Int32 = 0, padRight: Int32 = 0

    public init() {}

    #if !hasFeature(Embedded)  // host only: the quantizer builds the words
        public init(
            kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int),
            pads: (top: Int, left: Int, bottom: Int, right: Int)
        ) {
            (kernelHeight, kernelWidth) = (Int32(kernel.0), Int32(kernel.1))
            (strideHeight, strideWidth) = (Int32(stride.0), Int32(stride.1))
            (dilationHeight, dilationWidth) = (Int32(dilation.0), Int32(dilation.1))
            (padTop, padLeft, padBottom, padRight) = (
                Int32(pads.top), Int32(pads.left), Int32(pads.bottom), Int32(pads.right)
            )
        }
    #endif

    public mutating func code<C: ParameterCoder>(_ c: inout C) {
        c.code(&kernelHeight); c.code(&kernelWidth)
        c.code(&strideHeight); c.code(&strideWidth)
        c.code(&dilationHeight); c.code(&dilationWidth)
        c.code(&padTop); c.code(&padLeft); c.code(&padBottom); c.code(&padRight)
    }

    /// The shape of a convolution from `x` to `out` in `groups` groups, checked: small positive
    /// kernel, stride and dilation, padding smaller than the kernel, groups that divide both channel
    /// counts, and an output size that matches the output tensor.
    func shape(groups: Int, _ x: TensorInfo, _ out: TensorInfo) throws(Status) -> ConvolutionShape {
        guard groups >= 1, x.channels % groups == 0, out.channels % groups == 0 else { throw .malformed }
        func small(_ v: Int32, _ range: ClosedRange<Int32>) throws(Status) -> Int {
            guard range.contains(v) else { throw .malformed }
            return Int(v)
        }
        let kh = try small(kernelHeight, 1...31), kw = try small(kernelWidth, 1...31)
        let sh = try small(strideHeight, 1...16), sw = try small(strideWidth, 1...16)
        let dh = try small(dilationHeight, 1...16), dw = try small(dilationWidth, 1...16)
        let pt = try small(padTop, 0...255), pl = try small(padLeft, 0...255)
        let pb = try small(padBottom, 0...255), pr = try small(padRight, 0...255)
        let spanHeight = (kh - 1) * dh + 1, spanWidth = (kw - 1) * dw + 1
        guard pt < spanHeight, pb < spanHeight, pl < spanWidth, pr < spanWidth else { throw .malformed }
        guard x.height + pt + pb >= spanHeight, x.width + pl + pr >= spanWidth else { throw .malformed }
        let s = ConvolutionShape(
            batch: x.batch, inputHeight: x.height, inputWidth: x.width, inputChannels: x.channels,
            outputChannels: out.channels, kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
            dilationHeight: dh, dilationWidth: dw, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
            groups: groups)
        guard s.outputHeight == out.height, s.outputWidth == out.width else { throw .malformed }
        return s
    }
}
