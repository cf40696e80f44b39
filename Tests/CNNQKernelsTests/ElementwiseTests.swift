import CNNQKernels
import CNNQRuntime
import CNNQTestSupport
import CNNQuant
import Testing

/// Add, multiply, lookup tables and pooling: optimised == reference bit for bit (the portable loops
/// and each level's own that this machine runs), and the reference within one step of the float
/// arithmetic it stands for.
@Suite struct ElementwiseTests {
    static func scale(_ random: inout SeededRandom) -> Double { Double.random(in: 0.002...0.2, using: &random) }

    @Test func addMatchesReferenceAndFloat() {
        var random = SeededRandom(seed: 11)
        for trial in 0..<200 {
            let count = Int.random(in: 1...300, using: &random)
            let (sa, sb, so) = (Self.scale(&random), Self.scale(&random), Self.scale(&random) * 2)
            let (za, zb, zo) = (random.zeroPoint(), random.zeroPoint(), random.zeroPoint())
            let p = AddParameters(
                inputScales: (sa, sb), inputZeroPoints: (za, zb), outputScale: so, outputZeroPoint: zo,
                lower: trial % 2 == 0 ? -128 : zo, upper: 127)
            let a = random.int8s(count), b = random.int8s(count)
            var expected = [Int8](repeating: 0, count: count), actual = expected
            Add.reference(a, b, count: count, parameters: p, output: &expected)
            for isa in InstructionSet.available {
                actual = [Int8](repeating: 0, count: count)
                Add.run(a, b, count: count, parameters: p, output: &actual, kernel: isa.add)
                #expect(actual == expected, "trial \(trial), \(isa)")
            }
            for i in 0..<count {
                let real = (sa * Double(Int32(a[i]) - za) + sb * Double(Int32(b[i]) - zb)) / so + Double(zo)
                let bounded = min(max(real.rounded(), Double(p.lower)), Double(p.upper))
                #expect(abs(Double(expected[i]) - bounded) <= 1, "\(a[i]) + \(b[i])")
            }
        }
    }

    @Test func multiplyMatchesReferenceAndFloat() {
        var random = SeededRandom(seed: 12)
        for trial in 0..<200 {
            let channels = trial < 67 ? trial + 1 : mobileNetChannelCounts[trial % mobileNetChannelCounts.count]
            let pixels = Int.random(in: 1...9, using: &random)
            let (sx, sg, so) = (Self.scale(&random), 1.0 / 256, Self.scale(&random))
            let p = MultiplyParameters(
                inputScale: sx, inputZeroPoint: random.zeroPoint(), gateScale: sg, gateZeroPoint: -128,
                outputScale: so, outputZeroPoint: random.zeroPoint())
            let x = random.int8s(pixels * channels), gate = random.int8s(channels)
            var expected = [Int8](repeating: 0, count: x.count), actual = expected
            Multiply.reference(x, gate: gate, pixels: pixels, channels: channels, parameters: p, output: &expected)
            for isa in InstructionSet.available {
                actual = [Int8](repeating: 0, count: x.count)
                Multiply.run(
                    x, gate: gate, pixels: pixels, channels: channels, parameters: p, output: &actual,
                    kernel: isa.multiply)
                #expect(actual == expected, "channels \(channels), pixels \(pixels), \(isa)")
            }
            for i in x.indices {
                let real =
                    sx * Double(Int32(x[i]) - p.inputZeroPoint) * sg * Double(Int32(gate[i % channels]) + 128) / so
                    + Double(p.output.zeroPoint)
                #expect(abs(Double(expected[i]) - min(max(real.rounded(), -128), 127)) <= 1)
            }
        }
    }

    @Test func hardSwishTableIsExactOnTheQuantizedDomain() {
        let hardSwish = { (x: Double) in x * min(max(x + 3, 0), 6) / 6 }
        var table = [Int8](repeating: 0, count: 256)
        LookupTable.build(
            hardSwish, inputScale: 0.05, inputZeroPoint: 10, outputScale: 0.03, outputZeroPoint: -100, table: &table)
        let input = (-128...127).map { Int8($0) }
        var output = [Int8](repeating: 0, count: 256)
        LookupTable.run(table: table, input: input, count: 256, output: &output, kernel: nil)
        for (q, y) in zip(input, output) {
            let real = hardSwish(0.05 * Double(Int32(q) - 10)) / 0.03
            #expect(Double(y) == min(max(real.rounded(.toNearestOrAwayFromZero) - 100, -128), 127), "q = \(q)")
        }
    }

