// Built with -march=armv8.2-a+dotprod (Package.swift on an aarch64 host, targets/Makefile): the
// process runs it only after `cnnq_cpu_features` found the dot product instructions.
#if arch(arm64)
    import CNNQIntrinsicsDotProd
    import CNNQKernels

    /// The GEMM kernel of Armv8.2 dotprod, 4 pixels × 16 output channels, signed rows: per 4 groups of
    /// 4 input channels, one 16-byte load of each pixel's inputs, and per group four 16-byte loads of
    /// 4 channels' weights, each `sdot` by lane against every pixel (16 accumulators, 8 operands of
    /// the 32 vector registers).
    enum Int8GEMM4x16DotProd {
        static func multiply(_ tile: UnsafePointer<GEMM.Tile>) {
            let t = tile.pointee
            for block in 0..<t.blocks {
                microkernel(t, block: block)
            }
        }

        /// One pixel's 16 accumulators, 4 channels per register.
        struct Pixel {
            var c0: SIMD4<Int32>, c1: SIMD4<Int32>, c2: SIMD4<Int32>, c3: SIMD4<Int32>

            @inline(__always)
            init(bias: UnsafeRawPointer) {
                c0 = bias.loadUnaligned(as: SIMD4<Int32>.self)
                c1 = bias.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
                c2 = bias.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self)
                c3 = bias.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
            }

            /// Adds one group: `w` holds its 64 weights (4 channels per 16 bytes), lane `lane` of `x`
            /// the pixel's 4 inputs.
            @inline(__always)
            mutating func add(_ w: GEMM.GroupWeights, _ x: SIMD16<Int8>, lane: Int) {
                @inline(__always) func dot(_ a: SIMD4<Int32>, _ w: SIMD16<Int8>) -> SIMD4<Int32> {
                    switch lane {
                    case 0: cnnq_sdot_lane0(a, w, x)
                    case 1: cnnq_sdot_lane1(a, w, x)
                    case 2: cnnq_sdot_lane2(a, w, x)
                    default: cnnq_sdot_lane3(a, w, x)
                    }
                }
                (c0, c1, c2, c3) = (dot(c0, w.0), dot(c1, w.1), dot(c2, w.2), dot(c3, w.3))
            }

            @inline(__always)
            func store(_ t: GEMM.Tile, pixel r: Int, block: Int) {
                t.store(SIMD8(lowHalf: c0, highHalf: c1), SIMD8(lowHalf: c2, highHalf: c3), pixel: r, block: block)
            }
        }

        /// The 4 pixels' inputs of 4 groups, one vector per pixel.
        typealias Inputs = (SIMD16<Int8>, SIMD16<Int8>, SIMD16<Int8>, SIMD16<Int8>)

        @inline(__always)
        private static func microkernel(_ t: GEMM.Tile, block: Int) {
            let r0 = t.row(0), r1 = t.row(1), r2 = t.row(2), r3 = t.row(3)
            let bias = UnsafeRawPointer(t.bias + block * GEMM.channelBlock)
            var p0 = Pixel(bias: bias), p1 = p0, p2 = p0, p3 = p0
            var w = t.packedWeights(block: block)
            // Rows are `rowStride` bytes, a multiple of 16: a 16-byte load past the last group reads
            // the row's padding, which no lane below uses.
            @inline(__always) func inputs(_ g: Int) -> Inputs {
                (
                    UnsafeRawPointer(r0 + 4 &* g).loadUnaligned(as: SIMD16<Int8>.self),
                    UnsafeRawPointer(r1 + 4 &* g).loadUnaligned(as: SIMD16<Int8>.self),
                    UnsafeRawPointer(r2 + 4 &* g).loadUnaligned(as: SIMD16<Int8>.self),
                    UnsafeRawPointer(r3 + 4 &* g).loadUnaligned(as: SIMD16<Int8>.self)
                )
            }
            // Spelled out, so that each `sdot` gets its lane as a constant.
            @inline(__always) func add(_ x: Inputs, lane: Int) {
                let wg = GEMM.groupWeights(w)
                w += 64
                p0.add(wg, x.0, lane: lane)
                p1.add(wg, x.1, lane: lane)
                p2.add(wg, x.2, lane: lane)
                p3.add(wg, x.3, lane: lane)
            }
            // Steps of 4 whole groups with no test between them (an in-order core waits at each), then
            // the last 1–3.
            var g = 0
            while g &+ 4 <= t.groups {
                let x = inputs(g)
                add(x, lane: 0)
                add(x, lane: 1)
                add(x, lane: 2)
                add(x, lane: 3)
                g &+= 4
            }
            if g < t.groups {
                let x = inputs(g)
                add(x, lane: 0)
                if g &+ 1 < t.groups { add(x, lane: 1) }
                if g &+ 2 < t.groups { add(x, lane: 2) }
            }
            p0.store(t, pixel: 0, block: block)
            if t.count > 1 { p1.store(t, pixel: 1, block: block) }
            if t.count > 2 { p2.store(t, pixel: 2, block: block) }
            if t.count > 3 { p3.store(t, pixel: 3, block: block) }
        }
    }

    /// The kernel's C entry (declared in cnnq_cpu.h): the runtime calls the level through it, so that
    /// no module built without the level's instructions compiles this body (Embedded Swift would).
    /// `tile` points at a `GEMM.Tile` of at most the rows `InstructionSet.gemm` gives the level.
    @_cdecl("cnnq_gemm_4x16_dotprod")
    public func cnnq_gemm_4x16_dotprod(_ tile: UnsafeRawPointer) {
        Int8GEMM4x16DotProd.multiply(tile.assumingMemoryBound(to: GEMM.Tile.self))
    }
#endif
