import CNNQImageIO
import Foundation

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
public struct RGBImage: Sendable {
    public var width: Int, height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Images declaring more pixels are refused before they are decoded (64 Mpixel).
    public static let defaultMaxPixels = 64 << 20

    /// Decodes a JPEG, PNG or binary PPM (P6, 8-bit) file; one that declares more than `maxPixels`
    /// pixels, or is truncated or corrupt, is an error naming the file.
    public init(path: String, maxPixels: Int = defaultMaxPixels) throws(CNNQError) {
        let data = try InputFile.read(path)
        if data.starts(with: Array("P6".utf8)) {
            self = try Self.ppm([UInt8](data), path: path, maxPixels: maxPixels)
            return
        }
        var rgb: UnsafeMutablePointer<UInt8>?
        var (w, h): (Int32, Int32) = (0, 0)
        var message = [CChar](repeating: 0, count: 256)
        let status = data.withUnsafeBytes { bytes in
            cnnq_image_decode(
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, maxPixels, &rgb, &w, &h,
                &message, message.count)
        }
        guard status == 0, let rgb else {
            throw .unreadableFile(
                path: path,
                reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { cnnq_image_free(rgb) }
        self.init(
            width: Int(w), height: Int(h), pixels: Array(UnsafeBufferPointer(start: rgb, count: Int(w) * Int(h) * 3)))
    }

    /// A binary PPM: "P6", width, height, maxval 255 (whitespace separated), one whitespace, pixels.
    static func ppm(_ bytes: [UInt8], path: String, maxPixels: Int) throws(CNNQError) -> RGBImage {
        var fields: [Int] = [], i = 2
        while fields.count < 3 && i < bytes.count {
            while i < bytes.count && [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
            var value = 0, digits = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, digits < 6 {
                value = value * 10 + Int(bytes[i] - 0x30); i += 1; digits += 1
            }
            guard digits > 0 else { break }
            fields.append(value)
        }
        i += 1
        guard fields.count == 3, fields[0] > 0, fields[1] > 0, fields[2] == 255 else {
            throw .unreadableFile(path: path, reason: "not an 8-bit binary PPM (P6 width height 255)")
        }
        guard fields[0] <= maxPixels / fields[1] else {
            throw .unreadableFile(
                path: path,
                reason:
                    "declares \(fields[0])×\(fields[1]) pixels, more than the limit of \(maxPixels) (--max-image-pixels raises it)"
            )
        }
        guard bytes.count - i >= fields[0] * fields[1] * 3 else {
            throw .unreadableFile(path: path, reason: "truncated: fewer pixel bytes than the PPM header declares")
        }
        return RGBImage(width: fields[0], height: fields[1], pixels: Array(bytes[i..<(i + fields[0] * fields[1] * 3)]))
    }

    /// Resampled to `width`×`height` with a triangle (bilinear) filter widened by the scale factor
    /// when shrinking, so every source pixel contributes (antialiased, as PIL and torchvision resize).
    public func resized(width newWidth: Int, height newHeight: Int) -> RGBImage {
        let horizontal = Self.resample(
            pixels, lines: height, from: width, to: newWidth, stride: 3, pitch: width * 3, linePitch: newWidth * 3)
        // Transpose-free vertical pass: treat columns as lines.
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        let weights = Self.weights(from: height, to: newHeight)
        for y in 0..<newHeight {
            let (first, taps) = weights[y]
            for x in 0..<(newWidth * 3) {
                var sum: Float = 0
                for (k, w) in taps.enumerated() { sum += w * horizontal[(first + k) * newWidth * 3 + x] }
                out[y * newWidth * 3 + x] = UInt8(max(0, min(255, sum.rounded())))
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// Horizontal pass in float: each output column is a weighted sum of source columns.
    static func resample(_ pixels: [UInt8], lines: Int, from: Int, to: Int, stride: Int, pitch: Int, linePitch: Int)
        -> [Float]
    {
        let weights = weights(from: from, to: to)
        var out = [Float](repeating: 0, count: lines * linePitch)
        for line in 0..<lines {
            for x in 0..<to {
                let (first, taps) = weights[x]
                for c in 0..<stride {
                    var sum: Float = 0
                    for (k, w) in taps.enumerated() {
                        sum += w * Float(pixels[line * pitch + (first + k) * stride + c])
                    }
                    out[line * linePitch + x * stride + c] = sum
                }
            }
        }
        return out
    }

    /// For each output position: first source index and normalised triangle-filter weights (PIL's
    /// bilinear resampling: support 1, scaled by the shrink factor).
    static func weights(from: Int, to: Int) -> [(Int, [Float])] {
        let scale = Double(from) / Double(to)
        let support = max(scale, 1)
        return (0..<to).map { i in
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0), hi = min(Int(center + support + 0.5), from)
            var taps = (lo..<hi).map { j in max(0, 1 - abs((Double(j) - center + 0.5) / support)) }
            let total = taps.reduce(0, +)
            if total > 0 { taps = taps.map { $0 / total } }
            return (lo, taps.map(Float.init))
        }
    }

    /// The centred `width`×`height` window (torchvision's CenterCrop rounding).
    public func cropped(width w: Int, height h: Int) -> RGBImage {
        let top = Int((Double(height - h) / 2).rounded()), left = Int((Double(width - w) / 2).rounded())
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let source = (top + y) * width * 3 + left * 3
            out.replaceSubrange((y * w * 3)..<((y + 1) * w * 3), with: pixels[source..<(source + w * 3)])
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
