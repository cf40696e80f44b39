// Built for every Arm board (aarch64 Advanced SIMD, armv7 NEON) with the board's own flags; on x86_64
// the portable kernel is the baseline.
#if arch(arm64) || arch(arm)
    import CNNQIntrinsicsNEON
    import CNNQKernels

    /// The Arm baseline GEMM kernel (Armv8.0 and armv7 NEON, no dot product), 2 pixels (armv7: 1) ×
    /// 16 output channels, signed rows: per group of 4 input channels, four 16-byte weight loads (4 channels ×
    /// 4 inputs each) and per pixel its 4 inputs repeated over 16 bytes; `smull` multiplies 2
    /// channels' 4 weights by them into int16 and `sadalp` adds the products in pairs into int32, so
    /// each channel keeps two partial sums, added by `addp` at the end. On aarch64 `smlal` first adds
    /// the next group's products into the same int16 lanes (exact: |w| ≤ 127, checked at load, so two
    /// products fit), one `sadalp` for two groups: 2.8 and 8.0 MACs/cycle on Cortex-A53 and A72
    /// against 2.4 and 6.7 with one per group (`targets/mca.sh`).
    enum Int8GEMM2x16NEON {
        #if arch(arm)
            /// armv7 has 16 q registers: one pixel's 8 accumulators, 4 weights and its inputs fit,
            /// two pixels' spill (llvm-mca, `targets/mca.sh`).
            static let pixelsPerStep = 1
            /// Two groups' weights and products spill too (Cortex-A57: 4.7 against 5.3 MACs/cycle).
            static let twoGroupsPerStep = false
        #else
            static let pixelsPerStep = 2
            static let twoGroupsPerStep = true
        #endif

        static func multiply(_ tile: UnsafePointer<GEMM.Tile>) {
            let t = tile.pointee
            for block in 0..<t.blocks {
                var r = 0
                while r < t.count {
                    microkernel(t, block: block, firstRow: r)
                    r &+= pixelsPerStep
                }
            }
        }

        /// One pixel's partial sums: 8 registers, each 2 channels × 2 pairs of inputs.
        struct Pixel {
            var a0 = SIMD4<Int32>(), a1 = SIMD4<Int32>(), a2 = SIMD4<Int32>(), a3 = SIMD4<Int32>()
            var a4 = SIMD4<Int32>(), a5 = SIMD4<Int32>(), a6 = SIMD4<Int32>(), a7 = SIMD4<Int32>()

            @inline(__always)
            mutating func add(_ w: GEMM.GroupWeights, _ x: SIMD16<Int8>) {
                a0 = cnnq_mull_pairs_low(a0, w.0, x)
                a1 = cnnq_mull_pairs_high(a1, w.0, x)
                a2 = cnnq_mull_pairs_low(a2, w.1, x)
                a3 = cnnq_mull_pairs_high(a3, w.1, x)
                a4 = cnnq_mull_pairs_low(a4, w.2, x)
                a5 = cnnq_mull_pairs_high(a5, w.2, x)
                a6 = cnnq_mull_pairs_low(a6, w.3, x)
                a7 = cnnq_mull_pairs_high(a7, w.3, x)
            }

            /// Two groups: weights `w` with inputs `x`, `v` with `y`.
            @inline(__always)
            mutating func add(_ w: GEMM.GroupWeights, _ x: SIMD16<Int8>, _ v: GEMM.GroupWeights, _ y: SIMD16<Int8>) {
                a0 = cnnq_mull2_pairs_low(a0, w.0, x, v.0, y)
                a1 = cnnq_mull2_pairs_high(a1, w.0, x, v.0, y)
                a2 = cnnq_mull2_pairs_low(a2, w.1, x, v.1, y)
                a3 = cnnq_mull2_pairs_high(a3, w.1, x, v.1, y)
                a4 = cnnq_mull2_pairs_low(a4, w.2, x, v.2, y)
                a5 = cnnq_mull2_pairs_high(a5, w.2, x, v.2, y)
                a6 = cnnq_mull2_pairs_low(a6, w.3, x, v.3, y)
                a7 = cnnq_mull2_pairs_high(a7, w.3, x, v.3, y)
            }

            /// The 16 channels' sums plus the bias, channels in order.
            @inline(__always)
            func sums(bias: UnsafeRawPointer) -> (SIMD8<Int32>, SIMD8<Int32>) {
                let low = SIMD8(lowHalf: cnnq_add_pairs(a0, a1), highHalf: cnnq_add_pairs(a2, a3))
                let high = SIMD8(lowHalf: cnnq_add_pairs(a4, a5), highHalf: cnnq_add_pairs(a6, a7))
                return (
                    low &+ bias.loadUnaligned(as: SIMD8<Int32>.self),
                    high &+ bias.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
                )
            }
        }

        /// The 4 inputs of group `g` of `row`, four times.
        @inline(__always)
        private static func inputs(_ row: UnsafePointer<Int8>, _ g: Int) -> SIMD16<Int8> {
            unsafeBitCast(
                SIMD4(repeating: UnsafeRawPointer(row + 4 &* g).loadUnaligned(as: UInt32.self)), to: SIMD16<Int8>.self)
        }

        @inline(__always)
        private static func microkernel(_ t: GEMM.Tile, block: Int, firstRow: Int) {
            let r0 = t.row(firstRow), r1 = t.row(firstRow + 1)
            var p0 = Pixel(), p1 = Pixel()
            var w = t.packedWeights(block: block)
            var g = 0
            if twoGroupsPerStep {
                while g &+ 1 < t.groups {
                    let (first, second) = (GEMM.groupWeights(w), GEMM.groupWeights(w + 64))
                    w += 128
                    p0.add(first, inputs(r0, g), second, inputs(r0, g &+ 1))
                    if pixelsPerStep == 2 { p1.add(first, inputs(r1, g), second, inputs(r1, g &+ 1)) }
                    g &+= 2
                }
                if g < t.groups {
                    let last = GEMM.groupWeights(w)
                    p0.add(last, inputs(r0, g))
                    if pixelsPerStep == 2 { p1.add(last, inputs(r1, g)) }
                }
            } else {
                for g in 0..<t.groups {
                    let group = GEMM.groupWeights(w)
                    w += 64
                    p0.add(group, inputs(r0, g))
                    if pixelsPerStep == 2 { p1.add(group, inputs(r1, g)) }
                }
            }
            let bias = UnsafeRawPointer(t.bias + block * GEMM.channelBlock)
            var (low, high) = p0.sums(bias: bias)
            t.store(low, high, pixel: firstRow, block: block)
            if pixelsPerStep == 2 && firstRow + 1 < t.count {
                (low, high) = p1.sums(bias: bias)
                t.store(low, high, pixel: firstRow + 1, block: block)
            }
        }
    }

    /// The kernel's C entry (declared in cnnq_cpu.h), as the levels' are; `tile` points at a
    /// `GEMM.Tile` of at most 2 rows.
    @_cdecl("cnnq_gemm_2x16_neon")
    public func cnnq_gemm_2x16_neon(_ tile: UnsafeRawPointer) {
        Int8GEMM2x16NEON.multiply(tile.assumingMemoryBound(to: GEMM.Tile.self))
    }
#endif
