/// Lane conversions written lane by lane. The stdlib's generic `SIMD16(truncatingIfNeeded:)` stays
/// an out-of-line call in the kernels' hot loops; spelled out, LLVM sees plain sign extensions and
/// emits `vpmovsxbw`/`vpmovsxwd` (x86_64) or `sxtl` (aarch64), and `multiplyAddPairs` becomes
/// `vpmaddwd` (x86_64). Check with `objdump -d` after changing any of these.

@inlinable @inline(__always)
func widen(_ v: SIMD16<Int8>) -> SIMD16<Int16> {
    SIMD16<Int16>(
        Int16(v[0]), Int16(v[1]), Int16(v[2]), Int16(v[3]), Int16(v[4]), Int16(v[5]), Int16(v[6]), Int16(v[7]),
        Int16(v[8]), Int16(v[9]), Int16(v[10]), Int16(v[11]), Int16(v[12]), Int16(v[13]), Int16(v[14]), Int16(v[15]))
}

@inlinable @inline(__always)
func widen(_ v: SIMD8<Int8>) -> SIMD8<Int16> {
    SIMD8<Int16>(Int16(v[0]), Int16(v[1]), Int16(v[2]), Int16(v[3]), Int16(v[4]), Int16(v[5]), Int16(v[6]), Int16(v[7]))
}

@inlinable @inline(__always)
func widen(_ v: SIMD8<Int16>) -> SIMD8<Int32> {
    SIMD8<Int32>(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]), Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]))
}

@inlinable @inline(__always)
func widenLow(_ v: SIMD16<Int16>) -> SIMD8<Int32> {
    SIMD8<Int32>(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]), Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]))
}

@inlinable @inline(__always)
func widenHigh(_ v: SIMD16<Int16>) -> SIMD8<Int32> {
    SIMD8<Int32>(
        Int32(v[8]), Int32(v[9]), Int32(v[10]), Int32(v[11]), Int32(v[12]), Int32(v[13]), Int32(v[14]), Int32(v[15]))
}

@inlinable @inline(__always)
func widen(_ v: SIMD16<Int16>) -> SIMD16<Int32> {
    SIMD16<Int32>(
        Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]), Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]),
        Int32(v[8]), Int32(v[9]), Int32(v[10]), Int32(v[11]), Int32(v[12]), Int32(v[13]), Int32(v[14]), Int32(v[15]))
}

/// Lane i of the result is a[2i]·b[2i] + a[2i+1]·b[2i+1], exact in int32 (`vpmaddwd`).
@inlinable @inline(__always)
func multiplyAddPairs(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>) -> SIMD8<Int32> {
    let p = widen(a) &* widen(b)
    return SIMD8<Int32>(p[0], p[2], p[4], p[6], p[8], p[10], p[12], p[14])
        &+ SIMD8<Int32>(p[1], p[3], p[5], p[7], p[9], p[11], p[13], p[15])
}

/// (a[0], b[0], a[1], b[1], …, a[7], b[7]) (`vpunpcklbw`).
@inlinable @inline(__always)
func interleaveLow(_ a: SIMD16<Int8>, _ b: SIMD16<Int8>) -> SIMD16<Int8> {
    SIMD16<Int8>(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}

/// (a[0], b[0], …, a[7], b[7]) widened to int16 pairs (`vpunpcklbw`, `vpmovsxbw`).
@inlinable @inline(__always)
func pairs(_ a: SIMD8<Int8>, _ b: SIMD8<Int8>) -> SIMD16<Int16> {
    widen(interleaveLow(SIMD16(lowHalf: a, highHalf: .zero), SIMD16(lowHalf: b, highHalf: .zero)))
}

/// Each lane converted to the nearest float (`vcvtdq2ps`, `scvtf`).
@inlinable @inline(__always)
func toFloat(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8<Float>(
        Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]), Float(v[7]))
}

/// Stores 16 int32 lanes, each already within int8 range, as 16 bytes.
@inlinable @inline(__always)
func store16(_ low: SIMD8<Int32>, _ high: SIMD8<Int32>, to pointer: UnsafeMutablePointer<Int8>) {
    UnsafeMutableRawPointer(pointer).storeBytes(
        of: SIMD16(lowHalf: narrow(low), highHalf: narrow(high)), as: SIMD16<Int8>.self)
}

/// Stores 8 int32 lanes, each already within int8 range, as bytes.
@inlinable @inline(__always)
func store8(_ v: SIMD8<Int32>, to pointer: UnsafeMutablePointer<Int8>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: narrow(v), as: SIMD8<Int8>.self)
}

/// The low byte of each lane.
@inlinable @inline(__always)
func narrow(_ v: SIMD8<Int32>) -> SIMD8<Int8> {
    SIMD8<Int8>(
        Int8(truncatingIfNeeded: v[0]), Int8(truncatingIfNeeded: v[1]), Int8(truncatingIfNeeded: v[2]),
        Int8(truncatingIfNeeded: v[3]),
        Int8(truncatingIfNeeded: v[4]), Int8(truncatingIfNeeded: v[5]), Int8(truncatingIfNeeded: v[6]),
        Int8(truncatingIfNeeded: v[7]))
}

/// Each lane of `v` as the first of an int16 pair, its sign bits the second (`vpmovsxbd`): for
/// `multiplyAddPairs` against weights that pair every lane with zero, where interleaving `v` with a
/// partner would cost a load and a `vpunpcklbw` more.
@inlinable @inline(__always)
func pairedWithZeroWeight(_ v: SIMD8<Int8>) -> SIMD16<Int16> {
    unsafeBitCast(widen8(v), to: SIMD16<Int16>.self)
}

@inlinable @inline(__always)
func widen8(_ v: SIMD8<Int8>) -> SIMD8<Int32> {
    SIMD8<Int32>(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]), Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]))
}
