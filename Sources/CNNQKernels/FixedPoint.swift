/// The gemmlowp/TFLite fixed-point primitives every int8 kernel requantizes with. A real multiplier
/// r > 0 is held as a Q31 mantissa m ∈ [2^30, 2^31) and an exponent e, r ≈ m · 2^(e − 31).

/// A real scale factor in fixed point: `multiplier · 2^(shift − 31)`.
public struct QuantizedMultiplier: Equatable, Sendable {
    public var multiplier: Int32
    public var shift: Int32

    public init(multiplier: Int32, shift: Int32) {
        self.multiplier = multiplier
        self.shift = shift
    }

    /// Nearest fixed-point form of `real` (≥ 0). Values too small for a Q31 mantissa become zero;
    /// values of 2^31 or more are out of range and clamp to the largest representable one.
    public init(_ real: Double) {
        guard real > 0, real.isFinite else {
            self.init(multiplier: 0, shift: 0)
            return
        }
        // real = q · 2^shift with q ∈ [0.5, 1).
        var shift = Int32(real.exponent) + 1
        var q = Int64((real.significand * Double(1 << 30)).rounded())
        if q == 1 << 31 {
            q /= 2
            shift += 1
        }
        if shift < -31 {
            self.init(multiplier: 0, shift: 0)
        } else if shift > 30 {
            self.init(multiplier: Int32.max, shift: 30)
        } else {
            self.init(multiplier: Int32(q), shift: shift)
        }
    }

    /// `real` (in (0, 1)) as a multiplier with shift 0: round(real · 2^31), not normalised, so that
    /// kernels skip the rounding shift. Nil when that keeps fewer than 17 significant bits (a relative
    /// error above 2^-17; the normalised form keeps 31), or when `real` is not below 1.
    public static func unnormalised(_ real: Double) -> QuantizedMultiplier? {
        guard real > 0, real < 1 else { return nil }
        let m = (real * 0x1p31).rounded()
        guard m >= 0x1p16, m < 0x1p31 else { return nil }
        return QuantizedMultiplier(multiplier: Int32(m), shift: 0)
    }

    /// The multipliers of one convolution's output channels: all unnormalised with shift 0 when every
    /// channel allows it (the kernels' cheapest output stage: one high multiply, no rounding shift),
    /// otherwise all normalised.
    public static func convolution(_ reals: [Double]) -> [QuantizedMultiplier] {
        let unnormalised = reals.compactMap(Self.unnormalised)
        return unnormalised.count == reals.count ? unnormalised : reals.map(QuantizedMultiplier.init)
    }

    /// The real value it stands for.
    public var real: Double { Double(multiplier) * Double(sign: .plus, exponent: Int(shift) - 31, significand: 1) }
}

/// (a · b + 2^30) >> 31 with gemmlowp's rounding, saturating the one overflow case (−2^31 · −2^31).
@inlinable @inline(__always)
public func saturatingRoundingDoublingHighMultiply(_ a: Int32, _ b: Int32) -> Int32 {
    if a == Int32.min && b == Int32.min { return Int32.max }
    let product = Int64(a) * Int64(b)
    let nudge: Int64 = product >= 0 ? 1 << 30 : 1 - (1 << 30)
    return Int32(truncatingIfNeeded: (product + nudge) / (1 << 31))
}

/// x / 2^exponent rounded to nearest, ties away from zero (gemmlowp RoundingDivideByPOT).
@inlinable @inline(__always)
public func roundingDivideByPowerOfTwo(_ x: Int32, _ exponent: Int32) -> Int32 {
    let mask = (Int32(1) << exponent) &- 1
    let remainder = x & mask
    let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
    return (x >> exponent) + (remainder > threshold ? 1 : 0)
}

/// x · multiplier · 2^(shift − 31), as TFLite's MultiplyByQuantizedMultiplier. A positive shift
/// first scales x up; that product saturates to the int32 range rather than wrapping (conversion
/// keeps conv and pooling multipliers below 1, where no left shift happens).
@inlinable @inline(__always)
public func multiplyByQuantizedMultiplier(_ x: Int32, _ q: QuantizedMultiplier) -> Int32 {
    let left = q.shift > 0 ? q.shift : 0
    let right = q.shift > 0 ? 0 : -q.shift
    let scaled = Int64(x) << Int64(left)
    let clamped = Int32(clamping: scaled)
    return roundingDivideByPowerOfTwo(saturatingRoundingDoublingHighMultiply(clamped, q.multiplier), right)
}

