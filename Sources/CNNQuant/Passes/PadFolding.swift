extension Graph {
    /// Folds a constant Pad of zeros on the two spatial axes into the convolutions that read it, when
    /// only convolutions read it (explicit "same" padding, as ports of TensorFlow networks write it):
    /// a convolution pads with zeros too (in int8 with its input's zero point, which is 0), so the
    /// padded copy of the tensor, its arena bytes and its op go away. Any other Pad stays an int8 Pad.
    public mutating func foldPads() {
        let readers = consumers()
        var removed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard case let .pad(pads, value) = node.op, value == 0, pads.count == 8, pads.allSatisfy({ $0 >= 0 }),
                pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0, !outputs.contains(node.outputs[0]),
                let convolutions = readers[node.outputs[0]],
                convolutions.allSatisfy({ readsAsConvolutionInput(nodes[$0], node.outputs[0]) })
            else { continue }
            for r in convolutions {
                guard case .conv(var window, let group, let clamp) = nodes[r].op else { continue }
                let (top, left, bottom, right) = (pads[2], pads[3], pads[6], pads[7])
                window.pads = [
                    window.pads[0] + top, window.pads[1] + left, window.pads[2] + bottom, window.pads[3] + right,
                ]
                nodes[r].op = .conv(window: window, group: group, clamp: clamp)
                nodes[r].inputs[0] = node.inputs[0]
            }
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// Whether `node` is a convolution with explicit pads that reads `value` as its data input only.
    private func readsAsConvolutionInput(_ node: Node, _ value: String) -> Bool {
        guard case let .conv(window, _, _) = node.op, window.autoPad == .notSet, window.pads.count == 4 else {
            return false
        }
        return node.inputs.first == value && !node.inputs.dropFirst().contains(value)
    }
}
