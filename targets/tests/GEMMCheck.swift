// The GEMM kernels on the board itself against a plain reference, on random shapes: depths that
// leave an odd last group of 4 or a partial one, channel counts that do and do not fill a block of
// 16, pixel counts that do not fill a tile, random zero points and scales; and in one shape of three
// only extreme values (inputs −128 and 127, weights −127 and 127), where the int16 sums of the Arm
// baseline kernel come closest to overflowing. The host's PointwiseTests cannot reach Arm's
// kernels; this runs under qemu as Embedded Swift, built with the library's flags, with the
// portable kernel and that of every level the board's CPU has. Prints one line; exit status 1 on
// any difference. Usage: GEMMCheck [SHAPES]
import CNNQKernels
import CNNQRuntime

/// The portable kernel and each level's that this CPU runs (x86_64's baseline level runs the portable one).
#if arch(x86_64)
    let levels = InstructionSet.allCases.filter { $0.isAvailable && $0 != .baseline }
#else
    let levels = InstructionSet.allCases.filter { $0.isAvailable }
#endif
let kernels: [GEMM.Kernel] = [GEMM.Kernel.baseline] + levels.map { $0.gemm }

func check(shapes: Int) -> Int {
    var random = Random()
    var failures = 0
    for index in 0..<shapes {
        let pixels = random.int(1...23), k = random.int(1...80), n = random.int(1...40)
        let extreme = index % 3 == 0
        let layout = GEMM.Layout(outputChannels: n, depth: k)
        let x = UnsafeMutablePointer<Int8>.allocate(capacity: pixels * k)
        let w = UnsafeMutablePointer<Int8>.allocate(capacity: n * k)
        let bias = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        let packed = UnsafeMutablePointer<Int8>.allocate(capacity: layout.weightCount)
        let packedBias = UnsafeMutablePointer<Int32>.allocate(capacity: layout.biasCount)
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: layout.channelSlots)
        let workspace = UnsafeMutablePointer<Int8>.allocate(capacity: GEMM.workspaceCount(depth: k, threads: 1))
        let expected = UnsafeMutablePointer<Int8>.allocate(capacity: pixels * n)
        let actual = UnsafeMutablePointer<Int8>.allocate(capacity: pixels * n)
        for i in 0..<(pixels * k) {
            x[i] = extreme ? (random.next() & 1 == 0 ? -128 : 127) : Int8(truncatingIfNeeded: random.next())
        }
        for i in 0..<(n * k) {
            w[i] = extreme ? (random.next() & 1 == 0 ? -127 : 127) : Int8(random.int(0...254) - 127)
        }
        for c in 0..<n { bias[c] = Int32(random.int(0...20_000)) - 10_000 }
        // Scales that keep most outputs inside the clamp, so that a wrong sum shows.
        for c in 0..<layout.channelSlots { scales[c] = Float(random.int(50...150)) / Float(100 * 255 * k) }
        let zero = extreme ? 0 : Int32(random.int(0...255)) - 128
        GEMM.pack(
            weights: w, bias: bias, outputChannels: n, inputChannels: k, inputZeroPoint: zero, packedWeights: packed,
            packedBias: packedBias)
        let stage = OutputStage(scales: scales, zeroPoint: Int32(random.int(0...40)) - 20, lower: -128, upper: 127)
        for p in 0..<pixels {
            for c in 0..<n {
                var acc = bias[c]
                for i in 0..<k { acc &+= (Int32(x[p * k + i]) - zero) * Int32(w[c * k + i]) }
                expected[p * n + c] = stage.apply(acc, channel: c)
            }
        }
        for kernel in kernels {
            Pointwise.run(
                input: x, pixels: pixels, inputChannels: k, packedWeights: packed, packedBias: packedBias,
                outputChannels: n, stage: stage, kernel: kernel, workspace: workspace, output: actual, serial: true)
            var same = true
            for i in 0..<(pixels * n) where expected[i] != actual[i] { same = false }
            if !same {
                failures += 1
                print(
                    "differs (\(kernel.name)): \(pixels) pixels, depth \(k), \(n) channels\(extreme ? ", extremes" : "")"
                )
            }
        }
        for p in [
            UnsafeMutableRawPointer(x), UnsafeMutableRawPointer(w), UnsafeMutableRawPointer(bias),
            UnsafeMutableRawPointer(packed), UnsafeMutableRawPointer(packedBias), UnsafeMutableRawPointer(scales),
            UnsafeMutableRawPointer(workspace), UnsafeMutableRawPointer(expected), UnsafeMutableRawPointer(actual),
        ] { p.deallocate() }
    }
    return failures
}

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    runCheck(argc, argv, title: "gemm_check", what: "kernels", names: kernels.map { "\($0.name)" }, check)
}
