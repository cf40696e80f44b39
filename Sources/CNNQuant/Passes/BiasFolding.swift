extension Graph {
    /// Folds an Add of a per-channel constant into the Conv, Gemm or 2-D MatMul before it (exporters
    /// that keep the bias as a separate Add, e.g. PaddlePaddle's): b' = b + c; a MatMul becomes a
    /// Gemm. The producer must have no clamp yet and feed only the Add.
    public mutating func foldBiasAdds() {
        let consumers = consumers()
        var removed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard case .add = node.op, let constant = node.inputs.firstIndex(where: { initializers[$0] != nil }),
                  let c = initializers[node.inputs[constant]]?.floats, let shape = shapes[node.inputs[constant]],
                  let x = node.inputs.first(where: { initializers[$0] == nil }), consumers[x]?.count == 1, !outputs.contains(x),
                  let producer = nodes.firstIndex(where: { $0.outputs == [x] }), let outShape = shapes[x], outShape.count >= 2,
                  nodes[producer].inputs.count >= 2, let weight = initializers[nodes[producer].inputs[1]]
            else { continue }
            let channels = outShape[1]
            // The constant must vary along channels only: [C,1,1] / [1,C,1,1] for NCHW, [C] / [1,C] for [N,C].
            let trailing = outShape.count - 1
            let aligned = Array(repeating: 1, count: max(0, outShape.count - shape.count)) + shape
            guard aligned.count == outShape.count, aligned[0] == 1, aligned[2...].allSatisfy({ $0 == 1 }), c.count == channels || c.count == 1,
                  trailing >= 1 else { continue }
            let target = nodes[producer]
            var op = target.op
            switch target.op {
            case let .conv(_, _, clamp) where clamp.isNone: break
            case let .gemm(_, _, _, beta, clamp) where clamp.isNone && beta == 1: break
            case .matMul where outShape.count == 2 && weight.shape.count == 2:
                op = .gemm(transA: false, transB: false, alpha: 1, beta: 1, clamp: .none)
            default: continue
            }
            var bias = target.inputs.count > 2 ? initializers[target.inputs[2]]?.floats ?? [] : [Float](repeating: 0, count: channels)
            if bias.count == 1 { bias = Array(repeating: bias[0], count: channels) }
            guard bias.count == channels else { continue }
            for i in 0..<channels { bias[i] += c[c.count == 1 ? 0 : i] }
            let biasName = uniqueName(target.name + ".folded_bias")
            initializers[biasName] = Tensor(shape: [channels], floats: bias)
            shapes[biasName] = [channels]
            nodes[producer].op = op
            nodes[producer].inputs = [target.inputs[0], target.inputs[1], biasName]
            nodes[producer].outputs = node.outputs
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }
}
