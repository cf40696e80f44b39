import CNNQRuntime
import Testing

@testable import CNNQuant

/// `auto`'s per-tensor range search: its shortcut (trials run from arena snapshots) must judge
/// exactly as full runs would.
@Suite struct PerTensorRangeSearchTests {
    static func calibrated() throws -> (Graph, Calibrator, [[String: Tensor]]) {
        let (graph, _) = try QuantizationPipeline.floatGraph(
            ONNXImporter.load(path: Fixtures.path("parity/mobilenet_v2/model.onnx")))
        let samples = try QuantizationTests.samples("mobilenet_v2")
        let calibrator = Calibrator(executor: try FloatExecutor(graph: graph))
        let inputs = samples.tensors.map { [graph.inputs[0].name: $0] }
        for input in inputs { try calibrator.observeRange(input) }
        for input in inputs { try calibrator.observeHistogram(input) }
        return (graph, calibrator, inputs)
    }

    /// For tensors across the network, the model with that one tensor's range changed: it differs
    /// from the first op that touches the tensor, and its error judged from snapshots taken at any
    /// point up to that op equals the error of full runs, to the last bit. Quantized with the packed
    /// convolutions of earlier calls, it is the model a fresh quantization gives.
    @Test func snapshotsJudgeAsFullRuns() throws {
        let (graph, calibrator, inputs) = try Self.calibrated()
        let base = calibrator.ranges(.minmax), other = calibrator.ranges(.percentile)
        let cache = ConvolutionCache()
        let a = try Quantizer.quantize(graph, ranges: base, cache: cache)
        let a8 = try PerTensorRangeSearch.load(a)
        let judge = try PerTensorRangeSearch.Judge(a8, executor: FloatExecutor(graph: graph), inputs: inputs)
        let names = a.tensors.map(\.name).filter { base[$0] != nil && other[$0]! != base[$0]! }
        #expect(names.count > 20)
        for name in stride(from: 1, to: names.count, by: names.count / 6).map({ names[$0] }) {
            var ranges = base
            ranges[name] = other[name]
            let b = try Quantizer.quantize(graph, ranges: ranges, cache: cache)
            #expect(PerTensorRangeSearch.firstDifference(b, try Quantizer.quantize(graph, ranges: ranges)) == nil)
            let difference = try #require(PerTensorRangeSearch.firstDifference(a, b))
            let t = try #require(a.tensors.firstIndex { $0.name == name })
            let first = try #require(a.ops.firstIndex { $0.output == t || $0.inputs.contains(t) })
            #expect(difference.op == first && !difference.input, "\(name)")
            let b8 = try PerTensorRangeSearch.load(b)
            let full = try judge.noise(b8, fromSnapshots: false)
            #expect(full.sum() > 0)
            // Stopped early, a judgement still shows a half over its limit.
            #expect(any(try judge.noise(b8, fromSnapshots: false, limit: full / 2) .> full / 2))
            try judge.reset(a8, position: 0)
            for position in [0, first / 2, first] {
                try judge.advance(a8, to: position)
                #expect(try judge.noise(b8, fromSnapshots: true) == full, "\(name) from op \(position)")
            }
        }
        // A range the quantizer does not use (a tensor folded away) changes nothing.
        let unused = try #require(base.keys.first { name in !a.tensors.contains { $0.name == name } })
        var ranges = base
        ranges[unused] = (-100, 100)
        #expect(PerTensorRangeSearch.firstDifference(a, try Quantizer.quantize(graph, ranges: ranges)) == nil)
    }
}
