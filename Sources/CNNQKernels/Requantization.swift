#if arch(arm) || arch(arm64)
    import CNNQIntrinsicsNEON
#endif

/// Float requantization, the one output stage of every int8 kernel (docs/quantization.md): an
/// int32 accumulator x becomes z + round(clamp(Float(x) · s, lower − z, upper − z)), with s an fp32
/// scale (per output channel for convolutions), the clamp in float, and rounding to nearest even.
/// Each step is one IEEE single-precision operation with one defined result, so the scalar form
/// below, every vector form and every board give the same bytes. Nothing may fuse the multiply
/// with an add (the disassembly check refuses FMA in the kernels).

/// 1.5 · 2^23: adding it to a float of magnitude below 2^22 leaves round-to-nearest-even(v) in the
/// low mantissa bits, which subtracting the bits of the constant itself reads out.
@usableFromInline let roundingBias: Float = 12_582_912
@usableFromInline let roundingBiasBits: Int32 = 0x4B40_0000

/// round(v) to nearest, ties to even, for |v| < 2^22.
@inlinable @inline(__always)
public func roundToNearestEven(_ v: Float) -> Int32 {
    Int32(bitPattern: (v + roundingBias).bitPattern) &- roundingBiasBits
}

/// min(max(v, lowest), highest), with max as `maxps` computes it: the stdlib's `max` keeps a NaN
/// where `maxps` takes its second operand, so LLVM made it a compare and a blend. (v is never NaN:
/// scales are finite.)
@inlinable @inline(__always)
func clamp(_ v: Float, _ lowest: Float, _ highest: Float) -> Float {
    min(v > lowest ? v : lowest, highest)
}

/// z + round(clamp(v, lower − z, upper − z)): within [lower, upper].
@inlinable @inline(__always)
public func clampAndRound(_ v: Float, zeroPoint: Int32, lower: Int32, upper: Int32) -> Int8 {
    let clamped = clamp(v, Float(lower &- zeroPoint), Float(upper &- zeroPoint))
    return Int8(truncatingIfNeeded: roundToNearestEven(clamped) &+ zeroPoint)
}

/// `clampAndRound` on 8 lanes, bit for bit the same.
@inlinable @inline(__always)
public func clampAndRound(_ v: SIMD8<Float>, zeroPoint: Int32, lower: Int32, upper: Int32) -> SIMD8<Int32> {
    // Lane by lane: `vmaxps`/`vminps` (`fmax`/`fmin` on aarch64); the stdlib's `clamped` is a call.
    let lowest = Float(lower &- zeroPoint), highest = Float(upper &- zeroPoint)
    var clamped = SIMD8<Float>()
    for i in 0..<8 { clamped[i] = clamp(v[i], lowest, highest) }
    let biased = unsafeBitCast(clamped + SIMD8(repeating: roundingBias), to: SIMD8<Int32>.self)
    return biased &- SIMD8(repeating: roundingBiasBits &- zeroPoint)
}

/// z + round(clamp(Float(x) · scale, lower − z, upper − z)).
@inlinable @inline(__always)
public func requantize(_ x: Int32, scale: Float, zeroPoint: Int32, lower: Int32, upper: Int32) -> Int8 {
    clampAndRound(Float(x) * scale, zeroPoint: zeroPoint, lower: lower, upper: upper)
}

/// `requantize` on 8 lanes, bit for bit the same, each lane with its own scale. On Arm through
/// `cnnq_requantize4`: LLVM clamps with compares and selects, and on armv7 runs each lane in VFP.
@inlinable @inline(__always)
public func requantize(_ x: SIMD8<Int32>, scales: SIMD8<Float>, zeroPoint: Int32, lower: Int32, upper: Int32)
    -> SIMD8<Int32>
{
    #if arch(arm) || arch(arm64)
        let lowest = Float(lower &- zeroPoint), highest = Float(upper &- zeroPoint)
        let bits = roundingBiasBits &- zeroPoint
        return SIMD8(
            lowHalf: cnnq_requantize4(x.lowHalf, scales.lowHalf, lowest, highest, bits),
            highHalf: cnnq_requantize4(x.highHalf, scales.highHalf, lowest, highest, bits))
    #else
        return clampAndRound(toFloat(x) * scales, zeroPoint: zeroPoint, lower: lower, upper: upper)
    #endif
}

/// The output stage of convolution and fully connected kernels: per-channel scales, the output
/// zero point, and the clamp (fused ReLU and ReLU6 are its bounds).
public struct OutputStage {
    public var scales: UnsafePointer<Float>
    public var zeroPoint: Int32, lower: Int32, upper: Int32

    public init(scales: UnsafePointer<Float>, zeroPoint: Int32, lower: Int32 = -128, upper: Int32 = 127) {
        (self.scales, self.zeroPoint, self.lower, self.upper) = (scales, zeroPoint, lower, upper)
    }

    @inlinable @inline(__always)
    public func apply(_ accumulator: Int32, channel c: Int) -> Int8 {
        requantize(accumulator, scale: scales[c], zeroPoint: zeroPoint, lower: lower, upper: upper)
    }

    /// `apply` for channels c ..< c + 8.
    @_transparent
    public func apply(_ accumulator: SIMD8<Int32>, channel c: Int) -> SIMD8<Int32> {
        let s = UnsafeRawPointer(scales + c).loadUnaligned(as: SIMD8<Float>.self)
        return requantize(accumulator, scales: s, zeroPoint: zeroPoint, lower: lower, upper: upper)
    }
}

/// `OutputStage.apply` for 8 channels with their scales loaded once: kernels build one per block of
/// channels outside their pixel loops.
public struct StageLanes {
    public let scales: SIMD8<Float>
    public let zeroPoint: Int32, lower: Int32, upper: Int32

    @_transparent
    public init(_ stage: OutputStage, channel c: Int) {
        scales = UnsafeRawPointer(stage.scales + c).loadUnaligned(as: SIMD8<Float>.self)
        (zeroPoint, lower, upper) = (stage.zeroPoint, stage.lower, stage.upper)
    }

    @_transparent
    public func apply(_ accumulator: SIMD8<Int32>) -> SIMD8<Int32> {
        requantize(accumulator, scales: scales, zeroPoint: zeroPoint, lower: lower, upper: upper)
    }
}

/// A per-tensor requantization, for the elementwise and pooling kernels.
public struct Requantization: Equatable, Sendable {
    public var scale: Float
    public var zeroPoint: Int32
    public var lower: Int32, upper: Int32

    public init(scale: Float, zeroPoint: Int32, lower: Int32 = -128, upper: Int32 = 127) {
        (self.scale, self.zeroPoint, self.lower, self.upper) = (scale, zeroPoint, lower, upper)
    }

    @inlinable @inline(__always)
    public func apply(_ x: Int32) -> Int8 {
        requantize(x, scale: scale, zeroPoint: zeroPoint, lower: lower, upper: upper)
    }

    /// `apply` on 8 lanes, bit for bit the same.
    @_transparent
    public func apply(_ x: SIMD8<Int32>) -> SIMD8<Int32> {
        requantize(x, scales: SIMD8(repeating: scale), zeroPoint: zeroPoint, lower: lower, upper: upper)
    }
}
