/// Concatenation along channels (NHWC, the innermost axis) with each input requantized to the
/// output's scale and zero point: out = z_out + M_i · (x − z_i), M_i = s_i / s_out. An input already
/// at the output's quantization is copied.
public struct RequantizeParameters: Equatable, Sendable {
    public var inputZeroPoint: Int32
    public var output: Requantization
    /// Same scale and zero point: a plain copy.
    public var isIdentity: Bool

    #if !hasFeature(Embedded)  // host only: the quantizer computes the scales
        public init(inputScale: Double, inputZeroPoint: Int32, outputScale: Double, outputZeroPoint: Int32) {
            self.inputZeroPoint = inputZeroPoint
            output = Requantization(scale: Float(inputScale / outputScale), zeroPoint: outputZeroPoint)
            isIdentity = inputScale == outputScale && inputZeroPoint == outputZeroPoint
        }
    #endif

    public init(inputZeroPoint: Int32, output: Requantization, isIdentity: Bool) {
        self.inputZeroPoint = inputZeroPoint
        self.output = output
        self.isIdentity = isIdentity
    }
}

public enum Concat {
    /// Writes `channels` values of each of `pixels` pixels from `input` into `output` at channel
    /// `offset` of rows `outputChannels` wide.
    public static func reference(
        _ input: UnsafePointer<Int8>, pixels: Int, channels: Int, parameters p: RequantizeParameters,
        output: UnsafeMutablePointer<Int8>, offset: Int, outputChannels: Int
    ) {
        for pixel in 0..<pixels {
            for c in 0..<channels {
                output[pixel * outputChannels + offset + c] = p.output.apply(
                    Int32(input[pixel * channels + c]) - p.inputZeroPoint)
            }
        }
    }

    /// 8 channels at a time, copies where the quantization is unchanged; bit for bit `reference`.
    public static func run(
        _ input: UnsafePointer<Int8>, pixels: Int, channels: Int, parameters p: RequantizeParameters,
        output: UnsafeMutablePointer<Int8>, offset: Int, outputChannels: Int
    ) {
        if p.isIdentity {
            for pixel in 0..<pixels {
                Bytes.copy(input + pixel * channels, to: output + (pixel * outputChannels + offset), count: channels)
            }
            return
        }
        let zx = SIMD8<Int32>(repeating: p.inputZeroPoint)
        let full = channels / 8 * 8
        for pixel in 0..<pixels {
            let source = input + pixel &* channels, target = output + (pixel &* outputChannels &+ offset)
            var c = 0
            while c < full {
                store8(
                    p.output.apply(widen8(UnsafeRawPointer(source + c).loadUnaligned(as: SIMD8<Int8>.self)) &- zx),
                    to: target + c)
                c &+= 8
            }
            if full < channels {
                reference(
                    source + full, pixels: 1, channels: channels - full, parameters: p, output: target + full,
                    offset: 0, outputChannels: 0)
            }
        }
    }
}
