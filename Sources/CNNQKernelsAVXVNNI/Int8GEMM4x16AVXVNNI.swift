// Built with -mavx2 -mavxvnni (Package.swift, targets/Makefile): the process runs it only after
// `cnnq_cpu_features` found AVX-VNNI.
#if arch(x86_64)
    import CNNQIntrinsicsAVXVNNI
    import CNNQKernels

    /// The GEMM kernel of AVX-VNNI (256-bit `vpdpbusd`, on CPUs without AVX-512 or where it is slow),
    /// 4 pixels × 16 output channels: per group of 4 input channels, two 32-byte loads of 8 channels'
    /// weights and two `vpdpbusd` per pixel against its 4 inputs, broadcast (x + 128 as unsigned
    /// bytes; the packed bias's second array cancels the 128).
    enum Int8GEMM4x16AVXVNNI {
        static func multiply(_ tile: UnsafePointer<GEMM.Tile>) {
            let t = tile.pointee
            for block in 0..<t.blocks {
                microkernel(t, block: block)
            }
        }

        /// The 4 bytes of group `g` of `row` in every lane.
        @inline(__always)
        private static func broadcast(_ row: UnsafePointer<Int8>, _ g: Int) -> SIMD8<Int32> {
            SIMD8(repeating: UnsafeRawPointer(row + 4 * g).loadUnaligned(as: Int32.self))
        }

        @inline(__always)
        private static func microkernel(_ t: GEMM.Tile, block: Int) {
            let r0 = t.row(0), r1 = t.row(1), r2 = t.row(2), r3 = t.row(3)
            let bias = UnsafeRawPointer(t.bias + block * GEMM.channelBlock)
            let low = bias.loadUnaligned(as: SIMD8<Int32>.self)
            let high = bias.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
            var a0 = low, a1 = low, a2 = low, a3 = low, b0 = high, b1 = high, b2 = high, b3 = high
            var w = t.packedWeights(block: block)
            for g in 0..<t.groups {
                let w0 = w.loadUnaligned(as: SIMD8<Int32>.self)
                let w1 = w.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
                w += 64
                let x0 = broadcast(r0, g), x1 = broadcast(r1, g), x2 = broadcast(r2, g), x3 = broadcast(r3, g)
                a0 = cnnq_dpbusd_ymm(a0, x0, w0); b0 = cnnq_dpbusd_ymm(b0, x0, w1)
                a1 = cnnq_dpbusd_ymm(a1, x1, w0); b1 = cnnq_dpbusd_ymm(b1, x1, w1)
                a2 = cnnq_dpbusd_ymm(a2, x2, w0); b2 = cnnq_dpbusd_ymm(b2, x2, w1)
                a3 = cnnq_dpbusd_ymm(a3, x3, w0); b3 = cnnq_dpbusd_ymm(b3, x3, w1)
            }
            t.store(a0, b0, pixel: 0, block: block)
            if t.count > 1 { t.store(a1, b1, pixel: 1, block: block) }
            if t.count > 2 { t.store(a2, b2, pixel: 2, block: block) }
            if t.count > 3 { t.store(a3, b3, pixel: 3, block: block) }
        }
    }

    /// The kernel's C entry (declared in cnnq_cpu.h): the runtime calls the level through it, so that
    /// no module built without the level's instructions compiles this body (Embedded Swift would).
    /// `tile` points at a `GEMM.Tile` of at most the rows `InstructionSet.gemm` gives the level.
    @_cdecl("cnnq_gemm_4x16_avxvnni")
    public func cnnq_gemm_4x16_avxvnni(_ tile: UnsafeRawPointer) {
        Int8GEMM4x16AVXVNNI.multiply(tile.assumingMemoryBound(to: GEMM.Tile.self))
    }
#endif
