import CNNQKernels

/// Float32 grouped convolution (also pointwise, depthwise and fully connected) inside a float island.
public enum FloatConvolutionOp {
    /// Geometry, groups, the clamp, and byte offsets of float32 OHWI weights (I = input channels /
    /// groups) and float32 bias.
    public struct Parameters: OpParameters {
        public var geometry = ConvolutionGeometry()
        public var groups: Int32 = 1
        public var lower: Float = -.infinity, upper: Float = .infinity
        public var weights: Int32 = 0, bias: Int32 = 0

        public init() {}

        public mutating func code<C: ParameterCoder>(_ c: inout C) {
            geometry.code(&c)
            c.code(&groups); c.code(&lower); c.code(&upper)
            c.code(constant: &weights); c.code(constant: &bias)
        }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        let p = try c.parameters(Parameters())
        let s = try shape(p, c.x, c.out)
        guard p.lower <= p.upper else { throw .malformed }  // also refuses NaN
        guard let taps = CheckedSize.product(s.kernelHeight * s.kernelWidth, s.inputChannels / s.groups),
            let values = CheckedSize.product(taps, s.outputChannels), let weightBytes = CheckedSize.product(values, 4)
        else { throw .malformed }
        try c.constant(p.weights, bytes: weightBytes, alignment: 4)
        try c.constant(p.bias, bytes: 4 * s.outputChannels, alignment: 4)
    }

    /// The validated shape of `op`.
    static func shape(_ model: ModelView, _ op: OpInfo) throws(Status) -> ConvolutionShape {
        try shape(
            OpContext.read(Parameters(), model, op), model.tensor(model.input(of: op, 0)), model.tensor(op.output))
    }

    static func shape(_ p: Parameters, _ x: TensorInfo, _ out: TensorInfo) throws(Status) -> ConvolutionShape {
        guard p.groups >= 1, p.groups <= 65_535 else { throw .malformed }
        return try p.geometry.shape(groups: Int(p.groups), x, out)
    }

    static func run(_ c: OpContext) {
        let p = c.parameters(Parameters())
        let s = try! shape(p, c.tensor(input: 0), c.outputTensor)  // validated at load
        FloatIsland.convolution(
            input: c.floatInput(0), weights: c.constant(p.weights, as: Float.self),
            bias: c.constant(p.bias, as: Float.self),
            shape: s, lower: p.lower, upper: p.upper, output: c.floatOutput)
    }
}
