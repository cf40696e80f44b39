import CNNQKernels
import CNNQRuntime
@testable import CNNQuant
import Foundation
import Testing

/// Resize: the int8 kernel against the float one on the same values, and models with Resize
/// quantized and run through the device's interpreter.
@Suite struct ResizeTests {
    /// Nearest copies exactly the pixels the float Resize reads; bilinear is within one level of
    /// the float result of the same int8 values (its weights are steps of 1/2048).
    @Test func kernelMatchesTheFloatResize() {
        var random = SeededRandom(seed: 11)
        let modes: [Resize.Mode] = [.linear, .nearest(.halfDown), .nearest(.halfUp), .nearest(.floor), .nearest(.ceil)]
        for trial in 0..<200 {
            let (n, c) = (Int.random(in: 1...2, using: &random), Int.random(in: 1...19, using: &random))
            let (h, w) = (Int.random(in: 1...9, using: &random), Int.random(in: 1...9, using: &random))
            let (oh, ow) = (Int.random(in: 1...20, using: &random), Int.random(in: 1...20, using: &random))
            let coordinates = ResizeAttributes.Coordinates.allCases[trial % 5]
            let mode = modes[(trial / 5) % modes.count]
            let attributes = ResizeAttributes(mode: mode, coordinates: coordinates, sizes: [n, c, oh, ow])
            guard let (y, x) = attributes.axes(input: [n, c, h, w], output: [n, c, oh, ow]) else {
                Issue.record("no axes for \(h)×\(w) → \(oh)×\(ow)")
                continue
            }
            let input = (0..<(n * h * w * c)).map { _ in Int8.random(in: -128...127, using: &random) }
            var output = [Int8](repeating: 0, count: n * oh * ow * c)
            Resize.run(
                input, batch: n, channels: c, y: y, x: x, outHeight: oh, outWidth: ow, mode: mode, output: &output)
            let expected = FloatResize.run(
                input.map { Float($0) }, batch: n, channels: c, y: y, x: x, outHeight: oh, outWidth: ow, mode: mode)
            let worst = zip(output, expected).map { abs(Float($0) - $1) }.max() ?? 0
            #expect(worst <= (mode == .linear ? 0.5 + 0.13 : 0), "\(mode) \(coordinates) \(h)×\(w) → \(oh)×\(ow)")
        }
    }

    /// The parity fixtures with Resize, quantized on random inputs: one int8 op per Resize, and the
    /// int8 model follows the float one.
    @Test(arguments: [
        ("upsampling_head", 35.0), ("resize_chain", 34.0), ("upsample_7", 42.0), ("upsample_9", 42.0),
        ("opset9_head", 35.0),
    ])
    func quantizedModelsFollowTheFloatOnes(model: String, floor: Double) throws {
        let (graph, result) = try Fixtures.quantizedOnRandomInputs(model, seed: 12)
        let resizes = graph.nodes.filter { $0.op.name == "Resize" }.count
        #expect(result.model.ops.filter { $0.kind == .resize }.count == resizes)
        #expect(result.outputSQNR > floor, "output SQNR \(result.outputSQNR) dB")
        // A map of several channels: agreement is counted per pixel, not per image.
        let c = result.comparison
        let out = result.model.tensors[result.model.outputs[0]]
        #expect(c.mapOutput && c.pixels == 8 * out.batch * out.height * out.width)
        #expect(Double(c.pixelMatches) >= 0.95 * Double(c.pixels), "\(c.pixelMatches) of \(c.pixels) pixels agree")
    }
}
