import CNNQKernels
import CNNQRuntime

extension Quantizer {
    /// Add of two tensors of one shape: int8 with both inputs rescaled, or float32 if excluded.
    mutating func lowerAdd(_ node: Node) throws(CNNQError) {
        let out = node.outputs[0]
        let float = options.exclude.contains(node.name)
        guard graph.shapes[node.inputs[0]] == graph.shapes[node.inputs[1]] else {
            throw .unsupportedAttribute(
                node: node.name, op: "Add",
                detail: "\(float ? "float" : "int8") Add needs operands of one shape (no broadcast)")
        }
        if float {
            let (a, b) = (try floatTensor(node.inputs[0], node: node), try floatTensor(node.inputs[1], node: node))
            let y = try newFloatTensor(out, node: node.name, range: nil)
            append(.init(kind: .floatAdd, name: node.name, inputs: [a, b], output: y))
            return
        }
        let (a, b) = (try tensor(node.inputs[0], node: node), try tensor(node.inputs[1], node: node))
        let y = try newTensor(out, node: node.name)
        let (ta, tb, ty) = (model.tensors[a], model.tensors[b], model.tensors[y])
        let p = AddParameters(
            inputScales: (ta.scale, tb.scale), inputZeroPoints: (ta.zeroPoint, tb.zeroPoint),
            outputScale: ty.scale, outputZeroPoint: ty.zeroPoint)
        append(.init(kind: .add, name: node.name, inputs: [a, b], output: y, parameters: AddOp.Parameters(p)))
    }
}