/// What a stage's shifts ask of the kernels, decided once per call (`OutputStage.range`): each kernel
/// runs a copy specialised for the answer. A multiplier of 1 or more (a positive shift) needs the
/// saturating left shift; a shift of 0 everywhere (multipliers below 1 stored unnormalised, see
/// `QuantizedMultiplier.unnormalised`) needs no rounding shift at all.
public protocol ScaleRange {
    static var scalesUp: Bool { get }
    static var roundingShift: Bool { get }
}
/// Every multiplier is below 1 (shift ≤ 0).
public enum ScalesDown: ScaleRange {
    public static var scalesUp: Bool { false }
    public static var roundingShift: Bool { true }
}
/// Every shift is 0, every multiplier below 1.
public enum Unshifted: ScaleRange {
    public static var scalesUp: Bool { false }
    public static var roundingShift: Bool { false }
}
/// Any multiplier.
public enum AnyScale: ScaleRange {
    public static var scalesUp: Bool { true }
    public static var roundingShift: Bool { true }
}

/// The `ScaleRange` that holds for a stage's channels.
public enum ScaleCase { case any, down, unshifted }

/// The output stage shared by convolution, fully-connected and pooling kernels: requantize an int32
/// accumulator of output channel c, add the output zero point and clamp (fused ReLU/ReLU6 are the
/// clamp bounds). Multipliers and shifts are separate arrays so 8 channels load as one vector.
public struct OutputStage {
    public var multipliers: UnsafePointer<Int32>
    public var shifts: UnsafePointer<Int32>
    public var zeroPoint: Int32
    public var lower: Int32
    public var upper: Int32

    public init(
        multipliers: UnsafePointer<Int32>, shifts: UnsafePointer<Int32>, zeroPoint: Int32,
        lower: Int32 = -128, upper: Int32 = 127
    ) {
        self.multipliers = multipliers
        self.shifts = shifts
        self.zeroPoint = zeroPoint
        self.lower = lower
        self.upper = upper
    }

    @inlinable @inline(__always)
    public func apply(_ accumulator: Int32, channel: Int) -> Int8 {
        let q = QuantizedMultiplier(multiplier: multipliers[channel], shift: shifts[channel])
        return addZeroPoint(multiplyByQuantizedMultiplier(accumulator, q), zeroPoint, lower: lower, upper: upper)
    }

    /// The narrowest `ScaleRange` that holds for channels 0 ..< `channels`.
    public func range(channels: Int) -> ScaleCase {
        var unshifted = true
        for c in 0..<channels {
            if shifts[c] > 0 { return .any }
            if shifts[c] != 0 { unshifted = false }
        }
        return unshifted ? .unshifted : .down
    }

    /// `apply` for channels c ..< c + 8, bit for bit the same; `range` must hold for these channels.
    @_transparent
    public func apply<R: ScaleRange>(_ accumulator: SIMD8<Int32>, channel c: Int, _ range: R.Type = AnyScale.self)
        -> SIMD8<Int32>
    {
        StageLanes(self, channel: c, range).apply(accumulator)
    }
}

/// `OutputStage.apply` for 8 channels with what depends only on the shifts (masks, rounding
/// thresholds) worked out once: kernels build one per block of channels outside their pixel loops.
/// The multipliers are loaded where they are used: LLVM picks `vpmuldq` only when it sees their
/// sign extension in the same basic block, which a value carried into a loop hides.
public struct StageLanes<R: ScaleRange> {
    public let multipliers: UnsafePointer<Int32>
    public let shifts: ShiftLanes<R>
    public let zeroPoint: Int32, lower: Int32, upper: Int32

    @_transparent
    public init(_ stage: OutputStage, channel c: Int, _: R.Type = AnyScale.self) {
        multipliers = stage.multipliers + c
        shifts = ShiftLanes(UnsafeRawPointer(stage.shifts + c).loadUnaligned(as: SIMD8<Int32>.self))
        (zeroPoint, lower, upper) = (stage.zeroPoint, stage.lower, stage.upper)
    }

    @_transparent
    public func apply(_ accumulator: SIMD8<Int32>) -> SIMD8<Int32> {
        let m = UnsafeRawPointer(multipliers).loadUnaligned(as: SIMD8<Int32>.self)
        return addZeroPoint(
            multiplyByQuantizedMultiplier(accumulator, multiplier: m, shifts: shifts), zeroPoint, lower: lower,
            upper: upper)
    }
}

/// A per-tensor requantization: y = clamp(z + x · M, lower, upper), for the elementwise and pooling
/// kernels (convolutions use the per-channel `OutputStage`).
public struct Requantization: Equatable, Sendable {
    public var multiplier: QuantizedMultiplier
    public var zeroPoint: Int32
    public var lower: Int32, upper: Int32

    public init(_ real: Double, zeroPoint: Int32, lower: Int32 = -128, upper: Int32 = 127) {
        self.init(multiplier: QuantizedMultiplier(real), zeroPoint: zeroPoint, lower: lower, upper: upper)
    }

    public init(multiplier: QuantizedMultiplier, zeroPoint: Int32, lower: Int32 = -128, upper: Int32 = 127) {
        self.multiplier = multiplier
        self.zeroPoint = zeroPoint
        self.lower = lower
        self.upper = upper
    }

