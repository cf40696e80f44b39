import CNNQKernels
import CNNQRuntime

extension Quantizer {
    /// GlobalAveragePool, and ReduceMean over H and W.
    mutating func lowerGlobalAveragePool(_ node: Node) throws(CNNQError) {
        let x = try tensor(node.inputs[0], node: node)
        let y = try newTensor(node.outputs[0], node: node.name)
        let (tx, ty) = (model.tensors[x], model.tensors[y])
        let p = Pooling.AverageParameters(
            inputScale: tx.scale, inputZeroPoint: tx.zeroPoint, outputScale: ty.scale,
            outputZeroPoint: ty.zeroPoint, pixels: tx.height * tx.width)
        append(
            .init(
                kind: .globalAveragePool, name: node.name, inputs: [x], output: y,
                parameters: GlobalAveragePoolOp.Parameters(p.output)))
    }
}
