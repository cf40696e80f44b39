/// Rank-4 activations are held NHWC in memory while shapes stay logical NCHW (ONNX); every other
/// rank is held as is. These helpers move data between the two orders.
enum Layout {
    /// Physical position of logical NCHW axis `axis` in NHWC.
    static func physicalAxis(_ axis: Int, rank: Int) -> Int {
        rank == 4 ? [0, 3, 1, 2][axis] : axis
    }

    static func physicalShape(_ shape: [Int]) -> [Int] {
        shape.count == 4 ? [shape[0], shape[2], shape[3], shape[1]] : shape
    }

    static func toNHWC(_ data: [Float], _ shape: [Int]) -> [Float] {
        guard shape.count == 4, shape[1] > 1, shape[2] * shape[3] > 1 else { return data }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var out = [Float](repeating: 0, count: data.count)
        for b in 0..<n {
            for y in 0..<h {
                for x in 0..<w {
                    for ch in 0..<c {
                        out[((b * h + y) * w + x) * c + ch] = data[((b * c + ch) * h + y) * w + x]
                    }
                }
            }
        }
        return out
    }

    static func toNCHW(_ data: [Float], _ shape: [Int]) -> [Float] {
        guard shape.count == 4, shape[1] > 1, shape[2] * shape[3] > 1 else { return data }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var out = [Float](repeating: 0, count: data.count)
        for b in 0..<n {
            for ch in 0..<c {
                for y in 0..<h {
                    for x in 0..<w {
                        out[((b * c + ch) * h + y) * w + x] = data[((b * h + y) * w + x) * c + ch]
                    }
                }
            }
        }
        return out
    }
}
