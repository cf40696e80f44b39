/// What the runtime reports, through typed throws in Swift and as `cnnq_status` codes in C. The raw
/// values are part of the C ABI: never renumber, only append.
public enum Status: Int32, Error {
    case ok = 0
    /// A null pointer, a negative size or an index out of range passed by the caller.
    case invalidArgument = 1
    /// The buffer does not start with the `.cnnq` magic.
    case badMagic = 2
    /// A `.cnnq` file of a major version this runtime does not read.
    case unsupportedVersion = 3
    /// The buffer is shorter than the file says it is.
    case truncated = 4
    /// The CRC32 over the file does not match: the file is damaged.
    case checksumMismatch = 5
    /// A count, offset, size or parameter in the file is out of range or inconsistent.
    case malformed = 6
    /// The model buffer or the arena is not aligned to 16 bytes.
    case misaligned = 7
    /// The arena is smaller than `ModelView.arenaSize(threads:)`.
    case arenaTooSmall = 8
    /// The model has an op of a kind this build of the library leaves out (`make -C targets OPS=…`).
    case unsupportedOp = 9
}
