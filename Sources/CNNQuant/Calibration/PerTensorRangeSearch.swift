import CNNQKernels
import CNNQRuntime
import Foundation

/// `auto`'s second step: from the ranges of the best whole-model method, each activation tensor in
/// graph order tries the range each other method gives it and keeps it when the int8 model's output
/// error on calibration images drops (greedy, one tensor at a time, entropy included only when it
/// wins like any other). One method per model left 2 dB on SSDLite: its box regression wants full
/// ranges where its backbone wants clipped ones.
///
/// A change is kept only if the even and the odd images each gain 0.09 dB (`keptBelow`). Judged
/// on all together, the search kept ranges that fitted a few images and lost up to 1.1 dB on test
/// images; with each half merely not worse, it kept changes of a few hundredths of a dB whose sum
/// cost ResNet-50 0.4 dB on test images (30.3 → 31.1 dB on the calibration images). (Ranges of one
/// half judged on the other, cross-fitted, did worse still: a half's minmax range clips the other
/// half more than the whole range clips new images, so minmax lost where it was best.)
///
/// A trial changes one tensor's quantization, so only the ops from the first one that reads or
/// writes it differ: each judged image keeps a snapshot of the arena of the model accepted so far,
/// taken before that op, and a trial copies it and runs the rest (half the model on average).
struct PerTensorRangeSearch {
    /// A trial is kept when each half's squared error falls below this fraction of the accepted
    /// model's (benchmarks/results/2026-12-03-per-tensor-margin.md: 0.98 against merely not worse).
    static let keptBelow = 0.98

    let graph: Graph
    /// Each method's ranges, in the order of `CalibrationMethod.candidates`.
    let candidates: [[String: (lower: Float, upper: Float)]]
    let means: [String: [Double]]
    /// The start's measured corrections (`EmpiricalBiasCorrection`), kept as measured in every trial.
    let measured: [String: Quantizer.MeasuredMeans]
    let options: Quantizer.Options
    let cache = ConvolutionCache()

    struct Outcome {
        var model: QuantizedModel
        /// Tensors whose range is not the starting method's, with the method that gave it.
        var changed: [(tensor: String, method: CalibrationMethod)]
        var tried: Int
        var sqnrBefore: Double, sqnrAfter: Double
    }

    /// The judged images: inputs, the float model's values of the int8 outputs, and the arena
    /// snapshots (after `position` ops of the accepted model).
    ///
    /// From snapshots, the even images run on one thread and the odd ones on another (the second in
    /// an arena of its own), each half summed in image order as one thread would: layers inside run
    /// on one thread each (OpenMP does not nest), so small models use both cores too.
    final class Judge {
        let inputs: [[String: Tensor]]
        let reference: [[[Float]]]
        let signal: Double
        var snapshots: [UnsafeMutableRawBufferPointer] = []
        var position = 0
        /// The odd images' arena, as large as the snapshots.
        var oddArena: UnsafeMutableRawBufferPointer?

        /// `model`'s outputs are judged against the float tensors of their names.
        convenience init(_ model: Int8Model, executor: FloatExecutor, inputs: [[String: Tensor]]) throws(CNNQError) {
            let outputs = (0..<model.view.outputCount).map { model.name(ofTensor: model.view.output($0)) }
            let reference = try inputs.map { input throws(CNNQError) in
                try Self.floatOutputs(executor, input, outputs)
            }
            self.init(inputs: inputs, reference: reference)
        }

        /// `reference[n]`: the float values of the int8 outputs for `inputs[n]` (`floatOutputs`).
        init(inputs: [[String: Tensor]], reference: [[[Float]]]) {
            self.inputs = inputs
            self.reference = reference
            signal = reference.joined().joined().reduce(0) { $0 + Double($1) * Double($1) }
        }

        deinit {
            for s in snapshots { s.deallocate() }
            oddArena?.deallocate()
        }

        /// Snapshots of `model` after its first `position` ops.
        func reset(_ model: Int8Model, position: Int) throws(CNNQError) {
            for s in snapshots { s.deallocate() }
            snapshots = []
            for input in inputs {
                try model.setInputs(input)
                for o in 0..<position { try model.invoke(op: o) }
                let copy = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: model.arena.count, alignment: ModelFormat.alignment)
                copy.copyMemory(from: UnsafeRawBufferPointer(model.arena))
                snapshots.append(copy)
            }
            self.position = position
        }

