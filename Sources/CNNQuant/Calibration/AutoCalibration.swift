import Foundation

/// `--method auto`: every method's whole-model ranges judged by the int8 model's output error on
/// the calibration images, with each bias correction `options` allows, the best one kept, then
/// `PerTensorRangeSearch` from it where the model is small enough to judge single tensors.
///
/// The correction from float means removes each layer's own weight-rounding error, where the error
/// a layer inherits may cancel part of it: 5 of 21 Fashion-MNIST models were closer to float on test
/// images without it (by up to 0.9 dB). The correction measured on the int8 model
/// (`EmpiricalBiasCorrection`) removes both, and gained 10.8 dB over the 21 with `minmax`, but cost
/// the ImageNet V2 5.5 dB, already visible on its calibration photos (18.7 → 14.2 dB with
/// `percentile` on half of them). So the three are judged like methods.
struct AutoCalibration {
    let graph: Graph
    let calibrator: Calibrator
    let means: [String: [Double]]
    let options: Quantizer.Options
    /// Whether the only correction tried is the measured one (`--measured-bias-correction`).
    let measureCorrection: Bool
    let executor: FloatExecutor

    /// A candidate's bias correction; on a tie the earlier one is kept.
    enum Correction {
        case fromFloatMeans, none, measured

        /// How the note lists it.
        var name: String {
            switch self {
            case .fromFloatMeans: "with"
            case .none: "without"
            case .measured: "measured"
            }
        }
    }

    /// The corrections tried, in order.
    var corrections: [Correction] {
        !options.biasCorrection
            ? [.none] : measureCorrection ? [.measured, .none] : [.fromFloatMeans, .none, .measured]
    }

    /// Calibration images on which `auto` judges each method (200, the default --samples: all of
    /// them). On 32 it chose `percentile` for the Fashion-MNIST V3-Large ×0.35, 3.4 dB below `minmax`
    /// on the test images; on 200, `minmax`.
    static let samples = 200

    /// The per-tensor search judges on the images the methods were judged on, fewer when their
    /// arena snapshots (one per image) would pass `perTensorSnapshotBytes` or one trial on all of
    /// them `perTensorMACs`; and not at all when that leaves fewer than `perTensorMinimumImages` (of
    /// more). Judged on 16 images, it lost 0.9 dB on the TF-slim V1 and 1.6 dB on the PP-OCR
    /// detector (gains of a few images); on 32 of a Fashion-MNIST model's, up to 0.9 dB where on 200
    /// it gained. SSDLite (170 M MACs) gets 52 images; V2 at 224, 33; V1 at 224 and the text
    /// detector, none.
    static let perTensorSnapshotBytes = 512 << 20
    static let perTensorMACs = 10_000_000_000
    static let perTensorMinimumImages = 32

    struct Choice {
        var method: CalibrationMethod
        var biasCorrection: Bool
        /// The layers whose correction was measured on the int8 model (`EmpiricalBiasCorrection`).
        var measured: [String: Quantizer.MeasuredMeans]
        var model: QuantizedModel
        /// Tensors whose range the per-tensor search took from another method than `method`.
        var rangesChanged = 0
        var notes: [String] = []
    }

