import CNNQKernels

/// Int8 → float32 with the input tensor's scale and zero point (the start of a float island).
enum DequantizeOp {
    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        guard c.words == 0, c.sameDims(c.x, c.out) else { throw .malformed }
    }

    static func run(_ c: OpContext) {
        let x = c.tensor(input: 0)
        FloatIsland.dequantize(
            c.input(0), count: x.count, scale: x.scale, zeroPoint: x.zeroPoint, output: c.floatOutput)
    }
}
