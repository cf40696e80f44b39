/// k×k convolution (the 3×3 stride-2 stem of every MobileNet, and the plain convolutions of other
/// CNNs), also grouped (RegNet, ResNeXt): the input patches of 4 output pixels are gathered (im2col)
/// into a per-thread workspace by the GEMM driver and multiplied there. Weights are
/// OHWI, i.e. already [outputChannels][kh·kw·inputChannels/groups], packed with `pack`. Padded taps
/// hold the input zero point, which the packed bias cancels exactly.
public enum StandardConvolution {
    /// Where `pack` puts a layer's weights and per-channel arrays: each group is a pointwise GEMM
    /// (`GEMM.Layout`) of depth kh·kw·C/G whose channel slots start on a block, group after group.
    public struct Layout: Equatable, Sendable {
        public let groups: Int
        /// One group's GEMM.
        public let group: GEMM.Layout
        /// Int8 entries of packed weights.
        public let weightCount: Int
        /// Int32 entries of each per-channel requantization array.
        public let channelSlots: Int
        /// Int32 entries of the packed bias: each group's `GEMM.Layout.biasCount`, group after group.
        public var biasCount: Int { groups * group.biasCount }
        /// Bytes of one thread's workspace (one group runs at a time).
        public var workspacePerThread: Int { group.workspacePerThread }

        /// Nil when a size overflows `Int`.
        public init?(checkedShape s: ConvolutionShape) {
            guard s.groups >= 1, s.outputChannels % s.groups == 0, s.inputChannels % s.groups == 0,
                let taps = CheckedSize.product(s.kernelHeight, s.kernelWidth),
                let depth = CheckedSize.product(taps, s.inputChannels / s.groups),
                let group = GEMM.Layout(checkedOutputChannels: s.outputChannels / s.groups, depth: depth),
                let weights = CheckedSize.product(s.groups, group.weightCount),
                let slots = CheckedSize.product(s.groups, group.channelSlots), slots <= Int.max / 2
            else { return nil }
            (groups, self.group, weightCount, channelSlots) = (s.groups, group, weights, slots)
        }

        public init(shape s: ConvolutionShape) { self = Layout(checkedShape: s)! }

        /// Index of output channel `c` in the packed bias and requantization arrays.
        public func channelSlot(_ c: Int) -> Int {
            c / group.outputChannels * group.channelSlots + c % group.outputChannels
        }
    }

    /// Packs OHWI weights and int32 bias group by group (see `GEMM.pack`); `packedBias` holds
    /// `Layout.biasCount` entries.
    public static func pack(
        weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>, shape s: ConvolutionShape, inputZeroPoint: Int32,
        packedWeights: UnsafeMutablePointer<Int8>, packedBias: UnsafeMutablePointer<Int32>
    ) {
        let layout = Layout(shape: s)
        let (perGroup, k) = (layout.group.outputChannels, layout.group.depth)
        let groupWeights = layout.group.weightCount
        for g in 0..<s.groups {
            GEMM.pack(
                weights: weights + g * perGroup * k, bias: bias + g * perGroup, outputChannels: perGroup,
                inputChannels: k,
                inputZeroPoint: inputZeroPoint, packedWeights: packedWeights + g * groupWeights,
                packedBias: packedBias + g * layout.group.biasCount)
        }
    }

    /// `stage` holds per-group padded scales (`Layout.channelSlot`) when `groups` > 1. `pixels`
    /// output pixels from `firstPixel` on (all by default), the first written at `output`; `serial`:
    /// on the calling thread only. Out of line, so that the layer and the fused block (whose expand
    /// it can be) share one copy of the im2col GEMM (size on a board).
    @inline(never)
    public static func run(
        input: UnsafePointer<Int8>, inputZeroPoint: Int32, packedWeights: UnsafePointer<Int8>,
        packedBias: UnsafePointer<Int32>, shape s: ConvolutionShape, stage: OutputStage, kernel: GEMM.Kernel,
        workspace: UnsafeMutablePointer<Int8>, output: UnsafeMutablePointer<Int8>, firstPixel: Int = 0,
        pixels: Int? = nil, serial: Bool = false
    ) {
        let layout = Layout(shape: s)
        let (perGroup, k) = (layout.group.outputChannels, layout.group.depth)
        let (groupWeights, stride) = (layout.group.weightCount, layout.group.channelSlots)
        // One GEMM per group, over the group's input channels, into its slice of every output pixel.
        for g in 0..<s.groups {
            var groupStage = stage
            groupStage.scales = stage.scales + g * stride
            GEMM.run(
                pixels: pixels ?? s.batch * s.outputHeight * s.outputWidth, depth: k,
                packedWeights: packedWeights + g * groupWeights,
                packedBias: packedBias + g * layout.group.biasCount, outputChannels: perGroup,
                outputStride: s.outputChannels, stage: groupStage, kernel: kernel, workspace: workspace,
                output: output + g * perGroup,
                rows: PatchRows(input: input + g * (s.inputChannels / s.groups), s: s, padding: Int8(inputZeroPoint)),
                firstPixel: firstPixel, serial: serial)
        }
    }

