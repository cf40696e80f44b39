import CNNQKernels

/// Int8 sum of two tensors of one shape, each input rescaled to the output's scale.
public enum AddOp {
    /// s_a / s_out and s_b / s_out, and the clamp.
    public struct Parameters: OpParameters {
        public var scaleA: Float = 1, scaleB: Float = 1
        public var lower: Int32 = -128, upper: Int32 = 127

        public init() {}

        #if !hasFeature(Embedded)  // host only: the quantizer builds the words
            public init(_ p: AddParameters) {
                (scaleA, scaleB, lower, upper) = (p.scales.0, p.scales.1, p.lower, p.upper)
            }
        #endif

        public mutating func code<C: ParameterCoder>(_ c: inout C) {
            c.code(&scaleA); c.code(&scaleB); c.code(&lower); c.code(&upper)
        }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(2)
        let p = try c.parameters(Parameters())
        guard c.sameDims(c.x, c.out), c.sameDims(c.tensor(input: 1), c.out) else { throw .malformed }
        try c.scale(p.scaleA)
        try c.scale(p.scaleB)
        try c.clamp(p.lower, p.upper)
    }

    static func run(_ c: OpContext) {
        let p = c.parameters(Parameters())
        let out = c.outputTensor
        let kernel = AddParameters(
            inputZeroPoints: (c.tensor(input: 0).zeroPoint, c.tensor(input: 1).zeroPoint), scales: (p.scaleA, p.scaleB),
            zeroPoint: out.zeroPoint, lower: p.lower, upper: p.upper)
        Add.run(c.input(0), c.input(1), count: out.count, parameters: kernel, output: c.output, kernel: c.kernels.add)
    }
}