        /// Runs ops `position ..< to` of `model` (the accepted one) on every snapshot.
        func advance(_ model: Int8Model, to op: Int) throws(CNNQError) {
            guard op > position else { return }
            let ops = position..<op
            try Self.halves { half throws(CNNQError) in
                for n in stride(from: half, to: snapshots.count, by: 2) {
                    for o in ops { try model.invoke(op: o, arena: snapshots[n]) }
                }
            }
            position = op
        }

        /// `body(0)` and `body(1)` on two threads where there are two; the first error thrown.
        static func halves(_ body: (Int) throws(CNNQError) -> Void) throws(CNNQError) {
            var errors: [CNNQError?] = [nil, nil]
            errors.withUnsafeMutableBufferPointer { errors in
                parallelFor(2) { half in
                    do throws(CNNQError) { try body(half) } catch { errors[half] = error }
                }
            }
            if let error = errors.compactMap({ $0 }).first { throw error }
        }

        /// Squared error of `model`'s outputs, summed over the even and over the odd images, from the
        /// snapshots when `fromSnapshots` (its ops before `position` are the accepted model's), else
        /// from its inputs; a half stops early once it is above its `limit` (sums only grow).
        func noise(
            _ model: Int8Model, fromSnapshots: Bool, limit: SIMD2<Double> = .init(repeating: .infinity)
        ) throws(CNNQError) -> SIMD2<Double> {
            var noise = SIMD2<Double>(0, 0)
            guard fromSnapshots else {
                for (n, input) in inputs.enumerated() {
                    try model.setInputs(input)
                    for o in 0..<model.view.opCount { try model.invoke(op: o) }
                    addError(of: model, arena: model.arena, image: n, to: &noise[n % 2])
                    if any(noise .> limit) { return noise }
                }
                return noise
            }
            if oddArena == nil {
                oddArena = .allocate(byteCount: model.arena.count, alignment: ModelFormat.alignment)
            }
            let arenas = [model.arena, oddArena!]
            var halves: [Double] = [0, 0]
            try halves.withUnsafeMutableBufferPointer { halves throws(CNNQError) in
                try Self.halves { half throws(CNNQError) in
                    for n in stride(from: half, to: inputs.count, by: 2) {
                        arenas[half].copyMemory(from: UnsafeRawBufferPointer(snapshots[n]))
                        for o in position..<model.view.opCount { try model.invoke(op: o, arena: arenas[half]) }
                        addError(of: model, arena: arenas[half], image: n, to: &halves[half])
                        if halves[half] > limit[half] { return }
                    }
                }
            }
            return SIMD2(halves[0], halves[1])
        }

        /// Adds the squared error of each output of `model` in `arena`, against image `n`'s
        /// reference, to `sum` (one output at a time: the same sums to the last bit as one thread).
        func addError(of model: Int8Model, arena: UnsafeMutableRawBufferPointer, image n: Int, to sum: inout Double) {
            for (o, expected) in reference[n].enumerated() {
                sum += Self.squaredError(model, model.view.output(o), arena: arena, expected)
            }
        }

        /// Σ (expected − value)² over tensor `t` of `model`'s arena, each value dequantized as
        /// `Int8Model.dequantized` does it, without building the array (SSDLite's outputs are 50,000
        /// values, compared hundreds of times).
        static func squaredError(
            _ model: Int8Model, _ t: Int, arena: UnsafeMutableRawBufferPointer, _ expected: [Float]
        ) -> Double {
            let info = model.view.tensor(t)
            var sum = 0.0
            if info.isFloat {
                let values = Interpreter.floatData(model.view, t, arena: arena.baseAddress!)
                for (i, e) in expected.prefix(info.count).enumerated() {
                    sum += Double(e - values[i]) * Double(e - values[i])
                }
                return sum
            }
            let levels = Self.levels(scale: info.scale, zeroPoint: info.zeroPoint)
            let values = Interpreter.data(model.view, t, arena: arena.baseAddress!)
            for (i, e) in expected.prefix(info.count).enumerated() {
                let d = e - levels[Int(values[i]) + 128]
                sum += Double(d) * Double(d)
            }
            return sum
        }

        /// The value of each int8 level, -128 first: `FloatIsland.dequantize`'s formula, once per level.
        static func levels(scale: Float, zeroPoint: Int32) -> [Float] {
            (-128...127).map { Float(Int32($0) - zeroPoint) * scale }
        }

