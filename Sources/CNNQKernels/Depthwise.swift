/// Depthwise convolution, NHWC, 16 channels per SIMD step. 3×3 and 5×5 at stride 1 and 2 are
/// specialised (constant kernel and stride, unrolled taps) and take two kernel rows per `vpmaddwd`
/// (`runSliding` for 3×3, `runRolling` for 5×5); every other geometry, dilation included, and layers
/// of fewer than 16 channels run one tap at a time: (x − x_zero) and w widened to int16, multiplied
/// exactly in int16 (|255 · 127| < 2^15) and accumulated in int32. A level may bring its own row body
/// for the specialised geometries (`RowKernel`).
public enum Depthwise {
    public static let channelBlock = 16

    /// A level's own body for 3×3 and 5×5 rows at stride 1 and 2 of at least 16 channels, reached through its
    /// module's C entry (`InstructionSet.depthwise`): `run(rows, row)` writes output row `row` of the
    /// `Rows` that `rows` points at. The closure names its entry and captures nothing (no allocation).
    public struct RowKernel {
        public let name: StaticString
        public let run: (UnsafeRawPointer, Int) -> Void

        public init(name: StaticString, run: @escaping (UnsafeRawPointer, Int) -> Void) {
            (self.name, self.run) = (name, run)
        }
    }

    /// Where `pack` puts the weights, [kh][kw][channels rounded up to 16] zero-padded, and how many
    /// bias and requantization entries the kernel reads: the one place these sizes are computed.
    public struct Layout: Equatable, Sendable {
        public let channels: Int, kernelHeight: Int, kernelWidth: Int
        /// Channels rounded up to whole blocks: the stride of one tap in the packed weights, and the
        /// entries of the bias and of each per-channel requantization array.
        public let channelSlots: Int
        /// Int8 entries of packed weights.
        public let weightCount: Int

        /// Nil when a size overflows `Int`.
        public init?(checkedChannels c: Int, kernelHeight kh: Int, kernelWidth kw: Int) {
            guard c >= 1, kh >= 1, kw >= 1, let slots = CheckedSize.roundedUp(c, toMultipleOf: channelBlock),
                let taps = CheckedSize.product(kh, kw), let weights = CheckedSize.product(taps, slots)
            else { return nil }
            (channels, kernelHeight, kernelWidth, channelSlots, weightCount) = (c, kh, kw, slots, weights)
        }

        public init(channels c: Int, kernelHeight kh: Int, kernelWidth kw: Int) {
            self = Layout(checkedChannels: c, kernelHeight: kh, kernelWidth: kw)!
        }
    }

    /// Packs OHWI depthwise weights [c][kh][kw][1] into [kh][kw][c16] (`Layout`).
    public static func pack(
        weights: UnsafePointer<Int8>, channels: Int, kernelHeight: Int, kernelWidth: Int,
        packed: UnsafeMutablePointer<Int8>
    ) {
        let stride = Layout(channels: channels, kernelHeight: kernelHeight, kernelWidth: kernelWidth).channelSlots
        for tap in 0..<(kernelHeight * kernelWidth) {
            for c in 0..<stride {
                packed[tap * stride + c] = c < channels ? weights[c * kernelHeight * kernelWidth + tap] : 0
            }
        }
    }

    /// Kernel geometry as a type: the specialised variants return constants, so each generic
    /// specialisation of the row body has unrolled taps and constant strides.
    @usableFromInline protocol Geometry {
        var kh: Int { get }
        var kw: Int { get }
        var sh: Int { get }
        var sw: Int { get }
        var dh: Int { get }
        var dw: Int { get }
        /// Whether a row body of paired taps (`runSliding` for 3×3, `runRolling` for 5×5) serves this geometry.
        static var pairs: Bool { get }
    }

    /// k×k at stride s, no dilation: the geometries with a paired-tap row body, their constants
    /// inlinable so that a level's module (CNNQKernelsAVX2) unrolls them too.
    @usableFromInline protocol SquareGeometry: Geometry {
        static var k: Int { get }
        static var s: Int { get }
        init()
    }

    @usableFromInline struct K3S1: SquareGeometry {
        @inlinable static var k: Int { 3 }
        @inlinable static var s: Int { 1 }
        @inlinable init() {}
    }
    @usableFromInline struct K3S2: SquareGeometry {
        @inlinable static var k: Int { 3 }
        @inlinable static var s: Int { 2 }
        @inlinable init() {}
    }
    @usableFromInline struct K5S1: SquareGeometry {
        @inlinable static var k: Int { 5 }
        @inlinable static var s: Int { 1 }
        @inlinable init() {}
    }
    @usableFromInline struct K5S2: SquareGeometry {
        @inlinable static var k: Int { 5 }
        @inlinable static var s: Int { 2 }
        @inlinable init() {}
    }

