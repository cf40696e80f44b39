import CNNQKernels
import CNNQRuntime
import CNNQTestSupport
import CNNQuant
import Foundation
import Testing

/// Fused inverted-residual blocks against every layer its own op, on every MobileNet of the zoo at
/// α ∈ {0.35, 0.5, 0.75, 1.0} and ρ ∈ {96, 128, 160, 224}: the same output bytes with 1 and 2
/// threads, and a smaller arena.
@Suite struct BlockFusionTests {
    static let resolutions = [96, 128, 160, 224]

    /// Ranges calibrated on one image at the smallest resolution: tensor names and weights do not
    /// depend on the resolution, so every size reuses them.
    static func ranges(_ architecture: MobileNet, alpha: Double) throws -> [String: (lower: Float, upper: Float)] {
        let (graph, _) = try QuantizationPipeline.floatGraph(
            try architecture.build(alpha: alpha, resolution: resolutions[0], seed: 5))
        let calibrator = Calibrator(executor: try FloatExecutor(graph: graph))
        try calibrator.observeRange([graph.inputs[0].name: input(resolutions[0])])
        return calibrator.ranges(.minmax)
    }

    static func input(_ size: Int) -> Tensor {
        Tensor(shape: [1, 3, size, size], floats: (0..<(3 * size * size)).map { Float(($0 * 7919) % 255) / 128 - 1 })
    }

    @Test(arguments: MobileNet.allCases, [0.35, 0.5, 0.75, 1.0])
    func fusedOutputsEqualUnfused(architecture: MobileNet, alpha: Double) throws {
        let ranges = try Self.ranges(architecture, alpha: alpha)
        for size in Self.resolutions {
            let (graph, _) = try QuantizationPipeline.floatGraph(
                try architecture.build(alpha: alpha, resolution: size, seed: 5))
            let layers = try Quantizer.quantize(graph, ranges: ranges)
            let fused = layers.fusingInvertedResiduals()
            let unfusedModel = try Int8Model(bytes: ModelFileWriter.bytes(layers, plan: ArenaPlan(layers)))
            let fusedModel = try Int8Model(bytes: ModelFileWriter.bytes(fused, plan: ArenaPlan(fused)))
            let blocks = (0..<fusedModel.view.opCount).filter { fusedModel.view.op($0).kind == .invertedResidual }
            #expect(blocks.count >= 10, "\(architecture) \(alpha)/\(size): \(blocks.count) blocks fused")
            #expect(fusedModel.view.activationBytes < unfusedModel.view.activationBytes)
            // The host's analysis form of the fused file (`Int8Model.unfused`) too.
            let reopened = try fusedModel.unfused()
            #expect(reopened.view.opCount == unfusedModel.view.opCount)
            let (one, two) = withOneAndTwoThreads { () -> (unfused: [Int8], fused: [Int8], reopened: [Int8]) in
                var outputs: [[Int8]] = []
                for model in [unfusedModel, fusedModel, reopened] {
                    try! model.setInput(0, Self.input(size))
                    try! model.invoke()
                    outputs.append(Array(model.values(model.view.output(0))))
                }
                return (outputs[0], outputs[1], outputs[2])
            }
            #expect(one.fused == one.unfused, "\(architecture) \(alpha)/\(size): fused output differs")
            #expect(one.reopened == one.unfused, "\(architecture) \(alpha)/\(size): the fused file run unfused differs")
            #expect(two.fused == one.unfused, "\(architecture) \(alpha)/\(size): fused output differs on 2 threads")
            #expect(Set(one.unfused).count > 8, "\(architecture) \(alpha)/\(size): the outputs barely vary")
        }
    }
}

/// A fused block's records as an attacker would change them: every change that breaks what the block
/// op promises (its inner ops follow it in order and chain, its tensors are inner and nothing else
/// touches them) is `malformed` at load.
@Suite struct BlockRecordTests {
    typealias H = ModelFormat.Header
    static let bytes = ModelFileTests.bytes

