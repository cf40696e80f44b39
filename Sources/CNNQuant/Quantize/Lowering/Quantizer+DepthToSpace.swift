import CNNQRuntime

extension Quantizer {
    /// Channels into blocks of pixels: a permutation of bytes, so the output keeps the input's quantization.
    mutating func lowerDepthToSpace(_ node: Node, blockSize: Int) throws(CNNQError) {
        let (x, y) = try sameQuantization(node)
        var p = DepthToSpaceOp.Parameters()
        p.blockSize = Int32(blockSize)
        append(.init(kind: .depthToSpace, name: node.name, inputs: [x], output: y, parameters: p))
    }
}
