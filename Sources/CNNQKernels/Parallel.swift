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
