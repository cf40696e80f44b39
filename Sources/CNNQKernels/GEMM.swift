/// The int8 GEMM of 1×1 and k×k convolutions (and fully connected layers): output pixels × output
/// channels. Each output pixel's inputs are copied by a `RowWriter` into an int8 row of a per-thread
/// workspace: the pixel's channels (`Pointwise`) or its im2col patch (`StandardConvolution`). A
/// `Kernel` of the instruction-set level chosen at load multiplies a tile of rows by every block of
/// 16 output channels; every level's kernel reads the one packed layout below and gives the same
/// bytes (docs/kernels.md).
public enum GEMM {
    public static let channelBlock = 16
    /// Input channels a packed weight group holds per output channel: the 4 bytes one `vpdpbusd`
    /// or `sdot` lane sums.
    public static let depthGroup = 4
    /// The tallest tile of any level's kernel.
    public static let maximumTile = 8
    /// Rows of `Layout.rowStride` bytes in a thread's workspace: the tallest tile, or the portable
    /// kernel's 4 rows and their int16 copies.
    public static let workspaceRows = 12

    /// Where `pack` puts n output channels × k-deep weights and what the kernels need beside them:
    /// the one place these sizes are computed (quantizer, loader, runtime and benchmarks all ask here).
    public struct Layout: Equatable, Sendable {
        public let outputChannels: Int, depth: Int
        /// Output channels rounded up to whole blocks: entries of each per-channel requantization array.
        public let channelSlots: Int
        /// Depth rounded up to whole groups of 4: the bytes of a row the kernels read.
        public let rowLength: Int
        /// Bytes between rows in the workspace: `rowLength` rounded up to 16, so that a kernel may read
        /// a row 16 bytes at a time.
        public let rowStride: Int
        /// Int8 entries of packed weights.
        public let weightCount: Int
        /// Int32 entries of the packed bias: two arrays of `channelSlots`, for kernels that multiply
        /// signed rows and for those that multiply rows offset by 128 (`Kernel.unsignedRows`).
        public var biasCount: Int { 2 * channelSlots }
        /// Bytes of one thread's workspace: `workspaceRows` rows, rounded up to 64 bytes so that two
        /// threads never write one cache line (false sharing made the 3×3 stem no faster on two threads).
        public let workspacePerThread: Int

        /// Nil when a size overflows `Int`.
        public init?(checkedOutputChannels n: Int, depth k: Int) {
            guard n >= 1, k >= 1, let slots = CheckedSize.roundedUp(n, toMultipleOf: channelBlock),
                let row = CheckedSize.roundedUp(k, toMultipleOf: depthGroup),
                let stride = CheckedSize.roundedUp(row, toMultipleOf: 16),
                let weights = CheckedSize.product(slots, row), slots <= Int.max / 2,
                let rows = CheckedSize.product(workspaceRows, stride),
                let workspace = CheckedSize.roundedUp(rows, toMultipleOf: 64)
            else { return nil }
            (outputChannels, depth, channelSlots, rowLength, rowStride, weightCount, workspacePerThread) = (
                n, k, slots, row, stride, weights, workspace
            )
        }

        /// A layout of sizes known to fit (the host's, and the loader's after `init(checkedOutputChannels:depth:)`).
        public init(outputChannels n: Int, depth k: Int) { self = Layout(checkedOutputChannels: n, depth: k)! }

        /// Bytes of workspace for `threads` threads.
        public func workspaceCount(threads: Int) -> Int { threads * workspacePerThread }
    }

    /// Bytes of workspace a GEMM of depth `k` needs with `threads` threads (any channel count).
    public static func workspaceCount(depth k: Int, threads: Int) -> Int {
        Layout(outputChannels: 1, depth: k).workspaceCount(threads: threads)
    }

