// What the kernel checks (DepthwiseCheck.swift, GEMMCheck.swift) share: their random shapes,
// their one argument and their report.

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

/// Runs `check` on the shape count given as the first argument (600 without one) and prints
/// `title (what: names): N shapes, F differ from the reference`; the exit status is 1 if any differ.
func runCheck(
    _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, title: String, what: String,
    names: [String],
    _ check: (Int) -> Int
) -> Int32 {
    var shapes = 600
    if argc > 1, var p = argv[1] {
        shapes = 0
        while p.pointee >= 48 && p.pointee <= 57 {
            shapes = shapes * 10 + Int(p.pointee - 48)
            p += 1
        }
    }
    let failures = check(shapes)
    print("\(title) (\(what):", terminator: "")
    for name in names { print(" \(name)", terminator: "") }
    print("): \(shapes) shapes, \(failures) differ from the reference")
    return failures == 0 ? 0 : 1
}
