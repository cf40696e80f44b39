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
            if ByteView.nhwcDims(shape) == [tx.batch, tx.height, tx.width, tx.channels] {
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
