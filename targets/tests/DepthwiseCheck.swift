// The depthwise kernels on the board itself against a plain reference, on random shapes: every
// geometry (3×3 and 5×5 at stride 1 and 2, the specialised bodies; 3×3 dilated and 2×4, the
// generic one), channel counts that are and are not multiples of 8 and 16, asymmetric padding,
// random zero points, clamps and scales; and every third round of geometries only extreme values
// (inputs −128 and 127, weights −127 and 127), where Arm's int16 sums of two taps come closest to
// overflowing (weights of −128 are refused at load). The host's DepthwiseTests cannot reach Arm's
// row bodies; this runs under qemu as Embedded Swift, built with the library's flags, with the
// portable row bodies and those of every level the board's CPU has (x86_64: AVX2's, AVX-512
// VNNI's). Prints one line; exit status 1 on any difference. Usage: DepthwiseCheck [SHAPES]
import CNNQKernels
import CNNQRuntime

/// z + round(clamp(Σ (x − x_zero)·w + b, …)) pixel by pixel, the taps outside the input left out.
func reference(
    _ s: ConvolutionShape, _ x: UnsafePointer<Int8>, _ zero: Int32, _ w: UnsafePointer<Int8>,
    _ bias: UnsafePointer<Int32>, _ stage: OutputStage, _ out: UnsafeMutablePointer<Int8>
) {
    let c = s.inputChannels
    for b in 0..<s.batch {
        for oy in 0..<s.outputHeight {
            for ox in 0..<s.outputWidth {
                for ch in 0..<c {
                    var acc = bias[ch]
                    for ky in 0..<s.kernelHeight {
                        for kx in 0..<s.kernelWidth {
                            let iy = oy * s.strideHeight - s.padTop + ky * s.dilationHeight
                            let ix = ox * s.strideWidth - s.padLeft + kx * s.dilationWidth
                            guard iy >= 0, iy < s.inputHeight, ix >= 0, ix < s.inputWidth else { continue }
                            let input = x[((b * s.inputHeight + iy) * s.inputWidth + ix) * c + ch]
                            acc &+= (Int32(input) - zero) * Int32(w[(ch * s.kernelHeight + ky) * s.kernelWidth + kx])
                        }
                    }
                    out[((b * s.outputHeight + oy) * s.outputWidth + ox) * c + ch] = stage.apply(acc, channel: ch)
                }
            }
        }
    }
}

/// The portable row bodies (nil) and each level's own that this CPU runs.
let kernels: [Depthwise.RowKernel?] =
    [nil] + InstructionSet.allCases.filter { $0.isAvailable && $0.depthwise != nil }.map { $0.depthwise }

func check(shapes: Int) -> Int {
    var random = Random()
    var failures = 0
    // (kernel height, width, stride, dilation)
    let geometries: [(Int, Int, Int, Int)] = [
        (3, 3, 1, 1), (3, 3, 2, 1), (5, 5, 1, 1), (5, 5, 2, 1), (3, 3, 1, 2), (2, 4, 1, 1),
    ]
    for index in 0..<shapes {
        let (kh, kw, stride, dilation) = geometries[index % geometries.count]
        let c = [8, 12, 16, 24, 33, 40][random.int(0...5)]
        let s = ConvolutionShape(
            batch: random.int(1...2), inputHeight: random.int(1...11), inputWidth: random.int(1...19), inputChannels: c,
            outputChannels: c, kernelHeight: kh, kernelWidth: kw, strideHeight: stride, strideWidth: stride,
            dilationHeight: dilation, dilationWidth: dilation, padTop: random.int(0...kh - 1),
            padLeft: random.int(0...kw - 1), padBottom: random.int(0...kh - 1), padRight: random.int(0...kw - 1),
            groups: c)
        guard s.outputHeight >= 1, s.outputWidth >= 1 else { continue }
        let layout = Depthwise.Layout(channels: c, kernelHeight: kh, kernelWidth: kw)
        let x = UnsafeMutablePointer<Int8>.allocate(capacity: s.inputCount)
        let w = UnsafeMutablePointer<Int8>.allocate(capacity: c * kh * kw)
        let packed = UnsafeMutablePointer<Int8>.allocate(capacity: layout.weightCount)
        let bias = UnsafeMutablePointer<Int32>.allocate(capacity: layout.channelSlots)
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: layout.channelSlots)
        let expected = UnsafeMutablePointer<Int8>.allocate(capacity: s.outputCount)
        let actual = UnsafeMutablePointer<Int8>.allocate(capacity: s.outputCount)
        let extreme = index / geometries.count % 3 == 0
        for i in 0..<s.inputCount {
            x[i] = extreme ? (random.next() & 1 == 0 ? -128 : 127) : Int8(truncatingIfNeeded: random.next())
        }
        for i in 0..<(c * kh * kw) {
            w[i] = extreme ? (random.next() & 1 == 0 ? -127 : 127) : Int8(random.int(0...254) - 127)
        }
        for i in 0..<layout.channelSlots {
            bias[i] = Int32(random.int(0...20_000)) - 10_000
            // Extremes: scales that keep most outputs inside the clamp, so that a wrong sum shows.
            scales[i] =
                extreme ? Float(random.int(50...150)) / Float(100 * 255 * kh * kw) : Float(random.int(1...400)) / 40_000
        }
        Depthwise.pack(weights: w, channels: c, kernelHeight: kh, kernelWidth: kw, packed: packed)
        let zero = Int32(random.int(0...255)) - 128
        let lower = extreme ? -128 : Int32(random.int(0...100)) - 128
        let upper = extreme ? 127 : Int32(random.int(0...100)) + 27
        let stage = OutputStage(scales: scales, zeroPoint: Int32(random.int(0...40)) - 20, lower: lower, upper: upper)
        reference(s, x, zero, w, bias, stage, expected)
        for kernel in kernels {
            Depthwise.run(
                input: x, inputZeroPoint: zero, packedWeights: packed, bias: bias, shape: s, stage: stage,
                output: actual, kernel: kernel)
            var same = true
            for i in 0..<s.outputCount where expected[i] != actual[i] { same = false }
            if !same {
                failures += 1
                print(
                    "differs (\(kernel?.name ?? "portable")): \(kh)×\(kw) stride \(stride) dilation \(dilation), C \(c), "
                        + "\(s.inputHeight)×\(s.inputWidth)")
            }
        }
        for p in [
            UnsafeMutableRawPointer(x), UnsafeMutableRawPointer(w), UnsafeMutableRawPointer(packed),
            UnsafeMutableRawPointer(bias), UnsafeMutableRawPointer(scales), UnsafeMutableRawPointer(expected),
            UnsafeMutableRawPointer(actual),
        ] { p.deallocate() }
    }
    return failures
}

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    runCheck(
        argc, argv, title: "depthwise_check", what: "row bodies", names: kernels.map { "\($0?.name ?? "portable")" },
        check)
}
