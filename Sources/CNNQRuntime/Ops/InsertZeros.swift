import CNNQKernels

/// Zeros between pixels (a transposed convolution's input); the output keeps the input's
/// quantization, and its zero point is the inserted value.
public enum InsertZerosOp {
    public struct Parameters: OpParameters {
        public var strideHeight: Int32 = 1, strideWidth: Int32 = 1

        public init() {}

        public mutating func code<C: ParameterCoder>(_ c: inout C) {
            c.code(&strideHeight); c.code(&strideWidth)
        }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        let p = try c.parameters(Parameters())
        let (x, out) = (c.x, c.out)
        // Dims are at most 65,535 and strides 64, so the products fit a 32-bit Int.
        let sh = try c.bounded(p.strideHeight, 1...64), sw = try c.bounded(p.strideWidth, 1...64)
        guard out.height == (x.height - 1) * sh + 1, out.width == (x.width - 1) * sw + 1, out.batch == x.batch,
            out.channels == x.channels, x.zeroPoint == out.zeroPoint, x.scale == out.scale
        else { throw .malformed }
    }

    static func run(_ c: OpContext) {
        let p = c.parameters(Parameters()), x = c.tensor(input: 0)
        InsertZeros.run(
            c.input(0), batch: x.batch, height: x.height, width: x.width, channels: x.channels,
            strideHeight: Int(p.strideHeight), strideWidth: Int(p.strideWidth),
            value: Int8(truncatingIfNeeded: x.zeroPoint), output: c.output)
    }
}
