/// Byte copies and fills for the kernels' short runs (GEMM rows, im2col taps, padding, concat):
/// written out because the standard library's `update(from:count:)` and `update(repeating:count:)`
/// compile, in Embedded Swift, to a call per byte.
public enum Bytes {
    /// Copies `n` bytes: 16 at a time, the last 16 overlapping, and runs of 4 to 15 bytes (im2col
    /// taps of 3 to 5 channels) as two overlapping loads and stores, with no call to `memmove`
    /// (for the 3×3 stem's 3 runs of 9 bytes per pixel, the calls cost more than its multiplies).
    @inlinable @inline(__always)
    public static func copy(_ source: UnsafePointer<Int8>, to destination: UnsafeMutablePointer<Int8>, count n: Int) {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(destination)
        @inline(__always) func move<T>(_: T.Type, at offset: Int) {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: T.self), toByteOffset: offset, as: T.self)
        }
        if n >= 16 {
            var i = 0
            while i &+ 16 <= n {
                move(SIMD16<UInt8>.self, at: i)
                i &+= 16
            }
            if i < n { move(SIMD16<UInt8>.self, at: n &- 16) }
        } else if n >= 8 {
            move(UInt64.self, at: 0)
            move(UInt64.self, at: n &- 8)
        } else if n >= 4 {
            move(UInt32.self, at: 0)
            move(UInt32.self, at: n &- 4)
        } else {
            for i in 0..<n { destination[i] = source[i] }
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