    /// Packs OHWI 1×1 weights [n][k] as, per block of 16 output channels and per group of 4 input
    /// channels, 16 × (w[c][4g], …, w[c][4g+3]): `[block][group][16][4]`, missing entries zero. The
    /// bias absorbs the input zero point, b'[c] = b[c] − x_zero · Σ_k w[c][k], so kernels multiply raw
    /// inputs; its second array is b'[c] − 128 · Σ_k w[c][k], for kernels whose rows hold x + 128.
    public static func pack(
        weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>, outputChannels n: Int,
        inputChannels k: Int, inputZeroPoint: Int32,
        packedWeights: UnsafeMutablePointer<Int8>, packedBias: UnsafeMutablePointer<Int32>
    ) {
        let layout = Layout(outputChannels: n, depth: k)
        let groups = layout.rowLength / depthGroup
        for block in 0..<(layout.channelSlots / channelBlock) {
            for lane in 0..<channelBlock {
                let c = block * channelBlock + lane
                var sum: Int32 = 0
                for g in 0..<groups {
                    for j in 0..<depthGroup {
                        let i = depthGroup * g + j
                        let w: Int8 = c < n && i < k ? weights[c * k + i] : 0
                        sum += Int32(w)
                        packedWeights[((block * groups + g) * channelBlock + lane) * depthGroup + j] = w
                    }
                }
                packedBias[c] = c < n ? bias[c] - inputZeroPoint * sum : 0
                packedBias[layout.channelSlots + c] = c < n ? packedBias[c] - 128 * sum : 0
            }
        }
    }

    /// One packed group's 64 weights at `w` as four 16-byte vectors, 4 channels × 4 inputs each: the
    /// operands of Arm's kernels (NEON, dotprod), inlined into each with its module's instructions.
    public typealias GroupWeights = (SIMD16<Int8>, SIMD16<Int8>, SIMD16<Int8>, SIMD16<Int8>)

