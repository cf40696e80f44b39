/// Int8 pooling over NHWC data.
public enum Pooling {
    /// Global average pool [pixels][channels] → [channels] with requantization: the scale is
    /// s_in / (s_out · pixels), so the mean and the rescale round once.
    public struct AverageParameters: Equatable, Sendable {
        public var inputZeroPoint: Int32
        public var output: Requantization

        #if !hasFeature(Embedded)  // host only: the quantizer computes the scales
            public init(
                inputScale: Double, inputZeroPoint: Int32, outputScale: Double, outputZeroPoint: Int32, pixels: Int
            ) {
                self.inputZeroPoint = inputZeroPoint
                output = Requantization(
                    scale: Float(inputScale / (outputScale * Double(pixels))), zeroPoint: outputZeroPoint)
            }
        #endif

        public init(inputZeroPoint: Int32, output: Requantization) {
            self.inputZeroPoint = inputZeroPoint
            self.output = output
        }
    }

    /// `stride` is the distance between pixels (channels, unless reading a slice of wider rows).
    public static func globalAverageReference(
        _ input: UnsafePointer<Int8>, pixels: Int, channels: Int, stride: Int? = nil,
        parameters p: AverageParameters, output: UnsafeMutablePointer<Int8>
    ) {
        for c in 0..<channels {
            var sum: Int32 = 0
            for pixel in 0..<pixels { sum &+= Int32(input[pixel * (stride ?? channels) + c]) &- p.inputZeroPoint }
            output[c] = p.output.apply(sum)
        }
    }

    /// A level's module compiling `globalAverage` with its instructions, reached through its C entry:
    /// `run(input, pixels, channels, parameters, output)`.
    public struct GlobalAverageKernel {
        public typealias Body = (
            UnsafePointer<Int8>, Int, Int, UnsafePointer<AverageParameters>, UnsafeMutablePointer<Int8>
        ) -> Void
        public let run: Body

        public init(run: @escaping Body) { self.run = run }
    }

    /// `globalAverage` by `kernel`, or by the portable loop when it is nil.
    public static func globalAverage(
        _ input: UnsafePointer<Int8>, pixels: Int, channels: Int, parameters p: AverageParameters,
        output: UnsafeMutablePointer<Int8>, kernel: GlobalAverageKernel?
    ) {
        guard let kernel else {
            return globalAverage(input, pixels: pixels, channels: channels, parameters: p, output: output)
        }
        withUnsafePointer(to: p) { kernel.run(input, pixels, channels, $0, output) }
    }

    /// 8 channels per step, summed over all pixels; bit for bit `globalAverageReference`.
    @inlinable @inline(__always)
    public static func globalAverage(
        _ input: UnsafePointer<Int8>, pixels: Int, channels: Int, parameters p: AverageParameters,
        output: UnsafeMutablePointer<Int8>
    ) {
        let full = channels / 8 * 8
        let bias = SIMD8<Int32>(repeating: -p.inputZeroPoint &* Int32(pixels))
        var c = 0
        while c < full {
            var sum = bias
            for pixel in 0..<pixels {
                sum &+= widen8(UnsafeRawPointer(input + (pixel &* channels &+ c)).loadUnaligned(as: SIMD8<Int8>.self))
            }
            store8(p.output.apply(sum), to: output + c)
            c &+= 8
        }
        globalAverageReference(
            input + full, pixels: pixels, channels: channels - full, stride: channels, parameters: p,
            output: output + full)
    }

    public enum Kind: Sendable { case max, average }

    /// Max or average over k×k windows (same quantization in and out, as TFLite requires for these).
    /// Padding never wins a max and is not counted in an average. Average rounds half away from zero.
    /// Plain loops: pooling is a sliver of a CNN's time; tests check it against the float operation.
    public static func window(
        _ input: UnsafePointer<Int8>, shape s: ConvolutionShape, kind: Kind,
        output: UnsafeMutablePointer<Int8>
    ) {
        let c = s.inputChannels
        for b in 0..<s.batch {
            for oy in 0..<s.outputHeight {
                for ox in 0..<s.outputWidth {
                    for ch in 0..<c {
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
                        let value: Int32 =
                            switch kind {
                            case .max: best
                            case .average:
                                count == 0 ? 0 : (sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count)
                            }
                        output[((b * s.outputHeight + oy) * s.outputWidth + ox) * c + ch] = Int8(value)
                    }
                }
            }
        }
    }
}
