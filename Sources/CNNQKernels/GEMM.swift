/// The int8 GEMM of 1×1 and k×k convolutions (and fully connected layers): output pixels × output
/// channels, 4 pixels × 16 channels per microkernel step, int8 widened to int16, multiplied in pairs
/// of input channels and summed exactly into int32 (the `vpmaddwd` pattern on x86_64; no saturating
/// `vpmaddubsw`). Each output pixel's inputs are written into an int16 row by a `RowWriter`: the
/// pixel's channels (`Pointwise`) or its im2col patch (`StandardConvolution`).
public enum GEMM {
    public static let channelBlock = 16
    public static let pixelBlock = 4

    /// Where `pack` puts n output channels × k-deep weights and what the kernel needs beside them:
    /// the one place these sizes are computed (quantizer, loader, runtime and benchmarks all ask here).
    public struct Layout: Equatable, Sendable {
        public let outputChannels: Int, depth: Int
        /// Output channels rounded up to whole blocks: entries of the packed bias and of each
        /// per-channel requantization array.
        public let channelSlots: Int
        /// Depth rounded up to even (the GEMM reads input channels in pairs): int16 entries of a row.
        public let rowLength: Int
        /// Int8 entries of packed weights.
        public let weightCount: Int
        /// Int16 entries of one thread's workspace: 4 rows, rounded up to 64 bytes so that two threads
        /// never write one cache line (false sharing made the 3×3 stem no faster on two threads).
        public let workspacePerThread: Int

        /// Nil when a size overflows `Int`.
        public init?(checkedOutputChannels n: Int, depth k: Int) {
            guard n >= 1, k >= 1, let slots = CheckedSize.roundedUp(n, toMultipleOf: channelBlock),
                let row = CheckedSize.roundedUp(k, toMultipleOf: 2), let weights = CheckedSize.product(slots, row),
                let rows = CheckedSize.product(pixelBlock, row),
                let workspace = CheckedSize.roundedUp(rows, toMultipleOf: 32)
            else { return nil }
            (outputChannels, depth, channelSlots, rowLength, weightCount, workspacePerThread) = (
                n, k, slots, row, weights, workspace
            )
        }

        /// A layout of sizes known to fit (the host's, and the loader's after `init(checkedOutputChannels:depth:)`).
        public init(outputChannels n: Int, depth k: Int) { self = Layout(checkedOutputChannels: n, depth: k)! }

        /// Int16 entries of workspace for `threads` threads.
        public func workspaceCount(threads: Int) -> Int { threads * workspacePerThread }
    }

    /// Int16 entries of workspace a GEMM of depth `k` needs with `threads` threads (any channel count).
    public static func workspaceCount(depth k: Int, threads: Int) -> Int {
        Layout(outputChannels: 1, depth: k).workspaceCount(threads: threads)
    }

