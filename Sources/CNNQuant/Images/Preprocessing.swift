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

    /// The image as a [1, C, H, W] tensor (C = 3, or 1 for grey models: the mean of R, G, B).
    public func tensor(_ image: RGBImage, channels: Int, height: Int, width: Int) -> Tensor {
        var fitted: RGBImage
        var validWidth = width
        switch resize {
        case .stretch:
            fitted = image.resized(width: width, height: height)
        case let .shorterSideThenCrop(ratio):
            // torchvision Resize(int): the shorter side becomes `side`, the longer one is truncated.
            let side = Int((Double(min(height, width)) * ratio).rounded())
            let (w, h) =
                image.width <= image.height
                ? (side, Int(Double(side) * Double(image.height) / Double(image.width)))
                : (Int(Double(side) * Double(image.width) / Double(image.height)), side)
            fitted = image.resized(width: max(w, width), height: max(h, height)).cropped(width: width, height: height)
        case .heightThenPadRight:
            validWidth = min(width, Int((Double(height) * Double(image.width) / Double(image.height)).rounded(.up)))
            fitted = image.resized(width: validWidth, height: height)
        }
        var values = [Float](repeating: 0, count: channels * height * width)
        for y in 0..<height {
            for x in 0..<validWidth {
                let p = (y * validWidth + x) * 3
                let rgb = (Float(fitted.pixels[p]), Float(fitted.pixels[p + 1]), Float(fitted.pixels[p + 2]))
                let ordered = order == .rgb ? [rgb.0, rgb.1, rgb.2] : [rgb.2, rgb.1, rgb.0]
                for c in 0..<channels {
                    let pixel = channels == 3 ? ordered[c] : (rgb.0 + rgb.1 + rgb.2) / 3
                    values[(c * height + y) * width + x] = (pixel * scale - mean[c % mean.count]) / std[c % std.count]
                }
            }
        }
        return Tensor(shape: [1, channels, height, width], floats: values)
    }
}
