import CNNQKernels

/// Int8 concatenation, each input requantized to the output.
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

    /// Along channels when every input has the output's batch, height and width; otherwise each
    /// input is one block per batch item (a rank-3 [N, L, C] output joined along L: SSD heads).
    /// The two readings differ only when the shapes admit just one of them.
    static func validate(_ c: OpCheck) throws(Status) {
        let partWords = Part().wordCount
        guard c.op.inputCount <= c.words / partWords, c.words == partWords * c.op.inputCount else { throw .malformed }
        let channelwise = isChannelwise(c.model, c.op)
        var filled = 0
        for i in 0..<c.op.inputCount {
            let part = c.tensor(input: i)
            guard part.batch == c.out.batch else { throw .malformed }
            // Each term is at most 2^29 (validated tensor sizes) and the sum stays below the
            // output's: no overflow on 32-bit Int.
            filled += channelwise ? part.channels : part.height * part.width * part.channels
            guard filled <= (channelwise ? c.out.channels : c.out.height * c.out.width * c.out.channels) else {
                throw .malformed
            }
            let p = c.parameters(Part(), firstWord: i * partWords)
            try c.scale(p.scale)
        }
        guard filled == (channelwise ? c.out.channels : c.out.height * c.out.width * c.out.channels) else {
            throw .malformed
        }
    }

    public static func isChannelwise(_ model: ModelView, _ op: OpInfo) -> Bool {
        let out = model.tensor(op.output)
        for i in 0..<op.inputCount {
            let part = model.tensor(model.input(of: op, i))
            if part.height != out.height || part.width != out.width { return false }
        }
        return true
    }

    static func run(_ c: OpContext) {
        let out = c.outputTensor
        let channelwise = isChannelwise(c.model, c.op)
        let partWords = Part().wordCount
        var offset = 0
        for i in 0..<c.op.inputCount {
            let part = c.tensor(input: i)
            let p = c.parameters(Part(), firstWord: i * partWords)
            let parameters = RequantizeParameters(
                inputZeroPoint: part.zeroPoint,
                output: Requantization(scale: p.scale, zeroPoint: out.zeroPoint),
                isIdentity: p.identity != 0)
            // A block per batch item is one "pixel" of the whole item's values.
            let block = channelwise ? part.channels : part.height * part.width * part.channels
            Concat.run(
                c.input(i), pixels: channelwise ? out.batch * out.height * out.width : out.batch, channels: block,
                parameters: parameters, output: c.output, offset: offset,
                outputChannels: channelwise ? out.channels : out.height * out.width * out.channels)
            offset += block
        }
    }
}
