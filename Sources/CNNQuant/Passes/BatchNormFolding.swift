extension Graph {
    /// Folds BatchNormalization into the Conv or Gemm before it when that producer's output feeds
    /// nothing else: w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β.
    public mutating func foldBatchNorms() {
        var consumers = consumers()
        var removed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard let (scale, shift) = batchNormAffine(node),
                let producer = nodes.firstIndex(where: { $0.outputs.contains(node.inputs[0]) }),
                consumers[node.inputs[0]]?.count == 1, !outputs.contains(node.inputs[0])
            else { continue }
            let target = nodes[producer]
            guard target.inputs.count >= 2, let weight = initializers[target.inputs[1]] else { continue }
            let channels = scale.count
            var folded = weight.floats
            var bias =
                target.inputs.count > 2 ? initializers[target.inputs[2]]?.floats : Array(repeating: 0, count: channels)
            switch target.op {
            case .conv:
                let block = weight.count / channels
                for c in 0..<channels { for i in 0..<block { folded[c * block + i] *= scale[c] } }
            case let .gemm(_, transB, alpha, beta, _) where alpha == 1 && beta == 1:
                let k = weight.count / channels
                for c in 0..<channels {
                    for i in 0..<k { folded[transB ? c * k + i : i * channels + c] *= scale[c] }
                }
                if bias?.count == 1 { bias = Array(repeating: bias![0], count: channels) }
            default:
                continue
            }
            guard var bias, bias.count == channels else { continue }
            for c in 0..<channels { bias[c] = bias[c] * scale[c] + shift[c] }
            let weightName = uniqueName(target.name + ".folded_weight")
            let biasName = uniqueName(target.name + ".folded_bias")
            initializers[weightName] = Tensor(shape: weight.shape, floats: folded)
            initializers[biasName] = Tensor(shape: [channels], floats: bias)
            nodes[producer].inputs = [target.inputs[0], weightName, biasName]
            nodes[producer].outputs = node.outputs
            consumers[node.inputs[0]] = nil
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// A BatchNormalization left after folding (pre-activation nets such as DenseNet normalise a
    /// concatenation) becomes its per-channel affine map as a 1×1 depthwise convolution, which an int8
    /// kernel runs and a following ReLU fuses into.
    public mutating func batchNormsToDepthwise() {
        for (index, node) in nodes.enumerated() {
            guard let (scale, shift) = batchNormAffine(node), let shape = shapes[node.inputs[0]], shape.count == 4,
                shape[1] == scale.count
            else { continue }
            let channels = scale.count
            let weightName = uniqueName(node.name + ".weight"), biasName = uniqueName(node.name + ".bias")
            initializers[weightName] = Tensor(shape: [channels, 1, 1, 1], floats: scale)
            initializers[biasName] = Tensor(shape: [channels], floats: shift)
            nodes[index] = Node(
                name: node.name, op: .conv(window: Window(kernel: [1, 1]), group: channels, clamp: .none),
                inputs: [node.inputs[0], weightName, biasName], outputs: node.outputs)
        }
    }

    /// A BatchNormalization node with constant parameters as y = x·scale + shift per channel:
    /// scale = γ/√(σ²+ε), shift = β − μ·scale.
    func batchNormAffine(_ node: Node) -> (scale: [Float], shift: [Float])? {
        guard case let .batchNorm(epsilon) = node.op,
            case let params = node.inputs[1...4].compactMap({ initializers[$0]?.floats }), params.count == 4,
            Set(params.map(\.count)).count == 1
        else { return nil }
        let (gamma, beta, mean, variance) = (params[0], params[1], params[2], params[3])
        let scale = zip(gamma, variance).map { $0 / ($1 + epsilon).squareRoot() }
        return (scale, (0..<scale.count).map { beta[$0] - mean[$0] * scale[$0] })
    }

    func uniqueName(_ base: String) -> String {
        var name = base
        var suffix = 1
        while initializers[name] != nil || shapes[name] != nil {
            suffix += 1
            name = "\(base)_\(suffix)"
        }
        return name
    }
}
