/// 1×1 convolution, stride 1, no padding (and fully connected, a 1×1 convolution over one pixel):
/// the GEMM over the pixels' channels as they are.
public enum Pointwise {
    /// output[pixel][c] = stage(b'[c] + Σ_k input[pixel][k] · w[c][k]) for NHWC `input` [pixels][k].
    public static func run(
        input: UnsafePointer<Int8>, pixels: Int, inputChannels k: Int,
        packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>,
        outputChannels n: Int, stage: OutputStage, workspace: UnsafeMutablePointer<Int16>,
        output: UnsafeMutablePointer<Int8>
    ) {
        GEMM.run(
            pixels: pixels, depth: k, packedWeights: packedWeights, packedBias: packedBias, outputChannels: n,
            stage: stage,
            workspace: workspace, output: output, rows: PixelRows(input: input, depth: k))
    }

    /// 1×1 convolution: a pixel's channels as they are.
    struct PixelRows: GEMM.RowWriter {
        let input: UnsafePointer<Int8>, depth: Int
        @inline(__always) func fill(_ pixel: Int, _ row: UnsafeMutablePointer<Int16>) {
            GEMM.widenRow(input + pixel * depth, count: depth, into: row)
        }
    }
}
