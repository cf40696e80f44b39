import CNNQKernels

/// ONNX Resize on the two spatial axes of an NCHW tensor: nearest or bilinear, with the coordinate
/// modes torch and Paddle export. The output size is given either as `sizes` or as `scales`
/// (possibly computed by shape arithmetic, so both are resolved during shape inference).
public struct ResizeAttributes: Equatable, Sendable {
    public enum Coordinates: String, Sendable, CaseIterable {
        case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners"
        case asymmetric = "asymmetric", tfHalfPixelForNN = "tf_half_pixel_for_nn"
    }

    public var mode: Resize.Mode
    public var coordinates: Coordinates
    /// Scales of the four axes (N and C must be 1), or the four output sizes; one of them is set
    /// once resolved.
    public var scales: [Float]?
    public var sizes: [Int]?

    public init(mode: Resize.Mode, coordinates: Coordinates, scales: [Float]? = nil, sizes: [Int]? = nil) {
        self.mode = mode
        self.coordinates = coordinates
        self.scales = scales
        self.sizes = sizes
    }

    /// ONNX's nearest_mode names, in `Resize.Rounding`'s raw-value order.
    public static let roundingNames = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]

    /// The rounding ONNX calls `name`.
    public static func rounding(named name: String) -> Resize.Rounding? {
        roundingNames.firstIndex(of: name).flatMap { Resize.Rounding(rawValue: Int32($0)) }
    }

    /// The output shape for input `x` (NCHW): the sizes, or each size times its scale, rounded down.
    func outputShape(_ x: [Int]) -> [Int]? {
        if let sizes { return sizes }
        // Bounded before converting: a NaN or huge scale would trap in Int(_:).
        guard let scales, scales.count == 4, scales.allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 65_535 }) else {
            return nil
        }
        return (0..<4).map { Int((Double(x[$0]) * Double(scales[$0])).rounded(.down)) }
    }

    /// The source coordinate of each output row and column as the exact rational (a·i + b) / d the
    /// kernels take: ONNX's formulas with the scale out/in when sizes are given, else the float
    /// scale's exact value (a float is m·2^e). Nil when a term does not fit 32 bits.
    func axes(input: [Int], output: [Int]) -> (y: Resize.Axis, x: Resize.Axis)? {
        func axis(_ index: Int) -> Resize.Axis? {
            let (n, m) = (Int64(input[index]), Int64(output[index]))
            // scale = p / q
            var (p, q) = (m, n)
            if sizes == nil, let scale = scales?[index] {
                guard scale > 0, scale.isFinite else { return nil }
                let exponent = Int(scale.exponent) - Float.significandBitCount
                let significand = Int64(scale.significandBitPattern | (1 << UInt32(Float.significandBitCount)))
                guard exponent > -40, exponent < 8 else { return nil }
                (p, q) = exponent >= 0 ? (significand << exponent, 1) : (significand, Int64(1) << -exponent)
            }
            let g = Self.gcd(p, q)
            (p, q) = (p / g, q / g)
            let (a, b, d): (Int64, Int64, Int64)
            switch coordinates {
            case .asymmetric: (a, b, d) = (q, 0, p)
            case .halfPixel: (a, b, d) = (2 * q, q - p, 2 * p)
            case .pytorchHalfPixel: (a, b, d) = m > 1 ? (2 * q, q - p, 2 * p) : (0, 0, 1)
            case .tfHalfPixelForNN: (a, b, d) = (2 * q, q, 2 * p)
            case .alignCorners: (a, b, d) = m > 1 ? (n - 1, 0, m - 1) : (0, 0, 1)
            }
            let limit = Int64(Int32.max)
            guard abs(a) <= limit, abs(b) <= limit, d >= 1, d <= limit else { return nil }
            return Resize.Axis(a: a, b: b, d: d, extent: input[index])
        }
        guard let y = axis(2), let x = axis(3) else { return nil }
        return (y, x)
    }

    private static func gcd(_ a: Int64, _ b: Int64) -> Int64 { b == 0 ? max(a, 1) : gcd(b, a % b) }
}
