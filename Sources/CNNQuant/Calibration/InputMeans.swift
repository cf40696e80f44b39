/// What bias correction needs of a convolution's (or Gemm's) input: the mean of the value each weight
/// multiplies, per kernel tap and input channel, over every output position and calibration image,
/// padding counted as the zero it is. A channel's plain mean is that only for a 1×1, stride-1,
/// unpadded convolution: a k×k tap near a border multiplies padding, and on a small map most taps
/// mostly do (on a 2×2 map a 3×3 kernel's corner tap sees an input at one output position of four),
/// so correcting with the plain mean over-corrected those biases up to 9×.
public struct InputMeansRequest: Sendable {
    /// The layer, by node name: several layers of other windows may read one tensor.
    public let node: String
    public let input: String
    public let channels: Int, height: Int, width: Int
    public let kernel: (height: Int, width: Int)
    public let stride: (height: Int, width: Int)
    public let dilation: (height: Int, width: Int)
    public let padTop: Int, padLeft: Int
    public let outputHeight: Int, outputWidth: Int

    /// A Gemm's (or any 1×1 layer's) [N, channels] input: one tap, the channel means.
    public init(node: String, input: String, channels: Int) {
        self.init(
            node: node, input: input, channels: channels, height: 1, width: 1, window: Window(kernel: [1, 1]),
            kernel: (1, 1), output: (1, 1))
    }

    /// A convolution reading an NHWC map of `height` × `width` × `channels` through `window`.
    public init(
        node: String, input: String, channels: Int, height: Int, width: Int, window: Window,
        kernel: (Int, Int), output: (Int, Int)
    ) {
        (self.node, self.input, self.channels, self.height, self.width) = (node, input, channels, height, width)
        self.kernel = kernel
        stride = (window.strides[0], window.strides[1])
        dilation = (window.dilations[0], window.dilations[1])
        (padTop, padLeft) = (window.pads[0], window.pads[1])
        (outputHeight, outputWidth) = output
    }

    var taps: Int { kernel.height * kernel.width }

    /// One request per convolution and Gemm of `graph` whose shapes are known.
    static func requests(in graph: Graph) -> [InputMeansRequest] {
        graph.nodes.compactMap { node in
            // Only after the op is known: some nodes have no inputs.
            switch node.op {
            case let .conv(window, _, _):
                guard let shape = graph.shapes[node.inputs[0]], shape.count == 4,
                    let w = graph.initializers[node.inputs[1]]?.shape, w.count == 4,
                    let y = graph.shapes[node.outputs[0]], y.count == 4
                else { return nil }
                return InputMeansRequest(
                    node: node.name, input: node.inputs[0], channels: shape[1], height: shape[2], width: shape[3],
                    window: window, kernel: (w[2], w[3]), output: (y[2], y[3]))
            case .gemm:
                guard let shape = graph.shapes[node.inputs[0]], shape.count == 2 else { return nil }
                return InputMeansRequest(node: node.name, input: node.inputs[0], channels: shape[1])
            default: return nil
            }
        }
    }

    /// Adds one observation of the input (NHWC, any batch) to `sums` ([tap][channel]); returns the
    /// output positions it covered, the count the sums are divided by.
    func accumulate(_ values: [Float], into sums: inout [Double]) -> Int {
        let plane = height * width * channels
        guard plane > 0, values.count % plane == 0 else { return 0 }
        let batch = values.count / plane
        values.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { s in
                var row = [Double](repeating: 0, count: channels)
                for b in 0..<batch {
                    for ky in 0..<kernel.height {
                        for kx in 0..<kernel.width {
                            let tap = (ky * kernel.width + kx) * channels
                            for oy in 0..<outputHeight {
                                let iy = oy * stride.height - padTop + ky * dilation.height
                                guard iy >= 0, iy < height else { continue }
                                for c in 0..<channels { row[c] = 0 }
                                for ox in 0..<outputWidth {
                                    let ix = ox * stride.width - padLeft + kx * dilation.width
                                    guard ix >= 0, ix < width else { continue }
                                    let base = ((b * height + iy) * width + ix) * channels
                                    for c in 0..<channels { row[c] += Double(x[base + c]) }
                                }
                                for c in 0..<channels { s[tap + c] += row[c] }
                            }
                        }
                    }
                }
            }
        }
        return batch * outputHeight * outputWidth
    }
}