    @inlinable @inline(__always)
    public static func groupWeights(_ w: UnsafeRawPointer) -> GroupWeights {
        (
            w.loadUnaligned(as: SIMD16<Int8>.self), w.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self),
            w.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int8>.self),
            w.loadUnaligned(fromByteOffset: 48, as: SIMD16<Int8>.self)
        )
    }

    /// One tile's operands: `count` rows (`rowStride` bytes apart, `groups` groups of 4 bytes each)
    /// times every output channel, outputs `outputStride` apart.
    public struct Tile {
        public let rows: UnsafePointer<Int8>
        public let count: Int, rowStride: Int, groups: Int
        /// The thread's workspace after the kernel's `pixelTile` rows: (`workspaceRows` − `pixelTile`) ×
        /// `rowStride` bytes the kernel may use.
        public let scratch: UnsafeMutableRawPointer
        public let weights: UnsafePointer<Int8>
        /// The bias array for the kernel's rows (signed or offset by 128).
        public let bias: UnsafePointer<Int32>
        public let outputChannels: Int, outputStride: Int
        public let stage: OutputStage
        public let output: UnsafeMutablePointer<Int8>

        /// Blocks of 16 output channels (the last may be partial).
        @inlinable public var blocks: Int { (outputChannels + channelBlock - 1) / channelBlock }

        /// Block `block`'s packed weights: `groups` groups of 16 channels × 4 bytes.
        @inlinable @inline(__always)
        public func packedWeights(block: Int) -> UnsafeRawPointer {
            UnsafeRawPointer(weights + block * groups * channelBlock * depthGroup)
        }

        /// Row `r`, or the last row for r ≥ count: a kernel computes whole tiles and stores `count` pixels.
        @inlinable @inline(__always)
        public func row(_ r: Int) -> UnsafePointer<Int8> { rows + min(r, count - 1) * rowStride }

        /// Stores pixel `r`'s 8 accumulators of output channels c ..< c + 8 through the output stage.
        @_transparent
        public func store(_ accumulators: SIMD8<Int32>, pixel r: Int, channel c: Int) {
            let out = output + r * outputStride
            if outputChannels - c >= 8 {
                store8(stage.apply(accumulators, channel: c), to: out + c)
            } else {
                for i in 0..<(outputChannels - c) { out[c + i] = stage.apply(accumulators[i], channel: c + i) }
            }
        }

        /// Stores pixel `r`'s 16 accumulators of output channel block `block` through the output stage.
        /// Transparent, so that it is compiled into each level's module with that module's instructions.
        @_transparent
        public func store(_ low: SIMD8<Int32>, _ high: SIMD8<Int32>, pixel r: Int, block: Int) {
            let base = block * channelBlock
            let out = output + r * outputStride
            if outputChannels - base >= channelBlock {
                store16(stage.apply(low, channel: base), stage.apply(high, channel: base + 8), to: out + base)
            } else {
                GEMM.storeRemainder(
                    low, high, channels: outputChannels - base, base: base, stage: stage, output: out)
            }
        }
    }

    /// The multiply of one instruction-set level: its tile height, whether its rows hold x + 128
    /// (u8 × s8 dot products), and the function. The tile goes by address: a kernel reads its fields
    /// one by one, where a copy (16 words, just stored field by field) would wait on those stores,
    /// a quarter of a narrow layer's time.
    public struct Kernel {
        public let name: StaticString
        public let pixelTile: Int
        public let unsignedRows: Bool
        public let multiply: (UnsafePointer<Tile>) -> Void

        public init(
            name: StaticString, pixelTile: Int, unsignedRows: Bool, multiply: @escaping (UnsafePointer<Tile>) -> Void
        ) {
            precondition(pixelTile >= 1 && pixelTile <= maximumTile)
            (self.name, self.pixelTile, self.unsignedRows, self.multiply) = (name, pixelTile, unsignedRows, multiply)
        }

        /// The portable kernel (`Int8GEMM4x8`): x86_64's baseline (SSE2; the AVX2 level compiles the
        /// same body in its module). Arm's runtime runs its own NEON kernel instead (`InstructionSet.gemm`).
        public static var baseline: Kernel {
            Kernel(name: "4x8", pixelTile: 4, unsignedRows: false, multiply: Int8GEMM4x8.multiply)
        }
    }

    /// Writes the `depth` int8 inputs of output pixels `first ..< first + count` into GEMM rows
    /// `rowStride` bytes apart, each byte XORed with `flip` (0x80 for kernels whose rows hold x + 128);
    /// a type, not a closure, so each GEMM specialises and inlines it.
    protocol RowWriter {
        func fill(_ first: Int, count: Int, _ rows: UnsafeMutablePointer<Int8>, rowStride: Int, flip: UInt8)
        /// Pixel `first`'s row where it already is, in the kernel's form and `rowStride` bytes from
        /// the next, for the kernel to read in place; nil to have rows filled.
        func inPlace(_ first: Int) -> UnsafePointer<Int8>?
    }

    /// The GEMM driver: tiles of the kernel's height spread over threads, each pixel's `depth` inputs
    /// written by `rows` into the thread's rows (for unsigned kernels offset by 128 as they are
    /// copied), then multiplied by every output channel block.
    /// `outputStride` is the distance between output pixels (more than `n` for one group of a grouped
    /// convolution, whose outputs interleave with the other groups'). The pixels are `rows`'
    /// `firstPixel ..< firstPixel + pixels`, the first written at `output`. `serial` keeps every
    /// tile on the calling thread, in the first thread's rows (a caller that splits the work itself).
    static func run<Rows: RowWriter>(
        pixels: Int, depth k: Int, packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>,
        outputChannels n: Int, outputStride: Int? = nil, stage: OutputStage, kernel: Kernel,
        workspace: UnsafeMutablePointer<Int8>, output: UnsafeMutablePointer<Int8>, rows source: Rows,
        firstPixel: Int = 0, serial: Bool = false
    ) {
        let layout = Layout(outputChannels: n, depth: k)
        let height = kernel.pixelTile
        let bias = packedBias + (kernel.unsignedRows ? layout.channelSlots : 0)
        let tileCount = (pixels + height - 1) / height
        let flip: UInt8 = kernel.unsignedRows ? 0x80 : 0
        /// Tiles `tiles`, output channel blocks `blocks`, in the rows of thread `slot`; out of line, so
        /// that the paths below share it.
        @inline(never) func multiply(_ slot: Int, _ tiles: Range<Int>, blocks: Range<Int>) {
            let rows = workspace + slot * layout.workspacePerThread
            // The rows' padding to a whole group meets zero weights only; zeroed once, not per tile,
            // so that no row is read back through a load spanning several of its stores (a stall).
            for r in 0..<height {
                for i in k..<layout.rowLength { rows[r * layout.rowStride + i] = 0 }
            }
            let base = blocks.lowerBound * channelBlock
            var blockStage = stage
            blockStage.scales += base
            for tile in tiles {
                let first = tile * height
                let count = min(height, pixels - first)
                let inPlace = source.inPlace(firstPixel + first)
                if inPlace == nil {
                    source.fill(firstPixel + first, count: count, rows, rowStride: layout.rowStride, flip: flip)
                }
                var tile = Tile(
                    rows: inPlace ?? UnsafePointer(rows), count: count, rowStride: layout.rowStride,
                    groups: layout.rowLength / depthGroup,
                    scratch: UnsafeMutableRawPointer(rows + height * layout.rowStride),
                    weights: packedWeights + base * layout.rowLength, bias: bias + base,
                    outputChannels: min(n, blocks.upperBound * channelBlock) - base,
                    outputStride: outputStride ?? n, stage: blockStage,
                    output: output + (first * (outputStride ?? n) + base))
                kernel.multiply(&tile)
            }
        }
        let blocks = layout.channelSlots / channelBlock
        /// Pieces the threads could take beside the busiest one's, when `count` are shared out.
        func idle(_ count: Int) -> Int { threadCount * ((count + threadCount - 1) / threadCount) - count }
        if serial {
            multiply(0, 0..<tileCount, blocks: 0..<blocks)
        } else if idle(tileCount) * blocks > idle(blocks) * tileCount {
            // Few tiles split unevenly (a fully connected layer's one; V2's head, 49 pixels in 7
            // tiles: 4 and 3): threads take channel blocks of every tile, each filling every row
            // (the share left idle, compared, is the smaller).
            parallelRanges(blocks, macs: pixels * k * n) { multiply($0, 0..<tileCount, blocks: $1) }
        } else {
            parallelRanges(tileCount, macs: pixels * k * n) { multiply($0, $1, blocks: 0..<blocks) }
        }
    }

    /// One row (a single pixel) through `kernel`, for host code that multiplies vectors (squeeze-excite).
    static func multiplyRow(
        _ source: UnsafePointer<Int8>, depth k: Int, packedWeights: UnsafePointer<Int8>,
        packedBias: UnsafePointer<Int32>, outputChannels n: Int, stage: OutputStage, kernel: Kernel,
        workspace: UnsafeMutablePointer<Int8>, output: UnsafeMutablePointer<Int8>
    ) {
        run(
            pixels: 1, depth: k, packedWeights: packedWeights, packedBias: packedBias, outputChannels: n,
            stage: stage, kernel: kernel, workspace: workspace, output: output,
            rows: CopiedRows(input: source, depth: k))
    }

    /// A pixel's `depth` contiguous input channels, as they are: copied into the rows, or with
    /// `readInPlace` (depth a multiple of 16, so the row stride; inputs already in the kernel's form)
    /// read where they are.
    struct CopiedRows: RowWriter {
        let input: UnsafePointer<Int8>, depth: Int
        var readInPlace = false
        @inline(__always)
        func fill(_ first: Int, count: Int, _ rows: UnsafeMutablePointer<Int8>, rowStride: Int, flip: UInt8) {
            for r in 0..<count {
                Bytes.copy(input + (first + r) * depth, to: rows + r * rowStride, count: depth, flipping: flip)
            }
        }
        @inline(__always)
        func inPlace(_ first: Int) -> UnsafePointer<Int8>? { readInPlace ? input + first * depth : nil }
    }

    /// The last block of n % 16 channels: a whole group of 8 through the vector stage, the rest lane
    /// by lane. Out of line: the microkernels' size decides whether the optimizer inlines their loads
    /// (docs/kernels.md), and this cold path need not count against it.
    @usableFromInline @inline(never)
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

