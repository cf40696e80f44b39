import CNNQKernels

/// Int8 sum of two tensors of one shape, each input rescaled to a common scale first.
public enum AddOp {
    public struct Parameters: OpParameters {
        public var multiplierA: Int32 = 0, shiftA: Int32 = 0, multiplierB: Int32 = 0, shiftB: Int32 = 0
        public var multiplier: Int32 = 0, shift: Int32 = 0
        public var lower: Int32 = -128, upper: Int32 = 127

        public init() {}

        #if !hasFeature(Embedded)  // host only: the quantizer builds the words
            public init(_ p: AddParameters) {
                (multiplierA, shiftA) = (p.inputMultipliers.0.multiplier, p.inputMultipliers.0.shift)
                (multiplierB, shiftB) = (p.inputMultipliers.1.multiplier, p.inputMultipliers.1.shift)
                (multiplier, shift) = (p.output.multiplier.multiplier, p.output.multiplier.shift)
                (lower, upper) = (p.output.lower, p.output.upper)
            }
        #endif

        public mutating func code<C: ParameterCoder>(_ c: inout C) {
            c.code(&multiplierA); c.code(&shiftA); c.code(&multiplierB); c.code(&shiftB)
            c.code(&multiplier); c.code(&shift); c.code(&lower); c.code(&upper)
        }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(2)
        let p = try c.parameters(Parameters())
        guard c.sameDims(c.x, c.out), c.sameDims(c.tensor(input: 1), c.out) else { throw .malformed }
        try c.multiplier(p.multiplierA, p.shiftA)
        try c.multiplier(p.multiplierB, p.shiftB)
        try c.multiplier(p.multiplier, p.shift)
        try c.clamp(p.lower, p.upper)
    }

    static func run(_ c: OpContext) {
        let p = c.parameters(Parameters())
        let out = c.outputTensor
        let kernel = AddParameters(
            inputZeroPoints: (c.tensor(input: 0).zeroPoint, c.tensor(input: 1).zeroPoint),
            inputMultipliers: (
                QuantizedMultiplier(multiplier: p.multiplierA, shift: p.shiftA),
                QuantizedMultiplier(multiplier: p.multiplierB, shift: p.shiftB)
            ),
            output: Requantization(
                multiplier: QuantizedMultiplier(multiplier: p.multiplier, shift: p.shift), zeroPoint: out.zeroPoint,
                lower: p.lower, upper: p.upper))
        Add.run(c.input(0), c.input(1), count: out.count, parameters: kernel, output: c.output)
    }
}
