import CNNQKernels

/// Float32 → int8 with the output tensor's scale and zero point (the end of a float island).
enum QuantizeOp {
    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        guard c.words == 0, c.sameDims(c.x, c.out) else { throw .malformed }
    }

    static func run(_ c: OpContext) {
        let out = c.outputTensor
        FloatIsland.quantize(
            c.floatInput(0), count: out.count, scale: out.scale, zeroPoint: out.zeroPoint, output: c.output)
    }
}
