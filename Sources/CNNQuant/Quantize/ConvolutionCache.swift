/// Packed convolution constants kept across quantizations of one graph (same channel means and
/// options): `auto`'s per-tensor search quantizes the graph hundreds of times, each time with one
/// tensor's range changed, so all but the layers that read that tensor pack the same weights again.
/// What depends on the output's quantization (requantization scales, clamp bounds) is not kept.
public final class ConvolutionCache {
    struct Key: Hashable {
        let node: String, kind: UInt32
        let inputScale: UInt64, inputZeroPoint: Int32
        let measured: Quantizer.MeasuredMeans?
    }
    struct Packed {
        let weights: [UInt8], bias: [UInt8]
        let weightScales: [Double]
    }
    var entries: [Key: Packed] = [:]

    public init() {}
}
