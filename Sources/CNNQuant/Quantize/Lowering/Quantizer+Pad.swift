import CNNQRuntime

extension Quantizer {
    /// Pad of rows and columns with a constant: the output keeps the input's quantization, and the
    /// constant becomes the int8 level nearest to it (the zero point for 0, exactly).
    mutating func lowerPad(_ node: Node, pads: [Int], value: Float) throws(CNNQError) {
        guard pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
            throw .unsupportedAttribute(
                node: node.name, op: "Pad",
                detail: "int8 Pad pads the rows and columns of an NCHW tensor only, not \(pads)")
        }
        let (x, y) = try sameQuantization(node)
        let tx = model.tensors[x]
        let level = (Double(value) / tx.scale).rounded() + Double(tx.zeroPoint)
        guard level >= -128, level <= 127 else {
            throw .unsupportedAttribute(
                node: node.name, op: "Pad", detail: "the pad value \(value) lies outside the input's int8 range")
        }
        var p = PadOp.Parameters()
        (p.top, p.left, p.bottom, p.right) = (Int32(pads[2]), Int32(pads[3]), Int32(pads[6]), Int32(pads[7]))
        p.value = Int32(level)
        append(.init(kind: .pad, name: node.name, inputs: [x], output: y, parameters: p))
    }
}
