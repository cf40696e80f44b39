/// Int8 pooling over NHWC data.
public enum Pooling {
    /// Global average pool [pixels][channels] → [channels] with requantization: the multiplier is
    /// s_in / (s_out · pixels), so the mean and the rescale round once.
    public struct AverageParameters: Equatable, Sendable {
        public var inputZeroPoint: Int32, outputZeroPoint: Int32
        public var multiplier: QuantizedMultiplier

        public init(inputScale: Double, inputZeroPoint: Int32, outputScale: Double, outputZeroPoint: Int32, pixels: Int) {
            self.inputZeroPoint = inputZeroPoint
            self.outputZeroPoint = outputZeroPoint
            multiplier = QuantizedMultiplier(inputScale / (outputScale * Double(pixels)))
        }
    }

    public static func globalAverageReference(_ input: UnsafePointer<Int8>, pixels: Int, channels: Int, parameters p: AverageParameters,
                                              output: UnsafeMutablePointer<Int8>) {
        for c in 0..<channels {
            var sum: Int32 = 0
            for pixel in 0..<pixels { sum += Int32(input[pixel * channels + c]) - p.inputZeroPoint }
            let result = Int64(multiplyByQuantizedMultiplier(sum, p.multiplier)) + Int64(p.outputZeroPoint)
            output[c] = Int8(min(max(result, -128), 127))
        }
    }

    /// 8 channels per step, summed over all pixels; bit for bit `globalAverageReference`.
    public static func globalAverage(_ input: UnsafePointer<Int8>, pixels: Int, channels: Int, parameters p: AverageParameters,
                                     output: UnsafeMutablePointer<Int8>) {
        let full = channels / 8 * 8
        let m = SIMD8<Int32>(repeating: p.multiplier.multiplier), shift = SIMD8<Int32>(repeating: p.multiplier.shift)
        let bias = SIMD8<Int32>(repeating: -p.inputZeroPoint &* Int32(pixels))
        let lowerBound = SIMD8<Int32>(repeating: -128 &- p.outputZeroPoint), upperBound = SIMD8<Int32>(repeating: 127 &- p.outputZeroPoint)
        var c = 0
        while c < full {
            var sum = bias
            for pixel in 0..<pixels {
                sum &+= widen8(UnsafeRawPointer(input + (pixel &* channels &+ c)).loadUnaligned(as: SIMD8<Int8>.self))
            }
            var result = multiplyByQuantizedMultiplier(sum, multiplier: m, shift: shift)
            result = result.replacing(with: lowerBound, where: result .< lowerBound)
            result = result.replacing(with: upperBound, where: result .> upperBound)
            store8(result &+ SIMD8<Int32>(repeating: p.outputZeroPoint), to: output + c)
            c &+= 8
        }
        if full < channels {
            // The tail is a strided view: channels full..<channels of each pixel.
            for ch in full..<channels {
                var sum: Int32 = 0
                for pixel in 0..<pixels { sum += Int32(input[pixel * channels + ch]) - p.inputZeroPoint }
                let result = Int64(multiplyByQuantizedMultiplier(sum, p.multiplier)) + Int64(p.outputZeroPoint)
                output[ch] = Int8(min(max(result, -128), 127))
            }
        }
    }

    /// Max or average over k×k windows (same quantization in and out, as TFLite requires for these).
    /// Padding never wins a max and is not counted in an average. Average rounds half away from zero.
    public enum Kind: Sendable { case max, average }

    public static func windowReference(_ input: UnsafePointer<Int8>, shape s: ConvolutionShape, kind: Kind,
                                       output: UnsafeMutablePointer<Int8>) {
        let c = s.inputChannels
        for b in 0..<s.batch { for oy in 0..<s.outputHeight { for ox in 0..<s.outputWidth { for ch in 0..<c {
            var best: Int32 = -128, sum: Int32 = 0, count: Int32 = 0
            for ky in 0..<s.kernelHeight {
                let iy = oy * s.strideHeight - s.padTop + ky * s.dilationHeight
                if iy < 0 || iy >= s.inputHeight { continue }
                for kx in 0..<s.kernelWidth {
                    let ix = ox * s.strideWidth - s.padLeft + kx * s.dilationWidth
                    if ix < 0 || ix >= s.inputWidth { continue }
                    let v = Int32(input[((b * s.inputHeight + iy) * s.inputWidth + ix) * c + ch])
                    best = max(best, v)
                    sum += v
                    count += 1
                }
            }
            let value: Int32 = switch kind {
            case .max: best
            case .average: count == 0 ? 0 : (sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count)
            }
            output[((b * s.outputHeight + oy) * s.outputWidth + ox) * c + ch] = Int8(value)
        } } } }
    }
}
