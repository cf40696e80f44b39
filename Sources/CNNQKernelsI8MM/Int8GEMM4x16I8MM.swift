// Built with -march=armv8.6-a+i8mm (Package.swift on an aarch64 host, targets/Makefile): the process
// runs it only after `cnnq_cpu_features` found the int8 matrix multiply instructions.
#if arch(arm64)
    import CNNQIntrinsicsI8MM
    import CNNQKernels

    /// The GEMM kernel of Armv8.6 i8mm, 4 pixels × 16 output channels, signed rows: `smmla`
    /// multiplies 2 pixels × 8 inputs by 2 channels × 8 weights into a 2×2 block, 32 MACs, twice an
    /// `sdot`'s. Two groups of 4 input channels make its 8: per pair of groups, each channel pair's
    /// weights are a `zip1`/`zip2` of the groups' 4-channel vectors, each pixel pair's inputs two
    /// 8-byte loads; 16 accumulators (2 pixel pairs × 8 channel pairs) of the 32 vector registers.
    enum Int8GEMM4x16I8MM {
        static func multiply(_ tile: UnsafePointer<GEMM.Tile>) {
            let t = tile.pointee
            for block in 0..<t.blocks {
                microkernel(t, block: block)
            }
        }

        /// Channels 4j ..< 4j + 4 of a group (4 bytes each).
        @inline(__always)
        private static func quarter(_ w: UnsafeRawPointer, _ j: Int) -> SIMD4<Int32> {
            w.loadUnaligned(fromByteOffset: 16 * j, as: SIMD4<Int32>.self)
        }

        /// (a[0], b[0], a[1], b[1]) and (a[2], b[2], a[3], b[3]) as bytes: two channels' 8 weights
        /// each, for channels 4j and 4j + 1, then 4j + 2 and 4j + 3.
        @inline(__always)
        private static func pairs(_ a: SIMD4<Int32>, _ b: SIMD4<Int32>) -> (SIMD16<Int8>, SIMD16<Int8>) {
            (
                unsafeBitCast(SIMD4(a[0], b[0], a[1], b[1]), to: SIMD16<Int8>.self),
                unsafeBitCast(SIMD4(a[2], b[2], a[3], b[3]), to: SIMD16<Int8>.self)
            )
        }

        /// Two pixels' 8 inputs from byte `offset` of their rows.
        @inline(__always)
        private static func inputs(_ r0: UnsafePointer<Int8>, _ r1: UnsafePointer<Int8>, _ offset: Int) -> SIMD16<Int8>
        {
            let a = UnsafeRawPointer(r0 + offset).loadUnaligned(as: Int64.self)
            let b = UnsafeRawPointer(r1 + offset).loadUnaligned(as: Int64.self)
            return unsafeBitCast(SIMD2(a, b), to: SIMD16<Int8>.self)
        }

        /// One pixel pair's 16 channels: 8 channel pairs, each a 2×2 block (pixel, channel).
        struct PixelPair {
            var q0 = SIMD4<Int32>(), q1 = SIMD4<Int32>(), q2 = SIMD4<Int32>(), q3 = SIMD4<Int32>()
            var q4 = SIMD4<Int32>(), q5 = SIMD4<Int32>(), q6 = SIMD4<Int32>(), q7 = SIMD4<Int32>()

            @inline(__always)
            mutating func add(_ x: SIMD16<Int8>, _ w: Weights) {
                q0 = cnnq_smmla(q0, x, w.0)
                q1 = cnnq_smmla(q1, x, w.1)
                q2 = cnnq_smmla(q2, x, w.2)
                q3 = cnnq_smmla(q3, x, w.3)
                q4 = cnnq_smmla(q4, x, w.4)
                q5 = cnnq_smmla(q5, x, w.5)
                q6 = cnnq_smmla(q6, x, w.6)
                q7 = cnnq_smmla(q7, x, w.7)
            }

            /// Pixel `p` (0 or 1 of the pair): its row of each 2×2 block, channels in order.
            @inline(__always)
            func pixel(_ p: Int, bias: UnsafeRawPointer) -> (SIMD8<Int32>, SIMD8<Int32>) {
                @inline(__always) func row(_ a: SIMD4<Int32>, _ b: SIMD4<Int32>) -> SIMD4<Int32> {
                    p == 0 ? SIMD4(a[0], a[1], b[0], b[1]) : SIMD4(a[2], a[3], b[2], b[3])
                }
                let low = SIMD8(lowHalf: row(q0, q1), highHalf: row(q2, q3))
                let high = SIMD8(lowHalf: row(q4, q5), highHalf: row(q6, q7))
                return (
                    low &+ bias.loadUnaligned(as: SIMD8<Int32>.self),
                    high &+ bias.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
                )
            }
        }

        /// A pair of groups' weights: channel pairs (0, 1), (2, 3), …, (14, 15).
        typealias Weights = (
            SIMD16<Int8>, SIMD16<Int8>, SIMD16<Int8>, SIMD16<Int8>, SIMD16<Int8>, SIMD16<Int8>, SIMD16<Int8>,
            SIMD16<Int8>
        )

        /// Groups g and g + 1 at `w`; a missing second group (odd depth) reads as zero weights.
        @inline(__always)
        private static func weights(_ w: UnsafeRawPointer, second: Bool) -> Weights {
            @inline(__always) func next(_ j: Int) -> SIMD4<Int32> { second ? quarter(w + 64, j) : .zero }
            let (a, b) = pairs(quarter(w, 0), next(0)), (c, d) = pairs(quarter(w, 1), next(1))
            let (e, f) = pairs(quarter(w, 2), next(2)), (g, h) = pairs(quarter(w, 3), next(3))
            return (a, b, c, d, e, f, g, h)
        }

        @inline(__always)
        private static func microkernel(_ t: GEMM.Tile, block: Int) {
            let r0 = t.row(0), r1 = t.row(1), r2 = t.row(2), r3 = t.row(3)
            var low = PixelPair(), high = PixelPair()
            var w = t.packedWeights(block: block)
            var g = 0
            // Whole pairs without a test inside the loop (an in-order core waits at each).
            while g &+ 2 <= t.groups {
                let weights = weights(w, second: true)
                low.add(inputs(r0, r1, 4 &* g), weights)
                high.add(inputs(r2, r3, 4 &* g), weights)
                w += 128
                g &+= 2
            }
            // An odd last group: its 8-byte load reads 4 bytes of row padding (rows are `rowStride`
            // bytes, a multiple of 16), against zero weights.
            if g < t.groups {
                let weights = weights(w, second: false)
                low.add(inputs(r0, r1, 4 &* g), weights)
                high.add(inputs(r2, r3, 4 &* g), weights)
            }
            let bias = UnsafeRawPointer(t.bias + block * GEMM.channelBlock)
            var (a, b) = low.pixel(0, bias: bias)
            t.store(a, b, pixel: 0, block: block)
            if t.count > 1 { (a, b) = low.pixel(1, bias: bias); t.store(a, b, pixel: 1, block: block) }
            if t.count > 2 { (a, b) = high.pixel(0, bias: bias); t.store(a, b, pixel: 2, block: block) }
            if t.count > 3 { (a, b) = high.pixel(1, bias: bias); t.store(a, b, pixel: 3, block: block) }
        }
    }

    /// The kernel's C entry (declared in cnnq_cpu.h): the runtime calls the level through it, so that
    /// no module built without the level's instructions compiles this body (Embedded Swift would).
    /// `tile` points at a `GEMM.Tile` of at most the rows `InstructionSet.gemm` gives the level.
    @_cdecl("cnnq_gemm_4x16_i8mm")
    public func cnnq_gemm_4x16_i8mm(_ tile: UnsafeRawPointer) {
        Int8GEMM4x16I8MM.multiply(tile.assumingMemoryBound(to: GEMM.Tile.self))
    }
#endif
