import CNNQRuntime
import CNNQuant
import Testing

/// `--exclude`: layers kept in float32 run as float islands in the device's interpreter.
@Suite struct ExclusionTests {
    static func graph() throws -> Graph { try MobileNet.v2.build(alpha: 0.35, resolution: 32, classes: 10, seed: 5) }

    static func samples() -> TensorSamples {
        var random = SeededRandom(seed: 9)
        return TensorSamples(
            (0..<8).map { _ in
                Tensor(
                    shape: [1, 3, 32, 32],
                    floats: (0..<(3 * 32 * 32)).map { _ in Float(random.next() % 2001) / 1000 - 1 })
            })
    }

    /// Names of the prepared graph's nodes that `--exclude` accepts.
    static func excludable(_ graph: Graph) throws -> [String] {
        try QuantizationPipeline.floatGraph(graph).graph.nodes.compactMap { node in
            switch node.op {
            case .conv, .gemm, .matMul, .add: node.name
            default: nil
            }
        }
    }

    static func quantize(excluding exclude: Set<String>) throws -> QuantizationPipeline.Result {
        var options = QuantizationPipeline.Options()
        options.heldOut = 3
        options.exclude = exclude
        return try QuantizationPipeline.run(graph(), samples: samples(), options: options)
    }

    /// Everything that can be float is: only the input, the global pool and the borders are int8,
    /// so the output is far closer to the float model than the int8 one, and every float op alone
    /// matches the float model up to summation order.
    @Test func excludingEveryLayerApproachesFloat() throws {
        let names = try Self.excludable(Self.graph())
        #expect(names.count > 20)
        let int8 = try Self.quantize(excluding: [])
        let island = try Self.quantize(excluding: Set(names))
        let kinds = Set((0..<island.int8.view.opCount).map { island.int8.view.op($0).kind })
        #expect(kinds.isSuperset(of: [.floatConvolution, .floatAdd, .quantize, .dequantize]))
        #expect(
            island.outputSQNR > int8.outputSQNR + 10,
            "float islands \(island.outputSQNR) dB, int8 \(int8.outputSQNR) dB")
        for layer in island.comparison.layers where layer.kind.hasPrefix("float") {
            #expect(layer.ownSQNR > 100, "\(layer.name) (\(layer.kind)): own SQNR \(layer.ownSQNR) dB")
        }
        // Float tensors take four bytes a value; the planner must have made room for them.
        #expect(island.int8.view.activationBytes > int8.int8.view.activationBytes)
    }

    /// One excluded layer in the middle: a dequantize before it, a quantize after, the rest int8.
    @Test func oneExcludedLayerGetsBorders() throws {
        let names = try Self.excludable(Self.graph())
        let middle = names[names.count / 2]
        let result = try Self.quantize(excluding: [middle])
        let view = result.int8.view
        let ops = (0..<view.opCount).map { view.op($0) }
        #expect(ops.filter { $0.kind == .floatConvolution || $0.kind == .floatAdd }.count == 1)
        #expect(ops.filter { $0.kind == .dequantize }.count >= 1 && ops.filter { $0.kind == .quantize }.count >= 1)
        #expect(result.notes.contains { $0.contains(middle) })
        #expect(result.outputSQNR > 15)
    }

    @Test func unknownOrUnsupportedLayersAreRefusedBeforeCalibration() throws {
        #expect {
            _ = try Self.quantize(excluding: ["no-such-layer"])
        } throws: { error in
            "\(error)".contains("no-such-layer") && "\(error)".contains("no such layer")
        }
        let pool = try QuantizationPipeline.floatGraph(Self.graph()).graph.nodes.first {
            $0.op.name == "GlobalAveragePool"
        }!
        #expect {
            _ = try Self.quantize(excluding: [pool.name])
        } throws: { error in
            "\(error)".contains("GlobalAveragePool cannot run in float")
        }
    }
}