    static func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.load(fromByteOffset: offset, as: UInt32.self) }
    }
    static func header(_ field: H) -> Int { Int(word(bytes, field.rawValue * 4)) }
    static func opField(_ o: Int, _ f: ModelFormat.OpRecord) -> Int {
        header(.opTable) + o * ModelFormat.OpRecord.size + f.rawValue * 4
    }
    static func tensorField(_ t: Int, _ f: ModelFormat.TensorRecord) -> Int {
        header(.tensorTable) + t * ModelFormat.TensorRecord.size + f.rawValue * 4
    }
    static func changed(_ edits: [(offset: Int, value: UInt32)]) -> Status {
        var damaged = bytes
        for (offset, value) in edits {
            withUnsafeBytes(of: value.littleEndian) { damaged.replaceSubrange(offset..<(offset + 4), with: $0) }
        }
        return ModelFileTests.load(ModelFileTests.resealed(damaged))
    }

    @Test func hostileBlockRecordsAreMalformed() throws {
        let ops = Self.header(.opCount)
        let kinds = (0..<ops).map { Self.word(Self.bytes, Self.opField($0, .kind)) }
        let block = try #require(kinds.firstIndex(of: ModelFormat.OpKind.invertedResidual.rawValue))
        let countWord = Self.header(.constantsOffset) + Int(Self.word(Self.bytes, Self.opField(block, .paramOffset)))
        let count = Int(Self.word(Self.bytes, countWord))
        let firstInner = block + 1
        let innerTensor = Int(Self.word(Self.bytes, Self.opField(firstInner, .output)))
        let flags = Self.word(Self.bytes, Self.tensorField(innerTensor, .flags))
        let outsider = try #require(((block + count + 1)..<ops).first { kinds[$0] != kinds[block] })
        let outsiderOperand =
            Self.header(.operands) + 4 * Int(Self.word(Self.bytes, Self.opField(outsider, .firstOperand)))
        let output = Int(Self.word(Self.bytes, Self.header(.outputs)))

        #expect(ModelFileTests.load(Self.bytes) == .ok)
        for bad: UInt32 in [0, 1, 7, UInt32(ops), 0xFFFF_FFFF] {
            #expect(Self.changed([(countWord, bad)]) == .malformed, "inner count \(bad)")
        }
        #expect(
            Self.changed([(Self.tensorField(innerTensor, .flags), flags & ~ModelFormat.innerFlag)]) == .malformed,
            "a tensor between inner ops that is not inner")
        #expect(
            Self.changed([(Self.tensorField(output, .flags), ModelFormat.innerFlag)]) == .malformed,
            "an inner model output")
        #expect(
            Self.changed([(outsiderOperand, UInt32(innerTensor))]) == .malformed,
            "an op outside the block reads inside it")
        #expect(
            Self.changed([(Self.opField(outsider, .output), UInt32(innerTensor))]) == .malformed,
            "an op outside the block writes inside it")
        #expect(
            Self.changed([(Self.opField(firstInner, .kind), ModelFormat.OpKind.depthwise.rawValue)]) == .malformed,
            "inner ops out of order")
        #expect(
            Self.changed([(Self.opField(firstInner + 1, .kind), ModelFormat.OpKind.invertedResidual.rawValue)])
                == .malformed, "a block inside a block")
    }
}

/// The loader's check of the arena plan (`ModelView.verifyArenaPlan`): files whose plan would make
/// outputs depend on stale arena bytes are malformed, CRC valid or not.
@Suite struct ArenaPlanCheckTests {
    typealias R = BlockRecordTests

    static func tensorOffset(_ t: Int) -> Int { R.tensorField(t, .arenaOffset) }

    @Test func plansThatReadStaleBytesAreMalformed() throws {
        let bytes = R.bytes
        let ops = R.header(.opCount), tensors = R.header(.tensorCount)
        let kinds = (0..<ops).map { ModelFormat.OpKind(rawValue: R.word(bytes, R.opField($0, .kind)))! }
        func input(_ o: Int) -> Int {
            Int(R.word(bytes, R.header(.operands) + 4 * Int(R.word(bytes, R.opField(o, .firstOperand)))))
        }
        func output(_ o: Int) -> Int { Int(R.word(bytes, R.opField(o, .output))) }
        func inner(_ t: Int) -> Bool { R.word(bytes, R.tensorField(t, .flags)) & ModelFormat.innerFlag != 0 }

        // A convolution (outside any block) writing over its own input.
        let blockEnds = (0..<ops).filter { kinds[$0] == .invertedResidual }.map {
            $0 + Int(R.word(bytes, R.header(.constantsOffset) + Int(R.word(bytes, R.opField($0, .paramOffset)))))
        }
        let convolution = try #require(
            (0..<ops).first { o in
                [.convolution, .pointwise].contains(kinds[o]) && !inner(output(o))
                    && !zip((0..<ops).filter { kinds[$0] == .invertedResidual }, blockEnds).contains {
                        $0 < o && o <= $1
                    }
            })
        let over = R.word(bytes, Self.tensorOffset(input(convolution)))
        #expect(R.changed([(Self.tensorOffset(output(convolution)), over)]) == .malformed, "output over its input")

        // Every tensor at offset 0.
        let zeroed = (0..<tensors).filter { !inner($0) }.map { (Self.tensorOffset($0), UInt32(0)) }
        #expect(R.changed(zeroed) == .malformed, "all tensors at offset 0")

        // The classifier's last layer before the layer that feeds it (neither in a block).
        let last = ops - 1
        let producer = try #require((0..<last).last { output($0) == input(last) })
        #expect(![kinds[last], kinds[producer]].contains(.invertedResidual) && !inner(input(last)))
        var swapped: [(offset: Int, value: UInt32)] = []
        for field in 0..<(ModelFormat.OpRecord.size / 4) {
            swapped.append((R.opField(producer, .kind) + 4 * field, R.word(bytes, R.opField(last, .kind) + 4 * field)))
            swapped.append((R.opField(last, .kind) + 4 * field, R.word(bytes, R.opField(producer, .kind) + 4 * field)))
        }
        #expect(R.changed(swapped) == .malformed, "an op reading a tensor written after it")
    }
}