    /// Every level's lookup against table[x + 128]: every byte value, lengths around its vector width,
    /// and in place (as the fused block runs it).
    @Test func lookupAtEveryLevel() {
        var random = SeededRandom(seed: 17)
        let table = random.int8s(256)
        for isa in InstructionSet.available {
            for count in [0, 1, 63, 64, 65, 127, 128, 256, 1000] {
                let input = (0..<count).map { Int8(truncatingIfNeeded: $0 &* 37 &+ 5) }
                let expected = input.map { table[Int($0) + 128] }
                var output = [Int8](repeating: 0, count: count)
                LookupTable.run(table: table, input: input, count: count, output: &output, kernel: isa.lookup)
                var inPlace = input
                inPlace.withUnsafeMutableBufferPointer { p in
                    if let base = p.baseAddress {
                        LookupTable.run(table: table, input: base, count: count, output: base, kernel: isa.lookup)
                    }
                }
                #expect(output == expected && inPlace == expected, "\(isa), \(count) bytes")
            }
        }
    }

    /// Tensors of several 16 KiB pieces (V3's hard-swish and SE tensors at 112²): split over two
    /// threads, the same bytes as one thread and as the references.
    @Test func largeTensorsSplitOverThreads() {
        var random = SeededRandom(seed: 13)
        let count = 112 * 112 * 16 + 5
        let a = random.int8s(count), b = random.int8s(count), table = random.int8s(256)
        let add = AddParameters(
            inputScales: (0.05, 0.07), inputZeroPoints: (3, -9), outputScale: 0.1, outputZeroPoint: 2)
        var expected = [Int8](repeating: 0, count: count)
        Add.reference(a, b, count: count, parameters: add, output: &expected)
        let (oneAdd, twoAdd) = withOneAndTwoThreads { () -> [Int8] in
            var out = [Int8](repeating: 0, count: count)
            Add.run(a, b, count: count, parameters: add, output: &out)
            return out
        }
        #expect(oneAdd == expected && twoAdd == expected)

        for isa in InstructionSet.available {
            let (oneLookup, twoLookup) = withOneAndTwoThreads { () -> [Int8] in
                var out = [Int8](repeating: 0, count: count)
                LookupTable.run(table: table, input: a, count: count, output: &out, kernel: isa.lookup)
                return out
            }
            let same = oneLookup == a.map { table[Int($0) + 128] } && twoLookup == oneLookup
            #expect(same, "\(isa)")
        }

        // Its own input: `a` is smaller than 112²×24, and reading past it read whatever a test running
        // beside this one had just written there, so the reference and the kernel saw different bytes.
        let (pixels, channels) = (112 * 112, 24)
        let x = random.int8s(pixels * channels), gate = random.int8s(channels)
        let multiply = MultiplyParameters(
            inputScale: 0.04, inputZeroPoint: -5, gateScale: 1.0 / 256, gateZeroPoint: -128, outputScale: 0.03,
            outputZeroPoint: 7)
        var expectedProduct = [Int8](repeating: 0, count: pixels * channels)
        Multiply.reference(
            x, gate: gate, pixels: pixels, channels: channels, parameters: multiply, output: &expectedProduct)
        let (oneMultiply, twoMultiply) = withOneAndTwoThreads { () -> [Int8] in
            var out = [Int8](repeating: 0, count: pixels * channels)
            Multiply.run(x, gate: gate, pixels: pixels, channels: channels, parameters: multiply, output: &out)
            return out
        }
        #expect(oneMultiply == expectedProduct && twoMultiply == expectedProduct)
    }

    @Test func globalAverageMatchesReference() {
        var random = SeededRandom(seed: 13)
        for trial in 0..<150 {
            let channels = trial < 67 ? trial + 1 : mobileNetChannelCounts[trial % mobileNetChannelCounts.count]
            let pixels = [1, 4, 49, 100, 196, 1089][trial % 6]
            let p = Pooling.AverageParameters(
                inputScale: Self.scale(&random), inputZeroPoint: random.zeroPoint(),
                outputScale: Self.scale(&random), outputZeroPoint: random.zeroPoint(), pixels: pixels)
            let x = random.int8s(pixels * channels)
            var expected = [Int8](repeating: 0, count: channels), actual = expected
            Pooling.globalAverageReference(x, pixels: pixels, channels: channels, parameters: p, output: &expected)
            for isa in InstructionSet.available {
                actual = [Int8](repeating: 0, count: channels)
                Pooling.globalAverage(
                    x, pixels: pixels, channels: channels, parameters: p, output: &actual, kernel: isa.globalAverage)
                #expect(actual == expected, "channels \(channels), pixels \(pixels), \(isa)")
            }
        }
    }

