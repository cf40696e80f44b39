/// k×k convolution with one group (the 3×3 stride-2 stem of every MobileNet, and the plain
/// convolutions of other CNNs): the input patches of 4 output pixels are gathered (im2col) into a
/// per-thread workspace as int16 by the pointwise GEMM driver and multiplied there. Weights are OHWI, i.e.
/// already [outputChannels][kh·kw·inputChannels], packed with `Pointwise.pack`. Padded taps hold
/// the input zero point, which the packed bias cancels exactly.
public enum StandardConvolution {
    /// Int16 entries of workspace `run` needs with `threads` threads.
    public static func workspaceCount(shape s: ConvolutionShape, threads: Int) -> Int {
        Pointwise.workspaceCount(depth: s.kernelHeight * s.kernelWidth * s.inputChannels, threads: threads)
    }

    public static func run(input: UnsafePointer<Int8>, inputZeroPoint: Int32, packedWeights: UnsafePointer<Int8>,
                           packedBias: UnsafePointer<Int32>, shape s: ConvolutionShape, stage: OutputStage,
                           workspace: UnsafeMutablePointer<Int16>, output: UnsafeMutablePointer<Int8>) {
        Pointwise.gemm(pixels: s.batch * s.outputHeight * s.outputWidth, depth: s.kernelHeight * s.kernelWidth * s.inputChannels,
                       packedWeights: packedWeights, packedBias: packedBias, outputChannels: s.outputChannels, stage: stage,
                       workspace: workspace, output: output, rows: PatchRows(input: input, s: s, padding: Int16(inputZeroPoint)))
    }

    /// The kh·kw·C input values an output pixel sees, in OHWI tap order (im2col of one pixel).
    struct PatchRows: Pointwise.InputRows {
        let input: UnsafePointer<Int8>, s: ConvolutionShape, padding: Int16

        @inline(__always)
        func fill(_ pixel: Int, _ row: UnsafeMutablePointer<Int16>) {
            let c = s.inputChannels
            let b = pixel / (s.outputHeight * s.outputWidth)
            let oy = pixel / s.outputWidth % s.outputHeight, ox = pixel % s.outputWidth
            var out = row
            let iy0 = oy * s.strideHeight - s.padTop, ix0 = ox * s.strideWidth - s.padLeft
            // Inside the image with no dilation across: each kernel row's taps are one contiguous run.
            if s.dilationWidth == 1, iy0 >= 0, iy0 + (s.kernelHeight - 1) * s.dilationHeight < s.inputHeight,
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
                        out.update(repeating: padding, count: c)
                    } else {
                        Pointwise.widenRow(input + ((b * s.inputHeight + iy) * s.inputWidth + ix) * c, count: c, into: out)
                    }
                    out += c
                }
            }
        }
    }
}
