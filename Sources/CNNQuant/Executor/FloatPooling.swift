import CNNQKernels

/// Float pooling over NHWC data.
enum FloatPooling {
    enum Kind { case max, average(countIncludePad: Bool) }

    static func window(_ input: [Float], n: Int, h: Int, w: Int, c: Int, oh: Int, ow: Int, window: Window, kind: Kind)
        -> [Float]
    {
        var output = [Float](repeating: 0, count: n * oh * ow * c)
        let (kh, kw, sh, sw) = (window.kernel[0], window.kernel[1], window.strides[0], window.strides[1])
        let (dh, dw, top, left) = (window.dilations[0], window.dilations[1], window.pads[0], window.pads[1])
        let (bottomEdge, rightEdge) = (h + window.pads[2], w + window.pads[3])
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { out in
                let y = out.baseAddress!
                parallelFor(n * oh) { row in
                    let batch = row / oh, oy = row % oh
                    for ox in 0..<ow {
                        let acc = y + (row * ow + ox) * c
                        var count = 0
                        var padded = 0
                        for c0 in 0..<c { acc[c0] = { if case .max = kind { -.infinity } else { 0 } }() }
                        for ky in 0..<kh {
                            let iy = oy * sh - top + ky * dh
                            for kx in 0..<kw {
                                let ix = ox * sw - left + kx * dw
                                // Padding counts for count_include_pad, but not cells beyond it (ceil mode).
                                if iy < bottomEdge && ix < rightEdge { padded += 1 }
                                guard iy >= 0 && iy < h && ix >= 0 && ix < w else { continue }
                                count += 1
                                let pixel = x.baseAddress! + ((batch * h + iy) * w + ix) * c
                                switch kind {
                                case .max: for c0 in 0..<c { acc[c0] = max(acc[c0], pixel[c0]) }
                                case .average: for c0 in 0..<c { acc[c0] += pixel[c0] }
                                }
                            }
                        }
                        if case let .average(includePad) = kind {
                            let divisor = Float(includePad ? padded : count)
                            for c0 in 0..<c { acc[c0] /= divisor }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Mean over the spatial axes: NHWC [n, h, w, c] → [n, c].
    static func globalAverage(_ input: [Float], n: Int, h: Int, w: Int, c: Int) -> [Float] {
        var output = [Float](repeating: 0, count: n * c)
        for b in 0..<n {
            for p in 0..<(h * w) { for ch in 0..<c { output[b * c + ch] += input[(b * h * w + p) * c + ch] } }
            for ch in 0..<c { output[b * c + ch] /= Float(h * w) }
        }
        return output
    }

    /// Mean over arbitrary axes of row-major data.
    static func reduceMean(_ input: [Float], shape: [Int], axes: [Int]) -> [Float] {
        let outShape = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
        var output = [Float](repeating: 0, count: outShape.reduce(1, *))
        var index = Array(repeating: 0, count: shape.count)
        for value in input {
            var offset = 0
            for axis in shape.indices { offset = offset * outShape[axis] + (axes.contains(axis) ? 0 : index[axis]) }
            output[offset] += value
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        let divisor = Float(axes.map { shape[$0] }.reduce(1, *))
        return output.map { $0 / divisor }
    }
}
