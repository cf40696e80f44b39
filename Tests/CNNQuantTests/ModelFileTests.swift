import CNNQKernels
import CNNQRuntime
import CNNQuant
import Testing

/// The `.cnnq` loader is the device's first line of defence: a damaged or hostile file must give a
/// status code, never a crash or a read outside the buffer.
@Suite struct ModelFileTests {
    /// A small model file with every op kind MobileNets use: the zoo's V3-Small ×0.35 at 32×32 with
    /// 10 classes (SE blocks, lookup tables, residual adds), calibrated on seeded random inputs.
    static let bytes = model()
    /// The same with every third Conv/Gemm/Add kept in float: float islands and their borders.
    static let islandBytes = model(excludingEvery: 3)
    /// The Fashion-MNIST RegNetY: grouped convolutions (op kind 15).
    static let groupedBytes = model(
        try! ONNXImporter.load(path: Fixtures.path("fashion-mnist/regnet_y_400mf_0.25_32.onnx")))

    static func model(
        _ graph: Graph = try! MobileNet.v3Small.build(alpha: 0.35, resolution: 32, classes: 10, seed: 1),
        excludingEvery n: Int = 0
    ) -> [UInt8] {
        var random = SeededRandom(seed: 3)
        let inputs = (0..<4).map { _ in
            Tensor(
                shape: [1, 3, 32, 32], floats: (0..<(3 * 32 * 32)).map { _ in Float(random.next() % 2001) / 1000 - 1 })
        }
        var options = QuantizationPipeline.Options()
        options.heldOut = 0
        options.inputPipeline = Preprocessing.preset(.torchvision).pipeline  // its record, a target too
        if n > 0 {
            let names = try! QuantizationPipeline.floatGraph(graph).graph.nodes.filter {
                ["Conv", "Gemm", "Add"].contains($0.op.name)
            }.map(\.name)
            options.exclude = Set(stride(from: 0, to: names.count, by: n).map { names[$0] })
        }
        return try! QuantizationPipeline.run(graph, samples: TensorSamples(inputs), options: options).bytes
    }

    static func load(_ bytes: [UInt8]) -> Status {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        defer { buffer.deallocate() }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        do {
            let view = try ModelView(UnsafeRawPointer(buffer.baseAddress), size: bytes.count)
            // A file that validates must also run: the interpreter trusts the validation.
            let arena = UnsafeMutableRawBufferPointer.allocate(
                byteCount: view.arenaSize(threads: threadCount), alignment: 64)
            defer { arena.deallocate() }
            arena.initializeMemory(as: UInt8.self, repeating: 0)
            try Interpreter.invoke(view, arena: arena.baseAddress, arenaSize: arena.count, isa: .best)
            return .ok
        } catch {
            return error
        }
    }

