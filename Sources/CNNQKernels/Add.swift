/// Quantized addition with rescale (residual connections), TFLite's arithmetic: both inputs are
/// shifted up by 2^20 and brought to a common scale 2·max(s₁, s₂), summed, then requantized to the
/// output scale. Shapes are equal (no broadcast): MobileNet residuals add tensors of one shape.
public struct AddParameters: Equatable, Sendable {
    public static let leftShift: Int32 = 20
    public var inputZeroPoints: (Int32, Int32)
    public var inputMultipliers: (QuantizedMultiplier, QuantizedMultiplier)
    public var output: Requantization

    public init(
        inputScales: (Double, Double), inputZeroPoints: (Int32, Int32), outputScale: Double, outputZeroPoint: Int32,
        lower: Int32 = -128, upper: Int32 = 127
    ) {
        let twiceMax = 2 * max(inputScales.0, inputScales.1)
        self.inputZeroPoints = inputZeroPoints
        inputMultipliers = (
            QuantizedMultiplier(inputScales.0 / twiceMax), QuantizedMultiplier(inputScales.1 / twiceMax)
        )
        output = Requantization(
            twiceMax / (Double(1 << Self.leftShift) * outputScale), zeroPoint: outputZeroPoint, lower: lower,
            upper: upper)
    }

    public init(
        inputZeroPoints: (Int32, Int32), inputMultipliers: (QuantizedMultiplier, QuantizedMultiplier),
        output: Requantization
    ) {
        self.inputZeroPoints = inputZeroPoints
        self.inputMultipliers = inputMultipliers
        self.output = output
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.inputZeroPoints == b.inputZeroPoints && a.inputMultipliers == b.inputMultipliers && a.output == b.output
    }
}

public enum Add {
    public static func reference(
        _ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int, parameters p: AddParameters,
        output: UnsafeMutablePointer<Int8>
    ) {
        for i in 0..<count {
            let x = (Int32(a[i]) - p.inputZeroPoints.0) << AddParameters.leftShift
            let y = (Int32(b[i]) - p.inputZeroPoints.1) << AddParameters.leftShift
            // Wrapping, as the vector path: hostile multipliers must not trap.
            output[i] = p.output.apply(
                multiplyByQuantizedMultiplier(x, p.inputMultipliers.0)
                    &+ multiplyByQuantizedMultiplier(y, p.inputMultipliers.1))
        }
    }

    /// 8 lanes at a time; the tail goes through `reference`. Bit for bit the same.
    public static func run(
        _ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int, parameters p: AddParameters,
        output: UnsafeMutablePointer<Int8>
    ) {
        let splat = { (q: QuantizedMultiplier) in
            (SIMD8<Int32>(repeating: q.multiplier), SIMD8<Int32>(repeating: q.shift))
        }
        let (ma, sa) = splat(p.inputMultipliers.0), (mb, sb) = splat(p.inputMultipliers.1)
        let za = SIMD8<Int32>(repeating: p.inputZeroPoints.0), zb = SIMD8<Int32>(repeating: p.inputZeroPoints.1)
        let full = count / 8 * 8
        var i = 0
        while i < full {
            let x =
                (widen8(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Int8>.self)) &- za) &<< AddParameters.leftShift
            let y =
                (widen8(UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Int8>.self)) &- zb) &<< AddParameters.leftShift
            let sum =
                multiplyByQuantizedMultiplier(x, multiplier: ma, shift: sa)
                &+ multiplyByQuantizedMultiplier(y, multiplier: mb, shift: sb)
            store8(p.output.apply(sum), to: output + i)
            i &+= 8
        }
        reference(a + full, b + full, count: count - full, parameters: p, output: output + full)
    }
}
