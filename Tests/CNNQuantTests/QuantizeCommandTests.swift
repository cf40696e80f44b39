import CNNQRuntime
import CNNQuant
import Foundation
import Testing

/// `cnn-quantize quantize` and `inspect` on .cnnq files, as a user runs them: real images in, a
/// model file and report out, and for every kind of bad input one error line, status 1 and no file.
@Suite struct QuantizeCommandTests {
    static let model = Fixtures.path("parity/mobilenet_v2/model.onnx")
    static let images = Fixtures.path("images/imagenet")
    typealias CLI = CommandLineTests

    static func folder(_ name: String) throws -> String {
        let path = CLI.temporary(name)
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func quantizesReportsAndInspects() throws {
        let out = try Self.folder("quantize-ok")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try CLI.run([
            "quantize", Self.model, "--calibration", Self.images, "-o", out + "/m.cnnq", "--samples", "14",
            "--held-out", "6",
            "--method", "mse", "--bias-correction", "--report", out + "/r.json", "--plot", out + "/p.svg", "--worst",
            "0",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("calibration: 14 images, mse, bias correction"))
        #expect(result.stdout.contains("every layer adding the most error first"))
        let report =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/r.json")))
            as! [String: Any]
        let layers = report["layers"] as! [[String: Any]]
        #expect(layers.count == 64)
        #expect(layers.allSatisfy { ($0["sqnrDB"] as? Double).map { $0 > 10 } ?? true })
        #expect((report["outputSQNRDB"] as! Double) > 20)
        let svg = try String(contentsOfFile: out + "/p.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<rect").count > 64)

        let inspect = try CLI.run(["inspect", out + "/m.cnnq"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("depthwise") && inspect.stdout.contains("CRC32"))

        // --ops: MobileNet V2's kinds (blocks' inner ops included) and their MACs, and the make line.
        let ops = try CLI.run(["inspect", out + "/m.cnnq", "--ops"])
        #expect(ops.status == 0, "\(ops.stderr)")
        #expect(
            ops.stdout.contains(
                #"make -C targets OPS="convolution pointwise depthwise add globalAveragePool invertedResidual""#))
        #expect(ops.stdout.contains("3×3/2") && ops.stdout.contains("3×3/1"))
        let onnx = try CLI.run(["inspect", Self.model, "--ops"])
        #expect(onnx.status == 1 && onnx.stderr.contains("--ops needs a .cnnq model file"))
    }

    /// A truncated image stops quantize with one error naming it and no file written; with
    /// --skip-bad-images it is left out with one warning, and the next image takes its place.
    @Test func badImagesStopOrAreSkipped() throws {
        let out = try Self.folder("bad-images")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let images = out + "/images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.images) where name.hasSuffix(".jpg") {
            try FileManager.default.copyItem(atPath: Self.images + "/" + name, toPath: images + "/" + name)
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: images + "/imagenet_01_559.jpg"))
        try whole.prefix(whole.count / 3).write(to: URL(fileURLWithPath: images + "/cut.jpg"))
        let arguments = [
            "quantize", Self.model, "--calibration", images, "-o", out + "/m.cnnq", "--samples", "21", "--held-out",
            "0",
        ]
        let stopped = try CLI.run(arguments)
        #expect(
            stopped.status == 1 && stopped.stderr.contains("cut.jpg: JPEG: truncated or corrupt"), "\(stopped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/m.cnnq"))
        let skipped = try CLI.run(arguments + ["--skip-bad-images"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(
            skipped.stderr.components(separatedBy: "warning:").filter { $0.contains("cut.jpg") }.count == 1,
            "\(skipped.stderr)")
        #expect(skipped.stdout.contains("calibration: 20 images"), "\(skipped.stdout)")
    }

    /// eval names the images carrying the most output error when one carries far more than its share:
    /// the Fashion-MNIST EfficientNet-B0 on the first 250 test images, where test image 38's logits
    /// reach three times anything in the calibration images (2026-12-04-auto-unseen-tails.md in
    /// benchmarks/results). On the photos, where the error is spread out, none is (evalThresholdsAndRun).
    @Test(.enabled(if: AccuracyTests.available, "needs Debian's dataset-fashion-mnist (.ci/run installs it)"))
    func evalNamesTheImagesCarryingTheError() throws {
        let out = try Self.folder("eval-images")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let float = Fixtures.path("fashion-mnist/efficientnet_b0_0.25_32.onnx")
        let data = AccuracyTests.data
        // The first 250 test images: the IDX header's count rewritten, then 250 images of 28×28.
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gunzip.arguments = ["-c", "gzip -dc \(data)/t10k-images-idx3-ubyte.gz | head -c \(16 + 250 * 784)"]
        let pipe = Pipe()
        gunzip.standardOutput = pipe
        try gunzip.run()
        var idx = pipe.fileHandleForReading.readDataToEndOfFile()
        gunzip.waitUntilExit()
        try #require(idx.count == 16 + 250 * 784)
        idx.replaceSubrange(4..<8, with: [0, 0, 0, 250])
        try idx.write(to: URL(fileURLWithPath: out + "/test.idx"))

        let quantize = try CLI.run([
            "quantize", float, "--calibration", data + "/train-images-idx3-ubyte.gz", "--preset", "fashion-mnist",
            "--samples", "100", "--held-out", "0", "--method", "minmax", "-o", out + "/m.cnnq",
        ])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        // One run: the JSON is printed before the broken threshold fails.
        let result = try CLI.run([
            "eval", float, out + "/m.cnnq", "--data", out + "/test.idx", "--json", "--min-sqnr", "30",
        ])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("images carrying the most output error (share, own output SQNR): test.idx[38] "),
            "\(result.stderr)")
        let evaluation = try JSONDecoder().decode(Evaluation.self, from: Data(result.stdout.utf8))
        let worst = try #require(evaluation.worstImages)
        #expect(worst.count == 3 && worst.map(\.share) == worst.map(\.share).sorted(by: >))
        #expect(worst[0].name.hasSuffix("test.idx[38]") && worst[0].share > 50, "\(worst.map(\.description))")
    }

