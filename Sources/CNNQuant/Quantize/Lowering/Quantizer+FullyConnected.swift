import CNNQRuntime

extension Quantizer {
    /// Gemm: X·B (+ C) with a constant B.
    mutating func lowerGemm(_ node: Node, transA: Bool, transB: Bool, alpha: Float, beta: Float, clamp: Clamp)
        throws(CNNQError)
    {
        guard !transA, let b = graph.initializers[node.inputs[1]] else {
            throw .unsupportedAttribute(
                node: node.name, op: "Gemm", detail: "only X·B with a constant B (transA = 0) is supported")
        }
        let (k, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        let v = b.floats
        let weights = (0..<(n * k)).map { i in alpha * (transB ? v[i] : v[(i % k) * n + i / k]) }
        var bias: [Float]?
        if node.inputs.count > 2 {
            guard let c = graph.initializers[node.inputs[2]], c.count == n || c.count == 1 else {
                throw .unsupportedAttribute(
                    node: node.name, op: "Gemm", detail: "C must be a constant of N or 1 values")
            }
            bias = (0..<n).map { beta * c.floats[c.count == 1 ? 0 : $0] }
        }
        try fullyConnected(node, weights: weights, bias: bias, clamp: clamp)
    }

    /// MatMul: X·B with a constant 2-D B.
    mutating func lowerMatMul(_ node: Node) throws(CNNQError) {
        guard let b = graph.initializers[node.inputs[1]], b.shape.count == 2 else {
            throw .unsupportedAttribute(
                node: node.name, op: "MatMul", detail: "only X·B with a constant 2-D B is supported")
        }
        let (k, n) = (b.shape[0], b.shape[1])
        let v = b.floats
        let weights = (0..<(n * k)).map { v[($0 % k) * n + $0 / k] }
        try fullyConnected(node, weights: weights, bias: nil, clamp: .none)
    }

    /// Gemm and MatMul with [n][k] weights: a pointwise op on a vector, or an H×W convolution over the
    /// map a flatten reads (`spatialFlatten`), with the weights reordered from NCHW to NHWC flatten order.
    mutating func fullyConnected(_ node: Node, weights: [Float], bias: [Float]?, clamp: Clamp) throws(CNNQError) {
        var (input, weights, kernel, kind) = (node.inputs[0], weights, (1, 1), ModelFormat.OpKind.pointwise)
        var (means, measured) = (inputMeans[node.name], measuredMeans[node.name])
        if let map = spatialFlatten[input], let shape = graph.shapes[map] {
            let (c, h, w) = (shape[1], shape[2], shape[3])
            let k = c * h * w, n = weights.count / k
            var nhwc = [Float](repeating: 0, count: weights.count)
            for j in 0..<n {
                for ch in 0..<c { for p in 0..<(h * w) { nhwc[j * k + p * c + ch] = weights[j * k + ch * h * w + p] } }
            }
            // The vector's means are in flatten order too: each map position becomes a tap.
            func reordered(_ flat: [Double]) -> [Double]? {
                flat.count == k ? (0..<k).map { flat[($0 % c) * h * w + $0 / c] } : nil
            }
            means = means.flatMap(reordered)
            measured = measured.flatMap { m in reordered(m.float).map { .init(float: $0, int8: m.int8) } }
            (input, weights, kernel, kind) = (map, nhwc, (h, w), .convolution)
        }
        var flat = node
        flat.inputs[0] = input
        let window = Window(kernel: [kernel.0, kernel.1])
        if options.exclude.contains(node.name) {
            return try floatConvolution(
                flat, weights: weights, bias: bias, kernel: kernel, window: window, groups: 1, clamp: clamp)
        }
        let x = try tensor(input, node: node)
        let y = try newTensor(node.outputs[0], node: node.name, range: clampedRange(node.outputs[0], clamp))
        try convolution(
            node, kind: kind, x: x, y: y, weights: weights, bias: bias, kernel: kernel, window: window, groups: 1,
            clamp: clamp, means: means, measured: measured)
    }

}
