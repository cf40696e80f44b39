import CNNQKernels
import CNNQTestSupport
import CNNQuant
import Testing

/// The Resize kernel (columns worked out once per block, 8 channels at a time) against its plain
/// twin, bit for bit, on random rational axes: up and down, negative offsets, rows wider than a block.
@Suite struct ResizeKernelTests {
    @Test func runMatchesReference() {
        var random = SeededRandom(seed: 21)
        let modes: [Resize.Mode] = [.linear, .nearest(.halfDown), .nearest(.halfUp), .nearest(.floor), .nearest(.ceil)]
        for trial in 0..<300 {
            let (n, c) = (Int.random(in: 1...2, using: &random), Int.random(in: 1...40, using: &random))
            let (h, w) = (Int.random(in: 1...12, using: &random), Int.random(in: 1...12, using: &random))
            let (oh, ow) = (Int.random(in: 1...24, using: &random), Int.random(in: 1...150, using: &random))
            func axis(_ extent: Int) -> Resize.Axis {
                let d = Int64.random(in: 1...64, using: &random)
                return Resize.Axis(
                    a: Int64.random(in: 0...(3 * d), using: &random), b: Int64.random(in: -d...d, using: &random), d: d,
                    extent: extent)
            }
            let (y, x) = (axis(h), axis(w))
            let mode = modes[trial % modes.count]
            let input = random.int8s(n * h * w * c)
            var expected = [Int8](repeating: 0, count: n * oh * ow * c), actual = expected
            Resize.reference(
                input, batch: n, channels: c, y: y, x: x, outHeight: oh, outWidth: ow, mode: mode, output: &expected)
            Resize.run(
                input, batch: n, channels: c, y: y, x: x, outHeight: oh, outWidth: ow, mode: mode, output: &actual)
            #expect(actual == expected, "trial \(trial): \(n)×\(h)×\(w)×\(c) → \(oh)×\(ow), \(mode)")
        }
    }
}
