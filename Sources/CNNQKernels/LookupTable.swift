#if arch(arm64)
    import CNNQIntrinsicsNEON
#endif

/// Nonlinearities with no cheap integer form (hard-swish, hard-sigmoid, sigmoid, SiLU, tanh) as a
/// 256-entry int8 table built at conversion time: out = table[x + 128]. Exact on the quantized
/// input domain.
public enum LookupTable {
    #if !hasFeature(Embedded)  // host only: tables are built at conversion
        /// Fills `table` (256 entries) with the quantized image of `f` for input (scale, zero point) and
        /// output (scale, zero point): q_out = clamp(round(f(s_in · (q − z_in)) / s_out) + z_out).
        public static func build(
            _ f: (Double) -> Double, inputScale: Double, inputZeroPoint: Int32,
            outputScale: Double, outputZeroPoint: Int32, table: UnsafeMutablePointer<Int8>
        ) {
            for q in -128...127 {
                let y = f(inputScale * Double(Int32(q) - inputZeroPoint)) / outputScale
                let rounded = y.rounded(.toNearestOrAwayFromZero) + Double(outputZeroPoint)
                table[q + 128] = Int8(max(-128, min(127, rounded)))
            }
        }
    #endif

    /// A level's own loop, reached through its module's C entry: `run(table, input, output, count)`.
    public struct Kernel {
        public let name: StaticString
        public let run: (UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafeMutablePointer<Int8>, Int) -> Void

        public init(
            name: StaticString,
            run: @escaping (UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafeMutablePointer<Int8>, Int) -> Void
        ) {
            (self.name, self.run) = (name, run)
        }
    }

    /// Spread over threads in pieces of 16 KiB (V3's hard-swish tensors were a sixth of its
    /// single-thread time), each by `kernel` or the portable loop.
    public static func run(
        table: UnsafePointer<Int8>, input: UnsafePointer<Int8>, count: Int, output: UnsafeMutablePointer<Int8>,
        kernel: Kernel?
    ) {
        parallelChunks(count, grain: 16_384) { range in lookUp(table, input, output, range, kernel: kernel) }
    }

    /// Entries `range` on the calling thread.
    @inline(__always)
    static func lookUp(
        _ table: UnsafePointer<Int8>, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>,
        _ range: Range<Int>, kernel: Kernel?
    ) {
        if let kernel {
            return kernel.run(table, input + range.lowerBound, output + range.lowerBound, range.count)
        }
        portable(table, input, output, range)
    }

    /// On aarch64, 16 bytes at a time with the table in 16 registers (`tbl` and 3 `tbx`); elsewhere
    /// one load per byte.
    @inline(__always)
    public static func portable(
        _ table: UnsafePointer<Int8>, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>,
        _ range: Range<Int>
    ) {
        var i = range.lowerBound
        #if arch(arm64)
            let t = UnsafeRawPointer(table)
            @inline(__always) func entries(_ k: Int) -> SIMD16<Int8> {
                t.loadUnaligned(fromByteOffset: 16 * k, as: SIMD16<Int8>.self)
            }
            let (t0, t1, t2, t3, t4, t5) = (entries(0), entries(1), entries(2), entries(3), entries(4), entries(5))
            let (t6, t7, t8, t9, t10) = (entries(6), entries(7), entries(8), entries(9), entries(10))
            let (t11, t12, t13, t14, t15) = (entries(11), entries(12), entries(13), entries(14), entries(15))
            while i &+ 16 <= range.upperBound {
                let x = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD16<Int8>.self)
                let y = cnnq_lookup16(x, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15)
                UnsafeMutableRawPointer(output + i).storeBytes(of: y, as: SIMD16<Int8>.self)
                i &+= 16
            }
        #endif
        while i < range.upperBound {
            output[i] = table[Int(input[i]) &+ 128]
            i &+= 1
        }
    }
}
