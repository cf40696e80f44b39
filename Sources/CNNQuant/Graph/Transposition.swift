/// Index arithmetic of ONNX Transpose on row-major data.
enum Transposition {
    /// For each element of the transposed tensor in row-major order, its index in the source.
    static func sourceIndices(shape: [Int], perm: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        for axis in shape.indices.dropLast().reversed() { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        var order = [0]
        for axis in perm { order = order.flatMap { base in (0..<shape[axis]).map { base + $0 * strides[axis] } } }
        return order
    }
}
