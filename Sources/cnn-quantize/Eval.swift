import ArgumentParser
import CNNQuant
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare an int8 .cnnq model with its float ONNX model on images; fail on accuracy loss.",
        discussion: """
            Both models run on every image of --data (preprocessed with --preset, as for quantize); the \
            int8 one through the device's interpreter and kernels. Prints float and int8 top-1/top-5 \
            accuracy (with labels), top-1 agreement, output SQNR and the worst layers. Labels come from \
            --labels (lines 'NAME LABEL', or an IDX label file with IDX images) or else from file names \
            of three or more fields NAME_..._LABEL (imagenet_00_243.jpg; a name of two fields, like \
            IMG_0042.jpg, has none); --label-offset is added to them (1 for 1001-class TF-slim models), and \
            a label that is not one of the model's classes is an error. Exits with status 1, naming \
            the broken threshold, when the top-1 drop exceeds --max-drop, agreement is below \
            --min-agreement or output SQNR below --min-sqnr.

            When one image carries a tenth of the output error and three times an even share or more, \
            the three carrying most are named, with their share and own output SQNR: a low SQNR is \
            often a few inputs past every range the calibration images showed (add images like them to \
            --calibration).

            Per-layer regression: save a known-good evaluation with --json > good.json, then pass \
            --baseline good.json when evaluating a new model or recipe. Every layer whose own SQNR (the \
            error it adds by itself, on the first 64 images) fell more than --max-layer-drop dB below \
            the baseline's is named, and the status is 1. It finds a broken layer that accuracy alone \
            hides; evaluate both on the same images.
            """
    )

    @Argument(help: "The float ONNX model.") var float: String
    @Argument(help: "The int8 .cnnq model made from it.") var model: String
    @Option(
        help:
            "Folder of images (.jpg, .png) or preprocessed .npy arrays, or an IDX image file (MNIST format, .gz or not)."
    ) var data: String
    @Option(help: "Labels: a file of 'NAME LABEL' lines for a folder, the IDX label file for IDX images.") var labels:
        String?
    @Option(help: "Added to every label (e.g. 1 for a background class at 0).") var labelOffset: Int = 0
    @OptionGroup var limits: InputLimits
    @Option(
        help:
            "Input preprocessing: \(Preprocessing.Preset.allCases.map(\.rawValue).joined(separator: ", ")) (default: what the .cnnq records of its calibration, else torchvision)."
    )
    var preset: Preprocessing.Preset?
    @Option(help: "The input shape N,C,H,W, for models exported with symbolic sizes.") var inputShape: String?
    @Option(help: "Largest allowed top-1 accuracy drop, in percentage points (needs labels).") var maxDrop: Double?
    @Option(help: "Smallest allowed top-1 agreement between float and int8, in percent.") var minAgreement: Double?
    @Option(help: "Smallest allowed output SQNR, in dB.") var minSqnr: Double?
    @Option(help: "A previous evaluation of a good model (saved with --json) to compare every layer's own SQNR with.")
    var baseline: String?
    @Option(help: "With --baseline: the most dB a layer's own SQNR may fall below the baseline's.") var maxLayerDrop:
        Double = 3
    @Option(help: "Draw every layer's SQNR on these images as an SVG bar chart to this file.") var plot: String?
    @Flag(help: "Print the result as JSON (usable as a --baseline later).") var json = false

    func run() throws {
        try reportingErrors { () throws(CNNQError) in
            if let plot { try checkWritable(plot) }
            let good = try baseline.map { path throws(CNNQError) in try Self.loadBaseline(path) }
            let shape = try inputShape.map { text throws(CNNQError) in try Quantize.shape(text) }
            let (graph, _) = try QuantizationPipeline.floatGraph(ONNXImporter.load(path: float, inputShape: shape))
            try graph.checkMemory(budget: try limits.memoryBudget())
            let int8 = try Int8Model(path: model)
            try Self.checkSameInterface(graph, int8, float: float, model: model)
            var isFolder: ObjCBool = false
            let folder = FileManager.default.fileExists(atPath: data, isDirectory: &isFolder) && isFolder.boolValue
            // The model file's own record of calibration's steps, unless the user names a preset.
            var preprocessing =
                preset.map(Preprocessing.preset) ?? int8.view.inputPipeline.map(Preprocessing.init)
                ?? Preprocessing.preset(.torchvision)
            preprocessing.maxImagePixels = try limits.imagePixels()
            let images = try openSamples(
                data, labels: folder ? nil : labels, preprocessing: preprocessing, inputShape: graph.inputs[0].shape,
                skipBad: limits.skipBad)
            let table = try folder ? labels.map { file throws(CNNQError) in try Evaluation.labels(file: file) } : nil
            let label = { (i: Int) -> Int? in
                let path = images.name(i)
                let relative = path.hasPrefix(data + "/") ? String(path.dropFirst(data.count + 1)) : path
                let found =
                    images.label(i) ?? table.map { $0[relative] ?? $0[(path as NSString).lastPathComponent] }
                    ?? Evaluation.labelFromFileName(path)
                return found.map { $0 + labelOffset }
            }
            var progress = Progress()
            let result = try Evaluation.run(float: graph, int8: int8, images: images, label: label) {
                progress.update("evaluating", $0, $1)
            }
            progress.finish()
            if let plot {
                let title =
                    "\((float as NSString).lastPathComponent), int8 vs float: per-layer SQNR on \(result.images) images of \((data as NSString).lastPathComponent)"
                try AtomicFile.write(Data(SQNRPlot.svg(title: title, layers: result.layers).utf8), to: plot)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: (try? encoder.encode(result)) ?? Data(), as: UTF8.self))
            } else {
                print(render(result))
            }
            try check(result, baseline: good)
        }
    }

    /// The int8 model must be quantized from this float one: the same inputs (names and NCHW shapes as
    /// ONNX gives them) and outputs. A .cnnq of another network fails here, in one line naming both.
    static func checkSameInterface(_ graph: Graph, _ int8: Int8Model, float: String, model: String) throws(CNNQError) {
        let view = int8.view
        func nchw(_ t: Int) -> [Int] { view.tensor(t).logicalShape }
        let int8Inputs = (0..<view.inputCount).map { nchw(view.input($0)) }
        let int8Outputs = (0..<view.outputCount).map { nchw(view.output($0)) }
        let floatInputs = graph.inputs.map(\.shape)
        let floatOutputs = graph.outputs.map { graph.shapes[$0] ?? [] }
        let format = { (shapes: [[Int]]) in
            shapes.map { $0.map(String.init).joined(separator: "×") }.joined(separator: ", ")
        }
        // Outputs by element count: a classifier is [1, 1000] in both, but a flattening may differ in rank.
        let count = { (shape: [Int]) in shape.reduce(1, *) }
        let int8Names = (0..<view.inputCount).map { int8.name(ofTensor: view.input($0)) }
        let floatNames = graph.inputs.map(\.name)
        guard floatInputs == int8Inputs, floatOutputs.map(count) == int8Outputs.map(count), floatNames == int8Names
        else {
            throw .invalidArgument(
                "\(model) does not match \(float): input \(int8Names.joined(separator: ", ")) "
                    + "\(format(int8Inputs)), output \(format(int8Outputs)) against \(floatNames.joined(separator: ", ")) "
                    + "\(format(floatInputs)), output \(format(floatOutputs)); was it quantized from another model?")
        }
    }

    static func loadBaseline(_ path: String) throws(CNNQError) -> Evaluation {
        let data = try InputFile.read(path)
        do { return try JSONDecoder().decode(Evaluation.self, from: data) } catch {
            throw .unreadableFile(path: path, reason: "not an evaluation saved with 'eval --json' (\(error))")
        }
    }

    func render(_ r: Evaluation) -> String {
        let pct = { (v: Double?) in v.map { String(format: "%.2f%%", $0) } ?? "—" }
        var lines = ["\(r.images) images, \(r.labelled) labelled"]
        if r.labelled > 0 {
            lines.append(
                "top-1: float \(pct(r.floatTop1)), int8 \(pct(r.int8Top1)), drop \(r.top1Drop.map { String(format: "%.2f", $0) } ?? "—") pts"
            )
            lines.append("top-5: float \(pct(r.floatTop5)), int8 \(pct(r.int8Top5))")
        }
        lines.append(
            "\(r.perPixel == true ? "class agreement (of \(r.agreementUnit ?? "pixels"))" : "top-1 agreement") \(pct(r.agreement)), output SQNR \(r.outputSQNRDB.map { String(format: "%.1f dB", $0) } ?? "exact")"
        )
        lines.append("layers adding the most error (own SQNR, end-to-end SQNR): " + worstLayers(r))
        if let images = worstImages(r) { lines.append(images) }
        return lines.joined(separator: "\n")
    }

    /// The images whose output is furthest from the float model's, when one carries a tenth of the
    /// error and three times an even share or more: what to look at, or add to the calibration
    /// images, when the SQNR is low.
    func worstImages(_ r: Evaluation) -> String? {
        guard let images = r.worstImages, let first = images.first,
            first.share >= max(10, 300 / Double(r.images))
        else { return nil }
        return "images carrying the most output error (share, own output SQNR): "
            + images.map(\.description).joined(separator: ", ")
    }

    func worstLayers(_ r: Evaluation) -> String { r.worstLayers.map(\.description).joined(separator: ", ") }

    func check(_ r: Evaluation, baseline: Evaluation?) throws(CNNQError) {
        var broken: [String] = []
        if let maxDrop {
            guard let drop = r.top1Drop else {
                throw .invalidArgument("--max-drop needs labels: none of the \(r.images) images has one")
            }
            if drop > maxDrop {
                broken.append(
                    String(format: "top-1 drop %.2f pts exceeds --max-drop %.2f by %.2f", drop, maxDrop, drop - maxDrop)
                )
            }
        }
        if let minAgreement, r.agreement < minAgreement {
            broken.append(
                String(
                    format: "top-1 agreement %.2f%% is below --min-agreement %.2f%% by %.2f", r.agreement, minAgreement,
                    minAgreement - r.agreement))
        }
        if let minSqnr, let sqnr = r.outputSQNRDB, sqnr < minSqnr {
            broken.append(
                String(format: "output SQNR %.1f dB is below --min-sqnr %.1f dB by %.1f", sqnr, minSqnr, minSqnr - sqnr)
            )
        }
        if let baseline, case let regressions = try r.layerRegressions(since: baseline, tolerance: maxLayerDrop),
            !regressions.isEmpty
        {
            let count = regressions.count == 1 ? "1 layer" : "\(regressions.count) layers"
            broken.append(
                "\(count) lost more than --max-layer-drop \(String(format: "%.1f", maxLayerDrop)) dB of own SQNR against the baseline: "
                    + regressions.map(\.description).joined(separator: ", "))
        } else if !broken.isEmpty {
            broken.append("layers adding the most error: " + worstLayers(r))
            if let images = worstImages(r) { broken.append(images) }
        }
        if !broken.isEmpty { throw .invalidArgument(broken.joined(separator: "; ")) }
    }
}
