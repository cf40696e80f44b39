/// 1×1 convolution (and fully connected, a 1×1 convolution over one pixel) as a GEMM microkernel:
/// 4 pixels × 16 output channels per step, int8 widened to int16, multiplied in pairs of input
/// channels and summed exactly into int32 (the `vpmaddwd` pattern on x86_64; no saturating
/// `vpmaddubsw`).
public enum Pointwise {
    public static let channelBlock = 16
    public static let pixelBlock = 4

    /// Int8 entries of packed weights for `outputChannels` × `inputChannels`.
    public static func packedWeightCount(outputChannels n: Int, inputChannels k: Int) -> Int {
        (n + channelBlock - 1) / channelBlock * channelBlock * (k + 1) / 2 * 2
    }

    /// Int32 entries of the packed bias.
    public static func packedBiasCount(outputChannels n: Int) -> Int {
        (n + channelBlock - 1) / channelBlock * channelBlock
    }

    /// Packs OHWI 1×1 weights [n][k] as, per block of 16 output channels and per pair of input
    /// channels, 16 × (w[c][2p], w[c][2p+1]); missing channels are zero. The bias absorbs the input
    /// zero point: b'[c] = b[c] − x_zero · Σ_k w[c][k], so the kernel multiplies raw inputs.
    public static func pack(weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>, outputChannels n: Int,
                            inputChannels k: Int, inputZeroPoint: Int32,
                            packedWeights: UnsafeMutablePointer<Int8>, packedBias: UnsafeMutablePointer<Int32>) {
        let pairs = (k + 1) / 2
        let blocks = (n + channelBlock - 1) / channelBlock
        for block in 0..<blocks {
            for lane in 0..<channelBlock {
                let c = block * channelBlock + lane
                var sum: Int32 = 0
                for p in 0..<pairs {
                    for j in 0..<2 {
                        let i = 2 * p + j
                        let w: Int8 = c < n && i < k ? weights[c * k + i] : 0
                        sum += Int32(w)
                        packedWeights[((block * pairs + p) * channelBlock + lane) * 2 + j] = w
                    }
                }
                packedBias[c] = c < n ? bias[c] - inputZeroPoint * sum : 0
            }
        }
    }

    /// Int16 entries of workspace `run` and `StandardConvolution.run` need with `threads` threads:
    /// 4 input rows per thread, widened to int16 and padded to an even length.
    public static func workspaceCount(depth k: Int, threads: Int) -> Int {
        threads * slotCount(depth: k)
    }

    /// One thread's rows, rounded up to 64 bytes so that two threads never write one cache line
    /// (false sharing made the 3×3 stem, depth 27, no faster on two threads than on one).
    @inline(__always)
    static func slotCount(depth k: Int) -> Int {
        (pixelBlock * ((k + 1) / 2 * 2) + 31) / 32 * 32
    }

    /// output[pixel][c] = stage(b'[c] + Σ_k input[pixel][k] · w[c][k]) for NHWC `input` [pixels][k].
    public static func run(input: UnsafePointer<Int8>, pixels: Int, inputChannels k: Int,
                           packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>,
                           outputChannels n: Int, stage: OutputStage, workspace: UnsafeMutablePointer<Int16>,
                           output: UnsafeMutablePointer<Int8>) {
        gemm(pixels: pixels, depth: k, packedWeights: packedWeights, packedBias: packedBias, outputChannels: n, stage: stage,
             workspace: workspace, output: output, rows: PixelRows(input: input, depth: k))
    }

    /// Writes the `depth` int16 inputs of one output pixel into a GEMM row; a type, not a closure,
    /// so each GEMM specialises and inlines it.
    protocol InputRows {
        func fill(_ pixel: Int, _ row: UnsafeMutablePointer<Int16>)
    }

    /// 1×1 convolution: a pixel's channels as they are.
    struct PixelRows: InputRows {
        let input: UnsafePointer<Int8>, depth: Int
        @inline(__always) func fill(_ pixel: Int, _ row: UnsafeMutablePointer<Int16>) { widenRow(input + pixel * depth, count: depth, into: row) }
    }

