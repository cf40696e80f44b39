/// Constant padding of an NHWC tensor's rows and columns: every padded pixel holds `value` (the
/// input's zero point for a pad of 0; the quantization is the input's), every other the input's
/// pixel. A copy, so it is its own reference; the tests compare it with the float operation.
public enum Pad {
    public struct Pads: Equatable, Sendable {
        public var top: Int, left: Int, bottom: Int, right: Int
        public init(top: Int, left: Int, bottom: Int, right: Int) {
            (self.top, self.left, self.bottom, self.right) = (top, left, bottom, right)
        }
    }

    /// `input` is [batch][height][width][channels]; `output` [batch][height + top + bottom][width +
    /// left + right][channels].
    public static func run(
        _ input: UnsafePointer<Int8>, batch: Int, height: Int, width: Int, channels: Int, pads p: Pads, value: Int8,
        output: UnsafeMutablePointer<Int8>
    ) {
        let rowIn = width &* channels, rowOut = (width &+ p.left &+ p.right) &* channels
        let (left, right) = (p.left &* channels, p.right &* channels)
        var out = output
        for b in 0..<batch {
            Bytes.fill(out, with: value, count: p.top &* rowOut)
            out += p.top &* rowOut
            for y in 0..<height {
                Bytes.fill(out, with: value, count: left)
                Bytes.copy(input + (b &* height &+ y) &* rowIn, to: out + left, count: rowIn)
                Bytes.fill(out + (left &+ rowIn), with: value, count: right)
                out += rowOut
            }
            Bytes.fill(out, with: value, count: p.bottom &* rowOut)
            out += p.bottom &* rowOut
        }
    }
}