    /// Packs OHWI 1×1 weights [n][k] as, per block of 16 output channels and per pair of input
    /// channels, 16 × (w[c][2p], w[c][2p+1]); missing channels are zero. The bias absorbs the input
    /// zero point: b'[c] = b[c] − x_zero · Σ_k w[c][k], so the kernel multiplies raw inputs.
    public static func pack(
        weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>, outputChannels n: Int,
        inputChannels k: Int, inputZeroPoint: Int32,
        packedWeights: UnsafeMutablePointer<Int8>, packedBias: UnsafeMutablePointer<Int32>
    ) {
        let layout = Layout(outputChannels: n, depth: k)
        let pairs = layout.rowLength / 2
        for block in 0..<(layout.channelSlots / channelBlock) {
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

    /// Writes the `depth` int16 inputs of one output pixel into a GEMM row; a type, not a closure,
    /// so each GEMM specialises and inlines it.
    protocol RowWriter {
        func fill(_ pixel: Int, _ row: UnsafeMutablePointer<Int16>)
    }

    /// The GEMM driver: tiles of 4 output pixels spread over threads, each
    /// pixel's `depth` inputs written as int16 by `rows` into the thread's rows (padded here to an
    /// even length), then multiplied by every output channel block.
    /// `outputStride` is the distance between output pixels (more than `n` for one group of a grouped
    /// convolution, whose outputs interleave with the other groups').
    static func run<Rows: RowWriter>(
        pixels: Int, depth k: Int, packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>,
        outputChannels n: Int, outputStride: Int? = nil, stage: OutputStage,
        workspace: UnsafeMutablePointer<Int16>, output: UnsafeMutablePointer<Int8>, rows source: Rows
    ) {
        let ld = outputStride ?? n
        let layout = Layout(outputChannels: n, depth: k)
        let stride = layout.rowLength
        parallelRanges((pixels + pixelBlock - 1) / pixelBlock) { slot, tiles in
            let rows = workspace + slot * layout.workspacePerThread
            for tile in tiles {
                let first = tile * pixelBlock
                let count = min(pixelBlock, pixels - first)
                for r in 0..<count {
                    source.fill(first + r, rows + r * stride)
                    if k & 1 == 1 { rows[r * stride + k] = 0 }
                }
                let out = output + first * ld
                multiply(
                    rows: rows, count: count, rowLength: stride, packed: packedWeights, bias: packedBias, n: n, ld: ld,
                    stage: stage, output: out)
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
            UnsafeMutableRawPointer(row + i).storeBytes(
                of: widen(UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<Int8>.self)), as: SIMD16<Int16>.self)
            i &+= 16
        }
        if i &+ 8 <= count {
            let v = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Int8>.self)
            UnsafeMutableRawPointer(row + i).storeBytes(of: widen(v), as: SIMD8<Int16>.self)
            i &+= 8
        }
        while i < count { row[i] = Int16(source[i]); i &+= 1 }
    }

    /// All output channel blocks for up to 4 widened rows (`Layout.rowLength` apart), output
    /// pixels `ld` apart.
    static func multiply(
        rows: UnsafePointer<Int16>, count: Int, rowLength: Int, packed: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
        n: Int, ld: Int, stage: OutputStage, output: UnsafeMutablePointer<Int8>
    ) {
        for block in 0..<((n + channelBlock - 1) / channelBlock) {
            microkernel(
                rows: rows, count: count, rowLength: rowLength, packed: packed, bias: bias, block: block, n: n, ld: ld,
                stage: stage, output: output)
        }
    }

    /// The pair (x[i], x[i+1]) of a widened row, repeated over 8 lanes of int16 pairs (`vpbroadcastd`).
    @inline(__always)
    static func broadcastPair(_ row: UnsafePointer<Int16>, _ i: Int) -> SIMD16<Int16> {
        unsafeBitCast(
            SIMD8<UInt32>(repeating: UnsafeRawPointer(row + i).loadUnaligned(as: UInt32.self)), to: SIMD16<Int16>.self)
    }

    @inline(__always)
    static func microkernel(
        rows: UnsafePointer<Int16>, count: Int, rowLength stride: Int, packed: UnsafePointer<Int8>,
        bias: UnsafePointer<Int32>, block: Int, n: Int, ld: Int, stage: OutputStage,
        output: UnsafeMutablePointer<Int8>
    ) {
        let pairs = stride / 2
        // Rows past the end repeat the last pixel; their results are not stored.
        let r0 = rows, r1 = rows + min(1, count - 1) * stride, r2 = rows + min(2, count - 1) * stride,
            r3 = rows + min(3, count - 1) * stride
        let b = UnsafeRawPointer(bias + block * channelBlock)
        let b0 = b.loadUnaligned(as: SIMD8<Int32>.self), b1 = b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
        var a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1
        var w = UnsafeRawPointer(packed + block * pairs * channelBlock * 2)
        var i = 0
        while i < stride {
            let w0 = widen(w.loadUnaligned(as: SIMD16<Int8>.self))
            let w1 = widen(w.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self))
            w += 32
            let x0 = broadcastPair(r0, i), x1 = broadcastPair(r1, i), x2 = broadcastPair(r2, i),
                x3 = broadcastPair(r3, i)
            a00 &+= multiplyAddPairs(w0, x0); a01 &+= multiplyAddPairs(w1, x0)
            a10 &+= multiplyAddPairs(w0, x1); a11 &+= multiplyAddPairs(w1, x1)
            a20 &+= multiplyAddPairs(w0, x2); a21 &+= multiplyAddPairs(w1, x2)
            a30 &+= multiplyAddPairs(w0, x3); a31 &+= multiplyAddPairs(w1, x3)
            i &+= 2
        }
        let channels = min(channelBlock, n - block * channelBlock)
        let base = block * channelBlock
        if channels == channelBlock {
            let (low, high) = (base, base + 8)
            store16(stage.apply(a00, channel: low), stage.apply(a01, channel: high), to: output + base)
            if count > 1 {
                store16(stage.apply(a10, channel: low), stage.apply(a11, channel: high), to: output + ld + base)
            }
            if count > 2 {
                store16(stage.apply(a20, channel: low), stage.apply(a21, channel: high), to: output + 2 * ld + base)
            }
            if count > 3 {
                store16(stage.apply(a30, channel: low), stage.apply(a31, channel: high), to: output + 3 * ld + base)
            }
            return
        }
        storeRemainder(a00, a01, channels: channels, base: base, stage: stage, output: output)
        if count > 1 {
            storeRemainder(a10, a11, channels: channels, base: base, stage: stage, output: output + ld)
        }
        if count > 2 {
            storeRemainder(a20, a21, channels: channels, base: base, stage: stage, output: output + 2 * ld)
        }
        if count > 3 {
            storeRemainder(a30, a31, channels: channels, base: base, stage: stage, output: output + 3 * ld)
        }
    }

    /// The last block of n % 16 channels: a whole group of 8 through the vector stage, the rest lane
    /// by lane. Out of line: the microkernel's size decides whether the optimizer inlines its loads
    /// (docs/kernels.md), and this cold path need not count against it.
    @inline(never)
    static func storeRemainder(
        _ low: SIMD8<Int32>, _ high: SIMD8<Int32>, channels: Int, base: Int, stage: OutputStage,
        output: UnsafeMutablePointer<Int8>
    ) {
        let out = output + base
        if channels >= 8 {
            store8(stage.apply(low, channel: base), to: out)
        } else {
            for c in 0..<channels { out[c] = stage.apply(low[c], channel: base + c) }
        }
        for c in 8..<max(8, channels) { out[c] = stage.apply(high[c - 8], channel: base + c) }
    }
}
