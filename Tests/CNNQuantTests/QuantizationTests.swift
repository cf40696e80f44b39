import CNNQRuntime
import CNNQuant
import Testing

/// End to end on the parity fixtures: import, calibrate, quantize, write, load through the device's
/// validator, run through the device's interpreter and compare with the float model.
@Suite struct QuantizationTests {
    /// The fixture's input and variants of it (flipped, shifted, rescaled): stand-ins for images,
    /// enough to exercise calibration and the per-layer comparison.
    static func samples(_ model: String) throws -> TensorSamples {
        let input = try ONNXImporter.loadTensor(path: Fixtures.path("parity/\(model)/input_0.pb"))
        let (c, h, w) = (input.shape[1], input.shape[2], input.shape[3])
        let v = input.floats
        var tensors = [input]
        for variant in 1..<10 {
            var values = v
            for ch in 0..<c {
                for y in 0..<h {
                    for x in 0..<w {
                        let sx = variant % 2 == 1 ? w - 1 - x : x, sy = (y + variant * 7) % h
                        values[(ch * h + y) * w + x] = v[(ch * h + sy) * w + sx] * (0.7 + 0.06 * Float(variant))
                    }
                }
            }
            tensors.append(Tensor(shape: input.shape, floats: values))
        }
        return TensorSamples(tensors)
    }

    @Test(arguments: ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"])
    func quantizesAndMatchesFloat(model: String) throws {
        let graph = try ONNXImporter.load(path: Fixtures.path("parity/\(model)/model.onnx"))
        var options = QuantizationPipeline.Options()
        options.heldOut = 3
        let result = try QuantizationPipeline.run(graph, samples: Self.samples(model), options: options)
        let worst = result.comparison.worstFirst.prefix(3).map { "\($0.name) \($0.sqnr)" }
        #expect(result.outputSQNR > 15, "output SQNR \(result.outputSQNR) dB; worst layers \(worst)")
    }

    /// `auto` scores every method on the calibration samples, starts from the best, then changes single
    /// tensors' ranges only where that lowers the error; with no change it writes exactly the file its
    /// method writes, and on these samples (no held-out images, all of them judged) its output SQNR is
    /// at least the best method's.
    @Test func autoStartsFromTheBestMethodAndOnlyImproves() throws {
        let graph = try ONNXImporter.load(path: Fixtures.path("parity/mobilenet_v2/model.onnx"))
        var options = QuantizationPipeline.Options()
        options.heldOut = 0
        func run(_ method: CalibrationMethod) throws -> QuantizationPipeline.Result {
            options.method = method
            return try QuantizationPipeline.run(graph, samples: Self.samples("mobilenet_v2"), options: options)
        }
        let auto = try run(.auto)
        let note = try #require(auto.notes.first { $0.hasPrefix("auto chose \(auto.method):") })
        let scores = ["minmax", "percentile", "mse", "entropy"].map { m in
            note.components(separatedBy: " \(m) ").last.flatMap { Double($0.prefix { $0 != "," && $0 != " " }) }
        }
        let chosen = try #require(scores[[.minmax, .percentile, .mse, .entropy].firstIndex(of: auto.method)!])
        #expect(scores.allSatisfy { $0 != nil && $0! <= chosen }, "\(note)")
        let search = try #require(auto.notes.first { $0.hasPrefix("auto, per tensor:") })
        let judged = search.split(separator: " ").compactMap { Double($0) }.suffix(2)
        #expect(judged.count == 2 && judged.last! >= judged.first!, "\(search)")
        let singles = try [CalibrationMethod.minmax, .percentile, .mse, .entropy].map { ($0, try run($0)) }
        #expect(auto.rangesChanged > 0 || auto.bytes == singles.first { $0.0 == auto.method }!.1.bytes, "\(search)")
        for (method, result) in singles {
            #expect(result.outputSQNR <= auto.outputSQNR + 1e-9, "\(method) \(result.outputSQNR) dB; \(search)")
        }
    }
}
