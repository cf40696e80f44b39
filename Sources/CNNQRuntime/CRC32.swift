/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib and PNG), computed without a table so
/// the runtime needs no static data: 8 branch-free steps per byte.
public func crc32(_ bytes: UnsafeRawPointer, count: Int, seed: UInt32 = 0) -> UInt32 {
    var crc = ~seed
    let p = bytes.assumingMemoryBound(to: UInt8.self)
    for i in 0..<count {
        crc ^= UInt32(p[i])
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}
