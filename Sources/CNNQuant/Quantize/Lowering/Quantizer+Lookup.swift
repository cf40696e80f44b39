import CNNQKernels
import CNNQRuntime

extension Quantizer {
    /// An elementwise function (sigmoid, hard-swish, tanh…) as a 256-entry table of its exact values.
    mutating func lowerFunction(_ node: Node, _ f: ScalarFunction) throws(CNNQError) {
        let x = try tensor(node.inputs[0], node: node)
        let y = try newTensor(node.outputs[0], node: node.name)
        let (tx, ty) = (model.tensors[x], model.tensors[y])
        var table = [Int8](repeating: 0, count: 256)
        table.withUnsafeMutableBufferPointer { buffer in
            LookupTable.build(
                { Double(f(Float($0))) }, inputScale: tx.scale, inputZeroPoint: tx.zeroPoint,
                outputScale: ty.scale, outputZeroPoint: ty.zeroPoint, table: buffer.baseAddress!)
        }
        append(
            .init(
                kind: .lookup, name: node.name, inputs: [x], output: y, parameters: LookupOp.Parameters(),
                constants: [(table.map { UInt8(bitPattern: $0) }, ModelFormat.arrayAlignment)]))
    }
}
