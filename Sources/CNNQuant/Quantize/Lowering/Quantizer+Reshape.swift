import CNNQRuntime

extension Quantizer {
    /// Flatten, Reshape, Squeeze and Unsqueeze: free when the NHWC bytes keep their order; a flatten
    /// of an H×W map is remembered for the Gemm or MatMul that reads it.
    mutating func lowerReshape(_ node: Node) throws(CNNQError) {
        let out = node.outputs[0]
        // In NHWC these are free only when the bytes keep their order: same N, H, W, C.
        let float = tensorOf[node.inputs[0]] == nil ? floatOf[node.inputs[0]] : nil
        let x = if let float { float } else { try tensor(node.inputs[0], node: node) }
        let tx = model.tensors[x]
        let shape = graph.shapes[out] ?? []
        if shape.count == 2, tx.rank == 4, shape == [tx.batch, tx.height * tx.width * tx.channels],
            tx.height * tx.width > 1
        {
            spatialFlatten[out] = spatialFlatten[node.inputs[0]] ?? model.tensors[x].name
            return
        }
        guard shape.count == 2 || shape.count == 4,
            (shape.count == 2 ? [shape[0], 1, 1, shape[1]] : [shape[0], shape[2], shape[3], shape[1]]) == [
                tx.batch, tx.height, tx.width, tx.channels,
            ]
        else {
            throw .unsupportedAttribute(
                node: node.name, op: node.op.name,
                detail: "only reshapes that keep the NHWC layout (e.g. [N,C,1,1] → [N,C]) are supported in int8")
        }
        if float != nil { (floatOf[out], floatRange[out]) = (x, floatRange[node.inputs[0]]) } else { tensorOf[out] = x }
    }
}
