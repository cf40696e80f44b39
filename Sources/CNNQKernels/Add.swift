/// Quantized addition with rescale (residual connections): out = z + round(clamp((a − z_a)·(s_a/s_out)
/// + (b − z_b)·(s_b/s_out))), each product and the sum one float operation, then the clamp and the
/// rounding of `clampAndRound`. Shapes are equal (no broadcast): MobileNet residuals add tensors of
/// one shape.
public struct AddParameters: Equatable, Sendable {
    public var inputZeroPoints: (Int32, Int32)
    /// s_a / s_out and s_b / s_out.
    public var scales: (Float, Float)
    public var zeroPoint: Int32, lower: Int32, upper: Int32

    #if !hasFeature(Embedded)  // host only: the quantizer computes the scales
        public init(
            inputScales: (Double, Double), inputZeroPoints: (Int32, Int32), outputScale: Double, outputZeroPoint: Int32,
            lower: Int32 = -128, upper: Int32 = 127
        ) {
            self.init(
                inputZeroPoints: inputZeroPoints,
                scales: (Float(inputScales.0 / outputScale), Float(inputScales.1 / outputScale)),
                zeroPoint: outputZeroPoint,
                lower: lower, upper: upper)
        }
    #endif

    public init(
        inputZeroPoints: (Int32, Int32), scales: (Float, Float), zeroPoint: Int32, lower: Int32 = -128,
        upper: Int32 = 127
    ) {
        (self.inputZeroPoints, self.scales) = (inputZeroPoints, scales)
        (self.zeroPoint, self.lower, self.upper) = (zeroPoint, lower, upper)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.inputZeroPoints == b.inputZeroPoints && a.scales == b.scales && a.zeroPoint == b.zeroPoint
            && a.lower == b.lower && a.upper == b.upper
    }
}

public enum Add {
    public static func reference(
        _ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int, parameters p: AddParameters,
        output: UnsafeMutablePointer<Int8>
    ) {
        for i in 0..<count {
            let x = Float(Int32(a[i]) - p.inputZeroPoints.0) * p.scales.0
            let y = Float(Int32(b[i]) - p.inputZeroPoints.1) * p.scales.1
            output[i] = clampAndRound(x + y, zeroPoint: p.zeroPoint, lower: p.lower, upper: p.upper)
        }
    }

    /// A level's module compiling `runLanes` with its instructions, reached through its C entry:
    /// `run(a, b, count, parameters, output)`.
    public struct Kernel {
        public typealias Body = (
            UnsafePointer<Int8>, UnsafePointer<Int8>, Int, UnsafePointer<AddParameters>, UnsafeMutablePointer<Int8>
        ) -> Void
        public let run: Body

        public init(run: @escaping Body) { self.run = run }
    }

    /// 8 lanes at a time, the tail through `reference`, bit for bit the same; spread over threads in
    /// pieces of 16 KiB (a multiple of 8), each by `kernel` or the portable loop.
    public static func run(
        _ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int, parameters p: AddParameters,
        output: UnsafeMutablePointer<Int8>, kernel: Kernel? = nil
    ) {
        parallelChunks(count, grain: 16_384) { range in
            runLanes(
                a + range.lowerBound, b + range.lowerBound, count: range.count, p, output + range.lowerBound,
                kernel: kernel)
        }
    }

    /// `count` lanes on the calling thread, by `kernel` or the portable loop.
    @inline(__always)
    static func runLanes(
        _ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int, _ p: AddParameters,
        _ output: UnsafeMutablePointer<Int8>, kernel: Kernel?
    ) {
        guard let kernel else { return runLanes(a, b, count: count, p, output) }
        withUnsafePointer(to: p) { kernel.run(a, b, count, $0, output) }
    }

    @inlinable @inline(__always)
    public static func runLanes(
        _ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int, _ p: AddParameters,
        _ output: UnsafeMutablePointer<Int8>
    ) {
        let za = SIMD8<Int32>(repeating: p.inputZeroPoints.0), zb = SIMD8<Int32>(repeating: p.inputZeroPoints.1)
        let sa = SIMD8<Float>(repeating: p.scales.0), sb = SIMD8<Float>(repeating: p.scales.1)
        let full = count / 8 * 8
        var i = 0
        while i < full {
            let x = toFloat(widen8(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Int8>.self)) &- za) * sa
            let y = toFloat(widen8(UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Int8>.self)) &- zb) * sb
            store8(clampAndRound(x + y, zeroPoint: p.zeroPoint, lower: p.lower, upper: p.upper), to: output + i)
            i &+= 8
        }
        reference(a + full, b + full, count: count - full, parameters: p, output: output + full)
    }
}