    @inlinable @inline(__always)
    public func apply(_ x: Int32) -> Int8 {
        addZeroPoint(multiplyByQuantizedMultiplier(x, multiplier), zeroPoint, lower: lower, upper: upper)
    }

    /// `apply` on 8 lanes, bit for bit the same; the lanes hold int8 values.
    @_transparent
    public func apply(_ x: SIMD8<Int32>) -> SIMD8<Int32> {
        let scaled = multiplyByQuantizedMultiplier(
            x, multiplier: SIMD8(repeating: multiplier.multiplier), shift: SIMD8(repeating: multiplier.shift))
        return addZeroPoint(scaled, zeroPoint, lower: lower, upper: upper)
    }
}

/// clamp(y + zero point, lower, upper), exact for any int32 y.
@inlinable @inline(__always)
public func addZeroPoint(_ y: Int32, _ zeroPoint: Int32, lower: Int32, upper: Int32) -> Int8 {
    Int8(truncatingIfNeeded: min(max(Int64(y) + Int64(zeroPoint), Int64(lower)), Int64(upper)))
}

/// The same on 8 lanes: clamps before adding the zero point, so nothing can overflow.
@_transparent
public func addZeroPoint(_ y: SIMD8<Int32>, _ zeroPoint: Int32, lower: Int32, upper: Int32) -> SIMD8<Int32> {
    // Lane by lane, `vpmaxsd` and `vpminsd` (`smax`/`smin` on aarch64); `replacing(with:where:)` is
    // a compare and a blend each, and `clamped` and `pointwiseMin` stay calls into the host's
    // standard library.
    let lowest = lower &- zeroPoint, highest = upper &- zeroPoint
    var result = SIMD8<Int32>()
    for i in 0..<8 { result[i] = min(max(y[i], lowest), highest) }
    return result &+ SIMD8<Int32>(repeating: zeroPoint)
}

/// `multiplyByQuantizedMultiplier` on 8 lanes, bit for bit the same.
@_transparent
public func multiplyByQuantizedMultiplier<R: ScaleRange>(
    _ x: SIMD8<Int32>, multiplier m: SIMD8<Int32>, shift: SIMD8<Int32>,
    _: R.Type = AnyScale.self
) -> SIMD8<Int32> {
    multiplyByQuantizedMultiplier(x, multiplier: m, shifts: ShiftLanes<R>(shift))
}

/// The same with the shifts' masks worked out ahead. Multipliers are never negative (they come from
/// `QuantizedMultiplier`), so the one saturating case of the high multiply cannot occur.
@_transparent
public func multiplyByQuantizedMultiplier<R: ScaleRange>(
    _ x: SIMD8<Int32>, multiplier m: SIMD8<Int32>, shifts: ShiftLanes<R>
) -> SIMD8<Int32> {
    shifts.roundingDivide(highMultiply(shifts.scaleUp(x), m))
}

/// The shifts of 8 lanes of `QuantizedMultiplier`, split into the left shift before the high
/// multiply (multipliers ≥ 1 only) and the rounding right shift after it, with its masks.
public struct ShiftLanes<R: ScaleRange> {
    /// Left shift, right shift, 2^right − 1 and half of that.
    public let left: SIMD8<Int32>, right: SIMD8<Int32>, mask: SIMD8<Int32>, half: SIMD8<Int32>

    @_transparent
    public init(_ shift: SIMD8<Int32>) {
        let zero = SIMD8<Int32>(repeating: 0)
        if R.scalesUp {
            left = shift.replacing(with: zero, where: shift .< zero)
            right = (zero &- shift).replacing(with: zero, where: shift .> zero)
        } else {
            left = zero
            right = zero &- shift
        }
        mask = (SIMD8<Int32>(repeating: 1) &<< right) &- 1
        half = mask &>> 1
    }

    /// x · 2^left, saturating where it overflows.
    @_transparent
    public func scaleUp(_ x: SIMD8<Int32>) -> SIMD8<Int32> {
        guard R.scalesUp else { return x }
        let zero = SIMD8<Int32>(repeating: 0)
        let shifted = x &<< left
        let overflow = (shifted &>> left) .!= x
        let saturated = SIMD8<Int32>(repeating: Int32.max).replacing(with: Int32.min, where: x .< zero)
        return shifted.replacing(with: saturated, where: overflow)
    }

    /// x / 2^right rounded to nearest, ties away from zero: the threshold is one more for negative x.
    @_transparent
    public func roundingDivide(_ x: SIMD8<Int32>) -> SIMD8<Int32> {
        guard R.roundingShift else { return x }
        let threshold = half &- (x &>> 31)
        return (x &>> right) &+ SIMD8<Int32>(repeating: 0).replacing(with: 1, where: (x & mask) .> threshold)
    }
}
