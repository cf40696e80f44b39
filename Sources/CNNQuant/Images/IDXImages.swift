import CNNQImageIO
import Foundation

/// Grey images and their labels in IDX files (the MNIST and Fashion-MNIST format, gzip-compressed or
/// not): each image becomes an RGB image of three equal channels and goes through a `Preprocessing`.
public struct IDXImages: SampleSource {
    public let path: String
    let images: [UInt8]
    let labels: [UInt8]?
    let height: Int, width: Int
    let picks: [Int]
    public let preprocessing: Preprocessing
    public let shape: [Int]

    /// `labels`: the matching IDX label file, if any. `limit` keeps the first `limit` images of a
    /// fixed shuffle, as `ImageFolder` does.
    public init(
        path: String, labels labelPath: String?, preprocessing: Preprocessing, inputShape: [Int], limit: Int? = nil
    ) throws(CNNQError) {
        let data = try Self.read(path)
        guard data.count >= 16, data[0] == 0, data[1] == 0, data[2] == 8, data[3] == 3 else {
            throw .unreadableFile(path: path, reason: "not an IDX file of unsigned bytes with 3 dimensions (images)")
        }
        func word(_ bytes: [UInt8], _ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
        let (count, h, w) = (word(data, 4), word(data, 8), word(data, 12))
        guard count > 0, h > 0, w > 0, data.count >= 16 + count * h * w else {
            throw .unreadableFile(path: path, reason: "truncated IDX images")
        }
        if let labelPath {
            let l = try Self.read(labelPath)
            guard l.count >= 8, l[2] == 8, l[3] == 1, word(l, 4) == count, l.count >= 8 + count else {
                throw .unreadableFile(path: labelPath, reason: "not an IDX label file for \(count) images")
            }
            labels = Array(l[8..<(8 + count)])
        } else {
            labels = nil
        }
        guard inputShape.count == 4, inputShape[0] == 1, [1, 3].contains(inputShape[1]) else {
            throw .invalidArgument(
                "the model input has shape \(inputShape); image inputs are [1, 3, H, W] or [1, 1, H, W]")
        }
        self.path = path
        images = Array(data[16..<(16 + count * h * w)])
        (height, width) = (h, w)
        var random = SeededRandom(seed: 0x5EED)
        var order = Array(0..<count)
        if limit != nil {
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
        }
        picks = limit.map { Array(order.prefix($0)) } ?? order
        self.preprocessing = preprocessing
        shape = inputShape
    }

    static func read(_ path: String) throws(CNNQError) -> [UInt8] {
        var bytes: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        guard cnnq_read_maybe_gzip(path, &bytes, &size, &message, message.count) == 0, let bytes else {
            throw .unreadableFile(
                path: path,
                reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { cnnq_image_free(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: size))
    }

    public var count: Int { picks.count }
    public var fromImages: Bool { true }
    public func name(_ i: Int) -> String { "\(path)[\(picks[i])]" }
    public func label(_ i: Int) -> Int? { labels.map { Int($0[picks[i]]) } }

    public func sample(_ i: Int) throws(CNNQError) -> Tensor {
        let grey = images[(picks[i] * height * width)..<((picks[i] + 1) * height * width)]
        let image = RGBImage(width: width, height: height, pixels: grey.flatMap { [$0, $0, $0] })
        return try preprocessing.tensor(image, channels: shape[1], height: shape[2], width: shape[3])
    }
}
