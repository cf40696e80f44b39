import CNNQRuntime
import Foundation
import Testing

@testable import CNNQuant

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

    /// `auto` scores every method on the calibration samples (with bias correction asked, each with
    /// the correction from float means, without it, and with it measured on the int8 model), starts
    /// from the best, then changes single tensors' ranges only where that lowers the error by a
    /// margin; with no change it writes exactly the file its start writes, and on these samples (no
    /// held-out images, all of them judged) its output SQNR is at least every start's.
    @Test(arguments: [false, true])
    func autoStartsFromTheBestMethodAndOnlyImproves(biasCorrection: Bool) throws {
        typealias Correction = AutoCalibration.Correction
        let graph = try ONNXImporter.load(path: Fixtures.path("parity/mobilenet_v2/model.onnx"))
        var options = QuantizationPipeline.Options()
        options.heldOut = 0
        func run(_ method: CalibrationMethod, _ correction: Correction) throws -> QuantizationPipeline.Result {
            options.method = method
            options.biasCorrection = correction != .none
            options.measuredBiasCorrection = correction == .measured
            return try QuantizationPipeline.run(graph, samples: Self.samples("mobilenet_v2"), options: options)
        }
        let corrections: [Correction] = biasCorrection ? [.fromFloatMeans, .none, .measured] : [.none]
        let auto = try run(.auto, biasCorrection ? .fromFloatMeans : .none)
        let chose: Correction =
            !auto.biasCorrection ? .none : auto.measuredBiasLayers > 0 ? .measured : .fromFloatMeans
        #expect(biasCorrection || chose == .none)
        let correction =
            !biasCorrection
            ? ""
            : [
                .fromFloatMeans: " with bias correction", .none: " without bias correction",
                .measured: " with bias correction measured on the int8 model",
            ][chose]!
        let note = try #require(auto.notes.first { $0.hasPrefix("auto chose \(auto.method)\(correction):") })
        // "minmax 31.2 / 30.9 / 31.5, percentile …": with / without correction / measured.
        let methods: [CalibrationMethod] = [.minmax, .percentile, .mse, .entropy]
        let listed = methods.map { m in
            let text = note.components(separatedBy: " \(m) ").last!
            return text.prefix { $0 != "," && !$0.isLetter }.split(separator: "/").compactMap {
                Double($0.trimmingCharacters(in: .whitespaces))
            }
        }
        #expect(listed.allSatisfy { $0.count == corrections.count }, "\(note)")
        let chosen = listed[methods.firstIndex(of: auto.method)!][corrections.firstIndex(of: chose)!]
        #expect(listed.joined().allSatisfy { $0 <= chosen }, "\(note)")
        let search = try #require(auto.notes.first { $0.hasPrefix("auto, per tensor:") })
        let judged = search.split(separator: " ").compactMap { Double($0) }.suffix(2)
        // Each kept change cut both halves' error to `keptBelow` of it (the note rounds to 0.1 dB).
        let gain = Double(auto.rangesChanged) * 10 * log10(1 / PerTensorRangeSearch.keptBelow)
        #expect(judged.count == 2 && judged.last! - judged.first! >= gain - 0.1, "\(search)")
        let singles = try methods.flatMap { m in try corrections.map { c in (m, c, try run(m, c)) } }
        let start = singles.first { $0.0 == auto.method && $0.1 == chose }!.2
        #expect(auto.rangesChanged > 0 || auto.bytes == start.bytes, "\(search)")
        for (method, correction, result) in singles {
            #expect(
                result.outputSQNR <= auto.outputSQNR + 1e-9,
                "\(method) \(correction) \(result.outputSQNR) dB; \(search)")
        }
    }
}
