import CNNQKernels

/// Float32 sum of two tensors of one shape, inside a float island.
enum FloatAddOp {
    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(2)
        guard c.words == 0, c.sameDims(c.x, c.out), c.sameDims(c.tensor(input: 1), c.out) else { throw .malformed }
    }

    static func run(_ c: OpContext) {
        FloatIsland.add(c.floatInput(0), c.floatInput(1), count: c.outputTensor.count, output: c.floatOutput)
    }
}
