import CNNQuant
import Foundation
import Testing

/// Decoding (libjpeg-turbo, libpng) and preprocessing of real images.
@Suite struct ImageTests {
    @Test func decodesEveryImageNetJPEG() throws {
        let folder = Fixtures.path("images/imagenet")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jpg") }
        #expect(files.count == 20)
        for file in files {
            let image = try RGBImage(path: folder + "/" + file)
            #expect(image.width >= 100 && image.height >= 100, "\(file): \(image.width)×\(image.height)")
            #expect(Set(image.pixels).count > 50, "\(file) decoded to almost one value")
        }
    }

    @Test func decodesGreyAndAlphaPNGs() throws {
        let text = try RGBImage(path: Fixtures.path("images/png/text.png"))
        #expect((text.width, text.height) == (448, 172))
        let pixels = text.pixels
        let grey = stride(from: 0, to: pixels.count, by: 3).allSatisfy { (i: Int) -> Bool in
            pixels[i] == pixels[i + 1] && pixels[i] == pixels[i + 2]
        }
        #expect(grey, "a grey PNG decodes to equal R, G, B")
        let horse = try RGBImage(path: Fixtures.path("images/png/horse.png"))
        #expect((horse.width, horse.height) == (400, 328))
        // Its corner is white at alpha 110/255: composited on black, so grey, and the same every time
        // (libpng composites onto the output buffer, which must therefore be defined).
        #expect(horse.pixels[0] > 0 && horse.pixels[0] < 200, "corner \(horse.pixels[0])")
        #expect(try RGBImage(path: Fixtures.path("images/png/horse.png")).pixels == horse.pixels)
    }

    @Test(arguments: [
        ("not-an-image", [UInt8]("hello".utf8), "not a JPEG or PNG"),
        (
            "broken-jpeg", [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x13, 0x37] + [UInt8](repeating: 0x55, count: 64),
            "JPEG:"
        ),
        ("broken-png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0x55, count: 64), "PNG:"),
    ])
    func corruptImagesAreErrors(name: String, bytes: [UInt8], message: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(name)-\(ProcessInfo.processInfo.processIdentifier).jpg"
        ).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try RGBImage(path: path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains(message)
        }
    }

    /// Hostile images: a real JPEG whose header claims 20,000×20,000 is refused before any pixel
    /// memory, the same JPEG cut to a third is refused rather than filled in with grey, and a PPM or a
    /// PNG above the limit too.
    @Test func oversizedAndTruncatedImagesAreErrors() throws {
        let folder = Fixtures.path("images/imagenet")
        let name = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".jpg") })
        let jpeg = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
        var huge = jpeg
        // The frame header (SOF0–SOF2): marker, length, precision, then height and width, big-endian.
        let sof = try #require(
            (0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && (0xC0...0xC2).contains(jpeg[$0 + 1]) })
        for offset in [sof + 5, sof + 7] { (huge[offset], huge[offset + 1]) = (0x4E, 0x20) }  // 20,000
        let ppm = [UInt8]("P6 30000 30000 255\n".utf8) + [UInt8](repeating: 0, count: 64)
        let cases: [(String, [UInt8], String)] = [
            ("huge.jpg", huge, "declares 20000×20000 pixels"),
            ("cut.jpg", Array(jpeg.prefix(jpeg.count / 3)), "truncated or corrupt"),
            ("huge.ppm", ppm, "declares 30000×30000 pixels"),
        ]
        for (file, bytes, message) in cases {
            let path = NSTemporaryDirectory() + "\(getpid())-\(file)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: CNNQError.self, "\(file)") { _ = try RGBImage(path: path) }
            do { _ = try RGBImage(path: path) } catch {
                #expect("\(error)".contains(path) && "\(error)".contains(message), "\(error)")
            }
        }
        // The limit is the caller's: a 400×328 PNG with a limit of 100,000 pixels.
        do {
            _ = try RGBImage(path: Fixtures.path("images/png/horse.png"), maxPixels: 100_000)
            Issue.record("a 131,200-pixel PNG passed a 100,000-pixel limit")
        } catch {
            #expect("\(error)".contains("declares 400×328 pixels"), "\(error)")
        }
    }

    /// Our resize and crop against PIL's (torchvision's backend) on a real photo: within one level.
    @Test func torchvisionPreprocessingMatchesPIL() throws {
        let image = try RGBImage(path: Fixtures.path("images/imagenet/imagenet_00_243.jpg"))
        let reference = try NumpyArray.load(path: Fixtures.path("images/imagenet_00_243_pil_256_224.npy"))
        #expect(reference.shape == [224, 224, 3])
        let preprocessing = Preprocessing.preset(.torchvision)
        let tensor = try preprocessing.tensor(image, channels: 3, height: 224, width: 224)
        #expect(tensor.shape == [1, 3, 224, 224])
        var worst: Float = 0
        let values = tensor.floats, expected = reference.floats
        for y in 0..<224 {
            for x in 0..<224 {
                for c in 0..<3 {
                    let pixel = (values[(c * 224 + y) * 224 + x] * preprocessing.std[c] + preprocessing.mean[c]) * 255
                    worst = max(worst, abs(pixel - expected[(y * 224 + x) * 3 + c]))
                }
            }
        }
        #expect(worst <= 1.5, "largest difference from PIL: \(worst) levels")
    }

    @Test func paddleOCRPadsTheRightWithZeros() throws {
        let image = try RGBImage(path: Fixtures.path("images/png/text.png"))
        let tensor = try Preprocessing.preset(.paddleocr).tensor(image, channels: 3, height: 48, width: 400)
        // 448×172 scaled to height 48 is 126 pixels wide (rounded up); the rest is zero.
        let values = tensor.floats
        #expect((0..<48).allSatisfy { y in (126..<400).allSatisfy { values[y * 400 + $0] == 0 } })
        #expect((0..<48).contains { y in (0..<126).contains { values[y * 400 + $0] != 0 } })
    }

    /// IDX images and labels (the MNIST format): count, labels, and grey pixels as three equal channels.
    @Test func readsIDXImagesAndLabels() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "idx-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 4]
        images += (0..<48).map { UInt8($0 * 5) }
        try Data(images).write(to: folder.appendingPathComponent("images"))
        try Data([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9]).write(to: folder.appendingPathComponent("labels"))
        let source = try IDXImages(
            path: folder.appendingPathComponent("images").path, labels: folder.appendingPathComponent("labels").path,
            preprocessing: .preset(.unit), inputShape: [1, 3, 4, 4])
        #expect(source.count == 3)
        #expect((0..<3).map { source.label($0) } == [7, 2, 9])
        let tensor = try source.sample(1)
        #expect(tensor.shape == [1, 3, 4, 4])
        #expect(
            tensor.floats[0] == Float(16 * 5) / 255 && tensor.floats[16] == tensor.floats[0]
                && tensor.floats[32] == tensor.floats[0])
        #expect(throws: CNNQError.self) {
            _ = try IDXImages(
                path: folder.appendingPathComponent("labels").path, labels: nil, preprocessing: .preset(.unit),
                inputShape: [1, 3, 4, 4])
        }
    }
}
