import CNNQThreads

/// Runs `body(i)` for every `i` in `0..<count`, spread over the OpenMP threads of the C shim.
/// `body` must write disjoint memory for distinct indices; results then do not depend on the
/// thread count.
@inlinable
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 || cnnq_thread_count() == 1 {
        for i in 0..<count { body(i) }
        return
    }
    withoutActuallyEscaping(body) { escaping in
        var task = escaping
        withUnsafeMutablePointer(to: &task) { pointer in
            cnnq_parallel_for(count, UnsafeMutableRawPointer(pointer)) { context, index in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
            }
        }
    }
}

/// Threads used by `parallelFor`; `setThreadCount` changes it for the whole process.
public var threadCount: Int { Int(cnnq_thread_count()) }

public func setThreadCount(_ n: Int) { cnnq_set_thread_count(Int32(n)) }

/// Multiply-accumulates below which a layer runs on the calling thread (see the C shim), for the
/// whole process like `threadCount`.
public var serialMACs: Int { Int(cnnq_serial_macs()) }

public func setSerialMACs(_ n: Int) { cnnq_set_serial_macs(n) }

/// Splits `0..<count` into one contiguous range per thread and runs `body(slot, range)` for each;
/// `slot` < `threadCount`, so it can index per-thread scratch memory. All on the caller (slot 0)
/// when the work, `macs`, is below `serialMACs`.
@inlinable
public func parallelRanges(_ count: Int, macs: Int = .max, _ body: (_ slot: Int, _ range: Range<Int>) -> Void) {
    let slots = macs < serialMACs ? 1 : max(1, min(threadCount, count))
    parallelFor(slots) { slot in body(slot, (count * slot / slots)..<(count * (slot + 1) / slots)) }
}

/// Runs `body(range)` over `0..<count` cut into pieces of `grain` (the last shorter), the pieces
/// spread over threads in contiguous runs: for elementwise kernels, each output written once, so
/// the result does not depend on the thread count. A count within one grain runs on the caller.
@inlinable
public func parallelChunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    parallelRanges((count + grain - 1) / grain) { _, pieces in
        body((pieces.lowerBound * grain)..<min(count, pieces.upperBound * grain))
    }
}
