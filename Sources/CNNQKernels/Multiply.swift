/// Quantized multiplication with rescale: out = z_out + M · (x − z_x)(g − z_g), M = s_x·s_g / s_out.
/// `gate` holds one value per channel and is broadcast over pixels (the SE channel scale); for an
/// elementwise product of equal shapes pass pixels = 1 and channels = count.
public struct MultiplyParameters: Equatable, Sendable {
    public var inputZeroPoint: Int32, gateZeroPoint: Int32
    public var multiplier: QuantizedMultiplier
    public var outputZeroPoint: Int32
    public var lower: Int32, upper: Int32

    public init(inputScale: Double, inputZeroPoint: Int32, gateScale: Double, gateZeroPoint: Int32,
                outputScale: Double, outputZeroPoint: Int32, lower: Int32 = -128, upper: Int32 = 127) {
        self.inputZeroPoint = inputZeroPoint
        self.gateZeroPoint = gateZeroPoint
        multiplier = QuantizedMultiplier(inputScale * gateScale / outputScale)
        self.outputZeroPoint = outputZeroPoint
        self.lower = lower
        self.upper = upper
    }
}

public enum Multiply {
    public static func reference(_ x: UnsafePointer<Int8>, gate: UnsafePointer<Int8>, pixels: Int, channels: Int,
                                 parameters p: MultiplyParameters, output: UnsafeMutablePointer<Int8>) {
        for pixel in 0..<pixels {
            for c in 0..<channels {
                let i = pixel * channels + c
                let product = (Int32(x[i]) - p.inputZeroPoint) * (Int32(gate[c]) - p.gateZeroPoint)
                let result = Int64(multiplyByQuantizedMultiplier(product, p.multiplier)) + Int64(p.outputZeroPoint)
                output[i] = Int8(min(max(result, Int64(p.lower)), Int64(p.upper)))
            }
        }
    }

    /// 8 channels at a time, the channel tail through `reference`. Bit for bit the same.
    public static func run(_ x: UnsafePointer<Int8>, gate: UnsafePointer<Int8>, pixels: Int, channels: Int,
                           parameters p: MultiplyParameters, output: UnsafeMutablePointer<Int8>) {
        let m = SIMD8<Int32>(repeating: p.multiplier.multiplier), shift = SIMD8<Int32>(repeating: p.multiplier.shift)
        let zx = SIMD8<Int32>(repeating: p.inputZeroPoint), zg = SIMD8<Int32>(repeating: p.gateZeroPoint)
        let lowerBound = SIMD8<Int32>(repeating: p.lower &- p.outputZeroPoint), upperBound = SIMD8<Int32>(repeating: p.upper &- p.outputZeroPoint)
        let full = channels / 8 * 8
        for pixel in 0..<pixels {
            let row = pixel &* channels
            var c = 0
            while c < full {
                let g = widen8(UnsafeRawPointer(gate + c).loadUnaligned(as: SIMD8<Int8>.self)) &- zg
                let v = widen8(UnsafeRawPointer(x + (row &+ c)).loadUnaligned(as: SIMD8<Int8>.self)) &- zx
                var result = multiplyByQuantizedMultiplier(v &* g, multiplier: m, shift: shift)
                result = result.replacing(with: lowerBound, where: result .< lowerBound)
                result = result.replacing(with: upperBound, where: result .> upperBound)
                store8(result &+ SIMD8<Int32>(repeating: p.outputZeroPoint), to: output + (row &+ c))
                c &+= 8
            }
            if full < channels {
                reference(x + (row &+ full), gate: gate + full, pixels: 1, channels: channels - full, parameters: p, output: output + (row &+ full))
            }
        }
    }
}