    /// Any other geometry, read from the shape at run time.
    struct AnyGeometry: Geometry {
        let kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int
        static var pairs: Bool { false }
        init(_ s: ConvolutionShape) {
            (kh, kw, sh, sw, dh, dw) = (
                s.kernelHeight, s.kernelWidth, s.strideHeight, s.strideWidth, s.dilationHeight, s.dilationWidth
            )
        }
    }

    enum Variant {
        case k3s1, k3s2, k5s1, k5s2, generic

        init(_ s: ConvolutionShape) {
            #if CNNQ_PROFILE_SMALL  // one row body for every geometry: smaller, slower (targets/ PROFILE=small)
                self = .generic
                return
            #endif
            let plain = s.dilationHeight == 1 && s.dilationWidth == 1 && s.strideHeight == s.strideWidth
            self =
                switch (s.kernelHeight, s.kernelWidth, s.strideHeight) {
                case (3, 3, 1) where plain: .k3s1
                case (3, 3, 2) where plain: .k3s2
                case (5, 5, 1) where plain: .k5s1
                case (5, 5, 2) where plain: .k5s2
                default: .generic
                }
        }
    }

    /// Where input row iy of image b starts: in a whole NHWC tensor, or (`ring` > 0) in the ring of
    /// expanded rows of the fused inverted-residual block, which holds row iy ≥ `origin` at slot
    /// (iy − origin) % ring. One type rather than a generic source, so the kernel exists once in a
    /// device library.
    public struct InputRows {
        @usableFromInline let base: UnsafePointer<Int8>, rowStride: Int, imageStride: Int, ring: Int, origin: Int
        @inlinable @inline(__always) public func row(_ b: Int, _ iy: Int) -> UnsafePointer<Int8> {
            ring == 0 ? base + (b &* imageStride &+ iy &* rowStride) : base + ((iy &- origin) % ring) &* rowStride
        }
    }

    public static func run(
        input: UnsafePointer<Int8>, inputZeroPoint: Int32, packedWeights: UnsafePointer<Int8>,
        bias: UnsafePointer<Int32>, shape s: ConvolutionShape, stage: OutputStage,
        output: UnsafeMutablePointer<Int8>, kernel: RowKernel?
    ) {
        let rows = Rows(
            source: InputRows(
                base: input, rowStride: s.inputWidth * s.inputChannels,
                imageStride: s.inputHeight * s.inputWidth * s.inputChannels, ring: 0, origin: 0),
            zero: inputZeroPoint, packed: packedWeights, bias: bias, s: s, stage: stage, output: output)
        let variant = Variant(s)
        parallelRanges(s.batch * s.outputHeight, macs: s.macs) { _, range in
            for row in range { rows.run(row, variant, kernel: kernel) }
        }
    }

    /// One layer's rows: where its input rows are, its packed weights, bias and output stage, and
    /// where output row r starts (`output` + r·W'·C). Plain values only: a level's kernel copies it.
    public struct Rows {
        public let source: InputRows, zero: Int32, packed: UnsafePointer<Int8>, bias: UnsafePointer<Int32>
        public let s: ConvolutionShape, stage: OutputStage
        public var output: UnsafeMutablePointer<Int8>
        /// Distance between taps in the packed weights (`Layout.channelSlots`).
        public let wStride: Int

        init(
            source: InputRows, zero: Int32, packed: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
            s: ConvolutionShape, stage: OutputStage, output: UnsafeMutablePointer<Int8>
        ) {
            (self.source, self.zero, self.packed, self.bias, self.s, self.stage, self.output) = (
                source, zero, packed, bias, s, stage, output
            )
            wStride =
                Layout(channels: s.inputChannels, kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth).channelSlots
        }

        /// Output row `row` (image row / outputHeight, line row % outputHeight), by `kernel` where it
        /// serves the geometry.
        @inline(__always)
        func run(_ row: Int, _ variant: Variant, kernel: RowKernel?) {
            withUnsafePointer(to: self) { Rows.run($0, row, variant, kernel: kernel) }
        }