    @Test func windowPoolingAgainstFloat() {
        var random = SeededRandom(seed: 14)
        for _ in 0..<40 {
            let k = Int.random(in: 1...3, using: &random), stride = Int.random(in: 1...2, using: &random),
                pad = Int.random(in: 0..<k, using: &random)
            let shape = ConvolutionShape(
                inputHeight: Int.random(in: k...12, using: &random), inputWidth: Int.random(in: k...12, using: &random),
                inputChannels: Int.random(in: 1...20, using: &random), outputChannels: 0, kernelHeight: k,
                kernelWidth: k,
                strideHeight: stride, strideWidth: stride, padTop: pad, padLeft: pad, padBottom: pad, padRight: pad)
            let c = shape.inputChannels
            let x = random.int8s(shape.inputHeight * shape.inputWidth * c)
            for kind in [Pooling.Kind.max, .average] {
                var output = [Int8](repeating: 0, count: shape.outputHeight * shape.outputWidth * c)
                Pooling.window(x, shape: shape, kind: kind, output: &output)
                for oy in 0..<shape.outputHeight {
                    for ox in 0..<shape.outputWidth {
                        for ch in 0..<c {
                            var values: [Double] = []
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let iy = oy * stride - pad + ky, ix = ox * stride - pad + kx
                                    if iy >= 0 && iy < shape.inputHeight && ix >= 0 && ix < shape.inputWidth {
                                        values.append(Double(x[(iy * shape.inputWidth + ix) * c + ch]))
                                    }
                                }
                            }
                            let expected =
                                kind == .max
                                ? values.max()!
                                : (values.reduce(0, +) / Double(values.count)).rounded(.toNearestOrAwayFromZero)
                            #expect(Double(output[(oy * shape.outputWidth + ox) * c + ch]) == expected)
                        }
                    }
                }
            }
        }
    }
}

/// Concatenation with requantization: optimised == reference, and each value within one step of
/// its float rescale.
@Suite struct ConcatTests {
    @Test func requantizingConcatMatchesReferenceAndFloat() {
        var random = SeededRandom(seed: 15)
        for trial in 0..<100 {
            let pixels = Int.random(in: 1...20, using: &random)
            let widths = (0..<Int.random(in: 1...4, using: &random)).map { _ in Int.random(in: 1...40, using: &random) }
            let total = widths.reduce(0, +)
            let outputScale = Double.random(in: 0.01...0.1, using: &random), outputZero = random.zeroPoint()
            var expected = [Int8](repeating: 0, count: pixels * total), actual = expected
            var offset = 0
            for (index, width) in widths.enumerated() {
                // The first input of every other trial shares the output quantization (the copy path).
                let same = trial % 2 == 0 && index == 0
                let scale = same ? outputScale : Double.random(in: 0.01...0.1, using: &random)
                let zero = same ? outputZero : random.zeroPoint()
                let p = RequantizeParameters(
                    inputScale: scale, inputZeroPoint: zero, outputScale: outputScale, outputZeroPoint: outputZero)
                let x = random.int8s(pixels * width)
                Concat.reference(
                    x, pixels: pixels, channels: width, parameters: p, output: &expected, offset: offset,
                    outputChannels: total)
                Concat.run(
                    x, pixels: pixels, channels: width, parameters: p, output: &actual, offset: offset,
                    outputChannels: total)
                for pixel in 0..<pixels {
                    for c in 0..<width {
                        let real = scale * Double(Int32(x[pixel * width + c]) - zero) / outputScale + Double(outputZero)
                        #expect(
                            abs(Double(expected[pixel * total + offset + c]) - min(max(real.rounded(), -128), 127)) <= 1
                        )
                    }
                }
                offset += width
            }
            #expect(actual == expected, "trial \(trial)")
        }
    }
}
