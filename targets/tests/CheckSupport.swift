// What the kernel checks (DepthwiseCheck.swift, GEMMCheck.swift) share: their random shapes and
// their one argument.

/// xorshift64*: the same shapes on every board.
struct Random {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt32 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return UInt32(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 32)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt32(range.upperBound - range.lowerBound + 1))
    }
}

/// The shape count: the first argument's digits, or 600.
func shapeCount(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int {
    guard argc > 1, var p = argv[1] else { return 600 }
    var shapes = 0
    while p.pointee >= 48 && p.pointee <= 57 {
        shapes = shapes * 10 + Int(p.pointee - 48)
        p += 1
    }
    return shapes
}