    /// The GEMM driver of 1×1 and k×k convolution: tiles of 4 output pixels spread over threads, each
    /// pixel's `depth` inputs written as int16 by `rows` into the thread's rows (padded here to an
    /// even length), then multiplied by every output channel block.
    /// `outputStride` is the distance between output pixels (more than `n` for one group of a grouped
    /// convolution, whose outputs interleave with the other groups').
    static func gemm<Rows: InputRows>(pixels: Int, depth k: Int, packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>,
                                      outputChannels n: Int, outputStride: Int? = nil, stage: OutputStage,
                                      workspace: UnsafeMutablePointer<Int16>, output: UnsafeMutablePointer<Int8>, rows source: Rows) {
        let ld = outputStride ?? n
        let stride = (k + 1) / 2 * 2
        let range = stage.range(channels: n)
        parallelRanges((pixels + pixelBlock - 1) / pixelBlock) { slot, tiles in
            let rows = workspace + slot * slotCount(depth: k)
            for tile in tiles {
                let first = tile * pixelBlock
                let count = min(pixelBlock, pixels - first)
                for r in 0..<count {
                    source.fill(first + r, rows + r * stride)
                    if k & 1 == 1 { rows[r * stride + k] = 0 }
                }
                let out = output + first * ld
                switch range {
                case .any: multiply(rows: rows, count: count, k: k, packed: packedWeights, bias: packedBias, n: n, ld: ld, stage: stage, output: out, AnyScale.self)
                case .down: multiply(rows: rows, count: count, k: k, packed: packedWeights, bias: packedBias, n: n, ld: ld, stage: stage, output: out, ScalesDown.self)
                case .unshifted: multiply(rows: rows, count: count, k: k, packed: packedWeights, bias: packedBias, n: n, ld: ld, stage: stage, output: out, Unshifted.self)
                }
            }
        }
    }

    /// `widenRow`, then a zero after an odd count: the GEMM reads input channels in pairs.
    @inline(__always)
    static func widenRowToEvenLength(_ source: UnsafePointer<Int8>, count: Int, into row: UnsafeMutablePointer<Int16>) {
        widenRow(source, count: count, into: row)
        if count & 1 == 1 { row[count] = 0 }
    }

