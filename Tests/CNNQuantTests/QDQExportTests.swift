import CNNQKernels
import CNNQRuntime
import Foundation
import Testing

@testable import CNNQuant

/// `cnn-quantize export`: the QDQ graph holds the model exactly. Every convolution's int8 OIHW
/// weights and int32 bias, packed again the way the quantizer packs them, give the file's packed
/// bytes; lookups are Gathers of the file's tables; the graph has the QDQ pairs ONNX Runtime fuses.
/// (CI runs the export in ONNX Runtime against cnnq: calibration/compare_qdq.py.)
@Suite struct QDQExportTests {
    @Test func weightsPackBackToTheFile() throws {
        let int8 = try Int8Model(bytes: ModelFileTests.bytes)
        let proto = try Onnx_ModelProto(serializedBytes: try QDQExport.onnx(int8))
        let initializers = Dictionary(uniqueKeysWithValues: proto.graph.initializer.map { ($0.name, $0) })
        let types = Set(proto.graph.node.map(\.opType))
        #expect(
            types.isSuperset(of: [
                "QuantizeLinear", "DequantizeLinear", "Conv", "Gather", "Mul", "Add", "GlobalAveragePool",
            ]),
            "\(types)")
        let model = try int8.unfused(), view = model.view
        var checked = 0
        for o in 0..<view.opCount {
            let op = view.op(o)
            guard [.convolution, .pointwise, .depthwise].contains(op.kind) else { continue }
            let name = model.name(ofOp: o)
            let w = try #require(initializers[name + "_w_q"]).rawData.map { Int8(bitPattern: $0) }
            let b = try #require(initializers[name + "_b_q"]).rawData.withUnsafeBytes {
                Array($0.bindMemory(to: Int32.self))
            }
            let p = view.parameters(ConvolutionOp.Parameters(kind: op.kind), of: op)
            let s = try view.convolutionShape(op)
            let layout = try #require(ConvolutionOp.PackedLayout(kind: op.kind, shape: s))
            let taps = s.kernelHeight * s.kernelWidth, perGroup = s.inputChannels / s.groups
            // OIHW back to the OHWI the packers take.
            var ohwi = [Int8](repeating: 0, count: w.count)
            for c in 0..<s.outputChannels {
                for ci in 0..<perGroup {
                    for tap in 0..<taps { ohwi[(c * taps + tap) * perGroup + ci] = w[(c * perGroup + ci) * taps + tap] }
                }
            }
            var packed = [Int8](repeating: 0, count: layout.weightCount)
            var packedBias = [Int32](repeating: 0, count: layout.biasCount)
            if op.kind == .depthwise {
                Depthwise.pack(
                    weights: ohwi, channels: s.outputChannels, kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth,
                    packed: &packed)
                for c in 0..<s.outputChannels { packedBias[c] = b[c] }
            } else {
                StandardConvolution.pack(
                    weights: ohwi, bias: b, shape: s, inputZeroPoint: view.tensor(view.input(of: op, 0)).zeroPoint,
                    packedWeights: &packed, packedBias: &packedBias)
            }
            #expect(packed == view.constants(p.weights, count: layout.weightCount, as: Int8.self), "\(name) weights")
            // The depthwise keeps only the first bias array's channels; pads are zero in both.
            let stored = view.constants(p.bias, count: layout.biasCount, as: Int32.self)
            #expect(
                op.kind == .depthwise
                    ? Array(packedBias.prefix(s.outputChannels)) == Array(stored.prefix(s.outputChannels))
                    : packedBias == stored, "\(name) bias")
            checked += 1
        }
        #expect(checked > 10)
    }

    /// The command writes the file and says so; a missing model is the usual one line.
    @Test func command() throws {
        let out = CommandLineTests.temporary("export")
        try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        try Data(ModelFileTests.bytes).write(to: URL(fileURLWithPath: out + "/m.cnnq"))
        let result = try CommandLineTests.run(["export", out + "/m.cnnq", "-o", out + "/m.onnx"])
        #expect(result.status == 0 && result.stdout.contains("QDQ"), "\(result.stderr)")
        #expect(
            try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: out + "/m.onnx"))).graph.node
                .count > 50)
        let missing = try CommandLineTests.run(["export", out + "/none.cnnq", "-o", out + "/n.onnx"])
        #expect(missing.status == 1 && missing.stderr.hasSuffix("no such file\n"), "\(missing.stderr)")
    }
}
