/// Quantized multiplication with rescale: out = z_out + s · (x − z_x)(g − z_g), s = s_x·s_g / s_out (the
/// product exact in int32, then `requantize`).
/// `gate` holds one value per channel and is broadcast over pixels (the SE channel scale); for an
/// elementwise product of equal shapes pass pixels = 1 and channels = count.
public struct MultiplyParameters: Equatable, Sendable {
    public var inputZeroPoint: Int32, gateZeroPoint: Int32
    public var output: Requantization

    #if !hasFeature(Embedded)  // host only: the quantizer computes the scales
        public init(
            inputScale: Double, inputZeroPoint: Int32, gateScale: Double, gateZeroPoint: Int32,
            outputScale: Double, outputZeroPoint: Int32, lower: Int32 = -128, upper: Int32 = 127
        ) {
            self.inputZeroPoint = inputZeroPoint
            self.gateZeroPoint = gateZeroPoint
            output = Requantization(
                scale: Float(inputScale * gateScale / outputScale), zeroPoint: outputZeroPoint, lower: lower,
                upper: upper)
        }
    #endif

    public init(inputZeroPoint: Int32, gateZeroPoint: Int32, output: Requantization) {
        self.inputZeroPoint = inputZeroPoint
        self.gateZeroPoint = gateZeroPoint
        self.output = output
    }
}

public enum Multiply {
    public static func reference(
        _ x: UnsafePointer<Int8>, gate: UnsafePointer<Int8>, pixels: Int, channels: Int,
        parameters p: MultiplyParameters, output: UnsafeMutablePointer<Int8>
    ) {
        for pixel in 0..<pixels {
            for c in 0..<channels {
                let i = pixel * channels + c
                output[i] = p.output.apply((Int32(x[i]) - p.inputZeroPoint) * (Int32(gate[c]) - p.gateZeroPoint))
            }
        }
    }

    /// A level's module compiling `runPixels` with its instructions, reached through its C entry:
    /// `run(x, gate, first pixel, pixel count, channels, parameters, output)`.
    public struct Kernel {
        public typealias Body = (
            UnsafePointer<Int8>, UnsafePointer<Int8>, Int, Int, Int, UnsafePointer<MultiplyParameters>,
            UnsafeMutablePointer<Int8>
        ) -> Void
        public let run: Body

        public init(run: @escaping Body) { self.run = run }
    }

    /// 8 channels at a time, the channel tail through `reference`, bit for bit the same; pixels
    /// spread over threads in pieces of about 16 KiB, each by `kernel` or the portable loop.
    public static func run(
        _ x: UnsafePointer<Int8>, gate: UnsafePointer<Int8>, pixels: Int, channels: Int,
        parameters p: MultiplyParameters, output: UnsafeMutablePointer<Int8>, kernel: Kernel? = nil
    ) {
        parallelChunks(pixels, grain: max(1, 16_384 / max(1, channels))) { range in
            if let kernel {
                withUnsafePointer(to: p) {
                    kernel.run(x, gate, range.lowerBound, range.count, channels, $0, output)
                }
            } else {
                runPixels(range, x, gate: gate, channels: channels, p, output)
            }
        }
    }

    @inlinable @inline(__always)
    public static func runPixels(
        _ pixels: Range<Int>, _ x: UnsafePointer<Int8>, gate: UnsafePointer<Int8>, channels: Int,
        _ p: MultiplyParameters, _ output: UnsafeMutablePointer<Int8>
    ) {
        let zx = SIMD8<Int32>(repeating: p.inputZeroPoint), zg = SIMD8<Int32>(repeating: p.gateZeroPoint)
        let full = channels / 8 * 8
        for pixel in pixels {
            let row = pixel &* channels
            var c = 0
            while c < full {
                let g = widen8(UnsafeRawPointer(gate + c).loadUnaligned(as: SIMD8<Int8>.self)) &- zg
                let v = widen8(UnsafeRawPointer(x + (row &+ c)).loadUnaligned(as: SIMD8<Int8>.self)) &- zx
                store8(p.output.apply(v &* g), to: output + (row &+ c))
                c &+= 8
            }
            if full < channels {
                reference(
                    x + (row &+ full), gate: gate + full, pixels: 1, channels: channels - full, parameters: p,
                    output: output + (row &+ full))
            }
        }
    }
}
