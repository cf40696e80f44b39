/// Byte copies and fills for the kernels' short runs (GEMM rows, im2col taps, padding, concat):
/// written out because the standard library's `update(from:count:)` and `update(repeating:count:)`
/// compile, in Embedded Swift, to a call per byte.
public enum Bytes {
    /// Copies `n` bytes, each XORed with `mask` (0x80 offsets int8 by 128 for the u8 × s8 GEMM
    /// kernels, in the same pass as the copy): 16 at a time, the last 16 overlapping, and runs of 4
    /// to 15 bytes (im2col taps of 3 to 5 channels) as two overlapping loads and stores, with no call
    /// to `memmove` (for the 3×3 stem's 3 runs of 9 bytes per pixel, the calls cost more than its
    /// multiplies).
    @inlinable @inline(__always)
    public static func copy(
        _ source: UnsafePointer<Int8>, to destination: UnsafeMutablePointer<Int8>, count n: Int,
        flipping mask: UInt8 = 0
    ) {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(destination)
        @inline(__always) func move<T: SIMD>(_: T.Type, at offset: Int) where T.Scalar == UInt8 {
            to.storeBytes(
                of: from.loadUnaligned(fromByteOffset: offset, as: T.self) ^ T(repeating: mask), toByteOffset: offset,
                as: T.self)
        }
        if n >= 16 {
            var i = 0
            while i &+ 16 <= n {
                move(SIMD16<UInt8>.self, at: i)
                i &+= 16
            }
            if i < n { move(SIMD16<UInt8>.self, at: n &- 16) }
        } else if n >= 8 {
            move(SIMD8<UInt8>.self, at: 0)
            move(SIMD8<UInt8>.self, at: n &- 8)
        } else if n >= 4 {
            move(SIMD4<UInt8>.self, at: 0)
            move(SIMD4<UInt8>.self, at: n &- 4)
        } else {
            for i in 0..<n { destination[i] = source[i] ^ Int8(bitPattern: mask) }
        }
    }

    /// `n` copies of `value`, 16 at a time.
    @inlinable @inline(__always)
    public static func fill(_ destination: UnsafeMutablePointer<Int8>, with value: Int8, count n: Int) {
        var i = 0
        while i &+ 16 <= n {
            UnsafeMutableRawPointer(destination + i).storeBytes(of: SIMD16(repeating: value), as: SIMD16<Int8>.self)
            i &+= 16
        }
        while i < n {
            destination[i] = value
            i &+= 1
        }
    }
}
