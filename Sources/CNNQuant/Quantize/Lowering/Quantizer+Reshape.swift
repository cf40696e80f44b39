import CNNQRuntime

extension Quantizer {
    /// Flatten, Reshape, Squeeze, Unsqueeze and Transpose move no bytes. When the NHWC bytes keep
    /// their order the value shares its input's tensor; a flatten of an H×W map is remembered for the
    /// Gemm or MatMul that reads it; anything else becomes a `ByteView` of the input's bytes, which a
    /// Concat or a graph output reads once its order is row-major (SSD heads' [N, A·K, H, W] →
    /// [N, A, K, H, W] → [N, H, W, A, K] → [N, H·W·A, K] is exactly the NHWC bytes).
    mutating func lowerReshape(_ node: Node) throws(CNNQError) {
        let (input, out) = (node.inputs[0], node.outputs[0])
        let shape = graph.shapes[out] ?? []
        let isTranspose = if case .transpose = node.op { true } else { false }
        if views[input] == nil, !isTranspose, shape.count == 2 || shape.count == 4 {
            let float = tensorOf[input] == nil ? floatOf[input] : nil
            let x = if let float { float } else { try tensor(input, node: node) }
            let tx = model.tensors[x]
            if shape.count == 2, tx.rank == 4, shape == [tx.batch, tx.height * tx.width * tx.channels],
                tx.height * tx.width > 1
            {
                spatialFlatten[out] = spatialFlatten[input] ?? tx.name
                return
            }
            // Same N, H, W, C (rank 4 ↔ 4 or 2 only: a rank-3 value with those dims is another order).
            let dims = shape.count == 2 ? [shape[0], 1, 1, shape[1]] : [shape[0], shape[2], shape[3], shape[1]]
            if dims == [tx.batch, tx.height, tx.width, tx.channels] {
                if float != nil { (floatOf[out], floatRange[out]) = (x, floatRange[input]) } else { tensorOf[out] = x }
                return
            }
        }
        let source = try byteView(input, node: node)
        let view: ByteView? =
            if case let .transpose(perm?) = node.op { source.transposed(perm) } else { source.reshaped(to: shape) }
        guard let view else {
            throw .unsupportedAttribute(
                node: node.name, op: node.op.name,
                detail: "it reorders the values' bytes; int8 supports reshapes and transposes that keep them in place")
        }
        let record = model.tensors[view.tensor]
        // Back in the tensor's own layout (a transpose undone): the value is the tensor.
        if record.rank == shape.count, view.placed == ByteView(tensor: view.tensor, shape: shape).placed,
            [record.batch, record.height, record.width, record.channels] == ByteView.nhwcDims(shape)
        {
            tensorOf[out] = view.tensor
        } else {
            views[out] = view
        }
    }

    /// Value `name` as a view of an int8 tensor's bytes (its own tensor's if it is not a view).
    mutating func byteView(_ name: String, node: Node) throws(CNNQError) -> ByteView {
        if let view = views[name] { return view }
        return ByteView(tensor: try tensor(name, node: node), shape: graph.shapes[name] ?? [])
    }
}

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