        /// The float model's values of the tensors `names` (the int8 outputs' names: a graph output's
        /// producer when a reshape was folded away), in the executor's physical order, as the int8
        /// model holds them.
        static func floatOutputs(
            _ executor: FloatExecutor, _ input: [String: Tensor], _ names: [String]
        ) throws(CNNQError) -> [[Float]] {
            var values: [String: [Float]] = [:]
            _ = try executor.run(input) { name, v in if names.contains(name) { values[name] = v } }
            guard names.allSatisfy({ values[$0] != nil }) else {
                throw .invalidGraph("an int8 output has no float tensor of its name to compare with")
            }
            return names.map { values[$0]! }
        }
    }

    /// `model` as the interpreter runs it, through bytes that stay in memory (no CRC).
    static func load(_ model: QuantizedModel) throws(CNNQError) -> Int8Model {
        try Int8Model(bytes: ModelFileWriter.bytes(model, plan: ArenaPlan(model), checksum: false), checksum: false)
    }

    /// The first op whose parameters or tensors' quantization differ between `a` and `b` (0 when the
    /// models do not even have the same tables), nil when none does; and whether a model input's
    /// quantization differs (the images must be quantized again).
    static func firstDifference(_ a: QuantizedModel, _ b: QuantizedModel) -> (op: Int, input: Bool)? {
        guard a.tensors.count == b.tensors.count, a.ops.count == b.ops.count else { return (0, true) }
        let changed = Set(
            a.tensors.indices.filter {
                a.tensors[$0].scale != b.tensors[$0].scale || a.tensors[$0].zeroPoint != b.tensors[$0].zeroPoint
            })
        let input = a.inputs.contains { changed.contains($0) }
        for o in a.ops.indices {
            let (x, y) = (a.ops[o], b.ops[o])
            if x.kind != y.kind || x.inputs != y.inputs || x.output != y.output || x.words != y.words
                || !x.blobs.map(\.bytes).elementsEqual(y.blobs.map(\.bytes)) || changed.contains(x.output)
                || x.inputs.contains(where: changed.contains)
            {
                return (o, input)
            }
        }
        return changed.isEmpty ? nil : (0, true)
    }

    /// The graph quantized with `ranges`, convolutions packed before reused.
    func quantize(_ ranges: [String: (lower: Float, upper: Float)]) throws(CNNQError) -> QuantizedModel {
        try Quantizer.quantize(
            graph, ranges: ranges, inputMeans: means, measuredMeans: measured, options: options, cache: cache)
    }

    /// From `model`, quantized with `start`'s ranges, judged by `judge`; `progress(done, total)`
    /// after each tensor.
    func run(
        from start: CalibrationMethod, model: QuantizedModel, judge: Judge, progress: (Int, Int) -> Void
    ) throws(CNNQError) -> Outcome {
        let methods = CalibrationMethod.candidates
        var ranges = candidates[methods.firstIndex(of: start)!]
        var model = model
        var int8 = try Self.load(model)
        try judge.reset(int8, position: 0)
        var best = try judge.noise(int8, fromSnapshots: true)
        let before = best

        // Tensors of the int8 model, in the order their producers run; others' ranges are not used.
        let quantized = Set(model.tensors.map(\.name))
        let order = (graph.inputs.map(\.name) + graph.nodes.flatMap(\.outputs)).filter {
            quantized.contains($0) && ranges[$0] != nil
        }
        var changed: [String: CalibrationMethod] = [:]
        var tried = 0
        for (done, name) in order.enumerated() {
            var seen = [ranges[name]!]
            for c in methods.indices {
                guard let range = candidates[c][name], !seen.contains(where: { $0 == range }) else { continue }
                seen.append(range)
                var trialRanges = ranges
                trialRanges[name] = range
                let trial = try quantize(trialRanges)
                guard let difference = Self.firstDifference(model, trial) else { continue }
                tried += 1
                let trialInt8 = try Self.load(trial)
                let fromSnapshots =
                    !difference.input && difference.op >= judge.position && trialInt8.arena.count == int8.arena.count
                if fromSnapshots { try judge.advance(int8, to: difference.op) }
                let kept = best * Self.keptBelow
                let noise = try judge.noise(trialInt8, fromSnapshots: fromSnapshots, limit: kept)
                guard all(noise .< kept) else { continue }
                (best, ranges, model, int8) = (noise, trialRanges, trial, trialInt8)
                changed[name] = methods[c]
                if !fromSnapshots { try judge.reset(int8, position: judge.position) }
            }
            progress(done + 1, order.count)
        }
        func db(_ noise: SIMD2<Double>) -> Double {
            noise.sum() == 0 ? .infinity : 10 * log10(judge.signal / noise.sum())
        }
        return Outcome(
            model: model, changed: order.compactMap { name in changed[name].map { (name, $0) } }, tried: tried,
            sqnrBefore: db(before), sqnrAfter: db(best))
    }
}
