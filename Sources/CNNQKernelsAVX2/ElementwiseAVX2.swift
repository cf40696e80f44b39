// Built with -mavx2 (Package.swift, targets/Makefile): the process runs it only after
// `cnnq_cpu_features` found AVX2.
#if arch(x86_64)
    import CNNQIntrinsicsAVX2
    import CNNQKernels

    /// The residual add's C entry (declared in cnnq_cpu.h): the portable 8-lane loop (`Add.runLanes`)
    /// compiled with AVX2, which widens, converts and narrows 8 lanes in one register where SSE2
    /// shuffles two (2.8× the time on MobileNet V2's adds).
    @_cdecl("cnnq_add_avx2")
    public func cnnq_add_avx2(
        _ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, _ count: Int, _ parameters: UnsafeRawPointer,
        _ output: UnsafeMutablePointer<Int8>
    ) {
        Add.runLanes(a, b, count: count, parameters.assumingMemoryBound(to: AddParameters.self).pointee, output)
    }

    /// The elementwise product's C entry (declared in cnnq_cpu.h): `Multiply.runPixels` compiled with
    /// AVX2's `vpmulld`, which SSE2 lacks (4.6× the time on MobileNet V3-Large's gates without it).
    @_cdecl("cnnq_multiply_avx2")
    public func cnnq_multiply_avx2(
        _ x: UnsafePointer<Int8>, _ gate: UnsafePointer<Int8>, _ first: Int, _ count: Int, _ channels: Int,
        _ parameters: UnsafeRawPointer, _ output: UnsafeMutablePointer<Int8>
    ) {
        Multiply.runPixels(
            first..<(first + count), x, gate: gate, channels: channels,
            parameters.assumingMemoryBound(to: MultiplyParameters.self).pointee, output)
    }

    /// The global average pool's C entry (declared in cnnq_cpu.h): `Pooling.globalAverage` compiled
    /// with AVX2 (twice the time in SSE2 on MobileNet V3's pools).
    @_cdecl("cnnq_global_average_avx2")
    public func cnnq_global_average_avx2(
        _ input: UnsafePointer<Int8>, _ pixels: Int, _ channels: Int, _ parameters: UnsafeRawPointer,
        _ output: UnsafeMutablePointer<Int8>
    ) {
        Pooling.globalAverage(
            input, pixels: pixels, channels: channels,
            parameters: parameters.assumingMemoryBound(to: Pooling.AverageParameters.self).pointee, output: output)
    }

    /// The table lookup's C entry (declared in cnnq_cpu.h): 32 bytes per step (`cnnq_lookup_ymm`, 16
    /// `vpshufb` and 15 `vpblendvb`), the last count % 32 through the portable loop, which loads a
    /// byte at a time (a twelfth of MobileNet V3-Large's time at AVX2).
    @_cdecl("cnnq_lookup_avx2")
    public func cnnq_lookup_avx2(
        _ table: UnsafePointer<Int8>, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>, _ count: Int
    ) {
        var i = 0
        while i &+ 32 <= count {
            let x = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD8<Int32>.self)
            UnsafeMutableRawPointer(output + i).storeBytes(of: cnnq_lookup_ymm(x, table), as: SIMD8<Int32>.self)
            i &+= 32
        }
        LookupTable.portable(table, input, output, i..<count)
    }
#endif
