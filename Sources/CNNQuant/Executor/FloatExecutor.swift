/// Runs a prepared float graph on the CPU: NHWC activations, multi-threaded convolution and pooling.
/// It is the float reference that int8 results are compared against.
public final class FloatExecutor {
    public let graph: Graph
    private var convolutions: [Int: FloatConvolution] = [:]

    /// `graph` must have been through `prepare()` (shapes inferred, constants folded).
    public init(graph: Graph) throws(CNNQError) {
        self.graph = graph
        for (index, node) in graph.nodes.enumerated() {
            guard case let .conv(window, group, clamp) = node.op else { continue }
            guard let weight = graph.initializers[node.inputs[1]] else {
                throw .unsupportedAttribute(
                    node: node.name, op: "Conv", detail: "weights computed at run time are not supported")
            }
            let bias = node.inputs.count > 2 ? graph.initializers[node.inputs[2]] : nil
            if node.inputs.count > 2 && bias == nil {
                throw .unsupportedAttribute(
                    node: node.name, op: "Conv", detail: "a bias computed at run time is not supported")
            }
            convolutions[index] = FloatConvolution(
                window: window, group: group, clamp: clamp, weight: weight, bias: bias)
        }
    }

    /// A value during execution: logical shape, data in physical order (NHWC for rank 4).
    struct Value {
        var shape: [Int]
        var data: [Float]
        var logical: [Float] { Layout.toNCHW(data, shape) }
        init(shape: [Int], data: [Float]) { self.shape = shape; self.data = data }
        init(logical tensor: Tensor) { shape = tensor.shape; data = Layout.toNHWC(tensor.floats, tensor.shape) }
    }

    /// Runs the graph; inputs and outputs are in logical (ONNX NCHW) order. `observe(name, values)`
    /// sees every graph input and node result in physical order (NHWC for rank 4: channels innermost).
    public func run(_ feeds: [String: Tensor], observe: (String, [Float]) -> Void = { _, _ in }) throws(CNNQError)
        -> [String: Tensor]
    {
        var values: [String: Value] = [:]
        for input in graph.inputs {
            guard let tensor = feeds[input.name] else { throw .invalidArgument("missing input '\(input.name)'") }
            guard tensor.shape == input.shape else {
                throw .invalidArgument(
                    "input '\(input.name)' has shape \(tensor.shape); the model expects \(input.shape)")
            }
            values[input.name] = Value(logical: tensor)
            observe(input.name, values[input.name]!.data)
        }
        func value(_ name: String) -> Value {
            if let value = values[name] { return value }
            return Value(logical: graph.initializers[name]!)
        }
        for (index, node) in graph.nodes.enumerated() {
            let inputs = node.inputs.filter { !$0.isEmpty }.map(value)
            let shape = graph.shapes[node.outputs[0]]!
            values[node.outputs[0]] = Value(
                shape: shape, data: try execute(node, index: index, inputs, outputShape: shape))
            observe(node.outputs[0], values[node.outputs[0]]!.data)
        }
        var results: [String: Tensor] = [:]
        for name in graph.outputs {
            let result = value(name)
            results[name] = Tensor(shape: result.shape, floats: result.logical)
        }
        return results
    }