    /// `feeds(i)`: calibration image `i` (of `calibration`). `progress(stage, done, total)`.
    func choose(
        calibration: Int, feeds: (Int) throws(CNNQError) -> [String: Tensor], progress: (String, Int, Int) -> Void
    ) throws(CNNQError) -> Choice {
        let judged = min(calibration, Self.samples)
        let ranges = CalibrationMethod.candidates.map { calibrator.ranges($0) }
        var corrections = self.corrections
        var models: [QuantizedModel] = [], measured: [[String: Quantizer.MeasuredMeans]] = []
        var notes: [String] = []
        settings: for correction in corrections {
            var o = options
            o.biasCorrection = correction != .none
            for (m, r) in ranges.enumerated() {
                guard correction == .measured else {
                    models.append(try Quantizer.quantize(graph, ranges: r, inputMeans: means, options: o))
                    measured.append([:])
                    continue
                }
                let corrected = try EmpiricalBiasCorrection(
                    graph: graph, ranges: r, means: means, options: o, executor: executor
                ).run(calibration: calibration, feeds: feeds) { done, total in
                    progress("measuring bias corrections", m * total + done, ranges.count * total)
                }
                if m == 0, let note = corrected.note { notes.append(note) }
                // Nothing measured (no layer to measure, or no memory for the snapshots; the same for
                // every method): the models are those of the correction from float means, not judged twice.
                if m == 0 && corrected.measured.isEmpty && corrections.contains(.fromFloatMeans) {
                    corrections.removeAll { $0 == .measured }
                    break settings
                }
                models.append(corrected.model)
                measured.append(corrected.measured)
            }
        }
        let methods = corrections.flatMap { _ in CalibrationMethod.candidates }
        let applied = corrections.flatMap { c in CalibrationMethod.candidates.map { _ in c } }
        let int8 = try models.map { model throws(CNNQError) in try PerTensorRangeSearch.load(model) }
        // Every method's model has the same tensors, so the same arena and MACs.
        let count = min(
            judged, Self.perTensorSnapshotBytes / int8[0].arena.count, Self.perTensorMACs / max(models[0].macs, 1))
        let tooLarge = count < min(judged, Self.perTensorMinimumImages)
        let searched = !tooLarge && calibration >= 2

        // One image at a time, so memory does not grow with the number of images; the float
        // outputs of the first `count` kept for the search.
        var signal = 0.0, noise = [Double](repeating: 0, count: methods.count)
        var references: [[[Float]]] = []
        for n in 0..<judged {
            let judge = try PerTensorRangeSearch.Judge(int8[0], executor: executor, inputs: [feeds(n)])
            signal += judge.signal
            for m in methods.indices { noise[m] += try judge.noise(int8[m], fromSnapshots: false).sum() }
            if searched && n < count { references.append(judge.reference[0]) }
            progress("choosing the method", n + 1, judged)
        }
        let sqnr = methods.indices.map { m in noise[m] == 0 ? Double.infinity : 10 * log10(signal / noise[m]) }
        let best = sqnr.indices.max { sqnr[$0] < sqnr[$1] }!
        // "minmax 40.1 / 40.3 / 40.6": with / without correction / measured.
        let perSetting = CalibrationMethod.candidates.count
        let listed = CalibrationMethod.candidates.indices.map { m in
            "\(methods[m]) "
                + stride(from: m, to: methods.count, by: perSetting).map { String(format: "%.1f", sqnr[$0]) }
                .joined(separator: " / ")
        }
        let correction: String
        switch applied[best] {
        case _ where !options.biasCorrection: correction = ""
        case .fromFloatMeans: correction = " with bias correction"
        case .none: correction = " without bias correction"
        case .measured: correction = " with bias correction measured on the int8 model"
        }
        var choice = Choice(
            method: methods[best], biasCorrection: applied[best] != .none, measured: measured[best],
            model: models[best],
            notes: notes + [
                "auto chose \(methods[best])\(correction): output SQNR on \(judged) calibration images"
                    + (corrections.count > 1 ? " (\(corrections.map(\.name).joined(separator: " / ")) correction)" : "")
                    + " \(listed.joined(separator: ", ")) dB"
            ])
        guard searched else {
            if tooLarge {
                choice.notes.append(
                    "auto, per tensor: not run, the model is too large to judge single tensors on \(Self.perTensorMinimumImages) images (over \(Self.perTensorMACs / 1_000_000_000)·10⁹ MACs a trial or \(Self.perTensorSnapshotBytes >> 20) MB of snapshots)"
                )
            }
            return choice
        }
        var chosen = options
        chosen.biasCorrection = choice.biasCorrection
        let search = PerTensorRangeSearch(
            graph: graph, candidates: ranges, means: means, measured: choice.measured, options: chosen)
        let judge = try PerTensorRangeSearch.Judge(
            inputs: (0..<count).map { i throws(CNNQError) in try feeds(i) }, reference: references)
        let outcome = try search.run(from: choice.method, model: choice.model, judge: judge) { done, total in
            progress("choosing ranges per tensor", done, total)
        }
        choice.model = outcome.model
        choice.rangesChanged = outcome.changed.count
        let counts = CalibrationMethod.candidates.compactMap { m in
            let n = outcome.changed.filter { $0.method == m }.count
            return n == 0 ? nil : "\(n) \(m)"
        }
        choice.notes.append(
            "auto, per tensor: \(outcome.changed.count) of \(outcome.tried) trials kept"
                + (counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))")
                + String(
                    format: "; output SQNR on %d calibration images %.1f → %.1f dB", count, outcome.sqnrBefore,
                    outcome.sqnrAfter))
        return choice
    }
}
