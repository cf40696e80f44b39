import CNNQKernels

/// Version of the runtime library and of the C ABI it exports. The ABI version changes whenever a
/// struct layout or a function signature in cnnq.h changes.
public enum RuntimeVersion {
    public static let major: Int32 = 0
    public static let minor: Int32 = 11
    public static let patch: Int32 = 0
    public static let abi: Int32 = 2
}

@_cdecl("cnnq_version")
public func cnnq_version() -> Int32 {
    RuntimeVersion.major * 10_000 + RuntimeVersion.minor * 100 + RuntimeVersion.patch
}

@_cdecl("cnnq_abi_version")
public func cnnq_abi_version() -> Int32 { RuntimeVersion.abi }
