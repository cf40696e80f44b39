extension Graph {
    /// Cross-layer equalization (Nagel et al. 2019, data-free quantization) of every depthwise
    /// convolution feeding a 1×1 convolution alone. Output channel i of the depthwise layer is scaled
    /// by 1/sᵢ and input channel i of the 1×1 layer by sᵢ, sᵢ = √(r₁ᵢ/r₂ᵢ), so both ranges become
    /// √(r₁ᵢ·r₂ᵢ) and per-channel ranges of the depthwise layer even out. The scaling passes through
    /// ReLU but not through ReLU6, which becomes ReLU here, as in the paper. Returns the pairs rescaled.
    public mutating func equalizeCrossLayer() -> Int {
        let consumers = consumers()
        var pairs = 0
        for (a, first) in nodes.enumerated() {
            guard case let .conv(window, group, clamp) = first.op, group > 1,
                let w1 = initializers[first.inputs[1]], w1.shape[0] == group, w1.shape[1] == 1,
                let readers = consumers[first.outputs[0]], readers.count == 1, !outputs.contains(first.outputs[0]),
                case .conv(_, 1, _) = nodes[readers[0]].op,
                let w2 = initializers[nodes[readers[0]].inputs[1]], w2.shape[1] == group, w2.shape[2] == 1,
                w2.shape[3] == 1,
                clamp.lower == 0 || clamp == .none
            else { continue }
            let b = readers[0]
            let channels = group, taps = w1.count / channels, outputs2 = w2.shape[0]
            var v1 = w1.floats, v2 = w2.floats
            var scales = [Float](repeating: 1, count: channels)
            for i in 0..<channels {
                let r1 = v1[(i * taps)..<((i + 1) * taps)].map(abs).max() ?? 0
                let r2 = (0..<outputs2).map { abs(v2[$0 * channels + i]) }.max() ?? 0
                guard r1 > 0, r2 > 0 else { continue }
                scales[i] = (r1 / r2).squareRoot()
                for t in 0..<taps { v1[i * taps + t] /= scales[i] }
                for o in 0..<outputs2 { v2[o * channels + i] *= scales[i] }
            }
            initializers[first.inputs[1]] = Tensor(shape: w1.shape, floats: v1)
            initializers[nodes[b].inputs[1]] = Tensor(shape: w2.shape, floats: v2)
            if first.inputs.count > 2, let bias = initializers[first.inputs[2]] {
                initializers[first.inputs[2]] = Tensor(
                    shape: bias.shape, floats: bias.floats.enumerated().map { $0.element / scales[$0.offset] })
            }
            nodes[a].op = .conv(window: window, group: group, clamp: clamp == .none ? .none : .relu)
            pairs += 1
        }
        return pairs
    }
}
