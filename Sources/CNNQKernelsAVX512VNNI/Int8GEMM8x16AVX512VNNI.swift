// Built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni (Package.swift, targets/Makefile): the
// process runs it only after `cnnq_cpu_features` found AVX-512 VNNI.
#if arch(x86_64)
    import CNNQIntrinsicsAVX512VNNI
    import CNNQKernels

    /// The GEMM kernel of AVX-512 VNNI, 8 pixels × 16 output channels: per group of 4 input channels,
    /// one 64-byte load of 16 channels' weights and one `vpdpbusd` per pixel against its 4 inputs,
    /// broadcast (x + 128 as unsigned bytes; the packed bias's second array cancels the 128).
    enum Int8GEMM8x16AVX512VNNI {
        static func multiply(_ t: GEMM.Tile) {
            for block in 0..<t.blocks {
                microkernel(t, block: block)
            }
        }

        /// The 4 bytes of group `g` of `row` in every lane.
        @inline(__always)
        private static func broadcast(_ row: UnsafePointer<Int8>, _ g: Int) -> SIMD16<Int32> {
            SIMD16(repeating: UnsafeRawPointer(row + 4 * g).loadUnaligned(as: Int32.self))
        }

        @inline(__always)
        private static func microkernel(_ t: GEMM.Tile, block: Int) {
            let r0 = t.row(0), r1 = t.row(1), r2 = t.row(2), r3 = t.row(3)
            let r4 = t.row(4), r5 = t.row(5), r6 = t.row(6), r7 = t.row(7)
            let bias = UnsafeRawPointer(t.bias + block * GEMM.channelBlock).loadUnaligned(as: SIMD16<Int32>.self)
            var a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias
            var w = t.packedWeights(block: block)
            for g in 0..<t.groups {
                let wg = w.loadUnaligned(as: SIMD16<Int32>.self)
                w += 64
                a0 = cnnq_dpbusd_zmm(a0, broadcast(r0, g), wg)
                a1 = cnnq_dpbusd_zmm(a1, broadcast(r1, g), wg)
                a2 = cnnq_dpbusd_zmm(a2, broadcast(r2, g), wg)
                a3 = cnnq_dpbusd_zmm(a3, broadcast(r3, g), wg)
                a4 = cnnq_dpbusd_zmm(a4, broadcast(r4, g), wg)
                a5 = cnnq_dpbusd_zmm(a5, broadcast(r5, g), wg)
                a6 = cnnq_dpbusd_zmm(a6, broadcast(r6, g), wg)
                a7 = cnnq_dpbusd_zmm(a7, broadcast(r7, g), wg)
            }
            let base = block * GEMM.channelBlock
            guard t.outputChannels - base >= GEMM.channelBlock else {
                t.store(a0.lowHalf, a0.highHalf, pixel: 0, block: block)
                if t.count > 1 { t.store(a1.lowHalf, a1.highHalf, pixel: 1, block: block) }
                if t.count > 2 { t.store(a2.lowHalf, a2.highHalf, pixel: 2, block: block) }
                if t.count > 3 { t.store(a3.lowHalf, a3.highHalf, pixel: 3, block: block) }
                if t.count > 4 { t.store(a4.lowHalf, a4.highHalf, pixel: 4, block: block) }
                if t.count > 5 { t.store(a5.lowHalf, a5.highHalf, pixel: 5, block: block) }
                if t.count > 6 { t.store(a6.lowHalf, a6.highHalf, pixel: 6, block: block) }
                if t.count > 7 { t.store(a7.lowHalf, a7.highHalf, pixel: 7, block: block) }
                return
            }
            // A whole block: the output stage in one zmm per pixel.
            let stage = t.stage
            let (lowest, highest) = (Float(stage.lower &- stage.zeroPoint), Float(stage.upper &- stage.zeroPoint))
            let biasBits = 0x4B40_0000 &- stage.zeroPoint
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

    /// The kernel's C entry (declared in cnnq_cpu.h): the runtime calls the level through it, so that
    /// no module built without the level's instructions compiles this body (Embedded Swift would).
    /// `tile` points at a `GEMM.Tile` of at most the rows `InstructionSet.gemm` gives the level.
    @_cdecl("cnnq_gemm_8x16_avx512vnni")
    public func cnnq_gemm_8x16_avx512vnni(_ tile: UnsafeRawPointer) {
        Int8GEMM8x16AVX512VNNI.multiply(tile.assumingMemoryBound(to: GEMM.Tile.self).pointee)
    }
#endif
