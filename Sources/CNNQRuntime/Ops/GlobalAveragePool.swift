import CNNQKernels

/// Int8 mean over H×W per channel, requantized to the output.
public enum GlobalAveragePoolOp {
    public typealias Parameters = RequantizeWords

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        let p = try c.parameters(Parameters())
        guard c.out.height == 1, c.out.width == 1, c.out.channels == c.x.channels else { throw .malformed }
        try p.validate(c)
    }

    static func run(_ c: OpContext) {
        let x = c.tensor(input: 0)
        let parameters = Pooling.AverageParameters(
            inputZeroPoint: x.zeroPoint,
            output: c.parameters(Parameters()).requantization(zeroPoint: c.outputTensor.zeroPoint))
        let pixels = x.height * x.width
        for b in 0..<x.batch {
            Pooling.globalAverage(
                c.input(0) + b * pixels * x.channels, pixels: pixels, channels: x.channels, parameters: parameters,
                output: c.output + b * x.channels, kernel: c.kernels.globalAverage)
        }
    }
}
