import CNNQKernels

/// Float Resize of NHWC data, reading the same source pixels as the int8 kernel (`Resize`); bilinear
/// weights are the coordinates' exact fractions.
enum FloatResize {
    static func run(
        _ x: [Float], batch: Int, channels c: Int, y: Resize.Axis, x xAxis: Resize.Axis, outHeight: Int, outWidth: Int,
        mode: Resize.Mode
    ) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(batch * outHeight * outWidth * c)
        let (w, h) = (xAxis.extent, y.extent)
        for b in 0..<batch {
            func pixel(_ row: Int, _ column: Int) -> Int { ((b * h + row) * w + column) * c }
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    switch mode {
                    case let .nearest(rounding):
                        let p = pixel(Resize.nearest(y, oy, rounding), Resize.nearest(xAxis, ox, rounding))
                        out += x[p..<(p + c)]
                    case .linear:
                        let (y0, y1, fy) = Resize.between(y, oy), (x0, x1, fx) = Resize.between(xAxis, ox)
                        let (wy, wx) = (Float(fy) / Float(y.d), Float(fx) / Float(xAxis.d))
                        let (p00, p01, p10, p11) = (pixel(y0, x0), pixel(y0, x1), pixel(y1, x0), pixel(y1, x1))
                        for ch in 0..<c {
                            let top = x[p00 + ch] * (1 - wx) + x[p01 + ch] * wx
                            let bottom = x[p10 + ch] * (1 - wx) + x[p11 + ch] * wx
                            out.append(top * (1 - wy) + bottom * wy)
                        }
                    }
                }
            }
        }
        return out
    }
}
