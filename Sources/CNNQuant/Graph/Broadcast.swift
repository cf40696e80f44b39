/// Numpy-style broadcasting for binary elementwise ops, shared by constant folding (logical shapes)
/// and the executor (physical shapes).
enum Broadcast {
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        let a = Array(repeating: 1, count: rank - a.count) + a
        let b = Array(repeating: 1, count: rank - b.count) + b
        var result: [Int] = []
        for (x, y) in zip(a, b) {
            guard x == y || x == 1 || y == 1 else { return nil }
            result.append(x == 1 ? y : x)
        }
        return result
    }

    /// Strides of `shape` (right-aligned to `rank`) with 0 along broadcast axes.
    private static func strides(_ shape: [Int], rank: Int, out: [Int]) -> [Int] {
        let padded = Array(repeating: 1, count: rank - shape.count) + shape
        var strides = Array(repeating: 0, count: rank)
        var step = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            strides[axis] = padded[axis] == 1 && out[axis] != 1 ? 0 : step
            step *= padded[axis]
        }
        return strides
    }

    static func apply<T>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int], _ f: (T, T) -> T) -> [T]? {
        guard let out = shape(aShape, bShape) else { return nil }
        if aShape == bShape { return zip(a, b).map(f) }
        let count = out.reduce(1, *)
        if b.count == 1 { return a.map { f($0, b[0]) } }
        if a.count == 1 { return b.map { f(a[0], $0) } }
        // b broadcast over everything but a trailing block (per-channel in NHWC, per-row in 2-D).
        if a.count == count, bShape.last == out.last, b.count == out.last {
            let inner = b.count
            return a.indices.map { f(a[$0], b[$0 % inner]) }
        }
        let rank = out.count
        let sa = strides(aShape, rank: rank, out: out)
        let sb = strides(bShape, rank: rank, out: out)
        var result: [T] = []
        result.reserveCapacity(count)
        var index = Array(repeating: 0, count: rank)
        var offsetA = 0, offsetB = 0
        for _ in 0..<count {
            result.append(f(a[offsetA], b[offsetB]))
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                offsetA += sa[axis]
                offsetB += sb[axis]
                if index[axis] < out[axis] { break }
                offsetA -= sa[axis] * out[axis]
                offsetB -= sb[axis] * out[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }
}
