import CNNQKernels

/// Constant padding of rows and columns; the output keeps the input's quantization.
public enum PadOp {
    /// The pads and the int8 value of a padded pixel.
    public struct Parameters: OpParameters {
        public var top: Int32 = 0, left: Int32 = 0, bottom: Int32 = 0, right: Int32 = 0
        public var value: Int32 = 0

        public init() {}

        public mutating func code<C: ParameterCoder>(_ c: inout C) {
            c.code(&top); c.code(&left); c.code(&bottom); c.code(&right); c.code(&value)
        }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        let p = try c.parameters(Parameters())
        let (x, out) = (c.x, c.out)
        let top = try c.bounded(p.top, 0...65_535), left = try c.bounded(p.left, 0...65_535)
        let bottom = try c.bounded(p.bottom, 0...65_535), right = try c.bounded(p.right, 0...65_535)
        _ = try c.bounded(p.value, -128...127)
        // Dims are at most 65,535 each (validated tensors), so these sums fit any Int.
        guard out.height == x.height + top + bottom, out.width == x.width + left + right, out.channels == x.channels,
            x.zeroPoint == out.zeroPoint, x.scale == out.scale
        else { throw .malformed }
    }

    static func run(_ c: OpContext) {
        let p = c.parameters(Parameters()), x = c.tensor(input: 0)
        Pad.run(
            c.input(0), batch: x.batch, height: x.height, width: x.width, channels: x.channels,
            pads: Pad.Pads(top: Int(p.top), left: Int(p.left), bottom: Int(p.bottom), right: Int(p.right)),
            value: Int8(truncatingIfNeeded: p.value), output: c.output)
    }
}
