/// A value whose bytes are an int8 tensor's, read in another order: `shape` is the value's logical
/// (ONNX) shape and `order` its axes from outermost to innermost in memory.
struct ByteView {
    var tensor: Int
    var shape: [Int]
    var order: [Int]

    /// The tensor itself: NHWC for rank 4, row-major otherwise.
    init(tensor: Int, shape: [Int]) {
        self.tensor = tensor
        self.shape = shape
        order = shape.count == 4 ? [0, 2, 3, 1] : Array(shape.indices)
    }

    init(tensor: Int, shape: [Int], order: [Int]) { (self.tensor, self.shape, self.order) = (tensor, shape, order) }

    /// The memory order of the axes that matter (extent > 1).
    var placed: [Int] { order.filter { shape[$0] > 1 } }

    /// Memory order is logical order.
    var isRowMajor: Bool { placed == placed.sorted() }

    /// NHWC dims of an int8 tensor of `shape`: rank 4 NCHW, 3 [N, L, C] as N×L×1×C, 2 [N, C] as N×1×1×C.
    static func nhwcDims(_ shape: [Int]) -> [Int]? {
        switch shape.count {
        case 4: [shape[0], shape[2], shape[3], shape[1]]
        case 3: [shape[0], shape[1], 1, shape[2]]
        case 2: [shape[0], 1, 1, shape[1]]
        default: nil
        }
    }

    func transposed(_ perm: [Int]) -> ByteView {
        var inverse = Array(repeating: 0, count: perm.count)
        for (i, axis) in perm.enumerated() { inverse[axis] = i }
        return ByteView(tensor: tensor, shape: perm.map { shape[$0] }, order: order.map { inverse[$0] })
    }

    /// The same bytes as `target`, if every group of axes the reshape merges or splits lies
    /// contiguous and in logical order in memory.
    func reshaped(to target: [Int]) -> ByteView? {
        let from = shape.indices.filter { shape[$0] > 1 }, to = target.indices.filter { target[$0] > 1 }
        guard shape.reduce(1, *) == target.reduce(1, *) else { return nil }
        // Pair runs of source and target axes with equal products.
        var groupOf: [Int: Int] = [:]
        var groups: [[Int]] = []
        var (i, j) = (0, 0)
        while i < from.count && j < to.count {
            var (a, b) = ([from[i]], [to[j]])
            var (p, q) = (shape[from[i]], target[to[j]])
            (i, j) = (i + 1, j + 1)
            while p != q {
                if p < q, i < from.count {
                    a.append(from[i])
                    p *= shape[from[i]]
                    i += 1
                } else if q < p, j < to.count {
                    b.append(to[j])
                    q *= target[to[j]]
                    j += 1
                } else {
                    return nil
                }
            }
            for axis in a { groupOf[axis] = groups.count }
            groups.append(b)
        }
        let placed = self.placed
        var newOrder = target.indices.filter { target[$0] == 1 }
        var k = 0
        while k < placed.count {
            let g = groupOf[placed[k]]!
            let members = from.filter { groupOf[$0] == g }
            guard Array(placed[k..<min(placed.count, k + members.count)]) == members else { return nil }
            newOrder += groups[g]
            k += members.count
        }
        return ByteView(tensor: tensor, shape: target, order: newOrder)
    }
}
