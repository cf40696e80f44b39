// Built with -mavx2 (Package.swift, targets/Makefile): the process runs it only after
// `cnnq_cpu_features` found AVX2.
#if arch(x86_64)
    import CNNQKernels

    /// The kernel's C entry (declared in cnnq_cpu.h): the portable 4×8 kernel (`Int8GEMM4x8`, whose
    /// body is inlinable) compiled with 256-bit `vpmaddwd`, where the baseline module has SSE2's
    /// 128-bit `pmaddwd`. `tile` points at a `GEMM.Tile` of at most 4 rows.
    @_cdecl("cnnq_gemm_4x8_avx2")
    public func cnnq_gemm_4x8_avx2(_ tile: UnsafeRawPointer) {
        Int8GEMM4x8.multiply(tile.assumingMemoryBound(to: GEMM.Tile.self))
    }
#endif
