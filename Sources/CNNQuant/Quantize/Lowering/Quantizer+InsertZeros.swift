import CNNQRuntime

extension Quantizer {
    /// Zeros between pixels: the output keeps the input's quantization, so a zero is its zero point.
    mutating func lowerInsertZeros(_ node: Node, strides: [Int]) throws(CNNQError) {
        guard strides.allSatisfy({ (1...64).contains($0) }) else {
            throw .unsupportedAttribute(
                node: node.name, op: "ConvTranspose", detail: "strides \(strides) beyond 64 are not supported")
        }
        let (x, y) = try sameQuantization(node)
        var p = InsertZerosOp.Parameters()
        (p.strideHeight, p.strideWidth) = (Int32(strides[0]), Int32(strides[1]))
        append(.init(kind: .insertZeros, name: node.name, inputs: [x], output: y, parameters: p))
    }
}
