import CNNQKernels

/// How an image becomes the model's input tensor, matching how the model was trained.
public struct Preprocessing: Sendable, Equatable {
    public enum Resize: Sendable, Equatable {
        /// Shorter side to `ratio` × the input size, then a centred crop of the input size
        /// (torchvision: 256 → 224 is ratio 1/0.875).
        case shorterSideThenCrop(ratio: Double)
        /// Straight to the input size, aspect ratio not kept.
        case stretch
        /// Height to the input height keeping the aspect ratio, width capped at the input width,
        /// the rest padded with zeros after normalisation (PaddleOCR's text classifier).
        case heightThenPadRight
    }

    public enum ChannelOrder: String, Sendable, Equatable, CaseIterable { case rgb, bgr }

    public var resize: Resize
    public var order: ChannelOrder
    /// value = (pixel · scale − mean[c]) / std[c], pixel in 0...255, c in the model's channel order.
    public var scale: Float
    public var mean: [Float]
    public var std: [Float]
    /// Images declaring more pixels are refused before they are decoded (`--max-image-pixels`).
    public var maxImagePixels = RGBImage.defaultMaxPixels

    public init(resize: Resize, order: ChannelOrder, scale: Float, mean: [Float], std: [Float]) {
        self.resize = resize
        self.order = order
        self.scale = scale
        self.mean = mean
        self.std = std
    }

    public enum Preset: String, CaseIterable, Sendable {
        /// torchvision ImageNet models: resize 256/224 of the size, crop, RGB, ImageNet mean/std.
        case torchvision
        /// Keras/TF-slim (Inception-style) models: resize, crop, RGB, values in [-1, 1].
        case keras
        /// PaddleOCR text classifiers: height to 48 keeping aspect, pad right, BGR, values in [-1, 1].
        case paddleocr
        /// No resizing convention: stretch to the input size, RGB, values in [0, 1].
        case unit
        /// Fashion-MNIST models of calibration/train_fashion_mnist.py: stretched, mean 0.2860, std 0.3530.
        case fashionMNIST = "fashion-mnist"
    }

    public static func preset(_ preset: Preset) -> Preprocessing {
        switch preset {
        case .torchvision:
            Preprocessing(
                resize: .shorterSideThenCrop(ratio: 256.0 / 224.0), order: .rgb, scale: 1 / 255,
                mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        case .keras:
            Preprocessing(
                resize: .shorterSideThenCrop(ratio: 1 / 0.875), order: .rgb, scale: 1 / 255, mean: [0.5, 0.5, 0.5],
                std: [0.5, 0.5, 0.5])
        case .paddleocr:
            Preprocessing(
                resize: .heightThenPadRight, order: .bgr, scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        case .unit:
            Preprocessing(resize: .stretch, order: .rgb, scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1])
        case .fashionMNIST:
            Preprocessing(
                resize: .stretch, order: .rgb, scale: 1 / 255, mean: [0.2860, 0.2860, 0.2860],
                std: [0.3530, 0.3530, 0.3530])
        }
    }

    /// The steps a model file records (`eval` and `run` repeat calibration's).
    public init(_ p: ImagePipeline) {
        let resize: Resize =
            switch p.resize {
            case .stretch: .stretch
            case .shorterSideThenCrop: .shorterSideThenCrop(ratio: Double(p.ratio))
            case .heightThenPadRight: .heightThenPadRight
            }
        self.init(
            resize: resize, order: p.bgr ? .bgr : .rgb, scale: p.scale, mean: [p.mean.0, p.mean.1, p.mean.2],
            std: [p.std.0, p.std.1, p.std.2])
    }

    /// The same steps as the runtime's record: what the model file keeps for `cnnq_prepare_image`.
    public var pipeline: ImagePipeline {
        let (kind, ratio): (ImagePipeline.Resize, Double) =
            switch resize {
            case .stretch: (.stretch, 1)
            case let .shorterSideThenCrop(ratio): (.shorterSideThenCrop, ratio)
            case .heightThenPadRight: (.heightThenPadRight, 1)
            }
        let m = (0..<3).map { mean[$0 % mean.count] }, s = (0..<3).map { std[$0 % std.count] }
        return ImagePipeline(
            resize: kind, ratio: Float(ratio), bgr: order == .bgr, scale: scale, mean: (m[0], m[1], m[2]),
            std: (s[0], s[1], s[2]))
    }

    /// The image as a [1, C, H, W] tensor (C = 3, or 1 for grey models: the mean of R, G, B),
    /// computed by the runtime's `ImagePipeline`, the very code `cnnq_prepare_image` runs on a device.
    public func tensor(_ image: RGBImage, channels: Int, height: Int, width: Int) throws(CNNQError) -> Tensor {
        var values = [Float](repeating: 0, count: channels * height * width)
        let done = image.pixels.withUnsafeBufferPointer { rgb in
            pipeline.forEachValue(
                rgb: rgb.baseAddress!, imageWidth: image.width, imageHeight: image.height, channels: channels,
                height: height, width: width
            ) { c, y, x, value in values[(c * height + y) * width + x] = value }
        }
        guard done else {
            throw .invalidArgument(
                channels == 1 || channels == 3
                    ? "a \(image.width)×\(image.height) image is more than \(ImagePipeline.maxTaps / 2)× the \(width)×\(height) input: resize it first"
                    : "the model's input has \(channels) channels: images make 1 or 3")
        }
        return Tensor(shape: [1, channels, height, width], floats: values)
    }
}
