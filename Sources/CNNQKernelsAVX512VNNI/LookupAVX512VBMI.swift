// Built with the AVX-512 flags (see Int8GEMM8x16AVX512VNNI.swift), VBMI among them; run only on such a CPU.
#if arch(x86_64)
    import CNNQIntrinsicsAVX512VNNI
    import CNNQKernels

    /// The 256-entry table lookup of AVX-512 VBMI: the table in four zmm, 64 bytes per `vpermi2b`
    /// pair and a blend; the last count % 64 bytes through the portable loop.
    enum LookupAVX512VBMI {
        static func run(
            _ table: UnsafePointer<Int8>, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>,
            count: Int
        ) {
            let t = UnsafeRawPointer(table)
            let t0 = t.loadUnaligned(as: SIMD16<Int32>.self),
                t1 = t.loadUnaligned(fromByteOffset: 64, as: SIMD16<Int32>.self)
            let t2 = t.loadUnaligned(fromByteOffset: 128, as: SIMD16<Int32>.self)
            let t3 = t.loadUnaligned(fromByteOffset: 192, as: SIMD16<Int32>.self)
            var i = 0
            while i &+ 64 <= count {
                let x = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD16<Int32>.self)
                UnsafeMutableRawPointer(output + i).storeBytes(
                    of: cnnq_lookup_zmm(x, t0, t1, t2, t3), as: SIMD16<Int32>.self)
                i &+= 64
            }
            LookupTable.portable(table, input, output, i..<count)
        }
    }

    /// The kernel's C entry (declared in cnnq_cpu.h), for `InstructionSet.lookup`.
    @_cdecl("cnnq_lookup_avx512vnni")
    public func cnnq_lookup_avx512vnni(
        _ table: UnsafePointer<Int8>, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>, _ count: Int
    ) {
        LookupAVX512VBMI.run(table, input, output, count: count)
    }
#endif
