/// 1×1 convolution, stride 1, no padding (and fully connected, a 1×1 convolution over one pixel):
/// the GEMM over the pixels' channels as they are.
public enum Pointwise {
    /// output[pixel][c] = stage(b'[c] + Σ_k input[pixel][k] · w[c][k]) for NHWC `input` [pixels][k].
    /// `serial`: on the calling thread only (`GEMM.run`). `inPlace`: the kernel reads the input rows
    /// where they are, no copy; k must be a multiple of 16 and, for a kernel with `unsignedRows`, the
    /// input hold x + 128 (the fused block's depthwise writes it so). Out of line, so that the layer
    /// and the fused block share one copy of the GEMM driver (size on a board).
    @inline(never)
    public static func run(
        input: UnsafePointer<Int8>, pixels: Int, inputChannels k: Int,
        packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>,
        outputChannels n: Int, stage: OutputStage, kernel: GEMM.Kernel, workspace: UnsafeMutablePointer<Int8>,
        output: UnsafeMutablePointer<Int8>, serial: Bool = false, inPlace: Bool = false
    ) {
        GEMM.run(
            pixels: pixels, depth: k, packedWeights: packedWeights, packedBias: packedBias, outputChannels: n,
            stage: stage, kernel: kernel, workspace: workspace, output: output,
            rows: GEMM.CopiedRows(input: input, depth: k, readInPlace: inPlace), serial: serial)
    }
}