    /// The CRC over bytes 12... rewritten, so a corruption reaches the structural checks.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        let crc = bytes.withUnsafeBytes { crc32($0.baseAddress! + 12, count: bytes.count - 12) }
        withUnsafeBytes(of: crc.littleEndian) { copy.replaceSubrange(8..<12, with: $0) }
        return copy
    }

    @Test func validFileLoadsAndRuns() {
        #expect(Self.load(Self.bytes) == .ok)
        #expect(Self.load(Self.islandBytes) == .ok)
    }

    @Test func everyTruncationIsReported() {
        let cuts = Array(0..<200) + stride(from: 200, to: Self.bytes.count, by: 997).map { $0 } + [Self.bytes.count - 1]
        for cut in cuts {
            let status = Self.load(Array(Self.bytes.prefix(cut)))
            #expect(status == .truncated, "cut at \(cut): \(status)")
        }
    }

    @Test func flippedBytesFailTheChecksum() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<300 {
            var damaged = Self.bytes
            let at = 12 + Int(random.next() % UInt64(damaged.count - 12))
            damaged[at] ^= UInt8(1 + random.next() % 255)
            #expect(Self.load(damaged) == .checksumMismatch, "byte \(at)")
        }
        var foreign = Self.bytes
        foreign[0] = UInt8(ascii: "X")
        #expect(Self.load(foreign) == .badMagic)
        var future = Self.bytes
        future[6] = 9  // major version 9 (high half of the version word)
        #expect(Self.load(future) == .unsupportedVersion)
        var old = Self.bytes
        (old[4], old[6]) = (3, 1)  // 1.3: fixed-point multipliers and shifts where 2.0 has float scales
        #expect(Self.load(old) == .unsupportedVersion)
    }

    /// A weight of −128 (the quantizer writes −127 … 127) is refused: Arm's GEMM and depthwise
    /// kernels add two products in int16, which two products of −128 · −128 overflow
    /// (targets/tests/GEMMCheck.swift, DepthwiseCheck.swift).
    @Test(arguments: ["pointwise", "depthwise"])
    func weightOfMinus128IsMalformed(kindName: String) throws {
        let kind: ModelFormat.OpKind = kindName == "pointwise" ? .pointwise : .depthwise
        let view = try Int8Model(bytes: Self.bytes).view
        let op = try #require((0..<view.opCount).map(view.op).first { $0.kind == kind })
        let weights = view.parameters(ConvolutionOp.Parameters(kind: kind), of: op).weights
        let constants = Self.bytes.withUnsafeBytes {
            Int($0.load(fromByteOffset: ModelFormat.Header.constantsOffset.rawValue * 4, as: UInt32.self))
        }
        var bytes = Self.bytes
        bytes[constants + Int(weights)] = 0x80
        #expect(Self.load(Self.resealed(bytes)) == .malformed)
        bytes[constants + Int(weights)] = 0x81  // −127
        #expect(Self.load(Self.resealed(bytes)) == .ok)
    }

    /// Words of the header, tables and parameters replaced by hostile values, CRC made valid again:
    /// each file is rejected as malformed or, if it still describes a consistent model, runs. The
    /// heads add block concatenation and rank-3 outputs (SSD), zero insertion and depth-to-space.
    @Test(arguments: ["int8", "islands", "grouped", "ssd_head", "transposed_head"])
    func hostileWordsAreRejectedOrHarmless(model: String) throws {
        var random = SeededRandom(seed: 11)
        let bytes =
            try model.hasSuffix("_head")
            ? Fixtures.quantizedOnRandomInputs(model, seed: 15).1.bytes
            : ["islands": Self.islandBytes, "grouped": Self.groupedBytes][model] ?? Self.bytes
        let constants = bytes.withUnsafeBytes {
            Int($0.load(fromByteOffset: ModelFormat.Header.constantsOffset.rawValue * 4, as: UInt32.self))
        }
        let hostile: [UInt32] = [
            0, 1, 2, 3, 15, 16, 17, 31, 64, 255, 256, 65_535, 65_536, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
            UInt32(bytes.count), UInt32(bytes.count - 4), UInt32(constants),
        ]
        var outcomes: [Status: Int] = [:]
        for trial in 0..<1000 {
            var damaged = bytes
            // Most mutations hit the structure before the constants; some hit parameter words.
            let region = trial % 4 == 0 ? bytes.count : constants + 4096
            let word = 3 + Int(random.next() % UInt64(min(region, bytes.count) / 4 - 3))
            let value =
                trial % 3 == 0
                ? UInt32(truncatingIfNeeded: random.next()) : hostile[Int(random.next() % UInt64(hostile.count))]
            withUnsafeBytes(of: value.littleEndian) { damaged.replaceSubrange((word * 4)..<(word * 4 + 4), with: $0) }
            let status = Self.load(Self.resealed(damaged))
            outcomes[status, default: 0] += 1
            #expect([.ok, .malformed, .truncated].contains(status), "word \(word) = \(value): \(status)")
        }
        // The mutations reach the structure (the small heads' files are more weights, which run).
        #expect((outcomes[.malformed] ?? 0) > (model.hasSuffix("_head") ? 150 : 200), "outcomes: \(outcomes)")
    }

    @Test func resultsDoNotDependOnThreads() throws {
        let model = try Int8Model(bytes: Self.bytes)
        let input = Tensor(shape: [1, 3, 32, 32], floats: (0..<(3 * 32 * 32)).map { Float($0 % 17) / 8 - 1 })
        var outputs: [[Int8]] = []
        for threads in [1, 2, 1] {
            let saved = (threadCount, serialMACs)
            setThreadCount(threads)
            setSerialMACs(0)  // every layer split, however small
            defer {
                setThreadCount(saved.0)
                setSerialMACs(saved.1)
            }
            try model.setInput(0, input)
            try model.invoke()
            outputs.append(Array(model.values(model.view.output(0))))
        }
        #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
    }
}
