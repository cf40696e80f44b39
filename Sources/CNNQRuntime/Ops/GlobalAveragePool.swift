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
            let (input, output) = (c.input(0) + b * pixels * x.channels, c.output + b * x.channels)
            if let kernel = c.kernels.globalAverage {
                withUnsafePointer(to: parameters) { kernel.run(input, pixels, x.channels, $0, output) }
            } else {
                Pooling.globalAverage(
                    input, pixels: pixels, channels: x.channels, parameters: parameters, output: output)
            }
        }
    }
}
