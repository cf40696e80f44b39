/// Spreads an NHWC tensor's pixels `strides` apart, `value` between them (the zero point: the
/// quantization stays the input's): the input of the convolution a transposed convolution equals.
/// A copy, so it is its own reference; the tests compare it with plain loops.
public enum InsertZeros {
    /// `input` is [batch][height][width][channels]; `output` [batch][(height − 1)·sh + 1][(width −
    /// 1)·sw + 1][channels].
    public static func run(
        _ input: UnsafePointer<Int8>, batch: Int, height: Int, width: Int, channels: Int, strideHeight sh: Int,
        strideWidth sw: Int, value: Int8, output: UnsafeMutablePointer<Int8>
    ) {
        let (outHeight, outWidth) = ((height &- 1) &* sh &+ 1, (width &- 1) &* sw &+ 1)
        let rowOut = outWidth &* channels
        Bytes.fill(output, with: value, count: batch &* outHeight &* rowOut)
        var pixel = input
        for b in 0..<batch {
            for y in 0..<height {
                let row = output + (b &* outHeight &+ y &* sh) &* rowOut
                for x in 0..<width {
                    Bytes.copy(pixel, to: row + x &* sw &* channels, count: channels)
                    pixel += channels
                }
            }
        }
    }
}
