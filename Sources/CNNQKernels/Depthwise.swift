/// Depthwise convolution, NHWC, 16 channels per SIMD step: (x − x_zero) and w widened to int16,
/// multiplied exactly in int16 (|255 · 127| < 2^15) and accumulated in int32. 3×3 and 5×5 at
/// stride 1 and 2 are specialised (constant kernel and stride, unrolled taps); every other
/// geometry, dilation included, runs the same generic row body with run-time parameters.
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

    /// Kernel geometry as a type: the specialised variants return constants, so each generic
    /// specialisation of the row body has unrolled taps and constant strides.
    protocol Geometry {
        var kh: Int { get }
        var kw: Int { get }
        var sh: Int { get }
        var sw: Int { get }
        var dh: Int { get }
        var dw: Int { get }
    }

    struct K3S1: Geometry { var kh: Int { 3 }; var kw: Int { 3 }; var sh: Int { 1 }; var sw: Int { 1 }; var dh: Int { 1 }; var dw: Int { 1 } }
    struct K3S2: Geometry { var kh: Int { 3 }; var kw: Int { 3 }; var sh: Int { 2 }; var sw: Int { 2 }; var dh: Int { 1 }; var dw: Int { 1 } }
    struct K5S1: Geometry { var kh: Int { 5 }; var kw: Int { 5 }; var sh: Int { 1 }; var sw: Int { 1 }; var dh: Int { 1 }; var dw: Int { 1 } }
    struct K5S2: Geometry { var kh: Int { 5 }; var kw: Int { 5 }; var sh: Int { 2 }; var sw: Int { 2 }; var dh: Int { 1 }; var dw: Int { 1 } }

    /// Any other geometry, read from the shape at run time.
    struct AnyGeometry: Geometry {
        let kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int
        init(_ s: ConvolutionShape) {
            (kh, kw, sh, sw, dh, dw) = (s.kernelHeight, s.kernelWidth, s.strideHeight, s.strideWidth, s.dilationHeight, s.dilationWidth)
        }
    }

    enum Variant {
        case k3s1, k3s2, k5s1, k5s2, generic

        init(_ s: ConvolutionShape) {
            let plain = s.dilationHeight == 1 && s.dilationWidth == 1 && s.strideHeight == s.strideWidth
            self = switch (s.kernelHeight, s.kernelWidth, s.strideHeight) {
            case (3, 3, 1) where plain: .k3s1
            case (3, 3, 2) where plain: .k3s2
            case (5, 5, 1) where plain: .k5s1
            case (5, 5, 2) where plain: .k5s2
            default: .generic
            }
        }
    }

    /// Where input row iy of image b starts: a whole NHWC tensor, or the ring of expanded rows of
    /// the fused inverted-residual block.
    protocol InputRows {
        func row(_ b: Int, _ iy: Int) -> UnsafePointer<Int8>
    }

    struct TensorRows: InputRows {
        let base: UnsafePointer<Int8>, rowStride: Int, imageStride: Int
        @inline(__always) func row(_ b: Int, _ iy: Int) -> UnsafePointer<Int8> { base + (b &* imageStride &+ iy &* rowStride) }
    }

    struct RingRows: InputRows {
        let base: UnsafePointer<Int8>, rowStride: Int, count: Int
        @inline(__always) func row(_ b: Int, _ iy: Int) -> UnsafePointer<Int8> { base + (iy % count) &* rowStride }
    }

    public static func run(input: UnsafePointer<Int8>, inputZeroPoint: Int32, packedWeights: UnsafePointer<Int8>,
                           bias: UnsafePointer<Int32>, shape s: ConvolutionShape, stage: OutputStage,
                           output: UnsafeMutablePointer<Int8>) {
        let rows = Rows(source: TensorRows(base: input, rowStride: s.inputWidth * s.inputChannels,
                                           imageStride: s.inputHeight * s.inputWidth * s.inputChannels),
                        zero: inputZeroPoint, packed: packedWeights, bias: bias, s: s, stage: stage, output: output)
        let variant = Variant(s)
        let scalesUp = stage.scalesUp(channels: s.outputChannels)
        parallelFor(s.batch * s.outputHeight) { row in rows.run(row, variant, scalesUp: scalesUp) }
    }

    struct Rows<Source: InputRows> {
        let source: Source, zero: Int32, packed: UnsafePointer<Int8>, bias: UnsafePointer<Int32>
        let s: ConvolutionShape, stage: OutputStage, output: UnsafeMutablePointer<Int8>

        /// Output row `row` (image row / outputHeight, line row % outputHeight).
        @inline(__always)
        func run(_ row: Int, _ variant: Variant, scalesUp: Bool) {
            if scalesUp { run(row, variant, AnyScale.self) } else { run(row, variant, ScalesDown.self) }
        }

        @inline(__always)
        func run<R: ScaleRange>(_ row: Int, _ variant: Variant, _ range: R.Type) {
            switch variant {
            case .k3s1: run(row, K3S1(), range)
            case .k3s2: run(row, K3S2(), range)
            case .k5s1: run(row, K5S1(), range)
            case .k5s2: run(row, K5S2(), range)
            case .generic: run(row, AnyGeometry(s), range)
            }
        }

        /// One output row: for each block of 16 channels, every output pixel of the row.
        func run<G: Geometry, R: ScaleRange>(_ row: Int, _ g: G, _ range: R.Type) {
            let (kh, kw, sh, sw, dh, dw) = (g.kh, g.kw, g.sh, g.sw, g.dh, g.dw)
            let c = s.inputChannels
            let wStride = (c + channelBlock - 1) / channelBlock * channelBlock
            let full = c / channelBlock * channelBlock
            let zero16 = SIMD16<Int16>(repeating: Int16(zero))
            let b = row / s.outputHeight, oy = row % s.outputHeight
            let iy0 = oy * sh - s.padTop
            let outputRow = output + row * s.outputWidth * c
            // Output columns whose taps all fall inside the input; rows likewise.
            let rowSpan: Int = (kh &- 1) &* dh
            let rowInside = iy0 >= 0 && iy0 &+ rowSpan < s.inputHeight
            let oxFirst = (s.padLeft &+ sw &- 1) / sw
            let span: Int = (kw &- 1) &* dw
            let lastStart: Int = s.inputWidth &+ s.padLeft &- span &- 1  // largest ox·sw with every tap inside
            let oxEnd = max(oxFirst, min(s.outputWidth, lastStart < 0 ? 0 : lastStart / sw &+ 1))
            // Blocks of 16 channels; when C is not a multiple of 16 (but at least 16), one more block
            // ends at the last channel, overlapping the one before: the overlapped channels are
            // computed twice, identically, and the remainder still runs in vector lanes.
            let blocks = full / channelBlock + (c != full && c >= channelBlock ? 1 : 0)
            for index in 0..<blocks {
                let block = min(index &* channelBlock, c &- channelBlock)
                let bp = UnsafeRawPointer(bias + block)
                let bias0 = bp.loadUnaligned(as: SIMD8<Int32>.self), bias1 = bp.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
                let weights = UnsafeRawPointer(packed + block)
                for ox in 0..<s.outputWidth {
                    let ix0 = ox &* sw &- s.padLeft
                    var lo = bias0, hi = bias1
                    /// (x − x_zero) · w for input pixel (iy, ix) and tap t, 16 channels in int16.
                    @inline(__always) func product(_ iy: Int, _ ix: Int, _ t: Int) -> SIMD16<Int16> {
                        let offset: Int = ix &* c &+ block
                        let x = UnsafeRawPointer(source.row(b, iy) + offset)
                        return (widen(x.loadUnaligned(as: SIMD16<Int8>.self)) &- zero16)
                            &* widen(weights.loadUnaligned(fromByteOffset: t &* wStride, as: SIMD16<Int8>.self))
                    }
                    if rowInside && ox >= oxFirst && ox < oxEnd {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let p = product(iy0 &+ ky &* dh, ix0 &+ kx &* dw, ky &* kw &+ kx)
                                lo &+= widenLow(p)
                                hi &+= widenHigh(p)
                            }
                        }
                    } else {
                        for ky in 0..<kh {
                            let iy = iy0 &+ ky &* dh
                            if iy < 0 || iy >= s.inputHeight { continue }
                            for kx in 0..<kw {
                                let ix = ix0 &+ kx &* dw
                                if ix < 0 || ix >= s.inputWidth { continue }
                                let p = product(iy, ix, ky &* kw &+ kx)
                                lo &+= widenLow(p)
                                hi &+= widenHigh(p)
                            }
                        }
                    }
                    let out = outputRow + (ox &* c &+ block)
                    store8(stage.apply(lo, channel: block, range), to: out)
                    store8(stage.apply(hi, channel: block &+ 8, range), to: out + 8)
                }
            }
            // 8 channels (narrow MobileNets' first depthwise layer): 8 int32 lanes per pixel.
            if c == 8 {
                let zero8 = SIMD8<Int32>(repeating: zero)
                let bias8 = UnsafeRawPointer(bias).loadUnaligned(as: SIMD8<Int32>.self)
                for ox in 0..<s.outputWidth {
                    let ix0 = ox &* sw &- s.padLeft
                    var acc = bias8
                    for ky in 0..<kh {
                        let iy = iy0 &+ ky &* dh
                        if iy < 0 || iy >= s.inputHeight { continue }
                        for kx in 0..<kw {
                            let ix = ix0 &+ kx &* dw
                            if ix < 0 || ix >= s.inputWidth { continue }
                            let x = widen8(UnsafeRawPointer(source.row(b, iy) + ix &* 8).loadUnaligned(as: SIMD8<Int8>.self)) &- zero8
                            acc &+= x &* widen8(UnsafeRawPointer(packed + (ky &* kw &+ kx) &* wStride).loadUnaligned(as: SIMD8<Int8>.self))
                        }
                    }
                    store8(stage.apply(acc, channel: 0, range), to: outputRow + ox &* 8)
                }
                return
            }
            // Other counts below 16: lane by lane.
            for ch in (c < channelBlock ? 0 : c)..<c {
                for ox in 0..<s.outputWidth {
                    let ix0 = ox * sw - s.padLeft
                    var acc = bias[ch]
                    for ky in 0..<kh {
                        let iy = iy0 + ky * dh
                        if iy < 0 || iy >= s.inputHeight { continue }
                        for kx in 0..<kw {
                            let ix = ix0 + kx * dw
                            if ix < 0 || ix >= s.inputWidth { continue }
                            // Wrapping, as the vector path: a hostile bias must not trap.
                            acc &+= (Int32(source.row(b, iy)[ix * c + ch]) &- zero) &* Int32(packed[(ky * kw + kx) * wStride + ch])
                        }
                    }
                    outputRow[ox * c + ch] = stage.apply(acc, channel: ch)
                }
            }
        }
    }
}
