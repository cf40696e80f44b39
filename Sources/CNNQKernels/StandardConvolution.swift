/// k×k convolution with one group (the 3×3 stride-2 stem of every MobileNet, and the plain
/// convolutions of other CNNs): the input patches of 4 output pixels are gathered (im2col) into a
/// per-thread workspace as int16, then multiplied by the pointwise GEMM microkernel. Weights are OHWI, i.e.
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
        let k = s.kernelHeight * s.kernelWidth * s.inputChannels
        let stride = (k + 1) / 2 * 2
        let n = s.outputChannels
        let pixels = s.batch * s.outputHeight * s.outputWidth
        let tiles = (pixels + 3) / 4
        let padding = Int16(inputZeroPoint)
        parallelRanges(tiles) { slot, range in
            let rows = workspace + slot * 4 * stride
            for tile in range {
                let first = tile * 4
                let count = min(4, pixels - first)
                for r in 0..<count {
                    gather(input, s, pixel: first + r, padding: padding, into: rows + r * stride)
                    if k & 1 == 1 { rows[r * stride + k] = 0 }
                }
                Pointwise.multiply(rows: rows, count: count, k: k, packed: packedWeights, bias: packedBias, n: n, stage: stage,
                                   output: output + first * n)
            }
        }
    }

    /// The kh·kw·C input values output pixel `pixel` sees, in OHWI tap order.
    @inline(__always)
    static func gather(_ input: UnsafePointer<Int8>, _ s: ConvolutionShape, pixel: Int, padding: Int16, into row: UnsafeMutablePointer<Int16>) {
        let c = s.inputChannels
        let b = pixel / (s.outputHeight * s.outputWidth)
        let oy = pixel / s.outputWidth % s.outputHeight, ox = pixel % s.outputWidth
        var out = row
        for ky in 0..<s.kernelHeight {
            let iy = oy * s.strideHeight - s.padTop + ky * s.dilationHeight
            for kx in 0..<s.kernelWidth {
                let ix = ox * s.strideWidth - s.padLeft + kx * s.dilationWidth
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
