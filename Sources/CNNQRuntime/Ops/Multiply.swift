import CNNQKernels

/// Int8 elementwise product; a gate of C values is broadcast over the pixels (squeeze-excite).
public enum MultiplyOp {
    public typealias Parameters = RequantizeWords

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(2)
        let p = try c.parameters(Parameters())
        let (x, gate) = (c.x, c.tensor(input: 1))
        let broadcast = gate.batch == x.batch && gate.height == 1 && gate.width == 1 && gate.channels == x.channels
        guard c.sameDims(x, c.out), broadcast || c.sameDims(gate, c.out) else { throw .malformed }
        try p.validate(c)
    }

    static func run(_ c: OpContext) {
        let (x, g) = (c.tensor(input: 0), c.tensor(input: 1))
        let (input, gate, output) = (c.input(0), c.input(1), c.output)
        let parameters = MultiplyParameters(
            inputZeroPoint: x.zeroPoint, gateZeroPoint: g.zeroPoint,
            output: c.parameters(Parameters()).requantization(zeroPoint: c.outputTensor.zeroPoint))
        if g.count == x.count {
            Multiply.run(
                input, gate: gate, pixels: 1, channels: x.count, parameters: parameters, output: output,
                kernel: c.kernels.multiply)
            return
        }
        let pixels = x.height * x.width, image = pixels * x.channels
        for b in 0..<x.batch {
            Multiply.run(
                input + b * image, gate: gate + b * x.channels, pixels: pixels, channels: x.channels,
                parameters: parameters, output: output + b * image, kernel: c.kernels.multiply)
        }
    }
}
