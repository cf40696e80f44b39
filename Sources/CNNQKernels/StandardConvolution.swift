/// k×k convolution (the 3×3 stride-2 stem of every MobileNet, and the plain convolutions of other
/// CNNs), also grouped (RegNet, ResNeXt): the input patches of 4 output pixels are gathered (im2col)
/// into a per-thread workspace as int16 by the pointwise GEMM driver and multiplied there. Weights are
/// OHWI, i.e. already [outputChannels][kh·kw·inputChannels/groups], packed with `pack`. Padded taps
/// hold the input zero point, which the packed bias cancels exactly.
public enum StandardConvolution {
    /// Int8 entries of packed weights: each group's [O/G][kh·kw·C/G] packed by `Pointwise.pack`.
    public static func packedWeightCount(shape s: ConvolutionShape) -> Int {
        s.groups * Pointwise.packedWeightCount(outputChannels: s.outputChannels / s.groups, inputChannels: depth(s))
    }

    /// Int32 entries of one group's bias, multipliers and shifts: O/G rounded up to 16, so that every
    /// group's channel blocks start aligned. A whole layer holds `groups` times as many.
    public static func groupChannelStride(shape s: ConvolutionShape) -> Int {
        Pointwise.packedBiasCount(outputChannels: s.outputChannels / s.groups)
    }

    /// Int32 entries of the whole layer's packed bias, multipliers and shifts: every group's stride.
    public static func slotCount(shape s: ConvolutionShape) -> Int { s.groups * groupChannelStride(shape: s) }

    /// Index of output channel `c`'s bias, multiplier and shift in the per-group padded arrays.
    public static func channelSlot(_ c: Int, shape s: ConvolutionShape) -> Int {
        let perGroup = s.outputChannels / s.groups
        return c / perGroup * groupChannelStride(shape: s) + c % perGroup
    }

    /// Packs OHWI weights and int32 bias group by group (see `Pointwise.pack`); `packedBias` holds
    /// `slotCount` entries.
    public static func pack(weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>, shape s: ConvolutionShape, inputZeroPoint: Int32,
                            packedWeights: UnsafeMutablePointer<Int8>, packedBias: UnsafeMutablePointer<Int32>) {
        let perGroup = s.outputChannels / s.groups, k = depth(s)
        let groupWeights = Pointwise.packedWeightCount(outputChannels: perGroup, inputChannels: k), stride = groupChannelStride(shape: s)
        for g in 0..<s.groups {
            Pointwise.pack(weights: weights + g * perGroup * k, bias: bias + g * perGroup, outputChannels: perGroup, inputChannels: k,
                           inputZeroPoint: inputZeroPoint, packedWeights: packedWeights + g * groupWeights, packedBias: packedBias + g * stride)
        }
    }

    /// Int16 entries of workspace `run` needs with `threads` threads.
    public static func workspaceCount(shape s: ConvolutionShape, threads: Int) -> Int {
        Pointwise.workspaceCount(depth: depth(s), threads: threads)
    }

    /// GEMM depth: the taps one output channel sees.
    static func depth(_ s: ConvolutionShape) -> Int { s.kernelHeight * s.kernelWidth * (s.inputChannels / s.groups) }

    /// `stage` holds per-group padded multipliers and shifts (`channelSlot`) when `groups` > 1.
    public static func run(input: UnsafePointer<Int8>, inputZeroPoint: Int32, packedWeights: UnsafePointer<Int8>,
                           packedBias: UnsafePointer<Int32>, shape s: ConvolutionShape, stage: OutputStage,
                           workspace: UnsafeMutablePointer<Int16>, output: UnsafeMutablePointer<Int8>) {
        let perGroup = s.outputChannels / s.groups, k = depth(s)
        let groupWeights = Pointwise.packedWeightCount(outputChannels: perGroup, inputChannels: k), stride = groupChannelStride(shape: s)
        // One GEMM per group, over the group's input channels, into its slice of every output pixel.
        for g in 0..<s.groups {
            var groupStage = stage
            (groupStage.multipliers, groupStage.shifts) = (stage.multipliers + g * stride, stage.shifts + g * stride)
            Pointwise.gemm(pixels: s.batch * s.outputHeight * s.outputWidth, depth: k, packedWeights: packedWeights + g * groupWeights,
                           packedBias: packedBias + g * stride, outputChannels: perGroup, outputStride: s.outputChannels, stage: groupStage,
                           workspace: workspace, output: output + g * perGroup,
                           rows: PatchRows(input: input + g * (s.inputChannels / s.groups), s: s, padding: Int16(inputZeroPoint)))
        }
    }

    /// The kh·kw·C/G input values an output pixel sees, in OHWI tap order (im2col of one pixel);
    /// `input` points at the group's first channel.
    struct PatchRows: Pointwise.InputRows {
        let input: UnsafePointer<Int8>, s: ConvolutionShape, padding: Int16

        @inline(__always)
        func fill(_ pixel: Int, _ row: UnsafeMutablePointer<Int16>) {
            let c = s.inputChannels, taps = c / s.groups
            let b = pixel / (s.outputHeight * s.outputWidth)
            let oy = pixel / s.outputWidth % s.outputHeight, ox = pixel % s.outputWidth
            var out = row
            let iy0 = oy * s.strideHeight - s.padTop, ix0 = ox * s.strideWidth - s.padLeft
            // One group, inside the image, no dilation across: each kernel row's taps are one contiguous run.
            if taps == c, s.dilationWidth == 1, iy0 >= 0, iy0 + (s.kernelHeight - 1) * s.dilationHeight < s.inputHeight,
               ix0 >= 0, ix0 + s.kernelWidth <= s.inputWidth {
                let span = s.kernelWidth * c
                for ky in 0..<s.kernelHeight {
                    Pointwise.widenRow(input + ((b * s.inputHeight + iy0 + ky * s.dilationHeight) * s.inputWidth + ix0) * c, count: span, into: out)
                    out += span
                }
                return
            }
            for ky in 0..<s.kernelHeight {
                let iy = iy0 + ky * s.dilationHeight
                for kx in 0..<s.kernelWidth {
                    let ix = ix0 + kx * s.dilationWidth
                    if iy < 0 || iy >= s.inputHeight || ix < 0 || ix >= s.inputWidth {
                        out.update(repeating: padding, count: taps)
                    } else {
                        Pointwise.widenRow(input + ((b * s.inputHeight + iy) * s.inputWidth + ix) * c, count: taps, into: out)
                    }
                    out += taps
                }
            }
        }
    }
}
