import CNNQKernels
import CNNQRuntime

extension Quantizer {
    /// Concat, each input requantized to the output: along channels (NHWC's innermost axis), or, for
    /// an output held row-major ([N, L, C], [N, C]), of whole per-batch blocks, which SSD heads' byte
    /// views ([N, H·W·A, K] per feature map) are.
    mutating func lowerConcat(_ node: Node, axis: Int) throws(CNNQError) {
        let out = node.outputs[0]
        let shape = graph.shapes[out] ?? []
        let axis = axis < 0 ? axis + shape.count : axis
        if node.inputs.allSatisfy({ views[$0] == nil }), axis == (shape.count == 4 ? 1 : shape.count - 1) {
            var parts: [Int] = []
            for input in node.inputs { parts.append(try tensor(input, node: node)) }
            return try appendConcat(node.name, parts, output: newTensor(out, node: node.name))
        }
        var parts: [Int] = []
        for input in node.inputs {
            let view = try byteView(input, node: node)
            let batch = model.tensors[view.tensor].batch
            guard shape.count == 2 || shape.count == 3, axis >= 1, view.isRowMajor, view.shape.first == batch,
                view.shape[1..<axis].allSatisfy({ $0 == 1 })
            else {
                throw .unsupportedAttribute(
                    node: node.name, op: "Concat",
                    detail:
                        "int8 Concat joins channels, or [N, L, C] or [N, C] values whose bytes lie in order along axis 1; not axis \(axis) of \(shape)"
                )
            }
            parts.append(view.tensor)
        }
        try appendConcat(node.name, parts, output: newTensor(out, node: node.name))
    }

    /// A graph output that is a view, in a tensor of its own: a one-input concat copies the bytes.
    mutating func materialize(_ name: String, _ view: ByteView) throws(CNNQError) -> Int {
        let source = model.tensors[view.tensor]
        guard view.isRowMajor, view.shape.count == 2 || view.shape.count == 3, view.shape[0] == source.batch else {
            throw .unsupportedAttribute(
                node: "output", op: "",
                detail:
                    "graph output '\(name)' holds another tensor's bytes in another order (Transpose/Reshape); int8 outputs must be [N, L, C] or [N, C] in memory order"
            )
        }
        let y = try newTensor(name, node: "output", quantization: (source.scale, source.zeroPoint))
        try appendConcat("\(name)/copy", [view.tensor], output: y)
        return y
    }

    private mutating func appendConcat(_ name: String, _ parts: [Int], output y: Int) throws(CNNQError) {
        let ty = model.tensors[y]
        let words = parts.flatMap { part in
            let p = RequantizeParameters(
                inputScale: model.tensors[part].scale, inputZeroPoint: model.tensors[part].zeroPoint,
                outputScale: ty.scale, outputZeroPoint: ty.zeroPoint)
            return ConcatOp.Part(p).encoded.words
        }
        append(.init(kind: .concat, name: name, inputs: parts, output: y, words: words))
    }
}
