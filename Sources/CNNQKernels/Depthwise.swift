/// Depthwise convolution, NHWC, 16 channels per SIMD step: (x − x_zero) and w widened to int16,
/// multiplied exactly in int16 (|255 · 127| < 2^15) and accumulated in int32. 3×3 and 5×5 at
/// stride 1 and 2 are specialised (constant kernel and stride, unrolled taps); every other
/// geometry, dilation included, runs the same body with run-time parameters.
public enum Depthwise {
    public static let channelBlock = 16

    /// Int8 entries of packed weights: [kh][kw][channels rounded up to 16], zero-padded.
    public static func packedWeightCount(channels: Int, kernelHeight: Int, kernelWidth: Int) -> Int {
        kernelHeight * kernelWidth * (channels + channelBlock - 1) / channelBlock * channelBlock
    }

    /// Packs OHWI depthwise weights [c][kh][kw][1] into [kh][kw][c16].
    public static func pack(weights: UnsafePointer<Int8>, channels: Int, kernelHeight: Int, kernelWidth: Int,
                            packed: UnsafeMutablePointer<Int8>) {
        let stride = (channels + channelBlock - 1) / channelBlock * channelBlock
        for tap in 0..<(kernelHeight * kernelWidth) {
            for c in 0..<stride { packed[tap * stride + c] = c < channels ? weights[c * kernelHeight * kernelWidth + tap] : 0 }
        }
    }

    public static func run(input: UnsafePointer<Int8>, inputZeroPoint: Int32, packedWeights: UnsafePointer<Int8>,
                           bias: UnsafePointer<Int32>, shape s: ConvolutionShape, stage: OutputStage,
                           output: UnsafeMutablePointer<Int8>) {
        let plain = s.dilationHeight == 1 && s.dilationWidth == 1 && s.strideHeight == s.strideWidth
        switch (s.kernelHeight, s.kernelWidth, s.strideHeight) {
        case (3, 3, 1) where plain: body(input, inputZeroPoint, packedWeights, bias, s, stage, output, kh: 3, kw: 3, stride: 1)
        case (3, 3, 2) where plain: body(input, inputZeroPoint, packedWeights, bias, s, stage, output, kh: 3, kw: 3, stride: 2)
        case (5, 5, 1) where plain: body(input, inputZeroPoint, packedWeights, bias, s, stage, output, kh: 5, kw: 5, stride: 1)
        case (5, 5, 2) where plain: body(input, inputZeroPoint, packedWeights, bias, s, stage, output, kh: 5, kw: 5, stride: 2)
        default: generic(input, inputZeroPoint, packedWeights, bias, s, stage, output)
        }
    }

    @inline(never)
    static func generic(_ input: UnsafePointer<Int8>, _ zero: Int32, _ packed: UnsafePointer<Int8>, _ bias: UnsafePointer<Int32>,
                        _ s: ConvolutionShape, _ stage: OutputStage, _ output: UnsafeMutablePointer<Int8>) {
        body(input, zero, packed, bias, s, stage, output, kh: s.kernelHeight, kw: s.kernelWidth, stride: 0)
    }

    /// `stride` 0 means "take strides and dilations from `s`"; otherwise they are the constant given.
    @inline(__always)
    static func body(_ input: UnsafePointer<Int8>, _ zero: Int32, _ packed: UnsafePointer<Int8>, _ bias: UnsafePointer<Int32>,
                     _ s: ConvolutionShape, _ stage: OutputStage, _ output: UnsafeMutablePointer<Int8>,
                     kh: Int, kw: Int, stride: Int) {
        let c = s.inputChannels
        let sh = stride == 0 ? s.strideHeight : stride, sw = stride == 0 ? s.strideWidth : stride
        let dh = stride == 0 ? s.dilationHeight : 1, dw = stride == 0 ? s.dilationWidth : 1
        let wStride = (c + channelBlock - 1) / channelBlock * channelBlock
        let full = c / channelBlock * channelBlock
        let zero16 = SIMD16<Int16>(repeating: Int16(zero))
        parallelFor(s.batch * s.outputHeight) { row in
            let b = row / s.outputHeight, oy = row % s.outputHeight
            let iy0 = oy * sh - s.padTop
            for ox in 0..<s.outputWidth {
                let ix0 = ox * sw - s.padLeft
                let out = output + (row * s.outputWidth + ox) * c
                var block = 0
                while block < full {
                    let bp = UnsafeRawPointer(bias + block)
                    var lo = bp.loadUnaligned(as: SIMD8<Int32>.self), hi = bp.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
                    for ky in 0..<kh {
                        let iy = iy0 + ky * dh
                        if iy < 0 || iy >= s.inputHeight { continue }
                        for kx in 0..<kw {
                            let ix = ix0 + kx * dw
                            if ix < 0 || ix >= s.inputWidth { continue }
                            let x = UnsafeRawPointer(input + ((b * s.inputHeight + iy) * s.inputWidth + ix) * c + block)
                            let w = UnsafeRawPointer(packed + (ky * kw + kx) * wStride + block)
                            let product = (widen(x.loadUnaligned(as: SIMD16<Int8>.self)) &- zero16)
                                &* widen(w.loadUnaligned(as: SIMD16<Int8>.self))
                            lo &+= widenLow(product)
                            hi &+= widenHigh(product)
                        }
                    }
                    store8(stage.apply(lo, channel: block), to: out + block)
                    store8(stage.apply(hi, channel: block + 8), to: out + block + 8)
                    block += channelBlock
                }
                // Channels past the last full block of 16.
                for ch in full..<c {
                    var acc = bias[ch]
                    for ky in 0..<kh {
                        let iy = iy0 + ky * dh
                        if iy < 0 || iy >= s.inputHeight { continue }
                        for kx in 0..<kw {
                            let ix = ix0 + kx * dw
                            if ix < 0 || ix >= s.inputWidth { continue }
                            let x = Int32(input[((b * s.inputHeight + iy) * s.inputWidth + ix) * c + ch]) - zero
                            acc += x * Int32(packed[(ky * kw + kx) * wStride + ch])
                        }
                    }
                    out[ch] = stage.apply(acc, channel: ch)
                }
            }
        }
    }
}
