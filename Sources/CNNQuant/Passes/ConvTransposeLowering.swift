extension Graph {
    /// Rewrites each ConvTranspose as the convolution it equals: the input spread `strides` apart
    /// with zeros between (`insertZeros`, none at stride 1), padded by d·(k−1) less the ONNX pads
    /// (plus the output padding at the end), convolved at stride 1 with the kernel flipped and its
    /// two channel axes swapped within each group. The int8 runtime then runs it with its
    /// convolution kernels (a stride-2 layer multiplies 4× as many values, three of four zeros), and
    /// a BatchNorm after it folds as after any convolution. A kernel equal to its stride s with no
    /// pads or groups (DB text heads' k2 s2) becomes a 1×1 convolution to s²·M channels and a
    /// depth-to-space instead: each output pixel takes one input pixel and one tap, so nothing
    /// multiplies a zero; a BatchNorm, bias Add or activation after it moves before the
    /// depth-to-space (`sinkDepthToSpaces`) and folds into the 1×1 convolution.
    public mutating func lowerConvTransposes() throws(CNNQError) {
        var rewritten: [Node] = []
        for node in nodes {
            guard case let .convTranspose(window, group, outputPadding) = node.op else {
                rewritten.append(node)
                continue
            }
            guard let weight = initializers[node.inputs[1]], let x = shapes[node.inputs[0]] else {
                throw .unsupportedAttribute(
                    node: node.name, op: "ConvTranspose", detail: "weights computed at run time are not supported")
            }
            let s = window.strides[0]
            if group == 1, window.kernel == [s, s], window.strides == [s, s], window.dilations == [1, 1],
                window.pads == [0, 0, 0, 0], outputPadding == [0, 0], s > 1
            {
                rewritten += try subPixel(node, weight: weight, input: x, blockSize: s)
                continue
            }
            let (k, d) = (window.kernel, window.dilations)
            var pads: [Int] = []
            for (side, axis) in [(0, 0), (1, 1), (2, 0), (3, 1)] {
                pads.append(d[axis] * (k[axis] - 1) - window.pads[side] + (side >= 2 ? outputPadding[axis] : 0))
            }
            guard pads.allSatisfy({ $0 >= 0 }) else {
                throw .unsupportedAttribute(
                    node: node.name, op: "ConvTranspose",
                    detail: "pads \(window.pads) beyond the dilated kernel \(k) are not supported")
            }
            var input = node.inputs[0]
            if window.strides != [1, 1] {
                let spread = uniqueName(node.name + ".spread")
                rewritten.append(
                    Node(
                        name: node.name + ".spread", op: .insertZeros(strides: window.strides), inputs: [input],
                        outputs: [spread]))
                shapes[spread] = [x[0], x[1], (x[2] - 1) * window.strides[0] + 1, (x[3] - 1) * window.strides[1] + 1]
                input = spread
            }
            let flipped = uniqueName(node.name + ".conv_weight")
            initializers[flipped] = Self.convolutionWeight(weight, group: group)
            shapes[flipped] = initializers[flipped]!.shape
            let convolution = Window(kernel: k, strides: [1, 1], dilations: d, pads: pads)
            rewritten.append(
                Node(
                    name: node.name, op: .conv(window: convolution, group: group, clamp: .none),
                    inputs: [input, flipped] + node.inputs.dropFirst(2), outputs: node.outputs))
        }
        nodes = rewritten
    }

    /// A ConvTranspose with kernel = stride = s as a 1×1 convolution whose output channel
    /// (i·s + j)·M + m holds tap (i, j) of channel m, then a depth-to-space of block s.
    mutating func subPixel(_ node: Node, weight: Tensor, input x: [Int], blockSize s: Int) throws(CNNQError) -> [Node] {
        let (c, m) = (weight.shape[0], weight.shape[1])
        let values = weight.floats
        var w = [Float](repeating: 0, count: values.count)
        for i in 0..<(s * s) {
            for o in 0..<m {
                for k in 0..<c { w[(i * m + o) * c + k] = values[(k * m + o) * s * s + i] }
            }
        }
        let name = uniqueName(node.name + ".taps_weight")
        initializers[name] = Tensor(shape: [s * s * m, c, 1, 1], floats: w)
        shapes[name] = [s * s * m, c, 1, 1]
        var inputs = [node.inputs[0], name]
        if node.inputs.count > 2, !node.inputs[2].isEmpty {
            guard let bias = initializers[node.inputs[2]] else {
                throw .unsupportedAttribute(
                    node: node.name, op: "ConvTranspose", detail: "a bias computed at run time is not supported")
            }
            inputs.append(constant(node.name + ".taps_bias", Self.tiled(bias.floats, s * s)))
        }
        let taps = uniqueName(node.name + ".taps")
        shapes[taps] = [x[0], s * s * m, x[2], x[3]]
        return [
            Node(
                name: node.name + ".taps", op: .conv(window: Window(kernel: [1, 1]), group: 1, clamp: .none),
                inputs: inputs, outputs: [taps]),
            Node(name: node.name, op: .depthToSpace(blockSize: s), inputs: [taps], outputs: node.outputs),
        ]
    }

    /// ConvTranspose weights [C, M/g, kh, kw] as convolution weights [M, C/g, kh, kw], flipped.
    static func convolutionWeight(_ w: Tensor, group: Int) -> Tensor {
        let (c, mg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let cg = c / group
        let values = w.floats
        var out = [Float](repeating: 0, count: values.count)
        for g in 0..<group {
            for m in 0..<mg {
                for i in 0..<cg {
                    for y in 0..<kh {
                        for x in 0..<kw {
                            out[(((g * mg + m) * cg + i) * kh + y) * kw + x] =
                                values[(((g * cg + i) * mg + m) * kh + (kh - 1 - y)) * kw + (kw - 1 - x)]
                        }
                    }
                }
            }
        }
        return Tensor(shape: [mg * group, cg, kh, kw], floats: out)
    }
}