    /// Copies `count` int8 values into int16.
    @inline(__always)
    static func widenRow(_ source: UnsafePointer<Int8>, count: Int, into row: UnsafeMutablePointer<Int16>) {
        var i = 0
        while i &+ 16 <= count {
            UnsafeMutableRawPointer(row + i).storeBytes(of: widen(UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<Int8>.self)), as: SIMD16<Int16>.self)
            i &+= 16
        }
        if i &+ 8 <= count {
            let v = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Int8>.self)
            UnsafeMutableRawPointer(row + i).storeBytes(of: widen(v), as: SIMD8<Int16>.self)
            i &+= 8
        }
        while i < count { row[i] = Int16(source[i]); i &+= 1 }
    }

    /// All output channel blocks for up to 4 widened rows (row stride k rounded up to even), output
    /// pixels `ld` apart.
    static func multiply<R: ScaleRange>(rows: UnsafePointer<Int16>, count: Int, k: Int, packed: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
                                        n: Int, ld: Int, stage: OutputStage, output: UnsafeMutablePointer<Int8>, _ range: R.Type = AnyScale.self) {
        for block in 0..<((n + channelBlock - 1) / channelBlock) {
            microkernel(rows: rows, count: count, k: k, packed: packed, bias: bias, block: block, n: n, ld: ld, stage: stage, output: output, range)
        }
    }

    /// The pair (x[i], x[i+1]) of a widened row, repeated over 8 lanes of int16 pairs (`vpbroadcastd`).
    @inline(__always)
    static func broadcastPair(_ row: UnsafePointer<Int16>, _ i: Int) -> SIMD16<Int16> {
        unsafeBitCast(SIMD8<UInt32>(repeating: UnsafeRawPointer(row + i).loadUnaligned(as: UInt32.self)), to: SIMD16<Int16>.self)
    }

    @inline(__always)
    static func microkernel<R: ScaleRange>(rows: UnsafePointer<Int16>, count: Int, k: Int, packed: UnsafePointer<Int8>,
                                           bias: UnsafePointer<Int32>, block: Int, n: Int, ld: Int, stage: OutputStage,
                                           output: UnsafeMutablePointer<Int8>, _ range: R.Type) {
        let pairs = (k + 1) / 2
        let stride = pairs * 2
        // Rows past the end repeat the last pixel; their results are not stored.
        let r0 = rows, r1 = rows + min(1, count - 1) * stride, r2 = rows + min(2, count - 1) * stride, r3 = rows + min(3, count - 1) * stride
        let b = UnsafeRawPointer(bias + block * channelBlock)
        let b0 = b.loadUnaligned(as: SIMD8<Int32>.self), b1 = b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
        var a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1
        var w = UnsafeRawPointer(packed + block * pairs * channelBlock * 2)
        var i = 0
        while i < stride {
            let w0 = widen(w.loadUnaligned(as: SIMD16<Int8>.self))
            let w1 = widen(w.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self))
            w += 32
            let x0 = broadcastPair(r0, i), x1 = broadcastPair(r1, i), x2 = broadcastPair(r2, i), x3 = broadcastPair(r3, i)
            a00 &+= multiplyAddPairs(w0, x0); a01 &+= multiplyAddPairs(w1, x0)
            a10 &+= multiplyAddPairs(w0, x1); a11 &+= multiplyAddPairs(w1, x1)
            a20 &+= multiplyAddPairs(w0, x2); a21 &+= multiplyAddPairs(w1, x2)
            a30 &+= multiplyAddPairs(w0, x3); a31 &+= multiplyAddPairs(w1, x3)
            i &+= 2
        }
        let channels = min(channelBlock, n - block * channelBlock)
        let base = block * channelBlock
        if channels == channelBlock {
            let low = StageLanes(stage, channel: base, range), high = StageLanes(stage, channel: base + 8, range)
            store16(low.apply(a00), high.apply(a01), to: output + base)
            if count > 1 { store16(low.apply(a10), high.apply(a11), to: output + ld + base) }
            if count > 2 { store16(low.apply(a20), high.apply(a21), to: output + 2 * ld + base) }
            if count > 3 { store16(low.apply(a30), high.apply(a31), to: output + 3 * ld + base) }
            return
        }
        storeRemainder(a00, a01, channels: channels, base: base, stage: stage, output: output, range)
        if count > 1 { storeRemainder(a10, a11, channels: channels, base: base, stage: stage, output: output + ld, range) }
        if count > 2 { storeRemainder(a20, a21, channels: channels, base: base, stage: stage, output: output + 2 * ld, range) }
        if count > 3 { storeRemainder(a30, a31, channels: channels, base: base, stage: stage, output: output + 3 * ld, range) }
    }

    /// The last block of n % 16 channels: a whole group of 8 through the vector stage, the rest lane
    /// by lane. Out of line: the microkernel's size decides whether the optimizer inlines its loads
    /// (docs/kernels.md), and this cold path need not count against it.
    @inline(never)
    static func storeRemainder<R: ScaleRange>(_ low: SIMD8<Int32>, _ high: SIMD8<Int32>, channels: Int, base: Int, stage: OutputStage,
                                              output: UnsafeMutablePointer<Int8>, _ range: R.Type) {
        let out = output + base
        if channels >= 8 { store8(stage.apply(low, channel: base, range), to: out) } else {
            for c in 0..<channels { out[c] = stage.apply(low[c], channel: base + c) }
        }
        for c in 8..<max(8, channels) { out[c] = stage.apply(high[c - 8], channel: base + c) }
    }
}
