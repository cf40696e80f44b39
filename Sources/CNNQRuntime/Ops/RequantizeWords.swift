import CNNQKernels

/// One output requantization and its clamp: the words of multiply and global average pool.
public struct RequantizeWords: OpParameters {
    public var scale: Float = 1
    public var lower: Int32 = -128, upper: Int32 = 127

    public init() {}

    #if !hasFeature(Embedded)  // host only: the quantizer builds the words
        public init(_ r: Requantization) { (scale, lower, upper) = (r.scale, r.lower, r.upper) }
    #endif

    public mutating func code<C: ParameterCoder>(_ c: inout C) {
        c.code(&scale); c.code(&lower); c.code(&upper)
    }

    func validate(_ c: OpCheck) throws(Status) {
        try c.scale(scale)
        try c.clamp(lower, upper)
    }

    func requantization(zeroPoint: Int32) -> Requantization {
        Requantization(scale: scale, zeroPoint: zeroPoint, lower: lower, upper: upper)
    }
}
