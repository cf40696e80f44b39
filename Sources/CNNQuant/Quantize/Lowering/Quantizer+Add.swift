import CNNQKernels
import CNNQRuntime

extension Quantizer {
    /// Add of two tensors of one shape: int8 with both inputs rescaled, or float32 if excluded.
    mutating func lowerAdd(_ node: Node) throws(CNNQError) {
        let out = node.outputs[0]
        let float = options.exclude.contains(node.name)
        guard graph.shapes[node.inputs[0]] == graph.shapes[node.inputs[1]] else {
            throw .unsupportedAttribute(
                node: node.name, op: "Add",
                detail: "\(float ? "float" : "int8") Add needs operands of one shape (no broadcast)")
        }
        if float {
            let (a, b) = (try floatTensor(node.inputs[0], node: node), try floatTensor(node.inputs[1], node: node))
            let y = try newFloatTensor(out, node: node.name, range: nil)
            append(.init(kind: .floatAdd, name: node.name, inputs: [a, b], output: y))
            return
        }
        let (a, b) = (try tensor(node.inputs[0], node: node), try tensor(node.inputs[1], node: node))
        // A ReLU or clamp that alone reads the sum (ResNet's blocks) becomes the add's clamp, as it does
        // a convolution's: the sum is quantized once, over the clamped range, where the separate table
        // spent half the sum's levels on values the ReLU then zeroed (ResNet-18 1.1 dB of output SQNR).
        let relu = clampReading(node)
        let y = try newTensor(relu?.node.outputs[0] ?? out, node: node.name)
        let (ta, tb, ty) = (model.tensors[a], model.tensors[b], model.tensors[y])
        let (lower, upper) = relu.map { Self.bounds($0.clamp, ty) } ?? (-128, 127)
        let p = AddParameters(
            inputScales: (ta.scale, tb.scale), inputZeroPoints: (ta.zeroPoint, tb.zeroPoint),
            outputScale: ty.scale, outputZeroPoint: ty.zeroPoint, lower: lower, upper: upper)
        append(.init(kind: .add, name: node.name, inputs: [a, b], output: y, parameters: AddOp.Parameters(p)))
        if let relu { absorbed.insert(relu.node.name) }
    }

    /// The clamp node (ReLU, ReLU6, Clip) that is the only reader of `node`'s output, if that output
    /// is not a graph output.
    func clampReading(_ node: Node) -> (node: Node, clamp: Clamp)? {
        let out = node.outputs[0]
        guard !graph.outputs.contains(out) else { return nil }
        let readers = graph.nodes.filter { $0.inputs.contains(out) }
        guard readers.count == 1, let reader = readers.first, reader.inputs == [out] else { return nil }
        switch reader.op {
        case let .clip(clamp), let .function(.clip(.input, clamp)): return (reader, clamp)
        default: return nil
        }
    }
}
