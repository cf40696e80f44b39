extension Graph {
    /// Absorbs a ReLU/ReLU6/Clip into the Conv or Gemm that feeds it alone, as an output clamp.
    public mutating func fuseActivations() {
        let consumers = consumers()
        var removed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard case let .clip(clamp) = node.op,
                consumers[node.inputs[0]]?.count == 1, !outputs.contains(node.inputs[0]),
                let producer = nodes.firstIndex(where: { $0.outputs.contains(node.inputs[0]) }),
                let existing = nodes[producer].op.fusedClamp
            else { continue }
            let combined = Clamp(lower: max(existing.lower, clamp.lower), upper: min(existing.upper, clamp.upper))
            nodes[producer].op = nodes[producer].op.with(clamp: combined)
            nodes[producer].outputs = node.outputs
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }
}
