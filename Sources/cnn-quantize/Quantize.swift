import ArgumentParser
import CNNQKernels
import CNNQuant
import Foundation

extension CalibrationMethod: ExpressibleByArgument {}
extension Preprocessing.Preset: ExpressibleByArgument {}
extension Preprocessing.ChannelOrder: ExpressibleByArgument {}

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Calibrate a float ONNX model on real images and write an int8 .cnnq model.",
        discussion: """
            Weights become int8 per output channel (symmetric), activations int8 per tensor (asymmetric), \
            biases int32; ReLU/ReLU6 become clamps, hard-swish, sigmoid and other elementwise chains \
            become 256-entry tables. Calibration runs the float model on --samples images of the folder \
            (decoded and preprocessed one at a time) and picks each activation range with --method. \
            Then the written file is loaded and run through the same interpreter and kernels as the \
            device, on --held-out further images, and every layer's output is compared with the float \
            model's: the SQNR table lists the worst layers first.

            A layer that int8 cannot carry can be kept in float32 with --exclude NAME: on the device it \
            runs as a float island (plain float loops) between a dequantize and a quantize, and \
            consecutive excluded layers pass float32 tensors to each other. It costs speed and arena \
            bytes (4 per value), so exclude only what the own-SQNR column points at.

            Images: .jpg/.jpeg/.png anywhere under the folder, or .npy float32 arrays already \
            preprocessed to the model's input shape, or an IDX image file (MNIST format, .gz or not). Preprocessing presets:
              torchvision  shorter side to 256/224 of the input, centre crop, RGB, ImageNet mean/std
              keras        shorter side to 1/0.875 of the input, centre crop, RGB, values in [-1, 1]
              paddleocr    height to the input height, aspect kept, padded right, BGR, values in [-1, 1]
              unit         stretched to the input size, RGB, values in [0, 1]
              fashion-mnist  stretched, grey as RGB, mean 0.2860, std 0.3530 (calibration/train_fashion_mnist.py)
            --mean/--std/--order override a preset's values.
            """
    )

    @Argument(help: "The float ONNX model.")
    var model: String

    @Option(help: "The input shape N,C,H,W, for models exported with symbolic sizes (e.g. 1,3,48,192).")
    var inputShape: String?

    @Option(help: "Folder of calibration images (.jpg, .png) or preprocessed .npy arrays, or an IDX image file.")
    var calibration: String

    @Option(name: .shortAndLong, help: "Where to write the int8 model (.cnnq).")
    var output: String

    @Option(
        help: """
            How activation ranges are chosen: \(CalibrationMethod.allCases.map(\.rawValue).joined(separator: ", ")). \
            auto quantizes with each of the others and keeps the one with the best output SQNR on (up to \
            200 of) the calibration images, then tries each tensor with the ranges the other methods give \
            it and keeps what improves that SQNR (docs/quantization.md).
            """
    )
    var method: CalibrationMethod = .auto

    @Option(help: "Images used for calibration (a fixed shuffle of the folder).")
    var samples: Int = 200

    @Option(
        help:
            "Further images, not used for calibration, on which per-layer SQNR is measured (default 16; never more than a fifth of the images found)."
    )
    var heldOut: Int?

    @Flag(help: "Cross-layer equalization of depthwise→pointwise pairs (ReLU6 between them becomes ReLU).")
    var cle = false

    @Flag(
        inversion: .prefixedNo,
        help: """
            Correct each layer's bias for its expected weight-rounding error on the calibration images \
            (with --method auto: where the calibration images' output SQNR says it helps, this or \
            the correction measured on the int8 model, below).
            """)
    var biasCorrection = true

    @Flag(
        help: """
            Correct the layers that have no activation clamp (projections, classifiers) for their \
            whole mean error, inherited from the layers before included, measured on the int8 model \
            itself. Fashion-MNIST: +10.8 dB summed over 21 models with --method minmax; the ImageNet \
            MobileNet V2: -5.5 dB with percentile. --method auto tries it beside the correction from \
            float means and keeps it where the calibration images say (19 of 24 models); with this \
            flag a fixed --method uses it, and auto tries no other correction.
            """)
    var measuredBiasCorrection = false

    @Flag(help: .hidden) var perTensorDepthwise = false

    @Flag(
        help: """
            Keep every layer its own op: no fused inverted-residual blocks, whose expanded tensor is \
            never whole in the arena (same outputs, larger arena; for comparison).
            """)
    var noFuse = false

    @Option(
        name: .customLong("exclude"), parsing: .singleValue,
        help: ArgumentHelp(
            "Keep this Conv, Gemm, MatMul or Add layer in float32 on the device (repeatable or comma-separated; names as in the SQNR table).",
            valueName: "layer"))
    var exclude: [String] = []

    @OptionGroup var limits: InputLimits

    @Option(help: "Input preprocessing: \(Preprocessing.Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: Preprocessing.Preset = .torchvision

    @Option(help: "Per-channel mean on the 0–1 scale, comma-separated (overrides the preset).")
    var mean: String?

    @Option(help: "Per-channel standard deviation on the 0–1 scale, comma-separated (overrides the preset).")
    var std: String?

    @Option(help: "Channel order the model expects: rgb or bgr (overrides the preset).")
    var order: Preprocessing.ChannelOrder?

    @Option(help: "Write the summary and every layer's SQNR as JSON to this file.")
    var report: String?

    @Option(help: "Draw every layer's SQNR as an SVG bar chart to this file.")
    var plot: String?

    @Option(help: "Layers shown in the SQNR table (all with 0).")
    var worst: Int = 15

    func run() throws {
        try reportingErrors { () throws(CNNQError) in
            guard samples >= 1, (heldOut ?? 0) >= 0, worst >= 0 else {
                throw .invalidArgument("--samples must be at least 1, --held-out and --worst at least 0")
            }
            guard biasCorrection || !measuredBiasCorrection else {
                throw .invalidArgument("--measured-bias-correction corrects biases: drop --no-bias-correction")
            }
            for path in [output, report, plot].compactMap({ $0 }) { try checkWritable(path) }
            var preprocessing = Preprocessing.preset(preset)
            if let mean { preprocessing.mean = try numbers(mean, "--mean") }
            if let std { preprocessing.std = try numbers(std, "--std") }
            if let order { preprocessing.order = order }
            preprocessing.maxImagePixels = try limits.imagePixels()

            let graph = try ONNXImporter.load(
                path: model, inputShape: inputShape.map { text throws(CNNQError) in try Self.shape(text) })
            guard let input = graph.inputs.first else { throw .invalidGraph("the model has no input") }
            let open = { (limit: Int) throws(CNNQError) in
                try openSamples(
                    calibration, preprocessing: preprocessing, inputShape: input.shape, limit: limit,
                    skipBad: limits.skipBad)
            }
            var images = try open(samples + (heldOut ?? 16))
            // Held-out images scale with what was found, so that a small folder still calibrates on most
            // of it; --samples still bounds calibration.
            let found = images.count, held = min(heldOut ?? 16, found / 5)
            if held < heldOut ?? 16 { images = try open(samples + held) }
            // Said once the model is written, so that a failure stays one error line.
            var warnings: [String] = []
            if let heldOut, held < heldOut {
                warnings.append(
                    "note: --held-out \(heldOut) is more than a fifth of the \(found) images found: \(held) held out")
            }
            if images.count - held < 32 {
                warnings.append(
                    "warning: calibrating on \(images.count - held) images: activation ranges from fewer than 32 "
                        + "are noisy and may not cover what the device sees (--samples takes up to 200 by default); "
                        + "point --calibration at a larger folder")
            }
            var options = QuantizationPipeline.Options()
            options.method = method
            options.biasCorrection = biasCorrection
            options.measuredBiasCorrection = measuredBiasCorrection
            options.crossLayerEqualization = cle
            options.perTensorDepthwise = perTensorDepthwise
            options.exclude = Set(exclude.flatMap { $0.split(separator: ",").map(String.init) })
            options.heldOut = held
            // What cnnq_prepare_image will repeat on the device (not for ready-made .npy arrays).
            options.inputPipeline = images.fromImages ? preprocessing.pipeline : nil
            options.fuseBlocks = !noFuse
            options.maxMemory = try limits.memoryBudget()
            var progress = Progress()
            let result = try QuantizationPipeline.run(graph, samples: images, options: options) {
                progress.update($0, $1, $2)
            }
            progress.finish()

            try AtomicFile.write(Data(result.bytes), to: output)
            for line in warnings { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            let int8 = result.int8
            let arena = int8.view.arenaSize(threads: 1)
            let summary = QuantizationReport(model: model, options: options, result: result, arenaBytes: arena)
            if let report { try AtomicFile.write(try summary.json(), to: report) }
            if let plot { try AtomicFile.write(Data(summary.svg().utf8), to: plot) }
            print(render(summary, int8: int8, layers: result.layers, heldOut: held))
        }
    }

    /// `layers` is the model the SQNR table's op indices refer to (every layer its own op).
    func render(_ r: QuantizationReport, int8: Int8Model, layers: Int8Model, heldOut: Int) -> String {
        var table = TextTable(
            header: ["#", "layer", "op", "output", "own dB", "end-to-end dB"], rightAligned: [0, 4, 5])
        let sorted = r.layers.sorted { ($0.ownSQNRDB ?? .infinity) < ($1.ownSQNRDB ?? .infinity) }
        for layer in worst == 0 ? sorted : Array(sorted.prefix(worst)) {
            let info = layers.tensor(layers.view.op(layer.index).output)
            table.add([
                "\(layer.index)", layer.name, layer.kind, "\(info.height)×\(info.width)×\(info.channels)",
                layer.ownSQNRDB.map { String(format: "%.1f", $0) } ?? "exact",
                layer.sqnrDB.map { String(format: "%.1f", $0) } ?? "exact",
            ])
        }
        /// Top-1 for a classifier, the class per pixel for a class map, nothing for a one-channel map.
        func agreement(_ r: QuantizationReport) -> String {
            if let pixels = r.pixelAgreement {
                // Of the first output: with several (an SSD head's boxes and scores), say which.
                return String(format: ", class agreement %.2f%% of ", pixels) + (r.agreementUnit ?? "pixels")
                    + (r.outputs.map { " of '\($0[0].name)'" } ?? "")
            }
            return r.mapOutput ? "" : ", top-1 agreement \(r.topOneAgreement)/\(r.comparisonSamples)"
        }
        func outputSQNR(_ r: QuantizationReport) -> String {
            let dB = { (v: Double?) in v.map { String(format: "%.1f dB", $0) } ?? "exact" }
            return r.outputs?.map { "\(dB($0.sqnrDB)) ('\($0.name)')" }.joined(separator: ", ") ?? dB(r.outputSQNRDB)
        }
        func correction(_ r: QuantizationReport) -> String {
            let n = r.measuredBiasLayers
            return !r.biasCorrection
                ? ""
                : ", bias correction"
                    + (n == 0 ? "" : " (measured on the int8 model for \(n) layer\(n == 1 ? "" : "s"))")
        }
        let kib = { (bytes: Int) in String(format: "%.1f KiB", Double(bytes) / 1024) }
        var lines = [
            "wrote \(output): \(r.layers.count) layers\(blocks(int8))\(floatOps(int8)), \(grouped(r.parameters)) params, \(grouped(r.macs)) MACs",
            "file \(grouped(r.fileBytes)) bytes; arena \(grouped(r.arenaBytesOneThread)) bytes with 1 thread (\(kib(r.activationBytes)) activations + \(kib(r.workspaceBytesPerThread)) scratch per thread)",
            "calibration: \(r.calibrationSamples) images, \(r.method)\(correction(r))\(r.crossLayerEqualization ? ", cross-layer equalization" : "")",
            "output SQNR \(outputSQNR(r))\(agreement(r)) on \(heldOut > 0 ? "held-out" : "the calibration") images",
        ]
        lines += r.notes.map { "note: \($0)" }
        lines += [
            "",
            (worst == 0 || worst >= r.layers.count
                ? "every layer" : "the \(worst) of \(r.layers.count) layers (--worst 0 lists all)")
                + " adding the most error first — own: the layer alone on float inputs; end-to-end: with what it inherits:",
            table.render(),
        ]
        if let report { lines.append("report: \(report)") }
        if let plot { lines.append("plot: \(plot)") }
        return lines.joined(separator: "\n")
    }

    /// " in n fused blocks" when there are.
    func blocks(_ int8: Int8Model) -> String {
        let n = (0..<int8.view.opCount).filter { int8.view.op($0).kind == .invertedResidual }.count
        return n == 0 ? "" : " (\(n) fused blocks)"
    }

    /// " (n in float32)" when layers were excluded.
    func floatOps(_ int8: Int8Model) -> String {
        let n = (0..<int8.view.opCount).filter { int8.view.op($0).kind.isFloat }.count
        return n == 0 ? "" : " (\(n) in float32)"
    }

    static func shape(_ text: String) throws(CNNQError) -> [Int] {
        let dims = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw .invalidArgument("--input-shape takes positive sizes like 1,3,48,192, got '\(text)'")
        }
        return dims.map { $0! }
    }

    func numbers(_ text: String, _ option: String) throws(CNNQError) -> [Float] {
        let values = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }), [1, 3].contains(values.count) else {
            throw .invalidArgument("\(option) takes 1 or 3 comma-separated numbers, got '\(text)'")
        }
        return values.map { $0! }
    }
}

/// Fails early, before minutes of calibration, when `path` cannot be written.
func checkWritable(_ path: String) throws(CNNQError) {
    let folder = (path as NSString).deletingLastPathComponent
    let directory = folder.isEmpty ? "." : folder
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
        throw .unwritableFile(path: path, reason: "folder \(directory) does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: directory) else {
        throw .unwritableFile(path: path, reason: "folder \(directory) is not writable")
    }
    try AtomicFile.checkTarget(path)
}
