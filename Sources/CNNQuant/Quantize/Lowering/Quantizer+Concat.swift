import CNNQKernels
import CNNQRuntime

extension Quantizer {
    /// Concat along channels, each input requantized to the output.
    mutating func lowerConcat(_ node: Node, axis: Int) throws(CNNQError) {
        let out = node.outputs[0]
        let rank = graph.shapes[out]?.count ?? 0
        guard axis == 1 || axis == -rank + 1 else {
            throw .unsupportedAttribute(
                node: node.name, op: "Concat", detail: "int8 Concat joins channels (axis 1), not axis \(axis)")
        }
        var parts: [Int] = []
        for input in node.inputs { parts.append(try tensor(input, node: node)) }
        let y = try newTensor(out, node: node.name)
        let ty = model.tensors[y]
        let words = parts.flatMap { part in
            let p = RequantizeParameters(
                inputScale: model.tensors[part].scale, inputZeroPoint: model.tensors[part].zeroPoint,
                outputScale: ty.scale, outputZeroPoint: ty.zeroPoint)
            return ConcatOp.Part(p).encoded.words
        }
        append(.init(kind: .concat, name: node.name, inputs: parts, output: y, words: words))
    }
}
