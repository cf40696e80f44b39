// Built with the AVX-512 VNNI flags (see Int8GEMM8x16AVX512VNNI.swift); run only on such a CPU.
#if arch(x86_64)
    import CNNQIntrinsicsAVX512VNNI
    import CNNQKernels

    /// The depthwise rows of AVX-512 VNNI: 3×3 and 5×5 at stride 1 and 2, at least 16 channels, 16
    /// channels per zmm. A column's taps are gathered into 4-byte lanes (x + 128), so up to four taps
    /// are one u8 × s8 `vpdpbusd`: 3 per 16 outputs for 3×3, 10 for 5×5. The input zero point and
    /// the 128 are folded into the bias (b − Σ (x_zero + 128)·w), and rows and columns in the padding
    /// read x_zero.
    enum Int8DepthwiseAVX512VNNI {
        static func run(_ r: Depthwise.Rows, row: Int) {
            var padding = SIMD16<Int8>(repeating: Int8(truncatingIfNeeded: r.zero))
            withUnsafeBytes(of: &padding) {
                let padding = $0.baseAddress!.assumingMemoryBound(to: Int8.self)
                if r.s.kernelHeight == 3 {
                    run3x3(r, row: row, padding: padding)
                } else {
                    run5x5(r, row: row, padding: padding)
                }
            }
        }

        /// Where kernel row ky of output row `row` reads, and its column stride: the input row, or the
        /// padding at stride 0. The padding is 16 bytes, so it serves every block as it is.
        @inline(__always)
        private static func start(_ r: Depthwise.Rows, _ row: Int, _ ky: Int, _ padding: UnsafePointer<Int8>) -> (
            UnsafePointer<Int8>, Int
        ) {
            let s = r.s
            let b = row / s.outputHeight, iy = row % s.outputHeight &* s.strideHeight &- s.padTop &+ ky
            return iy >= 0 && iy < s.inputHeight ? (r.source.row(b, iy), s.inputChannels) : (padding, 0)
        }

        @inline(__always)
        private static func block(_ start: (UnsafePointer<Int8>, Int), _ channel: Int) -> UnsafePointer<Int8> {
            start.1 == 0 ? start.0 : start.0 + channel
        }

        /// What both bodies set up once per row: the output stage's clamp bounds relative to the zero
        /// point and the rounding bias's bits less it (`cnnq_requantize_zmm`), and where the output row
        /// starts.
        struct RowConstants {
            let lowest: Float, highest: Float, biasBits: Int32
            let output: UnsafeMutablePointer<Int8>

            @inline(__always)
            init(_ r: Depthwise.Rows, row: Int) {
                let stage = r.stage
                (lowest, highest) = (Float(stage.lower &- stage.zeroPoint), Float(stage.upper &- stage.zeroPoint))
                biasBits = 0x4B40_0000 &- stage.zeroPoint
                output = r.output + row &* r.s.outputWidth &* r.s.inputChannels
            }
        }

        /// The first channel of block `index`: the last block ends at the last channel, overlapping
        /// the one before when C is not a multiple of 16 (those channels are computed twice, identically).
        @inline(__always)
        private static func channel(_ index: Int, of c: Int) -> Int {
            min(index &* Depthwise.channelBlock, c &- Depthwise.channelBlock)
        }

        /// 3×3: an input column's three rows are one vector of 16 channels × 4 bytes (x + 128, three
        /// rows and a zero weight), so each output is three `vpdpbusd` (u8 × s8), one per kernel column;
        /// the window of three columns lives in registers and slides along the row, each column
        /// gathered once. The 128 and the input zero point leave the bias as a padding column's sum.
        private static func run3x3(_ r: Depthwise.Rows, row: Int, padding: UnsafePointer<Int8>) {
            let s = r.s, c = s.inputChannels, sw = s.strideWidth, width = s.inputWidth
            let rows = (start(r, row, 0, padding), start(r, row, 1, padding), start(r, row, 2, padding))
            let k = RowConstants(r, row: row)
            let paddingColumn = cnnq_flip_bytes_zmm(cnnq_interleave3_zmm(padding, padding, padding))
            for index in 0..<(r.wStride / Depthwise.channelBlock) {
                let channel = channel(index, of: c)
                @inline(__always) func weights(_ kx: Int) -> SIMD16<Int32> {
                    let tap = r.packed + (kx &* r.wStride &+ channel), step = 3 &* r.wStride
                    return cnnq_interleave3_zmm(tap, tap + step, tap + 2 &* step)
                }
                let w0 = weights(0), w1 = weights(1), w2 = weights(2)
                let paddingSum = cnnq_dpbusd_zmm(
                    cnnq_dpbusd_zmm(cnnq_dpbusd_zmm(.zero, paddingColumn, w0), paddingColumn, w1), paddingColumn, w2)
                let bias = UnsafeRawPointer(r.bias + channel).loadUnaligned(as: SIMD16<Int32>.self) &- paddingSum
                let (r0, r1, r2) = (block(rows.0, channel), block(rows.1, channel), block(rows.2, channel))
                let (s0, s1, s2) = (rows.0.1, rows.1.1, rows.2.1)
                @inline(__always) func column(_ ix: Int) -> SIMD16<Int32> {
                    guard UInt(bitPattern: ix) < UInt(width) else { return paddingColumn }
                    return cnnq_flip_bytes_zmm(cnnq_interleave3_zmm(r0 + ix &* s0, r1 + ix &* s1, r2 + ix &* s2))
                }
                let scales = r.stage.scales + channel
                var ix = -s.padLeft
                var x0 = column(ix), x1 = column(ix &+ 1)
                var out = k.output + channel
                for _ in 0..<s.outputWidth {
                    let x2 = column(ix &+ 2)
                    let sum = cnnq_dpbusd_zmm(cnnq_dpbusd_zmm(cnnq_dpbusd_zmm(bias, x0, w0), x1, w1), x2, w2)
                    cnnq_requantize_zmm(sum, scales, k.lowest, k.highest, k.biasBits, out)
                    out += c
                    if sw == 1 {
                        (x0, x1) = (x1, x2)
                    } else {
                        (x0, x1) = (x2, column(ix &+ 3))
                    }
                    ix &+= sw
                }
            }
        }

        /// 5×5: as 3×3, a column's rows 0–3 are one vector of 4-byte lanes and row 4 another (its other
        /// three bytes against zero weights), so each output is 10 `vpdpbusd` in two chains; the window
        /// of five columns (10 zmm) lives in registers beside the 10 of weights. (Gathered first into a
        /// 4 KiB stack buffer, a chunk of columns ran at under half this speed, slowest where the
        /// input's addresses met the buffer's modulo 4 KiB, which depends on where the arena lies.)
        private static func run5x5(_ r: Depthwise.Rows, row: Int, padding: UnsafePointer<Int8>) {
            let s = r.s, c = s.inputChannels, sw = s.strideWidth, width = s.inputWidth
            let rows = (
                start(r, row, 0, padding), start(r, row, 1, padding), start(r, row, 2, padding),
                start(r, row, 3, padding), start(r, row, 4, padding)
            )
            let k = RowConstants(r, row: row)
            let paddingFour = cnnq_flip_bytes_zmm(cnnq_interleave4_zmm(padding, padding, padding, padding))
            let paddingOne = cnnq_flip_bytes_zmm(cnnq_zero_extend_bytes_zmm(padding))
            for index in 0..<(r.wStride / Depthwise.channelBlock) {
                let channel = channel(index, of: c)
                /// Kernel column kx: rows 0–3 and row 4.
                @inline(__always) func weights(_ kx: Int) -> (SIMD16<Int32>, SIMD16<Int32>) {
                    let tap = r.packed + (kx &* r.wStride &+ channel), step = 5 &* r.wStride
                    return (
                        cnnq_interleave4_zmm(tap, tap + step, tap + 2 &* step, tap + 3 &* step),
                        cnnq_zero_extend_bytes_zmm(tap + 4 &* step)
                    )
                }
                let w0 = weights(0), w1 = weights(1), w2 = weights(2), w3 = weights(3), w4 = weights(4)
                @inline(__always) func sum(
                    _ bias: SIMD16<Int32>, _ x0: (SIMD16<Int32>, SIMD16<Int32>), _ x1: (SIMD16<Int32>, SIMD16<Int32>),
                    _ x2: (SIMD16<Int32>, SIMD16<Int32>), _ x3: (SIMD16<Int32>, SIMD16<Int32>),
                    _ x4: (SIMD16<Int32>, SIMD16<Int32>)
                ) -> SIMD16<Int32> {
                    // Two chains of five, one per vector of a column.
                    var a0 = cnnq_dpbusd_zmm(bias, x0.0, w0.0), a1 = cnnq_dpbusd_zmm(.zero, x0.1, w0.1)
                    a0 = cnnq_dpbusd_zmm(a0, x1.0, w1.0)
                    a1 = cnnq_dpbusd_zmm(a1, x1.1, w1.1)
                    a0 = cnnq_dpbusd_zmm(a0, x2.0, w2.0)
                    a1 = cnnq_dpbusd_zmm(a1, x2.1, w2.1)
                    a0 = cnnq_dpbusd_zmm(a0, x3.0, w3.0)
                    a1 = cnnq_dpbusd_zmm(a1, x3.1, w3.1)
                    a0 = cnnq_dpbusd_zmm(a0, x4.0, w4.0)
                    a1 = cnnq_dpbusd_zmm(a1, x4.1, w4.1)
                    return a0 &+ a1
                }
                let p = (paddingFour, paddingOne)
                let bias =
                    UnsafeRawPointer(r.bias + channel).loadUnaligned(as: SIMD16<Int32>.self)
                    &- sum(.zero, p, p, p, p, p)
                let (r0, r1, r2, r3, r4) = (
                    block(rows.0, channel), block(rows.1, channel), block(rows.2, channel), block(rows.3, channel),
                    block(rows.4, channel)
                )
                let (s0, s1, s2, s3, s4) = (rows.0.1, rows.1.1, rows.2.1, rows.3.1, rows.4.1)
                @inline(__always) func column(_ ix: Int) -> (SIMD16<Int32>, SIMD16<Int32>) {
                    guard UInt(bitPattern: ix) < UInt(width) else { return p }
                    return (
                        cnnq_flip_bytes_zmm(
                            cnnq_interleave4_zmm(r0 + ix &* s0, r1 + ix &* s1, r2 + ix &* s2, r3 + ix &* s3)),
                        cnnq_flip_bytes_zmm(cnnq_zero_extend_bytes_zmm(r4 + ix &* s4))
                    )
                }
                let scales = r.stage.scales + channel
                var ix = -s.padLeft
                var (x0, x1, x2, x3) = (column(ix), column(ix &+ 1), column(ix &+ 2), column(ix &+ 3))
                var out = k.output + channel
                for _ in 0..<s.outputWidth {
                    let x4 = column(ix &+ 4)
                    cnnq_requantize_zmm(sum(bias, x0, x1, x2, x3, x4), scales, k.lowest, k.highest, k.biasBits, out)
                    out += c
                    if sw == 1 {
                        (x0, x1, x2, x3) = (x1, x2, x3, x4)
                    } else {
                        (x0, x1, x2, x3) = (x2, x3, x4, column(ix &+ 5))
                    }
                    ix &+= sw
                }
            }
        }
    }

    /// The kernel's C entry (declared in cnnq_cpu.h), for `InstructionSet.depthwise`.
    @_cdecl("cnnq_depthwise_avx512vnni")
    public func cnnq_depthwise_avx512vnni(_ rows: UnsafeRawPointer, _ row: Int) {
        Int8DepthwiseAVX512VNNI.run(rows.assumingMemoryBound(to: Depthwise.Rows.self).pointee, row: row)
    }
#endif
