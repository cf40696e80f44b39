import CNNQKernels

/// The plain int8 convolution every optimised convolution kernel is checked against, bit for bit:
/// Σ (x − x_zero) · w + bias in int32 per output, then the output stage. Padding holds x_zero, so
/// padded taps add nothing. Any kernel, stride, dilation and group count.
public func convolutionReference(
    input: UnsafePointer<Int8>, inputZeroPoint: Int32,
    weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
    shape s: ConvolutionShape, stage: OutputStage, output: UnsafeMutablePointer<Int8>
) {
    let groupIn = s.inputChannels / s.groups, groupOut = s.outputChannels / s.groups
    for b in 0..<s.batch {
        for oy in 0..<s.outputHeight {
            for ox in 0..<s.outputWidth {
                for oc in 0..<s.outputChannels {
                    let g = oc / groupOut
                    var acc = bias[oc]
                    for ky in 0..<s.kernelHeight {
                        let iy = oy * s.strideHeight - s.padTop + ky * s.dilationHeight
                        if iy < 0 || iy >= s.inputHeight { continue }
                        for kx in 0..<s.kernelWidth {
                            let ix = ox * s.strideWidth - s.padLeft + kx * s.dilationWidth
                            if ix < 0 || ix >= s.inputWidth { continue }
                            let pixel =
                                input + ((b * s.inputHeight + iy) * s.inputWidth + ix) * s.inputChannels + g * groupIn
                            let taps = weights + ((oc * s.kernelHeight + ky) * s.kernelWidth + kx) * groupIn
                            for i in 0..<groupIn { acc += (Int32(pixel[i]) - inputZeroPoint) * Int32(taps[i]) }
                        }
                    }
                    output[((b * s.outputHeight + oy) * s.outputWidth + ox) * s.outputChannels + oc] = stage.apply(
                        acc, channel: oc)
                }
            }
        }
    }
}
