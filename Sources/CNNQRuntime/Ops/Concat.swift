import CNNQKernels

/// Int8 concatenation along channels, each input requantized to the output.
public enum ConcatOp {
    /// The words of one input: whether it already has the output's quantization, and s_in / s_out.
    public struct Part: OpParameters {
        public var identity: Int32 = 0
        public var scale: Float = 1

        public init() {}

        #if !hasFeature(Embedded)  // host only: the quantizer builds the words
            public init(_ p: RequantizeParameters) { (identity, scale) = (p.isIdentity ? 1 : 0, p.output.scale) }
        #endif

        public mutating func code<C: ParameterCoder>(_ c: inout C) { c.code(&identity); c.code(&scale) }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        let partWords = Part().wordCount
        guard c.op.inputCount <= c.words / partWords, c.words == partWords * c.op.inputCount else { throw .malformed }
        var channels = 0
        for i in 0..<c.op.inputCount {
            let part = c.tensor(input: i)
            guard part.batch == c.out.batch, part.height == c.out.height, part.width == c.out.width else {
                throw .malformed
            }
            channels += part.channels  // each at most 65,535, and at most `words / 3` of them: no overflow
            guard channels <= c.out.channels else { throw .malformed }
            let p = c.parameters(Part(), firstWord: i * partWords)
            try c.scale(p.scale)
        }
        guard channels == c.out.channels else { throw .malformed }
    }

    static func run(_ c: OpContext) {
        let out = c.outputTensor
        let pixels = out.batch * out.height * out.width
        let partWords = Part().wordCount
        var offset = 0
        for i in 0..<c.op.inputCount {
            let part = c.tensor(input: i)
            let p = c.parameters(Part(), firstWord: i * partWords)
            let parameters = RequantizeParameters(
                inputZeroPoint: part.zeroPoint,
                output: Requantization(scale: p.scale, zeroPoint: out.zeroPoint),
                isIdentity: p.identity != 0)
            Concat.run(
                c.input(i), pixels: pixels, channels: part.channels, parameters: parameters, output: c.output,
                offset: offset,
                outputChannels: out.channels)
            offset += part.channels
        }
    }
}
