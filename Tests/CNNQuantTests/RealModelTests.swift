import CNNQuant
import Foundation
import Testing

/// Accuracy-drop regression on the real pretrained models of calibration/README.md, on real images:
/// TF-slim's ImageNet MobileNet V1 and torchvision's ImageNet MobileNet V2 on ImageNet validation
/// images, and PaddleOCR's MobileNetV3-Small text-direction classifier on text strips cut from scanned
/// pages. The assets come from package registries (`calibration/fetch-images.sh`, `export_models.py`,
/// `make_text_strips.py`, which `.ci/run` runs); without them these tests are skipped. A failure names
/// the worst layers.
@Suite struct RealModelTests {
    static let calibration = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../calibration"
    ).standardized.path
    static func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: calibration + "/" + relative)
    }

    /// Quantizes `model` with the default recipe (auto ranges, bias correction) on every image
    /// of `calibrationImages`, then evaluates it on `testImages` (labels in the file names, plus
    /// `labelOffset`).
    static func evaluate(
        _ model: String, preset: Preprocessing.Preset, inputShape: [Int]? = nil, calibrationImages: String,
        testImages: String, labelOffset: Int = 0
    ) throws -> Evaluation {
        let graph = try ONNXImporter.load(path: calibration + "/" + model, inputShape: inputShape)
        let float = try QuantizationPipeline.floatGraph(graph).graph
        let shape = float.inputs[0].shape
        let samples = try ImageFolder(
            path: calibration + "/" + calibrationImages, preprocessing: .preset(preset), inputShape: shape)
        var options = QuantizationPipeline.Options()
        options.biasCorrection = true
        options.heldOut = 0
        options.compareLayers = false
        let int8 = try Int8Model(bytes: QuantizationPipeline.run(graph, samples: samples, options: options).bytes)
        let test = try ImageFolder(
            path: calibration + "/" + testImages, preprocessing: .preset(preset), inputShape: shape)
        return try Evaluation.run(float: float, int8: int8, images: test) {
            Evaluation.labelFromFileName(test.files[$0]).map { $0 + labelOffset }
        }
    }

    static func report(_ name: String, _ e: Evaluation) -> String {
        let summary = AccuracyTests.summary(e)
        print("\(name): \(summary)")
        return "\(name): \(summary); worst layers: \(e.worstLayers.map(\.description).joined(separator: ", "))"
    }

    /// An ImageNet model calibrated on the 95 photos (scikit-image, OpenCV) and evaluated on the 20
    /// labelled ImageNet validation images, with the floors it is held to.
    struct ImageNetModel: Sendable, CustomTestStringConvertible {
        let file: String, preset: Preprocessing.Preset, labelOffset: Int
        let floatTop1: Double, agreement: Double, sqnr: Double
        var testDescription: String { file }
    }

    /// The issue asks for 99% agreement; that is beyond these models in int8 (docs/quantization.md):
    /// rounding V2's weights to 8 bits alone costs 2 of the 20 images in a float simulation
    /// (calibration/precision_study.py), one image flips even with float weights and 16-bit
    /// activations, and PyTorch's own post-training quantization reaches 18 of 20 at 10 dB. Each is
    /// held one image and about 1 dB below what it measures.
    static let imageNetModels = [
        // TF-slim's 1001-class V1 (class 0 is background), Keras preprocessing (values in [−1, 1]).
        // Measured: float 16/20, int8 16/20, 18 agree (90%), 23.4 dB.
        ImageNetModel(
            file: "models/mobilenet_v1_tf_slim.onnx", preset: .keras, labelOffset: 1, floatTop1: 70, agreement: 85,
            sqnr: 20),
        // torchvision's V2. Measured: float 19/20, int8 16/20, 17 agree (85%), 18.3 dB.
        ImageNetModel(
            file: "models/mobilenet_v2_imagenet.onnx", preset: .torchvision, labelOffset: 0, floatTop1: 90,
            agreement: 80, sqnr: 17),
    ].filter { exists($0.file) }

    @Test(
        .enabled(
            if: !imageNetModels.isEmpty && exists("images/photos"),
            "needs calibration/fetch-images.sh and export_models.py (.ci/run runs them)"), arguments: imageNetModels)
    func imageNet(_ model: ImageNetModel) throws {
        let e = try Self.evaluate(
            model.file, preset: model.preset, calibrationImages: "images/photos", testImages: "images/imagenet",
            labelOffset: model.labelOffset)
        let failure = Self.report(model.file, e)
        #expect(
            e.labelled == 20 && (e.floatTop1 ?? 0) >= model.floatTop1,
            "the float model should classify the ImageNet images: \(failure)")
        #expect(e.agreement >= model.agreement, "\(failure)")
        #expect((e.outputSQNRDB ?? .infinity) >= model.sqnr, "\(failure)")
    }

    /// Calibrated on the strips of the even lines, evaluated on those of the odd lines (112 each, half
    /// of them turned 180°). Measured (auto chose entropy with bias correction measured on the int8
    /// model): float 93.75%, int8 93.75%, agreement 98.2% (2 strips of 112), 24.6 dB. One strip is
    /// 0.89 pt, so the drop is held to one strip and agreement to 97%; the arithmetic is exact, so
    /// these figures are the same on every machine.
    @Test(
        .enabled(
            if: exists("models/ppocr_cls_v3_small.onnx") && exists("text-strips/test"),
            "needs calibration/fetch-images.sh, export_models.py and make_text_strips.py (.ci/run runs them)"))
    func paddleOCRTextDirection() throws {
        let e = try Self.evaluate(
            "models/ppocr_cls_v3_small.onnx", preset: .paddleocr, inputShape: [1, 3, 48, 192],
            calibrationImages: "text-strips/calibration", testImages: "text-strips/test")
        let failure = Self.report("PaddleOCR text direction (MobileNetV3-Small ×0.35)", e)
        #expect((e.floatTop1 ?? 0) >= 90, "the float model should read the strips' direction: \(failure)")
        #expect((e.top1Drop ?? .infinity) <= 0.9, "\(failure)")
        #expect(e.agreement >= 97, "\(failure)")
        #expect((e.outputSQNRDB ?? .infinity) >= 18, "\(failure)")
    }
}