/// The portable GEMM kernel, 4 pixels × 8 output channels (half a block), signed rows: the tile's
/// rows widened once to int16 in its scratch, then per group of 4 input channels the 8 channels'
/// weights widened and multiplied by each pixel's 4 inputs in pairs summed into int32 (`pmaddwd` on
/// x86_64, 256-bit where the AVX2 module compiles it; `smull` and `uzp` on Arm), so each channel has
/// two partial sums until the end of the row. Exact: no product or pair sum can overflow.
public enum Int8GEMM4x8 {
    @inlinable @inline(__always)
    public static func multiply(_ tile: UnsafePointer<GEMM.Tile>) {
        let t = tile.pointee
        // 4 rows of 2 · rowStride bytes: the 8 rows of scratch a 4-row tile has.
        let wide = t.scratch.assumingMemoryBound(to: Int16.self)
        for r in 0..<t.count { widen(t.rows + r * t.rowStride, length: 4 * t.groups, into: wide + r * t.rowStride) }
        for half in 0..<((t.outputChannels + 7) / 8) { microkernel(t, wide: wide, half: half) }
    }

    /// Int8 to int16, 16 at a time: up to `length` rounded up to 16, within the row's stride.
    @inlinable @inline(__always)
    static func widen(_ source: UnsafePointer<Int8>, length: Int, into row: UnsafeMutablePointer<Int16>) {
        var i = 0
        while i < length {
            UnsafeMutableRawPointer(row + i).storeBytes(
                of: CNNQKernels.widen(UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<Int8>.self)),
                as: SIMD16<Int16>.self)
            i &+= 16
        }
    }

    /// The 4 int16 inputs of group `g` of a widened row, repeated over 16 lanes (`vpbroadcastq`).
    @inlinable @inline(__always)
    static func broadcastGroup(_ row: UnsafePointer<Int16>, _ g: Int) -> SIMD16<Int16> {
        let quad = UnsafeRawPointer(row + 4 * g).loadUnaligned(as: UInt64.self)
        return unsafeBitCast(SIMD4<UInt64>(repeating: quad), to: SIMD16<Int16>.self)
    }

    /// (a[0]+a[1], a[2]+a[3], …, b[6]+b[7]): two channels' partial sums per input vector.
    @inlinable @inline(__always)
    static func pairSums(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> {
        SIMD8(a[0], a[2], a[4], a[6], b[0], b[2], b[4], b[6]) &+ SIMD8(a[1], a[3], a[5], a[7], b[1], b[3], b[5], b[7])
    }

    /// Channels 8·half ..< 8·half + 8 of every pixel of the tile.
    @inlinable @inline(__always)
    static func microkernel(_ t: GEMM.Tile, wide: UnsafeMutablePointer<Int16>, half: Int) {
        let stride = t.rowStride
        let r0 = UnsafePointer(wide), r1 = UnsafePointer(wide + min(1, t.count - 1) * stride)
        let r2 = UnsafePointer(wide + min(2, t.count - 1) * stride)
        let r3 = UnsafePointer(wide + min(3, t.count - 1) * stride)
        var a0 = SIMD8<Int32>(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0
        let block = half / 2
        var w = t.packedWeights(block: block) + 32 * (half & 1)
        for g in 0..<t.groups {
            let w0 = CNNQKernels.widen(w.loadUnaligned(as: SIMD16<Int8>.self))
            let w1 = CNNQKernels.widen(w.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self))
            w += 64
            var x = broadcastGroup(r0, g)
            a0 &+= multiplyAddPairs(w0, x); b0 &+= multiplyAddPairs(w1, x)
            x = broadcastGroup(r1, g)
            a1 &+= multiplyAddPairs(w0, x); b1 &+= multiplyAddPairs(w1, x)
            x = broadcastGroup(r2, g)
            a2 &+= multiplyAddPairs(w0, x); b2 &+= multiplyAddPairs(w1, x)
            x = broadcastGroup(r3, g)
            a3 &+= multiplyAddPairs(w0, x); b3 &+= multiplyAddPairs(w1, x)
        }
        let base = 8 * half
        let bias = UnsafeRawPointer(t.bias + base).loadUnaligned(as: SIMD8<Int32>.self)
        t.store(bias &+ pairSums(a0, b0), pixel: 0, channel: base)
        if t.count > 1 { t.store(bias &+ pairSums(a1, b1), pixel: 1, channel: base) }
        if t.count > 2 { t.store(bias &+ pairSums(a2, b2), pixel: 2, channel: base) }
        if t.count > 3 { t.store(bias &+ pairSums(a3, b3), pixel: 3, channel: base) }
    }
}
