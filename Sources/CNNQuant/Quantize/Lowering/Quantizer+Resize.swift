import CNNQRuntime

extension Quantizer {
    /// Resize of rows and columns: the output keeps the input's quantization (nearest copies values,
    /// bilinear averages them), and the coordinate mapping becomes the kernel's exact rationals.
    mutating func lowerResize(_ node: Node, _ attributes: ResizeAttributes) throws(CNNQError) {
        let (x, y) = try sameQuantization(node)
        let tx = model.tensors[x]
        let ty = model.tensors[y]
        let input = [tx.batch, tx.channels, tx.height, tx.width], output = [ty.batch, ty.channels, ty.height, ty.width]
        guard let (rows, columns) = attributes.axes(input: input, output: output) else {
            throw .unsupportedAttribute(
                node: node.name, op: "Resize", detail: "the scales cannot be written as 32-bit coordinate ratios")
        }
        var p = ResizeOp.Parameters()
        switch attributes.mode {
        case .linear: p.linear = 1
        case let .nearest(rounding): p.rounding = rounding.rawValue
        }
        (p.ya, p.yb, p.yd) = (Int32(rows.a), Int32(rows.b), Int32(rows.d))
        (p.xa, p.xb, p.xd) = (Int32(columns.a), Int32(columns.b), Int32(columns.d))
        append(.init(kind: .resize, name: node.name, inputs: [x], output: y, parameters: p))
    }
}
