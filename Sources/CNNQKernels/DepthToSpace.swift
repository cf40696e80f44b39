/// Rearranges channels into blocks of pixels (ONNX DepthToSpace, DCR order): input pixel (y, x)
/// holds s·s runs of C channels, run (i, j) going to output pixel (s·y + i, s·x + j). In NHWC
/// each run is contiguous, so it is a copy of runs: its own reference, tested against the placement
/// it stands for.
public enum DepthToSpace {
    /// `input` is [batch][height][width][s·s·channels]; `output` [batch][s·height][s·width][channels].
    public static func run(
        _ input: UnsafePointer<Int8>, batch: Int, height: Int, width: Int, channels: Int, blockSize s: Int,
        output: UnsafeMutablePointer<Int8>
    ) {
        // Output row s·y + i takes, from each input pixel of row y, its runs (i, 0) … (i, s − 1):
        // s·C contiguous bytes in and out.
        let run = s &* channels, rowOut = width &* run, pixelIn = s &* run
        for b in 0..<batch {
            for y in 0..<height {
                let rowIn = input + (b &* height &+ y) &* width &* pixelIn
                for i in 0..<s {
                    let target = output + ((b &* height &+ y) &* s &+ i) &* rowOut
                    var source = rowIn + i &* run
                    if run >= 16 {
                        for x in 0..<width {
                            Bytes.copy(source, to: target + x &* run, count: run)
                            source += pixelIn
                        }
                    } else {  // a call per few bytes costs more than the bytes (a one-channel map)
                        for x in 0..<width {
                            for k in 0..<run { target[x &* run &+ k] = source[k] }
                            source += pixelIn
                        }
                    }
                }
            }
        }
    }
}
