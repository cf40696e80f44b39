// Built with -mavx2 (Package.swift, targets/Makefile): the process runs it only after
// `cnnq_cpu_features` found AVX2.
#if arch(x86_64)
    import CNNQKernels

    /// The kernel's C entry (declared in cnnq_cpu.h): output row `row` of the 3×3 or 5×5 depthwise
    /// layer whose `Depthwise.Rows` `rows` points at, by the portable paired-tap bodies compiled with
    /// 256-bit `vpmaddwd`.
    @_cdecl("cnnq_depthwise_avx2")
    public func cnnq_depthwise_avx2(_ rows: UnsafeRawPointer, _ row: Int) {
        rows.assumingMemoryBound(to: Depthwise.Rows.self).pointee.runPaired(row)
    }
#endif
