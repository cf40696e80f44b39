import CNNQKernels

/// One output requantization and its clamp: the words of multiply and global average pool.
public struct RequantizeWords: OpParameters {
    public var multiplier: Int32 = 0, shift: Int32 = 0
    public var lower: Int32 = -128, upper: Int32 = 127

    public init() {}

    #if !hasFeature(Embedded)  // host only: the quantizer builds the words
        public init(_ r: Requantization) {
            (multiplier, shift, lower, upper) = (r.multiplier.multiplier, r.multiplier.shift, r.lower, r.upper)
        }
    #endif

    public mutating func code<C: ParameterCoder>(_ c: inout C) {
        c.code(&multiplier); c.code(&shift); c.code(&lower); c.code(&upper)
    }

    func validate(_ c: OpCheck) throws(Status) {
        try c.multiplier(multiplier, shift)
        try c.clamp(lower, upper)
    }

    func requantization(zeroPoint: Int32) -> Requantization {
        Requantization(
            multiplier: QuantizedMultiplier(multiplier: multiplier, shift: shift), zeroPoint: zeroPoint, lower: lower,
            upper: upper)
    }
}
