import CNNQKernels
import CNNQuant

/// Property tests draw from the seeded generator, so a failure reproduces.
extension SeededRandom {
    public mutating func int8s(_ count: Int) -> [Int8] {
        (0..<count).map { _ in Int8.random(in: -128...127, using: &self) }
    }

    /// Weights as the converter makes them: symmetric, in [-127, 127].
    public mutating func weights(_ count: Int) -> [Int8] {
        (0..<count).map { _ in Int8.random(in: -127...127, using: &self) }
    }

    /// A zero point, often at the extremes.
    public mutating func zeroPoint() -> Int32 {
        [-128, 127, 0, Int32.random(in: -128...127, using: &self)].randomElement(using: &self)!
    }
}

/// Per-channel requantization data that outlives the OutputStage pointing into it.
public final class StageStorage {
    public let scales: [Float]
    public let zeroPoint: Int32, lower: Int32, upper: Int32

    /// Scales that keep outputs mostly in range for accumulators of about `depth` products.
    public init(channels: Int, depth: Int, random: inout SeededRandom) {
        // One stage in five uses scales up to 4 (most outputs clamp); the rest keep outputs mostly in range.
        let base =
            Int.random(in: 0..<5, using: &random) == 0 ? 1.0 : 1.0 / (Double(depth).squareRoot() * 128 * 127 / 24)
        scales = (0..<channels).map { _ in Float(base * Double.random(in: 0.05...4, using: &random)) }
        zeroPoint = random.zeroPoint()
        // Fused activations: none, ReLU (lower = zero point), or ReLU6-like bounds.
        switch Int.random(in: 0..<3, using: &random) {
        case 0: (lower, upper) = (-128, 127)
        case 1: (lower, upper) = (zeroPoint, 127)
        default:
            (lower, upper) = (max(-128, zeroPoint), min(127, zeroPoint + Int32.random(in: 1...200, using: &random)))
        }
    }

    /// The same stage with channel c's scale moved to `slot(c)` of `count` entries.
    public init(_ other: StageStorage, count: Int, slot: (Int) -> Int) {
        var scales = [Float](repeating: 1, count: count)
        for c in other.scales.indices { scales[slot(c)] = other.scales[c] }
        (self.scales, zeroPoint, lower, upper) = (scales, other.zeroPoint, other.lower, other.upper)
    }

    public func withStage<R>(_ body: (OutputStage) -> R) -> R {
        scales.withUnsafeBufferPointer { s in
            body(OutputStage(scales: s.baseAddress!, zeroPoint: zeroPoint, lower: lower, upper: upper))
        }
    }
}

/// Runs `body` once with one thread and once with two, every layer split however small, returning
/// both results.
public func withOneAndTwoThreads<R>(_ body: () -> R) -> (R, R) {
    let saved = (threadCount, serialMACs)
    setSerialMACs(0)
    setThreadCount(1)
    let one = body()
    setThreadCount(2)
    let two = body()
    setThreadCount(saved.0)
    setSerialMACs(saved.1)
    return (one, two)
}

/// The reference convolution into a new array.
public func referenceConvolution(
    _ input: [Int8], zero: Int32, _ weights: [Int8], _ bias: [Int32], _ shape: ConvolutionShape,
    _ stage: StageStorage
) -> [Int8] {
    var output = [Int8](repeating: 0, count: shape.outputCount)
    stage.withStage { stage in
        convolutionReference(
            input: input, inputZeroPoint: zero, weights: weights, bias: bias, shape: shape, stage: stage,
            output: &output)
    }
    return output
}

/// Channel counts of every MobileNet width: V1/V2/V3 stage widths and their expansions at each α.
public let mobileNetChannelCounts: [Int] = {
    func divisible(_ v: Double) -> Int {
        var r = max(8, Int(v + 4) / 8 * 8)
        if Double(r) < 0.9 * v { r += 8 }
        return r
    }
    var counts = Set<Int>()
    for alpha in [0.25, 0.35, 0.5, 0.75, 1.0, 1.4] {
        for c in [16, 24, 32, 40, 48, 64, 72, 88, 96, 112, 120, 144, 160, 240, 320] {
            counts.insert(divisible(Double(c) * alpha))
            counts.insert(divisible(Double(c) * alpha) * 6)
        }
    }
    return counts.sorted()
}()