        /// The same through a pointer, for a caller that keeps its rows in one place across calls:
        /// passed by value, they are copied (232 bytes on 64-bit, a `memcpy` call) on every row.
        @inline(__always)
        static func run(_ rows: UnsafePointer<Rows>, _ row: Int, _ variant: Variant, kernel: RowKernel?) {
            #if CNNQ_PROFILE_SMALL
                rows.pointee.run(row, AnyGeometry(rows.pointee.s))
            #else
                if let kernel, variant != .generic, rows.pointee.s.inputChannels >= channelBlock {
                    return kernel.run(rows, row)
                }
                switch variant {
                case .k3s1: rows.pointee.run(row, K3S1())
                case .k3s2: rows.pointee.run(row, K3S2())
                case .k5s1: rows.pointee.run(row, K5S1())
                case .k5s2: rows.pointee.run(row, K5S2())
                case .generic: rows.pointee.run(row, AnyGeometry(rows.pointee.s))
                }
            #endif
        }

        /// One output row: for each block of 16 channels, every output pixel of the row.
        func run<G: Geometry>(_ row: Int, _ g: G) {
            #if arch(arm64) || arch(arm)
                if G.pairs && s.inputChannels >= 8 { return runTaps(row, g) }
            #else
                if G.pairs && s.inputChannels >= channelBlock {
                    if g.kh == 3 { return runSliding(row, g) }
                    return runRolling(row, g)
                }
            #endif
            let (kh, kw, sh, sw, dh, dw) = (g.kh, g.kw, g.sh, g.sw, g.dh, g.dw)
            let c = s.inputChannels
            let full = c / channelBlock * channelBlock
            let zero16 = SIMD16<Int16>(repeating: Int16(zero))
            let b = row / s.outputHeight, oy = row % s.outputHeight
            let iy0 = oy * sh - s.padTop
            let outputRow = output + row * s.outputWidth * c
            // Output columns whose taps all fall inside the input; rows likewise.
            let rowSpan: Int = (kh &- 1) &* dh
            let rowInside = iy0 >= 0 && iy0 &+ rowSpan < s.inputHeight
            let oxFirst = (s.padLeft &+ sw &- 1) / sw
            let span: Int = (kw &- 1) &* dw
            let lastStart: Int = s.inputWidth &+ s.padLeft &- span &- 1  // largest ox·sw with every tap inside
            let oxEnd = max(oxFirst, min(s.outputWidth, lastStart < 0 ? 0 : lastStart / sw &+ 1))
            // Blocks of 16 channels; when C is not a multiple of 16 (but at least 16), one more block
            // ends at the last channel, overlapping the one before: the overlapped channels are
            // computed twice, identically, and the remainder still runs in vector lanes.
            let blocks = full / channelBlock + (c != full && c >= channelBlock ? 1 : 0)
            for index in 0..<blocks {
                let block = min(index &* channelBlock, c &- channelBlock)
                let bp = UnsafeRawPointer(bias + block)
                let bias0 = bp.loadUnaligned(as: SIMD8<Int32>.self),
                    bias1 = bp.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
                let weights = UnsafeRawPointer(packed + block)
                for ox in 0..<s.outputWidth {
                    let ix0 = ox &* sw &- s.padLeft
                    var lo = bias0, hi = bias1
                    /// (x − x_zero) · w for input pixel (iy, ix) and tap t, 16 channels in int16.
                    @inline(__always) func product(_ iy: Int, _ ix: Int, _ t: Int) -> SIMD16<Int16> {
                        let offset: Int = ix &* c &+ block
                        let x = UnsafeRawPointer(source.row(b, iy) + offset)
                        return (widen(x.loadUnaligned(as: SIMD16<Int8>.self)) &- zero16)
                            &* widen(weights.loadUnaligned(fromByteOffset: t &* wStride, as: SIMD16<Int8>.self))
                    }
                    if rowInside && ox >= oxFirst && ox < oxEnd {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let p = product(iy0 &+ ky &* dh, ix0 &+ kx &* dw, ky &* kw &+ kx)
                                lo &+= widenLow(p)
                                hi &+= widenHigh(p)
                            }
                        }
                    } else {
                        for ky in 0..<kh {
                            let iy = iy0 &+ ky &* dh
                            if iy < 0 || iy >= s.inputHeight { continue }
                            for kx in 0..<kw {
                                let ix = ix0 &+ kx &* dw
                                if ix < 0 || ix >= s.inputWidth { continue }
                                let p = product(iy, ix, ky &* kw &+ kx)
                                lo &+= widenLow(p)
                                hi &+= widenHigh(p)
                            }
                        }
                    }
                    let out = outputRow + (ox &* c &+ block)
                    store8(stage.apply(lo, channel: block), to: out)
                    store8(stage.apply(hi, channel: block &+ 8), to: out + 8)
                }
            }
            // 8 channels (narrow MobileNets' first depthwise layer): 8 int32 lanes per pixel.
            if c == 8 {
                let zero8 = SIMD8<Int32>(repeating: zero)
                let bias8 = UnsafeRawPointer(bias).loadUnaligned(as: SIMD8<Int32>.self)
                for ox in 0..<s.outputWidth {
                    let ix0 = ox &* sw &- s.padLeft
                    var acc = bias8
                    for ky in 0..<kh {
                        let iy = iy0 &+ ky &* dh
                        if iy < 0 || iy >= s.inputHeight { continue }
                        for kx in 0..<kw {
                            let ix = ix0 &+ kx &* dw
                            if ix < 0 || ix >= s.inputWidth { continue }
                            let x =
                                widen8(
                                    UnsafeRawPointer(source.row(b, iy) + ix &* 8).loadUnaligned(as: SIMD8<Int8>.self))
                                &- zero8
                            acc &+=
                                x
                                &* widen8(
                                    UnsafeRawPointer(packed + (ky &* kw &+ kx) &* wStride).loadUnaligned(
                                        as: SIMD8<Int8>.self))
                        }
                    }
                    store8(stage.apply(acc, channel: 0), to: outputRow + ox &* 8)
                }
                return
            }
            // Other counts below 16: lane by lane.
            for ch in (c < channelBlock ? 0 : c)..<c {
                for ox in 0..<s.outputWidth {
                    let ix0 = ox * sw - s.padLeft
                    var acc = bias[ch]
                    for ky in 0..<kh {
                        let iy = iy0 + ky * dh
                        if iy < 0 || iy >= s.inputHeight { continue }
                        for kx in 0..<kw {
                            let ix = ix0 + kx * dw
                            if ix < 0 || ix >= s.inputWidth { continue }
                            // Wrapping, as the vector path: a hostile bias must not trap.
                            acc &+=
                                (Int32(source.row(b, iy)[ix * c + ch]) &- zero)
                                &* Int32(packed[(ky * kw + kx) * wStride + ch])
                        }
                    }
                    outputRow[ox * c + ch] = stage.apply(acc, channel: ch)
                }
            }
        }

        #if arch(arm64) || arch(arm)
            /// 3×3 and 5×5 at stride 1 and 2, at least 8 channels, written for NEON: 8 channels of one
            /// output pixel at a time, each tap one `smull` (int8 × int8 into int16, exact), the next
            /// tap of its kernel row `smlal` into the same lanes (|w| ≤ 127: two products fit), then
            /// `saddw`/`saddw2` into two int32 accumulators, with the input zero point folded into the
            /// bias (b − x_zero · Σw), so padding reads as x_zero. A kernel row in the padding reads
            /// `padding` at column stride 0; border columns take the checked path. x86's shape (pairs
            /// of rows for `vpmaddwd`) costs Arm a `uzp` per product and ran at 0.5–1.6 MACs/cycle.
            func runTaps<G: Geometry>(_ row: Int, _ g: G) {
                // Per block, in memory the body reads through pointers (InlineArrays indexed in its loops
                // were copied to the stack at every tap): 25 taps' weights, padding, 5 rows and strides.
                var scratch = InlineArray<36, UInt64>(repeating: 0)
                withUnsafeMutableBytes(of: &scratch) { scratch in
                    let base = scratch.baseAddress!
                    let padding = base + 200
                    padding.storeBytes(of: SIMD8<Int8>(repeating: Int8(truncatingIfNeeded: zero)), as: SIMD8<Int8>.self)
                    runTaps(
                        row, g, weights: base.assumingMemoryBound(to: SIMD8<Int8>.self), padding: padding,
                        rows: (base + 208).assumingMemoryBound(to: UnsafeRawPointer.self),
                        strides: (base + 248).assumingMemoryBound(to: Int.self))
                }
            }

            @inline(never)
            func runTaps<G: Geometry>(
                _ row: Int, _ g: G, weights w: UnsafeMutablePointer<SIMD8<Int8>>, padding: UnsafeRawPointer,
                rows: UnsafeMutablePointer<UnsafeRawPointer>, strides: UnsafeMutablePointer<Int>
            ) {
                let (kh, kw, sw) = (g.kh, g.kw, g.sw)
                let c = s.inputChannels
                let b = row / s.outputHeight, oy = row % s.outputHeight
                let iy0 = oy &* g.sh &- s.padTop
                let outputRow = output + row &* s.outputWidth &* c
                // Output columns whose taps all fall inside the input row.
                let oxFirst = min(s.outputWidth, (s.padLeft &+ sw &- 1) / sw)
                let lastStart = s.inputWidth &+ s.padLeft &- kw  // largest ox·sw with every tap inside
                let oxEnd = max(oxFirst, min(s.outputWidth, lastStart < 0 ? 0 : lastStart / sw &+ 1))
                let zero16 = SIMD8<Int16>(repeating: Int16(truncatingIfNeeded: zero))
                for index in 0..<((c &+ 7) / 8) {
                    // The last block ends at the last channel, overlapping the one before when C is not
                    // a multiple of 8: those channels are computed twice, identically.
                    let channel = min(index &* 8, c &- 8)
                    var bias8 = UnsafeRawPointer(bias + channel).loadUnaligned(as: SIMD8<Int32>.self)
                    for t in 0..<(kh &* kw) {
                        w[t] = UnsafeRawPointer(packed + (t &* wStride &+ channel)).loadUnaligned(as: SIMD8<Int8>.self)
                        bias8 &-= widen(zero16 &* widen(w[t]))
                    }
                    // Kernel row ky reads its input row, or `padding` at column stride 0.
                    for ky in 0..<kh {
                        let iy = iy0 &+ ky
                        let inside = iy >= 0 && iy < s.inputHeight
                        rows[ky] = inside ? UnsafeRawPointer(source.row(b, iy) + channel) : padding
                        strides[ky] = inside ? c : 0
                    }
                    let biasLanes = bias8
                    let lanes = StageLanes(stage, channel: channel)
                    /// Output pixel ox; `checked`: some of its taps fall in the left or right padding.
                    @inline(__always) func pixel(_ ox: Int, checked: Bool) {
                        let ix0 = ox &* sw &- s.padLeft
                        var acc = biasLanes
                        for ky in 0..<kh {
                            let rs = strides[ky], r = rows[ky] + ix0 &* rs
                            for kx in 0..<kw {
                                let x =
                                    checked && UInt(bitPattern: ix0 &+ kx) >= UInt(s.inputWidth)
                                    ? padding.loadUnaligned(as: SIMD8<Int8>.self)
                                    : r.loadUnaligned(fromByteOffset: kx &* rs, as: SIMD8<Int8>.self)
                                acc &+= widen(widen(x) &* widen(w[ky &* kw &+ kx]))
                            }
                        }
                        store8(lanes.apply(acc), to: outputRow + (ox &* c &+ channel))
                    }
                    for ox in 0..<oxFirst { pixel(ox, checked: true) }
                    // Output pixels ox and ox + 1 inside, two independent accumulator chains, so that
                    // an in-order core (A53, A55) has a second product to issue while one waits. In the
                    // loop itself: as a local function of this generic one, it stayed an unspecialised call.
                    var ox = oxFirst
                    while ox &+ 1 < oxEnd {
                        let ix0 = ox &* sw &- s.padLeft
                        var acc0 = biasLanes, acc1 = biasLanes
                        for ky in 0..<kh {
                            // One multiply per row; the taps are constant multiples of the stride from it.
                            let rs = strides[ky], r = rows[ky] + ix0 &* rs
                            /// Tap kx's products for the two pixels (`smull`).
                            @inline(__always) func products(_ kx: Int) -> (SIMD8<Int16>, SIMD8<Int16>) {
                                let x0 = r.loadUnaligned(fromByteOffset: kx &* rs, as: SIMD8<Int8>.self)
                                let x1 = r.loadUnaligned(fromByteOffset: (sw &+ kx) &* rs, as: SIMD8<Int8>.self)
                                let wt = widen(w[ky &* kw &+ kx])
                                return (widen(x0) &* wt, widen(x1) &* wt)
                            }
                            // Taps two at a time: their products summed in int16 (`smlal`, exact: |w| ≤
                            // 127, checked at load) before one widening add, 2 instructions per 8 MACs
                            // where one tap at a time took 3.
                            var kx = 0
                            while kx &+ 1 < kw {
                                let (a, b) = (products(kx), products(kx &+ 1))
                                acc0 &+= widen(a.0 &+ b.0)
                                acc1 &+= widen(a.1 &+ b.1)
                                kx &+= 2
                            }
                            if kx < kw {
                                let a = products(kx)
                                acc0 &+= widen(a.0)
                                acc1 &+= widen(a.1)
                            }
                        }
                        let out = outputRow + (ox &* c &+ channel)
                        store8(lanes.apply(acc0), to: out)
                        store8(lanes.apply(acc1), to: out + c)
                        ox &+= 2
                    }
                    if ox < oxEnd { pixel(ox, checked: false) }
                    for ox in oxEnd..<s.outputWidth { pixel(ox, checked: true) }
                }
            }
        #else
            /// 3×3 and 5×5 at stride 1 and 2, at least 16 channels (a `RowKernel`'s geometries) by the
            /// bodies below, for a level's module to compile with its instructions (CNNQKernelsAVX2).
            @inlinable @inline(__always)
            public func runPaired(_ row: Int) {
                switch (s.kernelHeight, s.strideHeight) {
                case (3, 1): runSliding(row, K3S1())
                case (3, 2): runSliding(row, K3S2())
                case (5, 1): runRolling(row, K5S1())
                default: runRolling(row, K5S2())
                }
            }

            /// 3×3 at stride 1 and 2, at least 16 channels: half a block (8 channels) at a time, and a
            /// window of three input columns sliding along the row, each column loaded and interleaved
            /// once. Kernel rows are paired, 0 with 1 (interleaved) and 2 with its own sign bits
            /// (`vpmovsxbd`) against a zero weight, so that every product is a `vpmaddwd`; the zero
            /// point is folded into the bias. A kernel row in the padding reads x_zero from `padding`
            /// at column stride 0; a padding column is x_zero.
            @inlinable
            func runSliding<G: Geometry>(_ row: Int, _ g: G) {
                withPaddingAndWeights { runSliding(row, g, padding: $0, weights: $1) }
            }

            /// Kernel row ky of output row `row`'s window (of image row / outputHeight) at vertical stride
            /// `sh`, or nil in the padding.
            @inlinable @inline(__always)
            func windowRow(_ row: Int, _ ky: Int, _ sh: Int) -> UnsafePointer<Int8>? {
                let b = row / s.outputHeight, iy = row % s.outputHeight &* sh &- s.padTop &+ ky
                return iy >= 0 && iy < s.inputHeight ? source.row(b, iy) : nil
            }

            /// x_zero as 8 bytes and room for 15 weight vectors, on the stack, for the paired-tap bodies,
            /// which take them by address.
            @inlinable @inline(__always)
            func withPaddingAndWeights(_ body: (UnsafeRawPointer, UnsafeMutablePointer<SIMD16<Int16>>) -> Void) {
                var padding = SIMD8<Int8>(repeating: Int8(truncatingIfNeeded: zero))
                var weights = InlineArray<15, SIMD16<Int16>>(repeating: .zero)
                withUnsafeBytes(of: &padding) { padding in
                    withUnsafeMutableBytes(of: &weights) { weights in
                        body(padding.baseAddress!, weights.baseAddress!.assumingMemoryBound(to: SIMD16<Int16>.self))
                    }
                }
            }

            /// The weights go through `weights` in memory, and this body stays a call of its own so that
            /// the buffer stays opaque: as values, LLVM sees row 2's zero partner and turns its products
            /// into `vpmulld` and shuffles (1.4× slower).
            @inlinable @inline(never)
            func runSliding<G: Geometry>(
                _ row: Int, _ g: G, padding: UnsafeRawPointer,
                weights w: UnsafeMutablePointer<SIMD16<Int16>>
            ) {
                let sw = g.sw
                let c = s.inputChannels
                let outputRow = output + row &* s.outputWidth &* c
                let zero8 = SIMD8<Int8>(repeating: Int8(truncatingIfNeeded: zero))
                let padPair = pairs(zero8, zero8)
                @inline(__always) func inputRow(_ ky: Int) -> UnsafePointer<Int8>? { windowRow(row, ky, g.sh) }
                let rows = (inputRow(0), inputRow(1), inputRow(2))
                for index in 0..<(wStride / channelBlock) {
                    // The last block ends at the last channel, overlapping the one before when C is not a
                    // multiple of 16: those channels are computed twice, identically.
                    let block = min(index &* channelBlock, c &- channelBlock)
                    for half in 0..<2 {
                        let channel = block &+ 8 &* half
                        @inline(__always) func tap(_ ky: Int, _ kx: Int) -> SIMD8<Int8> {
                            UnsafeRawPointer(packed + ((ky &* 3 &+ kx) &* wStride &+ channel)).loadUnaligned(
                                as: SIMD8<Int8>.self)
                        }
                        for kx in 0..<3 {
                            w[kx] = pairs(tap(0, kx), tap(1, kx))
                            w[3 &+ kx] = pairs(tap(2, kx), .zero)
                        }
                        // b − x_zero · Σw, the products summed by the same `vpmaddwd` as the taps.
                        var biasLanes = UnsafeRawPointer(bias + channel).loadUnaligned(as: SIMD8<Int32>.self)
                        for k in 0..<6 { biasLanes &-= multiplyAddPairs(padPair, w[k]) }
                        let lanes = StageLanes(stage, channel: channel)
                        /// Where kernel row ky reads this half's channels, and its column stride.
                        @inline(__always) func start(_ p: UnsafePointer<Int8>?) -> (UnsafeRawPointer, Int) {
                            if let p { (UnsafeRawPointer(p + channel), c) } else { (padding, 0) }
                        }
                        let (r0, s0) = start(rows.0), (r1, s1) = start(rows.1), (r2, s2) = start(rows.2)
                        /// Input column ix: rows 0 and 1 as int16 pairs, and row 2 paired with its sign.
                        @inline(__always) func column(_ ix: Int) -> (SIMD16<Int16>, SIMD16<Int16>) {
                            guard UInt(bitPattern: ix) < UInt(s.inputWidth) else { return (padPair, padPair) }
                            let x0 = r0.loadUnaligned(fromByteOffset: ix &* s0, as: SIMD8<Int8>.self)
                            let x1 = r1.loadUnaligned(fromByteOffset: ix &* s1, as: SIMD8<Int8>.self)
                            let x2 = r2.loadUnaligned(fromByteOffset: ix &* s2, as: SIMD8<Int8>.self)
                            return (pairs(x0, x1), pairedWithZeroWeight(x2))
                        }
                        var ix = -s.padLeft
                        var (p0, q0) = column(ix), (p1, q1) = column(ix &+ 1)
                        var out = outputRow + channel
                        for _ in 0..<s.outputWidth {
                            let (p2, q2) = column(ix &+ 2)
                            var acc = biasLanes &+ multiplyAddPairs(p0, w[0]) &+ multiplyAddPairs(q0, w[3])
                            acc &+= multiplyAddPairs(p1, w[1]) &+ multiplyAddPairs(q1, w[4])
                            acc &+= multiplyAddPairs(p2, w[2]) &+ multiplyAddPairs(q2, w[5])
                            store8(lanes.apply(acc), to: out)
                            out += c
                            if sw == 1 {
                                (p0, q0, p1, q1) = (p1, q1, p2, q2)
                            } else {
                                (p0, q0) = (p2, q2)
                                (p1, q1) = column(ix &+ 3)
                            }
                            ix &+= sw
                        }
                    }
                }
            }

            /// 5×5 at stride 1 and 2, at least 16 channels: half a block (8 channels) at a time, kernel
            /// rows paired for `vpmaddwd` as in `runSliding`: 0 with 1, 2 with 3, and 4 with its sign
            /// bits against a zero weight (paired with x_zero, a constant, it was built lane by lane). Each
            /// input column is loaded and interleaved once and adds its products to every output it is
            /// a tap of, whose sums roll along the row: four carried at stride 1, two at stride 2. No
            /// column is kept: a stack buffer of columns, the earlier form, ran 5×5 layers at 15–23
            /// GMAC/s on AVX2 (and a third slower when the input met it modulo 4 KiB), this at 22–32.
            @inlinable
            func runRolling<G: Geometry>(_ row: Int, _ g: G) {
                withPaddingAndWeights { runRolling(row, g, padding: $0, weights: $1) }
            }

            /// As `runSliding`'s body, a call of its own with the weights in memory.
            @inlinable @inline(never)
            func runRolling<G: Geometry>(
                _ row: Int, _ g: G, padding: UnsafeRawPointer, weights w: UnsafeMutablePointer<SIMD16<Int16>>
            ) {
                let sw = g.sw
                let c = s.inputChannels
                let outputRow = output + row &* s.outputWidth &* c
                let zero8 = SIMD8<Int8>(repeating: Int8(truncatingIfNeeded: zero))
                let padPair = pairs(zero8, zero8)
                @inline(__always) func inputRow(_ ky: Int) -> UnsafePointer<Int8>? { windowRow(row, ky, g.sh) }
                let rows = (inputRow(0), inputRow(1), inputRow(2), inputRow(3), inputRow(4))
                for index in 0..<(wStride / channelBlock) {
                    // The last block ends at the last channel, overlapping the one before when C is not a
                    // multiple of 16: those channels are computed twice, identically.
                    let block = min(index &* channelBlock, c &- channelBlock)
                    for half in 0..<2 {
                        let channel = block &+ 8 &* half
                        @inline(__always) func tap(_ ky: Int, _ kx: Int) -> SIMD8<Int8> {
                            UnsafeRawPointer(packed + ((ky &* 5 &+ kx) &* wStride &+ channel)).loadUnaligned(
                                as: SIMD8<Int8>.self)
                        }
                        for kx in 0..<5 {
                            w[3 &* kx] = pairs(tap(0, kx), tap(1, kx))
                            w[3 &* kx &+ 1] = pairs(tap(2, kx), tap(3, kx))
                            w[3 &* kx &+ 2] = pairs(tap(4, kx), .zero)
                        }
                        // b − x_zero · Σw, the products summed by the same `vpmaddwd` as the taps.
                        var biasLanes = UnsafeRawPointer(bias + channel).loadUnaligned(as: SIMD8<Int32>.self)
                        for k in 0..<15 { biasLanes &-= multiplyAddPairs(padPair, w[k]) }
                        let lanes = StageLanes(stage, channel: channel)
                        /// Where kernel row ky reads this half's channels, and its column stride.
                        @inline(__always) func begin(_ p: UnsafePointer<Int8>?) -> (UnsafeRawPointer, Int) {
                            if let p { (UnsafeRawPointer(p + channel), c) } else { (padding, 0) }
                        }
                        let (r0, s0) = begin(rows.0), (r1, s1) = begin(rows.1), (r2, s2) = begin(rows.2)
                        let (r3, s3) = begin(rows.3), (r4, s4) = begin(rows.4)
                        /// Relative input column j (j − padLeft): its three int16 pair vectors.
                        @inline(__always) func column(_ j: Int) -> (SIMD16<Int16>, SIMD16<Int16>, SIMD16<Int16>) {
                            let ix = j &- s.padLeft
                            guard UInt(bitPattern: ix) < UInt(s.inputWidth) else { return (padPair, padPair, padPair) }
                            let x0 = r0.loadUnaligned(fromByteOffset: ix &* s0, as: SIMD8<Int8>.self)
                            let x1 = r1.loadUnaligned(fromByteOffset: ix &* s1, as: SIMD8<Int8>.self)
                            let x2 = r2.loadUnaligned(fromByteOffset: ix &* s2, as: SIMD8<Int8>.self)
                            let x3 = r3.loadUnaligned(fromByteOffset: ix &* s3, as: SIMD8<Int8>.self)
                            let x4 = r4.loadUnaligned(fromByteOffset: ix &* s4, as: SIMD8<Int8>.self)
                            return (pairs(x0, x1), pairs(x2, x3), pairedWithZeroWeight(x4))
                        }
                        /// Column x's products as tap kx.
                        @inline(__always) func products(
                            _ x: (SIMD16<Int16>, SIMD16<Int16>, SIMD16<Int16>), _ kx: Int
                        ) -> SIMD8<Int32> {
                            multiplyAddPairs(x.0, w[3 &* kx]) &+ multiplyAddPairs(x.1, w[3 &* kx &+ 1])
                                &+ multiplyAddPairs(x.2, w[3 &* kx &+ 2])
                        }
                        let out = outputRow + channel
                        // Output o's sum is complete after relative column sw·o + 4. The steps before
                        // output 0 (o < 0) only start the first outputs' sums.
                        if sw == 1 {
                            // a0 … a3: outputs o … o + 3, each with its columns before o + 4.
                            var (a0, a1, a2, a3) = (biasLanes, biasLanes, biasLanes, biasLanes)
                            for o in -4..<s.outputWidth {
                                let x = column(o &+ 4)
                                if o >= 0 { store8(lanes.apply(a0 &+ products(x, 4)), to: out + o &* c) }
                                (a0, a1, a2, a3) = (
                                    a1 &+ products(x, 3), a2 &+ products(x, 2), a3 &+ products(x, 1),
                                    biasLanes &+ products(x, 0)
                                )
                            }
                        } else {
                            // a0, a1: outputs o and o + 1, each with its columns before 2o + 3.
                            var (a0, a1) = (biasLanes, biasLanes)
                            for o in -2..<s.outputWidth {
                                let x = column(2 &* o &+ 3), y = column(2 &* o &+ 4)
                                if o >= 0 {
                                    store8(lanes.apply(a0 &+ products(x, 3) &+ products(y, 4)), to: out + o &* c)
                                }
                                (a0, a1) = (a1 &+ products(x, 1) &+ products(y, 2), biasLanes &+ products(y, 0))
                            }
                        }
                    }
                }
            }
        #endif
    }
}

extension Depthwise.SquareGeometry {
    @inlinable var kh: Int { Self.k }
    @inlinable var kw: Int { Self.k }
    @inlinable var sh: Int { Self.s }
    @inlinable var sw: Int { Self.s }
    @inlinable var dh: Int { 1 }
    @inlinable var dw: Int { 1 }
    @inlinable static var pairs: Bool { true }
}
