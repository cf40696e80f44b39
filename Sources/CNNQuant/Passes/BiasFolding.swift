extension Graph {
    /// Folds an Add of a per-channel constant into the Conv, Gemm or 2-D MatMul before it (exporters
    /// that keep the bias as a separate Add, e.g. PaddlePaddle's): b' = b + c; a MatMul becomes a
    /// Gemm. The producer must have no clamp yet and feed only the Add.
    public mutating func foldBiasAdds() {
        var removed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard case .add = node.op, let (c, producer, channels) = perChannelConstantAfterProducer(node) else {
                continue
            }
            let target = nodes[producer]
            var op = target.op
            switch target.op {
            case let .conv(_, _, clamp) where clamp.isNone: break
            case let .gemm(_, _, _, beta, clamp) where clamp.isNone && beta == 1: break
            case .matMul
            where shapes[target.outputs[0]]?.count == 2 && initializers[target.inputs[1]]?.shape.count == 2:
                op = .gemm(transA: false, transB: false, alpha: 1, beta: 1, clamp: .none)
            default: continue
            }
            var bias =
                target.inputs.count > 2
                ? initializers[target.inputs[2]]?.floats ?? [] : [Float](repeating: 0, count: channels)
            if bias.count == 1 { bias = Array(repeating: bias[0], count: channels) }
            guard bias.count == channels else { continue }
            for i in 0..<channels { bias[i] += c[c.count == 1 ? 0 : i] }
            nodes[producer].op = op
            nodes[producer].inputs = [target.inputs[0], target.inputs[1], constant(target.name + ".folded_bias", bias)]
            nodes[producer].outputs = node.outputs
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// Folds a Mul by a per-channel constant into the Conv before it (TF-slim graphs converted by
    /// tf2onnx keep a depthwise layer's BatchNorm as Mul and Add): w' = w·m and b' = b·m per output
    /// channel. The Conv must have no clamp yet and feed only the Mul; the Add after it is then a bias
    /// (`foldBiasAdds`).
    public mutating func foldScaleMuls() {
        var removed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard case .mul = node.op, let (m, producer, channels) = perChannelConstantAfterProducer(node) else {
                continue
            }
            let target = nodes[producer]
            guard case let .conv(_, _, clamp) = target.op, clamp.isNone, let weight = initializers[target.inputs[1]],
                weight.shape.first == channels
            else { continue }
            let scale = { (i: Int) in m[m.count == 1 ? 0 : i] }
            let perChannel = weight.count / channels
            let weights = weight.floats.enumerated().map { $0.element * scale($0.offset / perChannel) }
            var inputs = [target.inputs[0], constant(target.name + ".scaled_weights", weights, shape: weight.shape)]
            if target.inputs.count > 2, let bias = initializers[target.inputs[2]]?.floats, bias.count == channels {
                inputs.append(constant(target.name + ".scaled_bias", bias.indices.map { bias[$0] * scale($0) }))
            } else if target.inputs.count > 2 {
                continue
            }
            nodes[producer].inputs = inputs
            nodes[producer].outputs = node.outputs
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// For a binary node of a runtime value and a constant that varies along channels only ([C,1,1] /
    /// [1,C,1,1] for NCHW, [C] / [1,C] for [N,C], or one value): the constant's values, the node that
    /// produces the runtime value (when it feeds only this node and is not a graph output) and the
    /// channel count.
    func perChannelConstantAfterProducer(_ node: Node) -> (values: [Float], producer: Int, channels: Int)? {
        guard let constant = node.inputs.firstIndex(where: { initializers[$0] != nil }),
            let c = initializers[node.inputs[constant]]?.floats, let shape = shapes[node.inputs[constant]],
            let x = node.inputs.first(where: { initializers[$0] == nil }), consumers()[x]?.count == 1,
            !outputs.contains(x),
            let producer = nodes.firstIndex(where: { $0.outputs == [x] }), let outShape = shapes[x],
            outShape.count >= 2,
            nodes[producer].inputs.count >= 2, initializers[nodes[producer].inputs[1]] != nil
        else { return nil }
        let channels = outShape[1]
        let aligned = Array(repeating: 1, count: max(0, outShape.count - shape.count)) + shape
        guard aligned.count == outShape.count, aligned[0] == 1, aligned[2...].allSatisfy({ $0 == 1 }),
            c.count == channels || c.count == 1
        else { return nil }
        return (c, producer, channels)
    }

    /// A new initializer named after `base`.
    mutating func constant(_ base: String, _ values: [Float], shape: [Int]? = nil) -> String {
        let name = uniqueName(base)
        initializers[name] = Tensor(shape: shape ?? [values.count], floats: values)
        shapes[name] = shape ?? [values.count]
        return name
    }
}
