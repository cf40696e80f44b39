import CNNQKernels

/// Nearest or bilinear resizing of rows and columns; the output keeps the input's quantization.
public enum ResizeOp {
    /// The mode, nearest's rounding, and each axis's source coordinate (a·i + b) / d.
    public struct Parameters: OpParameters {
        public var linear: Int32 = 0, rounding: Int32 = 0
        public var ya: Int32 = 0, yb: Int32 = 0, yd: Int32 = 1
        public var xa: Int32 = 0, xb: Int32 = 0, xd: Int32 = 1

        public init() {}

        public mutating func code<C: ParameterCoder>(_ c: inout C) {
            c.code(&linear); c.code(&rounding)
            c.code(&ya); c.code(&yb); c.code(&yd)
            c.code(&xa); c.code(&xb); c.code(&xd)
        }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        let p = try c.parameters(Parameters())
        let (x, out) = (c.x, c.out)
        _ = try c.bounded(p.linear, 0...1)
        _ = try c.bounded(p.rounding, 0...3)
        // Any a and b keep the indices inside the input (they are clamped); d divides.
        _ = try c.bounded(p.yd, 1...Int32.max)
        _ = try c.bounded(p.xd, 1...Int32.max)
        guard out.batch == x.batch, out.channels == x.channels, x.zeroPoint == out.zeroPoint, x.scale == out.scale
        else { throw .malformed }
    }

    static func run(_ c: OpContext) {
        let p = c.parameters(Parameters()), x = c.tensor(input: 0), out = c.outputTensor
        let y = Resize.Axis(a: Int64(p.ya), b: Int64(p.yb), d: Int64(p.yd), extent: x.height)
        let xAxis = Resize.Axis(a: Int64(p.xa), b: Int64(p.xb), d: Int64(p.xd), extent: x.width)
        let mode: Resize.Mode = p.linear != 0 ? .linear : .nearest(Resize.Rounding(rawValue: p.rounding) ?? .halfDown)
        Resize.run(
            c.input(0), batch: x.batch, channels: x.channels, y: y, x: xAxis, outHeight: out.height,
            outWidth: out.width, mode: mode, output: c.output)
    }
}