    private func execute(_ node: Node, index: Int, _ inputs: [Value], outputShape out: [Int]) throws(CNNQError)
        -> [Float]
    {
        let x = inputs[0]
        if let f = FloatMath.unary(node.op) { return x.data.map(f) }
        if let f = FloatMath.binary(node.op) {
            // Both operands go to a common rank first so the NHWC permutation applies to both.
            let rank = max(x.shape.count, inputs[1].shape.count)
            func physical(_ v: Value) -> ([Float], [Int]) {
                let shape = Array(repeating: 1, count: rank - v.shape.count) + v.shape
                let data = v.shape.count == 4 ? v.data : Layout.toNHWC(v.data, shape)
                return (data, Layout.physicalShape(shape))
            }
            let (a, aShape) = physical(x), (b, bShape) = physical(inputs[1])
            return Broadcast.apply(a, aShape, b, bShape, f)!
        }
        switch node.op {
        case .conv:
            return convolutions[index]!.run(x.data, n: x.shape[0], h: x.shape[2], w: x.shape[3], oh: out[2], ow: out[3])
        case let .gemm(transA, transB, alpha, beta, clamp):
            let b = inputs[1].data
            let (m, k) = transA ? (x.shape[1], x.shape[0]) : (x.shape[0], x.shape[1])
            return FloatMath.gemm(
                x.data, b, m: m, k: k, n: out[1], transA: transA, transB: transB, alpha: alpha, beta: beta,
                bias: inputs.count > 2 ? inputs[2].data : nil, biasShape: inputs.count > 2 ? inputs[2].shape : [],
                clamp: clamp)
        case .matMul:
            let k = x.shape.last!
            return FloatMath.gemm(
                x.logical, inputs[1].data, m: x.data.count / k, k: k, n: out.last!, transA: false, transB: false)
        case let .batchNorm(epsilon):
            let (gamma, beta, mean, variance) = (inputs[1].data, inputs[2].data, inputs[3].data, inputs[4].data)
            let c = gamma.count
            let scale = (0..<c).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
            let shift = (0..<c).map { beta[$0] - mean[$0] * scale[$0] }
            // Channels are innermost for rank 4 (NHWC) and rank 2; other ranks go through logical order.
            if x.shape.count == 4 || x.shape.count == 2 {
                return x.data.indices.map { x.data[$0] * scale[$0 % c] + shift[$0 % c] }
            }
            let inner = x.shape[2...].reduce(1, *)
            return x.data.indices.map { x.data[$0] * scale[($0 / inner) % c] + shift[($0 / inner) % c] }
        case .globalAveragePool:
            return FloatPooling.globalAverage(x.data, n: x.shape[0], h: x.shape[2], w: x.shape[3], c: x.shape[1])
        case let .averagePool(window, countIncludePad):
            return FloatPooling.window(
                x.data, n: x.shape[0], h: x.shape[2], w: x.shape[3], c: x.shape[1], oh: out[2], ow: out[3],
                window: window, kind: .average(countIncludePad: countIncludePad))
        case let .maxPool(window):
            return FloatPooling.window(
                x.data, n: x.shape[0], h: x.shape[2], w: x.shape[3], c: x.shape[1], oh: out[2], ow: out[3],
                window: window, kind: .max)
        case let .reduceMean(axes, _):
            if x.shape.count == 4 && axes == [2, 3] {
                return FloatPooling.globalAverage(x.data, n: x.shape[0], h: x.shape[2], w: x.shape[3], c: x.shape[1])
            }
            return Layout.toNHWC(FloatPooling.reduceMean(x.logical, shape: x.shape, axes: axes), out)
        case let .pad(pads, value):
            return Layout.toNHWC(FloatMath.pad(x.logical, shape: x.shape, pads: pads, value: value), out)
        case let .insertZeros(strides):
            let (n, h, w, c) = (x.shape[0], x.shape[2], x.shape[3], x.shape[1])
            var result = [Float](repeating: 0, count: out.reduce(1, *))
            for b in 0..<n {
                for y in 0..<h {
                    for i in 0..<w {
                        let from = ((b * h + y) * w + i) * c
                        let to = ((b * out[2] + y * strides[0]) * out[3] + i * strides[1]) * c
                        result.replaceSubrange(to..<(to + c), with: x.data[from..<(from + c)])
                    }
                }
            }
            return result
        case let .depthToSpace(s):
            // NHWC: each input pixel's s·s runs of C channels go to its block of output pixels.
            let (n, h, w, c) = (x.shape[0], x.shape[2], x.shape[3], out[1])
            var result = [Float](repeating: 0, count: x.data.count)
            var from = 0
            for b in 0..<n {
                for y in 0..<h {
                    for i in 0..<w {
                        for dy in 0..<s {
                            for dx in 0..<s {
                                let to = ((b * h * s + y * s + dy) * w * s + i * s + dx) * c
                                result.replaceSubrange(to..<(to + c), with: x.data[from..<(from + c)])
                                from += c
                            }
                        }
                    }
                }
            }
            return result
        case let .resize(attributes):
            guard let (y, xAxis) = attributes.axes(input: x.shape, output: out) else {
                throw .invalidGraph("node '\(node.name)': Resize scales are not resolved")
            }
            return FloatResize.run(
                x.data, batch: x.shape[0], channels: x.shape[1], y: y, x: xAxis, outHeight: out[2], outWidth: out[3],
                mode: attributes.mode)
        case .flatten, .reshape, .squeeze, .unsqueeze:
            return Layout.toNHWC(x.logical, out)
        case let .transpose(perm?):
            let logical = x.logical
            return Layout.toNHWC(Transposition.sourceIndices(shape: x.shape, perm: perm).map { logical[$0] }, out)
        case let .concat(axis):
            let physical = Layout.physicalAxis(axis, rank: out.count)
            let outer = Layout.physicalShape(out)[..<physical].reduce(1, *)
            var result: [Float] = []
            result.reserveCapacity(out.reduce(1, *))
            let blocks = inputs.map { Layout.physicalShape($0.shape)[physical...].reduce(1, *) }
            for o in 0..<outer {
                for (part, block) in zip(inputs, blocks) { result += part.data[(o * block)..<((o + 1) * block)] }
            }
            return result
        case let .softmax(axis, legacy):
            let axis = axis < 0 ? axis + x.shape.count : axis
            return Layout.toNHWC(FloatMath.softmax(x.logical, shape: x.shape, axis: axis, legacy: legacy), out)
        default:
            throw .unsupportedOperator(node: node.name, op: node.op.name, domain: "")
        }
    }
}
