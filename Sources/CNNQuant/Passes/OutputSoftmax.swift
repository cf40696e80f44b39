extension Graph {
    /// Removes a Softmax that produces a graph output, so the int8 model ends with the logits: the
    /// class order (top-1, top-5) is unchanged and the device needs no exponentials. Returns the
    /// names of the removed nodes.
    public mutating func removeOutputSoftmax() -> [String] {
        var removed: [String] = []
        for (slot, output) in outputs.enumerated() {
            guard let index = nodes.firstIndex(where: { $0.outputs == [output] }), case .softmax = nodes[index].op,
                consumers()[output] == nil
            else { continue }
            outputs[slot] = nodes[index].inputs[0]
            removed.append(nodes[index].name)
            nodes.remove(at: index)
        }
        return removed
    }
}