    /// Shares and SQNRs of `Evaluation.worstImages`, from per-image signal and noise.
    @Test func worstImagesShares() {
        let worst = Evaluation.worstImages([(1, 1), (4, 2), (9, 7), (5, 0)], names: { "image\($0)" }, count: 3)
        #expect(worst.map(\.name) == ["image2", "image1", "image0"])
        #expect(worst.map(\.share) == [70, 20, 10])
        #expect(worst[0].sqnrDB == 10 * log10(9.0 / 7))
        #expect(Evaluation.worstImages([(1, 0)], names: { "\($0)" }).isEmpty)
    }

    /// eval passes with loose thresholds and fails, naming the threshold and the worst layers, with a
    /// strict one, and against a baseline names the layers that regressed; run prints the top classes
    /// and writes the raw int8 output.
    @Test func evalThresholdsAndRun() throws {
        let out = try Self.folder("eval")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let model = out + "/m.cnnq"
        // Without bias correction, which would hide part of the per-tensor depthwise loss below.
        let quantize = try CLI.run([
            "quantize", Self.model, "--calibration", Self.images, "-o", model, "--samples", "12", "--held-out", "0",
            "--no-bias-correction",
        ])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        // The photos' ImageNet classes are not among this 100-class model's (see evalLabels): a labels
        // file gives them classes it has, so that accuracy is printed.
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.images).filter { $0.hasSuffix(".jpg") }
        try names.enumerated().map { "\($1) \($0 * 7 % 100)" }.joined(separator: "\n").write(
            toFile: out + "/classes.txt", atomically: true, encoding: .utf8)
        let pass = try CLI.run([
            "eval", Self.model, model, "--data", Self.images, "--labels", out + "/classes.txt", "--min-agreement", "50",
            "--min-sqnr", "15",
        ])
        #expect(pass.status == 0, "\(pass.stderr)")
        #expect(
            pass.stdout.contains("20 images, 20 labelled") && pass.stdout.contains("top-1 agreement")
                && !pass.stdout.contains("images carrying"), "\(pass.stdout)")
        let fail = try CLI.run([
            "eval", Self.model, model, "--data", Self.images, "--labels", out + "/classes.txt", "--min-sqnr", "99",
        ])
        #expect(fail.status == 1)
        #expect(
            fail.stderr.hasPrefix("error: output SQNR") && fail.stderr.contains("below --min-sqnr 99.0")
                && fail.stderr.contains("layers adding the most error: #"),
            "stderr: \(fail.stderr)")

        // A baseline saved with --json: the same model passes against it (and draws its plot); one with
        // per-tensor depthwise weights fails, naming only depthwise layers.
        let good = try CLI.run([
            "eval", Self.model, model, "--data", Self.images, "--labels", out + "/classes.txt", "--json",
        ])
        try good.stdout.write(toFile: out + "/good.json", atomically: true, encoding: .utf8)
        let same = try CLI.run([
            "eval", Self.model, model, "--data", Self.images, "--labels", out + "/classes.txt", "--baseline",
            out + "/good.json", "--plot",
            out + "/p.svg",
        ])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(try String(contentsOfFile: out + "/p.svg", encoding: .utf8).hasPrefix("<svg"))
        let broken = out + "/broken.cnnq"
        let quantizeBroken = try CLI.run([
            "quantize", Self.model, "--calibration", Self.images, "-o", broken, "--samples", "12", "--held-out", "0",
            "--per-tensor-depthwise", "--no-bias-correction",
        ])
        #expect(quantizeBroken.status == 0, "\(quantizeBroken.stderr)")
        let regressed = try CLI.run([
            "eval", Self.model, broken, "--data", Self.images, "--labels", out + "/classes.txt", "--baseline",
            out + "/good.json",
        ])
        #expect(regressed.status == 1)
        let named = regressed.stderr.components(separatedBy: "own SQNR against the baseline: ").last ?? ""
        #expect(
            regressed.stderr.contains("lost more than --max-layer-drop 3.0 dB") && named.contains("(depthwise)")
                && !named.contains("(pointwise)"), "stderr: \(regressed.stderr)")

        let run = try CLI.run(["run", model, Self.images + "/imagenet_01_559.jpg", "--raw", out + "/out.bin"])
        #expect(run.status == 0, "\(run.stderr)")
        // The level its kernels ran, what the scores are, a header, then the top 5.
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 8 && lines[0].hasSuffix("kernels \(InstructionSet.best.description)"), "\(run.stdout)")
        #expect(lines[1].contains("100 scores, dequantized from int8") && lines[2].contains("rank  class"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/out.bin")).count == 100)
        // With class names and probabilities: the top class's name is its line of the labels file.
        try (0..<100).map { "name\($0)" }.joined(separator: "\n").write(
            toFile: out + "/labels.txt", atomically: true, encoding: .utf8)
        let labelled = try CLI.run([
            "run", model, Self.images + "/imagenet_01_559.jpg", "--labels", out + "/labels.txt", "--softmax", "--top",
            "1",
        ])
        let top = labelled.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let topClass = top.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
        #expect(labelled.status == 0 && top.hasSuffix("name\(topClass)") && top.contains("%"), "\(labelled.stdout)")
    }

    /// Labels come only from a labels file or names of three or more fields NAME_…_LABEL, and one the
    /// model has no class for stops eval, naming the image.
    @Test func evalLabels() throws {
        #expect(Evaluation.labelFromFileName("data/imagenet_07_281.jpg") == 281)
        #expect(Evaluation.labelFromFileName("page_l03_p1_180deg_1.png") == 1)
        for unlabelled in [
            "chicky_512.png", "IMG_0042.jpg", "_1_2.png", "a_1_+2.png", "a__2.png", "a_1_.png", "512.png",
        ] {
            #expect(Evaluation.labelFromFileName(unlabelled) == nil, "\(unlabelled)")
        }
        let out = try Self.folder("eval-labels")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let model = out + "/m.cnnq"
        let quantize = try CLI.run([
            "quantize", Self.model, "--calibration", Self.images, "-o", model, "--samples", "4", "--held-out", "0",
        ])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        let photos = out + "/photos"
        try FileManager.default.createDirectory(atPath: photos, withIntermediateDirectories: true)
        for name in ["chicky_512.jpg", "IMG_0042.jpg"] {
            try FileManager.default.copyItem(atPath: Self.images + "/imagenet_01_559.jpg", toPath: photos + "/" + name)
        }
        let unlabelled = try CLI.run(["eval", Self.model, model, "--data", photos])
        #expect(unlabelled.status == 0 && unlabelled.stdout.contains("2 images, 0 labelled"), "\(unlabelled.stdout)")
        // The fixtures' names carry ImageNet classes, beyond this model's 100.
        let outside = try CLI.run(["eval", Self.model, model, "--data", Self.images])
        #expect(
            outside.status == 1
                && outside.stderr.contains(".jpg: label ")
                && outside.stderr.contains(" is not one of the model's 100 classes (0–99)"),
            "\(outside.stderr)")
    }

    /// What a new user meets: --version, quantize as the default subcommand, a held-out split that
    /// scales with a small folder (and says so, with a warning about too few images), one wording
    /// for a missing file in every command, inspect on what is neither model, eval refusing a .cnnq
    /// of another network.
    @Test func userPath() throws {
        let out = try Self.folder("user-path")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let version = try CLI.run(["--version"])
        #expect(
            version.status == 0 && version.stdout.hasPrefix("cnn-quantize ") && version.stdout.contains("format 3."))

        let model = out + "/m.cnnq"
        let quantize = try CLI.run([Self.model, "--calibration", Self.images, "-o", model, "--held-out", "16"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        #expect(
            quantize.stderr.contains("note: --held-out 16 is more than a fifth of the 20 images found: 4 held out")
                && quantize.stderr.contains("warning: calibrating on 16 images"), "\(quantize.stderr)")
        #expect(
            quantize.stdout.contains("calibration: 16 images, auto: ") && quantize.stdout.contains(", bias correction")
                && quantize.stdout.contains("/4 on held-out images"), "\(quantize.stdout)")
        let all = try CLI.run([Self.model, "--calibration", Self.images, "-o", model, "--held-out", "0"])
        #expect(all.stdout.contains("on the calibration images"), "\(all.stdout)")

        for arguments in [
            ["quantize", out + "/none.onnx", "--calibration", Self.images, "-o", model],
            ["inspect", out + "/none.onnx"],
            ["run", out + "/none.cnnq", Self.images + "/imagenet_01_559.jpg"], ["run", model, out + "/none.jpg"],
            ["bench", out + "/none.cnnq"], ["eval", out + "/none.onnx", model, "--data", Self.images],
        ] {
            let missing = try CLI.run(arguments)
            let error = missing.stderr.split(separator: "\n").last ?? ""
            #expect(
                missing.status == 1 && error.hasPrefix("error: cannot read \(out)/none.")
                    && error.hasSuffix(": no such file"), "\(arguments): \(missing.stderr)")
        }
        try Data().write(to: URL(fileURLWithPath: out + "/empty.cnnq"))
        let empty = try CLI.run(["inspect", out + "/empty.cnnq"])
        #expect(empty.status == 1 && empty.stderr.contains("is neither a .cnnq model"), "\(empty.stderr)")
        let folder = try CLI.run(["inspect", out])
        #expect(folder.status == 1 && folder.stderr.contains("is a folder, not a file"), "\(folder.stderr)")

        let other = out + "/other.onnx"
        _ = try CLI.run([
            "zoo", "mobilenet-v1", "--alpha", "0.25", "--resolution", "32", "--classes", "10", "-o", other,
        ])
        let mismatch = try CLI.run(["eval", other, model, "--data", Self.images])
        #expect(
            mismatch.status == 1 && mismatch.stderr.contains("does not match")
                && mismatch.stderr.contains("quantized from another model"), "\(mismatch.stderr)")
    }

    enum BadInput: String, CaseIterable {
        case noImages, unreadableImage, wrongInputSize, unsupportedOp, unwritableOutput, missingFolder,
            unknownExcludedLayer
    }

    @Test(arguments: BadInput.allCases)
    func badInputGivesOneErrorLineAndNoFile(_ bad: BadInput) throws {
        let work = try Self.folder("quantize-\(bad.rawValue)")
        defer { try? FileManager.default.removeItem(atPath: work) }
        var model = Self.model, calibration = Self.images, output = work + "/m.cnnq"
        var expected: String, extra: [String] = []
        switch bad {
        case .noImages:
            calibration = try Self.folder("quantize-empty")
            try Data("not an image".utf8).write(to: URL(fileURLWithPath: calibration + "/notes.txt"))
            expected = "no images in"
        case .unreadableImage:
            calibration = try Self.folder("quantize-broken")
            try FileManager.default.copyItem(
                atPath: Self.images + "/imagenet_00_243.jpg", toPath: calibration + "/good.jpg")
            try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 2, 9, 9]).write(to: URL(fileURLWithPath: calibration + "/broken.jpg"))
            expected = "broken.jpg"
        case .wrongInputSize:
            calibration = try Self.folder("quantize-npy")
            // A float32 array of shape (3, 8, 8): not the model's 3×96×96.
            var npy = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
            var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 8, 8), }"
            header += String(repeating: " ", count: 63 - (10 + header.count) % 64) + "\n"
            npy.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
            npy.append(Data(header.utf8))
            npy.append(Data(count: 3 * 8 * 8 * 4))
            try npy.write(to: URL(fileURLWithPath: calibration + "/x.npy"))
            expected = "[3, 8, 8]"
        case .unsupportedOp:
            model = Fixtures.path("errors/unsupported_op.onnx")
            expected = "unsupported operator"
        case .unwritableOutput:
            output = work + "/no/such/folder/m.cnnq"
            expected = "cannot write"
        case .missingFolder:
            calibration = work + "/nowhere"
            expected = "no such folder"
        case .unknownExcludedLayer:
            extra = ["--exclude", "node_Conv_809,Conv_42"]
            expected = "--exclude 'Conv_42': no such layer"
        }
        defer { if calibration != Self.images { try? FileManager.default.removeItem(atPath: calibration) } }
        let result = try CLI.run(
            ["quantize", model, "--calibration", calibration, "-o", output, "--samples", "4", "--held-out", "0"] + extra
        )
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(
            lines.count == 1 && lines[0].hasPrefix("error: ") && lines[0].contains(expected), "stderr: \(result.stderr)"
        )
        let left = try FileManager.default.contentsOfDirectory(atPath: work)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// A full disk: a 64 KiB tmpfs cannot hold the 640 KB model. Mounting needs root (CI runs as root).
    @Test(.enabled(if: SmallDisk.mount(), "needs root to mount a 64 KiB tmpfs"))
    func fullDiskLeavesNothing() throws {
        defer { SmallDisk.unmount() }
        let result = try CLI.run([
            "quantize", Self.model, "--calibration", Self.images, "-o", SmallDisk.path + "/m.cnnq", "--samples", "4",
            "--held-out", "0",
        ])
        #expect(result.status == 1)
        #expect(
            result.stderr.hasPrefix("error: cannot write") && result.stderr.contains("m.cnnq"),
            "stderr: \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: SmallDisk.path).isEmpty)
    }

    @Test func helpExplainsTheOptions() throws {
        let result = try CLI.run(["quantize", "--help"])
        #expect(result.status == 0)
        for option in [
            "--calibration", "--method", "--samples", "--cle", "--bias-correction", "--exclude", "--preset", "--report",
            "--plot", "paddleocr",
        ] {
            #expect(result.stdout.contains(option), "--help does not mention \(option)")
        }
    }

    /// A `\\` at a line's end in a help literal printed as a backslash in `export --help`.
    @Test(arguments: [
        "quantize", "zoo", "eval", "inspect", "run", "export", "bench", "bench-sweep", "bench-kernels",
    ])
    func helpHasNoStrayBackslash(command: String) throws {
        let result = try CLI.run([command, "--help"])
        #expect(result.status == 0)
        #expect(!result.stdout.contains("\\"), "\(command) --help: \(result.stdout)")
    }
}

enum SmallDisk {
    static let path = CommandLineTests.temporary("small-disk")

    static func mount() -> Bool {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return shell(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", path])
    }

    static func unmount() {
        _ = shell(["umount", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    static func shell(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
