import CNNQKernels

/// Max and average pooling over a window. The output keeps the input's quantization: the kernel
/// compares and averages raw values.
public enum WindowPoolOp {
    public struct Parameters: OpParameters {
        public var kernelHeight: Int32 = 1, kernelWidth: Int32 = 1, strideHeight: Int32 = 1, strideWidth: Int32 = 1
        public var padTop: Int32 = 0, padLeft: Int32 = 0, padBottom: Int32 = 0, padRight: Int32 = 0

        public init() {}

        #if !hasFeature(Embedded)  // host only: the quantizer builds the words
            public init(kernel: (Int, Int), stride: (Int, Int), pads: (top: Int, left: Int, bottom: Int, right: Int)) {
                (kernelHeight, kernelWidth, strideHeight, strideWidth) = (
                    Int32(kernel.0), Int32(kernel.1), Int32(stride.0), Int32(stride.1)
                )
                (padTop, padLeft, padBottom, padRight) = (
                    Int32(pads.top), Int32(pads.left), Int32(pads.bottom), Int32(pads.right)
                )
            }
        #endif

        public mutating func code<C: ParameterCoder>(_ c: inout C) {
            c.code(&kernelHeight); c.code(&kernelWidth); c.code(&strideHeight); c.code(&strideWidth)
            c.code(&padTop); c.code(&padLeft); c.code(&padBottom); c.code(&padRight)
        }

        /// The window's shape from `x` to `out`, checked.
        func shape(_ c: OpCheck) throws(Status) -> ConvolutionShape {
            let (x, out) = (c.x, c.out)
            let kh = try c.bounded(kernelHeight, 1...255), kw = try c.bounded(kernelWidth, 1...255)
            let sh = try c.bounded(strideHeight, 1...255), sw = try c.bounded(strideWidth, 1...255)
            let pt = try c.bounded(padTop, 0...254), pl = try c.bounded(padLeft, 0...254)
            let pb = try c.bounded(padBottom, 0...254), pr = try c.bounded(padRight, 0...254)
            guard pt < kh, pb < kh, pl < kw, pr < kw, x.height + pt + pb >= kh, x.width + pl + pr >= kw,
                out.channels == x.channels
            else {
                throw .malformed
            }
            let s = ConvolutionShape(
                batch: x.batch, inputHeight: x.height, inputWidth: x.width, inputChannels: x.channels,
                outputChannels: x.channels, kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                padTop: pt, padLeft: pl, padBottom: pb, padRight: pr)
            guard s.outputHeight == out.height, s.outputWidth == out.width else { throw .malformed }
            return s
        }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        let p = try c.parameters(Parameters())
        guard c.x.zeroPoint == c.out.zeroPoint, c.x.scale == c.out.scale else { throw .malformed }
        _ = try p.shape(c)
    }

    static func run(_ c: OpContext) {
        let check = OpCheck(model: c.model, op: c.op, words: 0)
        let s = try! c.parameters(Parameters()).shape(check)  // validated at load
        Pooling.window(c.input(0), shape: s, kind: c.op.kind == .maxPool ? .max : .average, output: c.output)
    }
}
