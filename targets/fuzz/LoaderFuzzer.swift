import CNNQKernels
import CNNQRuntime

/// libFuzzer entry point: any bytes as a model file. Loading must reject them with a status or accept
/// them; an accepted model must run. AddressSanitizer turns any read or write outside the buffer or
/// the arena into a crash, which the fuzzer reports.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    // The model buffer must be 16-byte aligned; the fuzzer's is not.
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 16)
    defer { buffer.deallocate() }
    buffer.copyMemory(from: data, byteCount: size)
    guard let model = try? ModelView(UnsafeRawPointer(buffer), size: size) else { return 0 }
    let arenaSize = model.arenaSize(threads: threadCount)
    guard arenaSize <= 64 << 20 else { return 0 }
    let arena = UnsafeMutableRawPointer.allocate(byteCount: max(arenaSize, 1), alignment: 64)
    defer { arena.deallocate() }
    arena.initializeMemory(as: UInt8.self, repeating: 0, count: arenaSize)
    _ = try? Interpreter.invoke(model, arena: arena, arenaSize: arenaSize, isa: .best)
    return 0
}
