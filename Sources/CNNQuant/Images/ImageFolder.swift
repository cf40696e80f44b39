import Foundation

/// Calibration or evaluation inputs from a folder (searched recursively): JPEG/PNG images, prepared
/// with a `Preprocessing`, or `.npy` arrays already in the model's input layout. Files are decoded
/// when asked for, one at a time.
public struct ImageFolder: SampleSource {
    public static let extensions: Set<String> = ["jpg", "jpeg", "png", "npy"]
    public let files: [String]
    public let preprocessing: Preprocessing
    /// The model input: [1, C, H, W].
    public let shape: [Int]

    /// `limit` keeps the first `limit` files of a fixed shuffle (seeded: the same files every run,
    /// mixed across subfolders). `skipBad(error)`, when given, is told of each image that does not
    /// decode (the error names the file), which is then left out (the next one of the shuffle takes its place); without it,
    /// such an image is an error when it is read.
    public init(
        path: String, preprocessing: Preprocessing, inputShape: [Int], limit: Int? = nil,
        skipBad: ((CNNQError) -> Void)? = nil
    ) throws(CNNQError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw .unreadableFile(path: path, reason: "no such folder")
        }
        guard isFolder.boolValue else {
            throw .unreadableFile(path: path, reason: "not a folder (give a folder of .jpg, .png or .npy files)")
        }
        guard inputShape.count == 4, inputShape[0] == 1, [1, 3].contains(inputShape[1]) else {
            throw .invalidArgument(
                "the model input has shape \(inputShape); image inputs are [1, 3, H, W] or [1, 1, H, W]")
        }
        let enumerator = FileManager.default.enumerator(atPath: path)
        var found: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            if Self.extensions.contains((relative as NSString).pathExtension.lowercased()) {
                found.append(path + "/" + relative)
            }
        }
        guard !found.isEmpty else {
            throw .invalidArgument("no images in \(path): expected .jpg, .jpeg, .png or .npy files")
        }
        var random = SeededRandom(seed: 0x5EED)
        var files = found.sorted()
        for i in stride(from: files.count - 1, to: 0, by: -1) { files.swapAt(i, Int(random.next() % UInt64(i + 1))) }
        if let skipBad {
            var good: [String] = []
            for file in files where good.count < (limit ?? files.count) {
                do {
                    if !file.lowercased().hasSuffix(".npy") {
                        _ = try RGBImage(path: file, maxPixels: preprocessing.maxImagePixels)
                    }
                    good.append(file)
                } catch {
                    skipBad(error)
                }
            }
            guard !good.isEmpty else { throw .invalidArgument("no image in \(path) decodes") }
            files = good
        }
        self.files = limit.map { Array(files.prefix($0)) } ?? files
        self.preprocessing = preprocessing
        shape = inputShape
    }

    public var count: Int { files.count }
    public var fromImages: Bool { !files.contains { $0.lowercased().hasSuffix(".npy") } }
    public func name(_ i: Int) -> String { files[i] }

    public func sample(_ i: Int) throws(CNNQError) -> Tensor {
        let path = files[i]
        if path.lowercased().hasSuffix(".npy") {
            var tensor = try NumpyArray.load(path: path)
            if tensor.shape == Array(shape.dropFirst()) { tensor.shape = shape }
            guard tensor.shape == shape else {
                throw .invalidArgument(
                    "\(path): array of shape \(tensor.shape); the model input is \(shape) (NCHW, preprocessed)")
            }
            return tensor
        }
        let image = try RGBImage(path: path, maxPixels: preprocessing.maxImagePixels)
        do { return try preprocessing.tensor(image, channels: shape[1], height: shape[2], width: shape[3]) } catch {
            throw .invalidArgument("\(path): \(error)")
        }
    }
}
