/// Size arithmetic for packed layouts, overflow-checked: `Int` is 32 bits on armv7, and the loader
/// computes these sizes from untrusted file words. Nil means the size does not fit an `Int`.
public enum CheckedSize {
    /// `value` rounded up to a multiple of `multiple` (> 0). Always inlined: the multiple is
    /// usually a constant, and out of line the division is an `idiv` on every GEMM call.
    @inlinable @inline(__always)
    public static func roundedUp(_ value: Int, toMultipleOf multiple: Int) -> Int? {
        guard value >= 0 else { return nil }
        let (sum, overflow) = value.addingReportingOverflow(multiple - 1)
        return overflow ? nil : sum / multiple * multiple
    }

    /// The product of non-negative factors.
    @inlinable
    public static func product(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : p
    }
}
