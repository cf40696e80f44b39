/// Float32 kernels for the layers a user keeps out of int8 (`cnn-quantize quantize --exclude`). They
/// are plain loops: an excluded layer is a rare, deliberate trade of speed for accuracy, and a plain
/// loop in a fixed order gives the same floats on every board (Swift does not contract a·b + c into
/// a fused multiply-add unless asked).
public enum FloatIsland {
    /// NHWC grouped convolution; weights OHWI with I = input channels / groups; output clamped to
    /// [lower, upper].
    public static func convolution(
        input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        shape s: ConvolutionShape, lower: Float, upper: Float, output: UnsafeMutablePointer<Float>
    ) {
        let perGroupIn = s.inputChannels / s.groups, perGroupOut = s.outputChannels / s.groups
        let taps = s.kernelHeight * s.kernelWidth * perGroupIn
        for b in 0..<s.batch {
            for oy in 0..<s.outputHeight {
                for ox in 0..<s.outputWidth {
                    let out = output + ((b * s.outputHeight + oy) * s.outputWidth + ox) * s.outputChannels
                    for oc in 0..<s.outputChannels {
                        let g = oc / perGroupOut
                        var sum = bias[oc]
                        for ky in 0..<s.kernelHeight {
                            let iy = oy * s.strideHeight - s.padTop + ky * s.dilationHeight
                            if iy < 0 || iy >= s.inputHeight { continue }
                            for kx in 0..<s.kernelWidth {
                                let ix = ox * s.strideWidth - s.padLeft + kx * s.dilationWidth
                                if ix < 0 || ix >= s.inputWidth { continue }
                                let pixel =
                                    input + ((b * s.inputHeight + iy) * s.inputWidth + ix) * s.inputChannels + g
                                    * perGroupIn
                                let tap = weights + oc * taps + (ky * s.kernelWidth + kx) * perGroupIn
                                for i in 0..<perGroupIn { sum += pixel[i] * tap[i] }
                            }
                        }
                        out[oc] = min(max(sum, lower), upper)
                    }
                }
            }
        }
    }

    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<count { output[i] = a[i] + b[i] }
    }

    /// round(value / scale) + zero point, saturated; half away from zero, by hand, so the library
    /// needs no libm. The C API quantizes its inputs with the same function.
    @inline(__always)
    public static func quantize(_ value: Float, scale: Float, zeroPoint: Int32) -> Int8 {
        let scaled = max(-1024, min(1024, value / scale))
        let rounded = Int32(scaled + (scaled >= 0 ? 0.5 : -0.5))
        return Int8(max(-128, min(127, rounded + zeroPoint)))
    }

    public static func quantize(
        _ input: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Int32, output: UnsafeMutablePointer<Int8>
    ) {
        for i in 0..<count { output[i] = quantize(input[i], scale: scale, zeroPoint: zeroPoint) }
    }

    public static func dequantize(
        _ input: UnsafePointer<Int8>, count: Int, scale: Float, zeroPoint: Int32, output: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<count { output[i] = Float(Int32(input[i]) - zeroPoint) * scale }
    }
}
