/// How an 8-bit RGB image of any size becomes a model's input: the resize (PIL's antialiased
/// bilinear filter), crop or padding, channel order and normalisation the model was calibrated
/// with. One implementation for the host's calibration, `eval` and `run` and for the device's
/// `cnnq_prepare_image`, in Embedded Swift with no allocation: every value is the same float
/// computation in the same order everywhere, so host and boards quantize a picture to the same bytes.
public struct ImagePipeline: Equatable, Sendable {
    public enum Resize: UInt32, Sendable {
        /// Straight to the input size, aspect ratio not kept.
        case stretch = 0
        /// Shorter side to `ratio` × the input's shorter side, then a centred crop (torchvision's
        /// Resize(256) + CenterCrop(224) is ratio 256/224).
        case shorterSideThenCrop = 1
        /// Height to the input height keeping the aspect ratio, width capped at the input width, the
        /// rest zero after normalisation (PaddleOCR's text classifier).
        case heightThenPadRight = 2
    }

    public var resize: Resize
    public var ratio: Float
    /// Channels in B, G, R order rather than R, G, B.
    public var bgr: Bool
    /// value = (pixel · scale − mean[c]) / std[c], pixel in 0...255, c in the model's channel order;
    /// a 1-channel input takes the mean of R, G and B, and mean.0, std.0.
    public var scale: Float
    public var mean: (Float, Float, Float)
    public var std: (Float, Float, Float)

    public init(
        resize: Resize, ratio: Float = 1, bgr: Bool = false, scale: Float, mean: (Float, Float, Float),
        std: (Float, Float, Float)
    ) {
        (self.resize, self.ratio, self.bgr, self.scale, self.mean, self.std) = (resize, ratio, bgr, scale, mean, std)
    }

    public static func == (a: ImagePipeline, b: ImagePipeline) -> Bool {
        a.resize == b.resize && a.ratio == b.ratio && a.bgr == b.bgr && a.scale == b.scale && a.mean == b.mean
            && a.std == b.std
    }

    /// Words of its record in a model file (format 3.2): resize, ratio, bgr, scale, mean × 3, std × 3.
    public static let wordCount = 10

