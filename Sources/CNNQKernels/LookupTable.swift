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

    /// Spread over threads in pieces of 16 KiB: one load per byte, so the big activation tensors of
    /// V3's hard-swish (a sixth of its single-thread time) split evenly.
    public static func run(
        table: UnsafePointer<Int8>, input: UnsafePointer<Int8>, count: Int, output: UnsafeMutablePointer<Int8>
    ) {
        parallelChunks(count, grain: 16_384) { range in
            for i in range { output[i] = table[Int(input[i]) &+ 128] }
        }
    }
}
