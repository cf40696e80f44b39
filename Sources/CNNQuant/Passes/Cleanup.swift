extension Graph {
    /// Removes Identity (and Dropout, imported as Identity) nodes, keeping graph output names.
    public mutating func removeIdentities() {
        while let index = nodes.firstIndex(where: { $0.op == .identity }) {
            let node = nodes.remove(at: index)
            let (source, result) = (node.inputs[0], node.outputs[0])
            if outputs.contains(result), let producer = nodes.firstIndex(where: { $0.outputs.contains(source) }),
                !outputs.contains(source)
            {
                // Keep the graph output's name: the producer takes it over.
                nodes[producer].outputs = nodes[producer].outputs.map { $0 == source ? result : $0 }
                replaceUses(of: source, with: result)
            } else {
                replaceUses(of: result, with: source)
            }
        }
    }

    /// Drops nodes whose results nobody reads, then initializers nobody reads.
    public mutating func removeDeadNodes() {
        var live = Set(outputs)
        var kept: [Node] = []
        for node in nodes.reversed() where node.outputs.contains(where: live.contains) {
            kept.append(node)
            live.formUnion(node.inputs)
        }
        nodes = kept.reversed()
        initializers = initializers.filter { live.contains($0.key) }
    }
}
