// Built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni (Package.swift, targets/Makefile): the
// process runs it only after `cnnq_cpu_features` found AVX-512 VNNI.
#if arch(x86_64)
    import CNNQIntrinsicsAVX512VNNI
    import CNNQKernels

    /// The GEMM kernel of AVX-512 VNNI, 8 pixels × 16 output channels: per group of 4 input channels,
    /// one 64-byte load of 16 channels' weights and one `vpdpbusd` per pixel against its 4 inputs,
    /// broadcast (x + 128 as unsigned bytes; the packed bias's second array cancels the 128).
    enum Int8GEMM8x16AVX512VNNI {
        /// Rows, weights and the output stage's constants are set up once per tile, not per block:
        /// with 4–8 groups (the narrow layers of MobileNet's first blocks) that setup cost as much as
        /// the block's `vpdpbusd`.
        static func multiply(_ tile: UnsafePointer<GEMM.Tile>) {
            let t = tile.pointee
            let last = t.count &- 1
            @inline(__always) func row(_ r: Int) -> UnsafeRawPointer {
                UnsafeRawPointer(t.rows + min(r, last) &* t.rowStride)
            }
            let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5), r6 = row(6)
            let r7 = row(7)
            let stage = t.stage
            let (lowest, highest) = (Float(stage.lower &- stage.zeroPoint), Float(stage.upper &- stage.zeroPoint))
            let biasBits = 0x4B40_0000 &- stage.zeroPoint
            var w = UnsafeRawPointer(t.weights)
            for block in 0..<t.blocks {
                let base = block &* GEMM.channelBlock
                if t.outputChannels &- base <= 8 {
                    return halfBlock(t, base: base, weights: w, (r0, r1, r2, r3, r4, r5, r6, r7))
                }
                let bias = UnsafeRawPointer(t.bias + base).loadUnaligned(as: SIMD16<Int32>.self)
                var a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias
                var offset = 0
                for _ in 0..<t.groups {
                    let wg = w.loadUnaligned(as: SIMD16<Int32>.self)
                    w += 64
                    @inline(__always) func x(_ row: UnsafeRawPointer) -> SIMD16<Int32> {
                        SIMD16(repeating: row.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                    }
                    a0 = cnnq_dpbusd_zmm(a0, x(r0), wg)
                    a1 = cnnq_dpbusd_zmm(a1, x(r1), wg)
                    a2 = cnnq_dpbusd_zmm(a2, x(r2), wg)
                    a3 = cnnq_dpbusd_zmm(a3, x(r3), wg)
                    a4 = cnnq_dpbusd_zmm(a4, x(r4), wg)
                    a5 = cnnq_dpbusd_zmm(a5, x(r5), wg)
                    a6 = cnnq_dpbusd_zmm(a6, x(r6), wg)
                    a7 = cnnq_dpbusd_zmm(a7, x(r7), wg)
                    offset &+= 4
                }
                guard t.outputChannels &- base >= GEMM.channelBlock else {
                    storePartial(t, block: block, (a0, a1, a2, a3, a4, a5, a6, a7))
                    return
                }
                // A whole block: the output stage in one zmm per pixel.
                let scales = stage.scales + base
                var out = t.output + base
                @inline(__always) func store(_ a: SIMD16<Int32>) {
                    cnnq_requantize_zmm(a, scales, lowest, highest, biasBits, out)
                    out += t.outputStride
                }
                store(a0)
                if t.count > 1 { store(a1) }
                if t.count > 2 { store(a2) }
                if t.count > 3 { store(a3) }
                if t.count > 4 { store(a4) }
                if t.count > 5 { store(a5) }
                if t.count > 6 { store(a6) }
                if t.count > 7 { store(a7) }
            }
        }

        /// A last block of at most 8 channels (24, 40, 72, 120… channels): 8-lane `vpdpbusd` on the
        /// first half of each group's 16 channels, as many instructions as the 16-lane form, each half
        /// the cost on a core that runs 512-bit operations in two passes (Zen 4).
        @inline(never)
        private static func halfBlock(
            _ t: GEMM.Tile, base: Int, weights: UnsafeRawPointer,
            _ r: (
                UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer,
                UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer
            )
        ) {
            let bias = UnsafeRawPointer(t.bias + base).loadUnaligned(as: SIMD8<Int32>.self)
            var a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias
            var w = weights, offset = 0
            for _ in 0..<t.groups {
                let wg = w.loadUnaligned(as: SIMD8<Int32>.self)
                w += 64
                @inline(__always) func x(_ row: UnsafeRawPointer) -> SIMD8<Int32> {
                    SIMD8(repeating: row.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                }
                a0 = cnnq_dpbusd_ymm_vl(a0, x(r.0), wg)
                a1 = cnnq_dpbusd_ymm_vl(a1, x(r.1), wg)
                a2 = cnnq_dpbusd_ymm_vl(a2, x(r.2), wg)
                a3 = cnnq_dpbusd_ymm_vl(a3, x(r.3), wg)
                a4 = cnnq_dpbusd_ymm_vl(a4, x(r.4), wg)
                a5 = cnnq_dpbusd_ymm_vl(a5, x(r.5), wg)
                a6 = cnnq_dpbusd_ymm_vl(a6, x(r.6), wg)
                a7 = cnnq_dpbusd_ymm_vl(a7, x(r.7), wg)
                offset &+= 4
            }
            t.store(a0, pixel: 0, channel: base)
            if t.count > 1 { t.store(a1, pixel: 1, channel: base) }
            if t.count > 2 { t.store(a2, pixel: 2, channel: base) }
            if t.count > 3 { t.store(a3, pixel: 3, channel: base) }
            if t.count > 4 { t.store(a4, pixel: 4, channel: base) }
            if t.count > 5 { t.store(a5, pixel: 5, channel: base) }
            if t.count > 6 { t.store(a6, pixel: 6, channel: base) }
            if t.count > 7 { t.store(a7, pixel: 7, channel: base) }
        }

        /// The last block, of 9 to 15 channels: out of line, it is cold.
        @inline(never)
        private static func storePartial(
            _ t: GEMM.Tile, block: Int,
            _ a: (
                SIMD16<Int32>, SIMD16<Int32>, SIMD16<Int32>, SIMD16<Int32>, SIMD16<Int32>, SIMD16<Int32>,
                SIMD16<Int32>, SIMD16<Int32>
            )
        ) {
            t.store(a.0.lowHalf, a.0.highHalf, pixel: 0, block: block)
            if t.count > 1 { t.store(a.1.lowHalf, a.1.highHalf, pixel: 1, block: block) }
            if t.count > 2 { t.store(a.2.lowHalf, a.2.highHalf, pixel: 2, block: block) }
            if t.count > 3 { t.store(a.3.lowHalf, a.3.highHalf, pixel: 3, block: block) }
            if t.count > 4 { t.store(a.4.lowHalf, a.4.highHalf, pixel: 4, block: block) }
            if t.count > 5 { t.store(a.5.lowHalf, a.5.highHalf, pixel: 5, block: block) }
            if t.count > 6 { t.store(a.6.lowHalf, a.6.highHalf, pixel: 6, block: block) }
            if t.count > 7 { t.store(a.7.lowHalf, a.7.highHalf, pixel: 7, block: block) }
        }
    }

    /// The kernel's C entry (declared in cnnq_cpu.h): the runtime calls the level through it, so that
    /// no module built without the level's instructions compiles this body (Embedded Swift would).
    /// `tile` points at a `GEMM.Tile` of at most the rows `InstructionSet.gemm` gives the level.
    @_cdecl("cnnq_gemm_8x16_avx512vnni")
    public func cnnq_gemm_8x16_avx512vnni(_ tile: UnsafeRawPointer) {
        Int8GEMM8x16AVX512VNNI.multiply(tile.assumingMemoryBound(to: GEMM.Tile.self))
    }
#endif
