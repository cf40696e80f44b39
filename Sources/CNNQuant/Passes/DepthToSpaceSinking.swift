extension Graph {
    /// Moves each depth-to-space after the per-channel ops that alone read it (BatchNorm, Add, Sub,
    /// Mul or Div by a per-channel or scalar constant, elementwise functions such as Relu), their
    /// constants repeated for its s² runs, so that those ops meet the convolution before it and
    /// fold or fuse there as after any convolution. Output channel c is input channel (i·s + j)·C + c
    /// for every run (i, j), so a per-channel op commutes with the shuffle.
    mutating func sinkDepthToSpaces() {
        var moved = true
        while moved {
            moved = false
            let readers = consumers()
            for (index, node) in nodes.enumerated() {
                guard case let .depthToSpace(s) = node.op, let only = readers[node.outputs[0]], only.count == 1,
                    !outputs.contains(node.outputs[0]), let shape = shapes[node.inputs[0]],
                    var next = perChannel(nodes[only[0]], reading: node.outputs[0], runs: s * s)
                else { continue }
                // next reads the shuffle's input and writes a new value, which the shuffle then reads.
                let between = uniqueName(next.outputs[0] + ".unshuffled")
                shapes[between] = shape
                next.inputs = next.inputs.map { $0 == node.outputs[0] ? node.inputs[0] : $0 }
                let final = next.outputs
                next.outputs = [between]
                nodes[only[0]] = Node(name: node.name, op: node.op, inputs: [between], outputs: final)
                nodes[index] = next
                moved = true
                break
            }
        }
    }

    /// `node` as the same op on s²·C channels, if it is per channel on the value `x` it reads.
    private mutating func perChannel(_ node: Node, reading x: String, runs: Int) -> Node? {
        guard let channels = shapes[x]?[1] else { return nil }
        var node = node
        switch node.op {
        case .batchNorm:
            let constants = node.inputs.dropFirst().map { initializers[$0]?.floats ?? [] }
            guard constants.allSatisfy({ $0.count == channels }) else { return nil }
            for (k, values) in zip(1..., constants) {
                node.inputs[k] = constant(node.inputs[k] + ".per_run", Self.tiled(values, runs))
            }
        case .add, .sub, .mul, .div:
            guard node.inputs.count == 2, let k = node.inputs.firstIndex(where: { $0 != x }),
                node.inputs.filter({ $0 == x }).count == 1, let t = initializers[node.inputs[k]], t.shape.count <= 4
            else { return nil }
            let aligned = Array(repeating: 1, count: 4 - t.shape.count) + t.shape
            guard aligned[0] == 1, aligned[2] == 1, aligned[3] == 1 else { return nil }
            if aligned[1] == channels {
                node.inputs[k] = constant(
                    node.inputs[k] + ".per_run", Self.tiled(t.floats, runs), shape: [1, runs * channels, 1, 1])
            } else if aligned[1] != 1 {
                return nil
            }
        default:
            guard FloatMath.unary(node.op) != nil else { return nil }
        }
        return node
    }

    /// Per-channel values for each of the shuffle's `runs` runs of channels, in turn.
    static func tiled(_ values: [Float], _ runs: Int) -> [Float] { Array(repeatElement(values, count: runs).joined()) }
}
