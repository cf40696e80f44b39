import CNNQKernels

/// Float 2-D convolution over NHWC data, the reference the int8 path is measured against.
/// Weights are repacked once from ONNX OIHW to [group][kh][kw][ci][co] (depthwise: [kh][kw][c]), so
/// the inner loop runs over contiguous output channels.
struct FloatConvolution {
    let window: Window
    let group: Int
    let clamp: Clamp
    let inChannels: Int, outChannels: Int
    let packed: [Float]
    let bias: [Float]

    init(window: Window, group: Int, clamp: Clamp, weight: Tensor, bias: Tensor?) {
        self.window = window
        self.group = group
        self.clamp = clamp
        let (o, i, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        inChannels = i * group
        outChannels = o
        let og = o / group
        let source = weight.floats
        var packed = [Float](repeating: 0, count: source.count)
        for g in 0..<group {
            for co in 0..<og {
                for ci in 0..<i {
                    for y in 0..<kh {
                        for x in 0..<kw {
                            let target =
                                i == 1 && og == 1
                                ? (y * kw + x) * o + g  // depthwise: [kh][kw][c]
                                : ((((g * kh + y) * kw + x) * i + ci) * og) + co
                            packed[target] = source[(((g * og + co) * i + ci) * kh + y) * kw + x]
                        }
                    }
                }
            }
        }
        self.packed = packed
        self.bias = bias?.floats ?? Array(repeating: 0, count: o)
    }

    /// `input` is NHWC [n, h, w, inChannels]; returns NHWC [n, oh, ow, outChannels].
    func run(_ input: [Float], n: Int, h: Int, w: Int, oh: Int, ow: Int) -> [Float] {
        var output = [Float](repeating: 0, count: n * oh * ow * outChannels)
        let (kh, kw) = (window.kernel[0], window.kernel[1])
        let (sh, sw) = (window.strides[0], window.strides[1])
        let (dh, dw) = (window.dilations[0], window.dilations[1])
        let (top, left) = (window.pads[0], window.pads[1])
        let ci = inChannels / group, co = outChannels / group
        let depthwise = ci == 1 && co == 1
        let (cin, cout, lower, upper) = (inChannels, outChannels, clamp.lower, clamp.upper)
        input.withUnsafeBufferPointer { x in
            packed.withUnsafeBufferPointer { wt in
                bias.withUnsafeBufferPointer { b in
                    output.withUnsafeMutableBufferPointer { out in
                        let y = out.baseAddress!
                        func convolve(_ row: Int) {
                            let batch = row / oh, oy = row % oh
                            for ox in 0..<ow {
                                let acc = y + ((row * ow) + ox) * cout
                                for c in 0..<cout { acc[c] = b[c] }
                                for ky in 0..<kh {
                                    let iy = oy * sh - top + ky * dh
                                    guard iy >= 0 && iy < h else { continue }
                                    for kx in 0..<kw {
                                        let ix = ox * sw - left + kx * dw
                                        guard ix >= 0 && ix < w else { continue }
                                        let pixel = x.baseAddress! + ((batch * h + iy) * w + ix) * cin
                                        if depthwise {
                                            let tap = wt.baseAddress! + (ky * kw + kx) * cout
                                            for c in 0..<cout { acc[c] += pixel[c] * tap[c] }
                                            continue
                                        }
                                        for g in 0..<group {
                                            let taps = wt.baseAddress! + ((g * kh + ky) * kw + kx) * ci * co
                                            let groupAcc = acc + g * co
                                            for i in 0..<ci {
                                                let value = pixel[g * ci + i]
                                                let row = taps + i * co
                                                for o in 0..<co { groupAcc[o] += value * row[o] }
                                            }
                                        }
                                    }
                                }
                                for c in 0..<cout { acc[c] = min(max(acc[c], lower), upper) }
                            }
                        }
                        parallelRanges(n * oh, macs: n * oh * ow * cout * kh * kw * ci) { _, rows in
                            for row in rows { convolve(row) }
                        }
                    }
                }
            }
        }
        return output
    }
}