    /// The kh·kw·C/G input values an output pixel sees, in OHWI tap order (im2col of one pixel);
    /// `input` points at the group's first channel.
    struct PatchRows: GEMM.RowWriter {
        let input: UnsafePointer<Int8>, s: ConvolutionShape, padding: Int8

        @inline(__always) func inPlace(_ first: Int) -> UnsafePointer<Int8>? { nil }

        /// The tile's first pixel's position takes divisions; the others step from it.
        @inline(__always)
        func fill(_ first: Int, count: Int, _ rows: UnsafeMutablePointer<Int8>, rowStride: Int, flip: UInt8) {
            let taps = s.inputChannels / s.groups
            var b = first / (s.outputHeight * s.outputWidth)
            var oy = first / s.outputWidth % s.outputHeight, ox = first % s.outputWidth
            for r in 0..<count {
                fill(b, oy, ox, taps: taps, rows + r * rowStride, flip: flip)
                ox += 1
                if ox == s.outputWidth {
                    ox = 0
                    oy += 1
                    if oy == s.outputHeight { (oy, b) = (0, b + 1) }
                }
            }
        }

        /// Wrapping arithmetic: every index is inside the tensor, whose size the layout checked.
        @inline(__always)
        func fill(_ b: Int, _ oy: Int, _ ox: Int, taps: Int, _ row: UnsafeMutablePointer<Int8>, flip: UInt8) {
            let c = s.inputChannels
            var out = row
            let iy0 = oy &* s.strideHeight &- s.padTop, ix0 = ox &* s.strideWidth &- s.padLeft
            // One group, inside the image, no dilation across: each kernel row's taps are one contiguous
            // run, a fixed step after the one before (no multiplications per run on the path to its load).
            if taps == c, s.dilationWidth == 1, iy0 >= 0,
                iy0 &+ (s.kernelHeight &- 1) &* s.dilationHeight < s.inputHeight,
                ix0 >= 0, ix0 &+ s.kernelWidth <= s.inputWidth
            {
                let span = s.kernelWidth &* c, step = s.dilationHeight &* s.inputWidth &* c
                var from = input + ((b &* s.inputHeight &+ iy0) &* s.inputWidth &+ ix0) &* c
                #if _endian(little)
                    if span == 9, s.kernelHeight == 3 {
                        stemRow(UnsafeRawPointer(from), step: step, row, flip: flip)
                        return
                    }
                #endif
                for _ in 0..<s.kernelHeight {
                    Bytes.copy(from, to: out, count: span, flipping: flip)
                    from += step
                    out += span
                }
                return
            }
            for ky in 0..<s.kernelHeight {
                let iy = iy0 + ky * s.dilationHeight
                for kx in 0..<s.kernelWidth {
                    let ix = ix0 + kx * s.dilationWidth
                    if iy < 0 || iy >= s.inputHeight || ix < 0 || ix >= s.inputWidth {
                        Bytes.fill(out, with: padding ^ Int8(bitPattern: flip), count: taps)
                    } else {
                        Bytes.copy(
                            input + ((b * s.inputHeight + iy) * s.inputWidth + ix) * c, to: out, count: taps,
                            flipping: flip)
                    }
                    out += taps
                }
            }
        }

        /// The 27 bytes of a 3×3 patch of 3 channels (every MobileNet's stem), three runs of 9 at
        /// `from`, `from + step` and `from + 2·step`, gathered into four words by shifts and written
        /// with one 32-byte store (rows are 32 apart), so that the kernel's 4-byte loads each read one
        /// store: with a copy per run, most of them spanned two, which the core cannot forward.
        @inline(__always)
        func stemRow(_ from: UnsafeRawPointer, step: Int, _ row: UnsafeMutablePointer<Int8>, flip: UInt8) {
            @inline(__always) func word(_ run: Int, _ offset: Int) -> UInt64 {
                from.loadUnaligned(fromByteOffset: run &* step &+ offset, as: UInt64.self)
            }
            let words = SIMD4(
                word(0, 0), word(0, 1) >> 56 | word(1, 0) << 8, word(1, 1) >> 48 | word(2, 0) << 16, word(2, 1) >> 40)
            UnsafeMutableRawPointer(row).storeBytes(
                of: words ^ SIMD4(repeating: UInt64(flip) &* 0x0101_0101_0101_0101), as: SIMD4<UInt64>.self)
        }
    }
}
