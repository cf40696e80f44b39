import CNNQRuntime

extension Quantizer {
    /// MaxPool and AveragePool; the output keeps the input's quantization.
    mutating func lowerWindowPool(_ node: Node, window: Window) throws(CNNQError) {
        if case .averagePool(_, true) = node.op, window.pads.contains(where: { $0 != 0 }) {
            throw .unsupportedAttribute(
                node: node.name, op: "AveragePool",
                detail: "count_include_pad = 1 with padding is not supported in int8")
        }
        guard window.dilations == [1, 1] else {
            throw .unsupportedAttribute(node: node.name, op: node.op.name, detail: "dilated pooling is not supported")
        }
        let x = try tensor(node.inputs[0], node: node)
        let tx = model.tensors[x]
        // Pooling compares and averages raw int8 values: the output keeps the input's quantization.
        let y = try newTensor(node.outputs[0], node: node.name, quantization: (tx.scale, tx.zeroPoint))
        let ty = model.tensors[y]
        // ceil_mode becomes extra bottom/right padding.
        let bottom = max(
            window.pads[2], (ty.height - 1) * window.strides[0] + window.kernel[0] - tx.height - window.pads[0])
        let right = max(
            window.pads[3], (ty.width - 1) * window.strides[1] + window.kernel[1] - tx.width - window.pads[1])
        let p = WindowPoolOp.Parameters(
            kernel: (window.kernel[0], window.kernel[1]), stride: (window.strides[0], window.strides[1]),
            pads: (window.pads[0], window.pads[1], bottom, right))
        append(
            .init(
                kind: node.op.name == "MaxPool" ? .maxPool : .averagePool, name: node.name, inputs: [x], output: y,
                parameters: p))
    }
}
