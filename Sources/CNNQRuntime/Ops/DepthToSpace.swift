import CNNQKernels

/// Channels into blocks of pixels (DCR order): a transposed convolution whose kernel equals its
/// stride, after the 1×1 convolution it becomes. The output keeps the input's quantization.
public enum DepthToSpaceOp {
    public struct Parameters: OpParameters {
        public var blockSize: Int32 = 1

        public init() {}

        public mutating func code<C: ParameterCoder>(_ c: inout C) { c.code(&blockSize) }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        let p = try c.parameters(Parameters())
        let (x, out) = (c.x, c.out)
        // Dims are at most 65,535 and the block 64, so the products fit a 32-bit Int.
        let s = try c.bounded(p.blockSize, 1...64)
        guard out.height == x.height * s, out.width == x.width * s, out.batch == x.batch,
            out.channels * s * s == x.channels, x.zeroPoint == out.zeroPoint, x.scale == out.scale
        else { throw .malformed }
    }

    static func run(_ c: OpContext) {
        let p = c.parameters(Parameters()), out = c.outputTensor, x = c.tensor(input: 0)
        DepthToSpace.run(
            c.input(0), batch: x.batch, height: x.height, width: x.width, channels: out.channels,
            blockSize: Int(p.blockSize), output: c.output)
    }
}