    /// The record at `words`, or nil when a word is out of range: an unknown resize, a ratio outside
    /// [1, 16], a scale, mean or std that is not finite, a zero std.
    public init?(words: UnsafeRawPointer) {
        func float(_ i: Int) -> Float { Float(bitPattern: words.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
        guard let resize = Resize(rawValue: words.loadUnaligned(as: UInt32.self)),
            words.loadUnaligned(fromByteOffset: 8, as: UInt32.self) <= 1
        else { return nil }
        let ratio = float(1), scale = float(3)
        guard ratio >= 1, ratio <= 16, scale.isFinite else { return nil }
        for i in 4..<10 { guard float(i).isFinite else { return nil } }
        for i in 7..<10 { guard float(i) != 0 else { return nil } }
        self.init(
            resize: resize, ratio: ratio, bgr: words.loadUnaligned(fromByteOffset: 8, as: UInt32.self) == 1,
            scale: scale, mean: (float(4), float(5), float(6)), std: (float(7), float(8), float(9)))
    }

    #if !hasFeature(Embedded)  // host only: the writer builds the record
        public var words: [UInt32] {
            [
                resize.rawValue, ratio.bitPattern, bgr ? 1 : 0, scale.bitPattern, mean.0.bitPattern,
                mean.1.bitPattern, mean.2.bitPattern, std.0.bitPattern, std.1.bitPattern, std.2.bitPattern,
            ]
        }
    #endif

    /// Filter taps one output pixel may take per direction: a shrink of up to about 63×.
    public static let maxTaps = 128

    /// For output index `i` of a `from` → `to` resize: the first source index and the count of taps,
    /// their normalised weights written to `weights` (PIL's bilinear filter, support 1 widened by the
    /// shrink factor, so every source pixel contributes). Nil beyond `maxTaps`.
    static func taps(_ i: Int, from: Int, to: Int, into weights: UnsafeMutablePointer<Float>) -> (
        first: Int, count: Int
    )? {
        let scale = Double(from) / Double(to)
        let support = max(scale, 1)
        let center = (Double(i) + 0.5) * scale
        let lo = max(Int(center - support + 0.5), 0), hi = min(Int(center + support + 0.5), from)
        guard hi - lo <= maxTaps else { return nil }
        @inline(__always) func tap(_ j: Int) -> Double { max(0, 1 - abs((Double(j) - center + 0.5) / support)) }
        var total: Double = 0
        for j in lo..<hi { total += tap(j) }
        for j in lo..<hi { weights[j - lo] = Float(total > 0 ? tap(j) / total : tap(j)) }
        return (lo, hi - lo)
    }

    /// Calls `body(c, y, x, value)` for every value of a `channels` × `height` × `width` input (1 or 3
    /// channels) made from `rgb`, `imageWidth` × `imageHeight` pixels, row-major, 3 bytes each.
    /// False, before any call, when the input is not 1 or 3 channels or the image needs more than
    /// `maxTaps` taps (more than about 63× the size it is resized to).
    public func forEachValue(
        rgb: UnsafePointer<UInt8>, imageWidth: Int, imageHeight: Int, channels: Int, height: Int, width: Int,
        _ body: (_ c: Int, _ y: Int, _ x: Int, _ value: Float) -> Void
    ) -> Bool {
        guard channels == 1 || channels == 3, imageWidth >= 1, imageHeight >= 1, height >= 1, width >= 1 else {
            return false
        }
        // The resized image's size, the window of it the input takes, and the columns it fills.
        var (resizedWidth, resizedHeight, top, left, filled) = (width, height, 0, 0, width)
        switch resize {
        case .stretch: break
        case .shorterSideThenCrop:
            // torchvision Resize(int): the shorter side becomes `side`, the longer one is truncated.
            let side = Int(halfAway(Double(min(height, width)) * Double(ratio)))
            let (w, h) =
                imageWidth <= imageHeight
                ? (side, Int(Double(side) * Double(imageHeight) / Double(imageWidth)))
                : (Int(Double(side) * Double(imageWidth) / Double(imageHeight)), side)
            (resizedWidth, resizedHeight) = (max(w, width), max(h, height))
            // torchvision's CenterCrop rounding.
            top = Int(halfAway(Double(resizedHeight - height) / 2))
            left = Int(halfAway(Double(resizedWidth - width) / 2))
        case .heightThenPadRight:
            let exact = Double(height) * Double(imageWidth) / Double(imageHeight)
            filled = min(width, Int(exact) + (exact > Double(Int(exact)) ? 1 : 0))  // rounded up
            resizedWidth = filled
        }
        var buffers = InlineArray<256, Float>(repeating: 0)
        return withUnsafeMutableBytes(of: &buffers) { raw -> Bool in
            let rowWeights = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            let columnWeights = rowWeights + Self.maxTaps
            // Every tap count is checked before the first value is given.
            for y in 0..<height {
                guard Self.taps(top + y, from: imageHeight, to: resizedHeight, into: rowWeights) != nil else {
                    return false
                }
            }
            for x in 0..<filled {
                guard Self.taps(left + x, from: imageWidth, to: resizedWidth, into: columnWeights) != nil else {
                    return false
                }
            }
            for y in 0..<height {
                let (firstRow, rows) = Self.taps(top + y, from: imageHeight, to: resizedHeight, into: rowWeights)!
                for x in 0..<width {
                    guard x < filled else {
                        for c in 0..<channels { body(c, y, x, 0) }
                        continue
                    }
                    let (firstColumn, columns) = Self.taps(
                        left + x, from: imageWidth, to: resizedWidth, into: columnWeights)!
                    // The resized pixel: a horizontal pass per source row, then the vertical one, each a
                    // float sum in tap order, rounded and clamped to a byte.
                    var pixel: (Float, Float, Float) = (0, 0, 0)
                    for ch in 0..<3 {
                        var sum: Float = 0
                        for k in 0..<rows {
                            let line = rgb + ((firstRow + k) * imageWidth + firstColumn) * 3 + ch
                            var across: Float = 0
                            for j in 0..<columns { across += columnWeights[j] * Float(line[j * 3]) }
                            sum += rowWeights[k] * across
                        }
                        let byte = Float(UInt8(max(0, min(255, halfAway(sum)))))
                        if ch == 0 { pixel.0 = byte } else if ch == 1 { pixel.1 = byte } else { pixel.2 = byte }
                    }
                    if channels == 1 {
                        body(0, y, x, ((pixel.0 + pixel.1 + pixel.2) / 3 * scale - mean.0) / std.0)
                    } else {
                        let ordered = bgr ? (pixel.2, pixel.1, pixel.0) : pixel
                        body(0, y, x, (ordered.0 * scale - mean.0) / std.0)
                        body(1, y, x, (ordered.1 * scale - mean.1) / std.1)
                        body(2, y, x, (ordered.2 * scale - mean.2) / std.2)
                    }
                }
            }
            return true
        }
    }
}

// Rounding half away from zero (`rounded()`) without libm, which armv7 would need for it: the
// fraction of a float is exact, so this is the same value.
@inline(__always) func halfAway(_ x: Double) -> Double {
    guard abs(x) < 0x1p52 else { return x }
    let whole = Double(Int64(x))
    return abs(x - whole) >= 0.5 ? whole + (x < 0 ? -1 : 1) : whole
}

@inline(__always) func halfAway(_ x: Float) -> Float {
    guard abs(x) < 0x1p23 else { return x }
    let whole = Float(Int32(x))
    return abs(x - whole) >= 0.5 ? whole + (x < 0 ? -1 : 1) : whole
}
