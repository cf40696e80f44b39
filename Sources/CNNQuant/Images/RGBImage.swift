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
}
