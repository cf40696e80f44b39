import CNNQKernels
import CNNQRuntime

extension Quantizer {
    /// Mul: an elementwise product, or a per-channel gate broadcast over the pixels (squeeze-excite).
    mutating func lowerMul(_ node: Node) throws(CNNQError) {
        let out = node.outputs[0]
        var (x, gate) = (try tensor(node.inputs[0], node: node), try tensor(node.inputs[1], node: node))
        let outShape = graph.shapes[out]
        if graph.shapes[node.inputs[0]] != outShape { swap(&x, &gate) }
        guard graph.shapes[model.tensors[x].name] == outShape else {
            throw .unsupportedAttribute(
                node: node.name, op: "Mul", detail: "int8 Mul broadcasts only a per-channel gate over the pixels")
        }
        let y = try newTensor(out, node: node.name)
        let (tx, tg, ty) = (model.tensors[x], model.tensors[gate], model.tensors[y])
        let p = MultiplyParameters(
            inputScale: tx.scale, inputZeroPoint: tx.zeroPoint, gateScale: tg.scale, gateZeroPoint: tg.zeroPoint,
            outputScale: ty.scale, outputZeroPoint: ty.zeroPoint)
        append(
            .init(
                kind: .multiply, name: node.name, inputs: [x, gate], output: y,
                parameters: MultiplyOp.Parameters(p.output)))
    }
}
