import Foundation

/// How the range of an activation tensor is chosen from the values seen during calibration.
public enum CalibrationMethod: String, CaseIterable, Sendable {
    /// The full observed range: no value is clipped, rounding error grows with outliers.
    case minmax
    /// The 0.01% and 99.99% quantiles: the rarest extreme values are clipped.
    case percentile
    /// The range whose 8-bit histogram is closest (Kullback–Leibler) to the observed one, as TensorRT,
    /// among those that clip no more than `percentile` does.
    case entropy
    /// The range with the least expected squared error, rounding plus clipping.
    case mse
    /// Each of the others in turn, keeping the one whose model has the best output SQNR on the
    /// calibration images (`QuantizationPipeline`): no single method wins on every model.
    case auto

    /// The methods `auto` tries.
    static let candidates: [CalibrationMethod] = [.minmax, .percentile, .mse, .entropy]

    /// Whether the method needs a histogram (a second pass over the calibration images).
    var needsHistogram: Bool { self != .minmax }
}

/// Values of one tensor: exact min and max, then (second pass) a histogram over [min, max].
struct Histogram {
    static let binCount = 2048
    var lower: Float, upper: Float
    var counts: [Double]

    init(lower: Float, upper: Float) {
        self.lower = lower
        self.upper = upper
        counts = [Double](repeating: 0, count: Self.binCount)
    }

    var width: Double { Double(upper - lower) / Double(Self.binCount) }

    mutating func add(_ values: [Float]) {
        guard upper > lower else { counts[0] += Double(values.count); return }
        let scale = Float(Self.binCount) / (upper - lower)
        counts.withUnsafeMutableBufferPointer { bins in
            for v in values {
                let bin = min(max(Int((v - lower) * scale), 0), Self.binCount - 1)
                bins[bin] += 1
            }
        }
    }

    func center(_ bin: Int) -> Double { Double(lower) + (Double(bin) + 0.5) * width }

    /// The range `method` picks, always containing zero.
    func range(_ method: CalibrationMethod) -> (lower: Float, upper: Float) {
        guard upper > lower else { return (lower, upper) }
        switch method {
        case .minmax: return (lower, upper)
        case .percentile: return (quantile(0.0001), quantile(0.9999))
        // On a sparse histogram (a small model's few values) every level of a narrow range holds one
        // spike, so KL favours ever narrower ranges and clipped the tensors of Fashion-MNIST models to
        // 6–16 dB: it may not go below the percentile range.
        case .entropy:
            let floor = (lower: quantile(0.0001), upper: quantile(0.9999))
            return search(containing: floor) { -divergence($0, $1) }
        case .mse: return search { -squaredError($0, $1) }
        case .auto: preconditionFailure("auto is one of the others by the time ranges are taken")
        }
    }

    func quantile(_ q: Double) -> Float {
        let total = counts.reduce(0, +)
        var seen = 0.0
        for (bin, count) in counts.enumerated() {
            seen += count
            if seen >= q * total { return Float(Double(lower) + Double(bin + (q < 0.5 ? 0 : 1)) * width) }
        }
        return upper
    }

    /// Candidate ranges shrink both ends toward zero by the same factor, from the full range down to
    /// a fifth of it, and while they contain `floor`; the one with the best score wins.
    func search(
        containing floor: (lower: Float, upper: Float) = (0, 0), _ score: (Float, Float) -> Double
    ) -> (lower: Float, upper: Float) {
        var best = (lower: lower, upper: upper), bestScore = -Double.infinity
        for step in 0...160 {
            let t = Float(1 - Double(step) * 0.005)
            let candidate = (lower: min(0, lower) * t, upper: max(0, upper) * t)
            if candidate.lower > floor.lower || candidate.upper < floor.upper { break }
            let s = score(candidate.lower, candidate.upper)
            if s > bestScore { bestScore = s; best = candidate }
        }
        return best
    }

    /// Expected squared error of int8 quantization over [a, b]: Δ²/12 for values inside, the
    /// distance to the nearest bound squared for values clipped.
    func squaredError(_ a: Float, _ b: Float) -> Double {
        let delta = Double(b - a) / 255
        var error = 0.0
        for (bin, count) in counts.enumerated() where count > 0 {
            let x = center(bin)
            if x < Double(a) {
                error += count * (Double(a) - x) * (Double(a) - x)
            } else if x > Double(b) {
                error += count * (x - Double(b)) * (x - Double(b))
            } else {
                error += count * delta * delta / 12
            }
        }
        return error
    }

    /// KL(P ‖ Q): P is the histogram restricted to [a, b] with the clipped mass added to the edge bins;
    /// Q is the restricted histogram without that mass, merged into 255 levels and spread back evenly
    /// over each level's non-empty bins. Leaving the clipped mass out of Q is what penalises clipping.
    func divergence(_ a: Float, _ b: Float) -> Double {
        let first = max(0, Int((Double(a) - Double(lower)) / width)),
            last = min(Self.binCount, Int(((Double(b) - Double(lower)) / width).rounded(.up)))
        guard last - first >= 255 else { return .infinity }
        var inside = Array(counts[first..<last])
        // Zero is a level of every range (the zero point), so the spike of exact zeros after a ReLU
        // costs nothing: leave its bin out, or it would favour ever narrower ranges.
        let zero = Int(-Double(lower) / width)
        if zero >= first && zero < last { inside[zero - first] = 0 }
        var p = inside
        p[0] += counts[..<first].reduce(0, +)
        p[p.count - 1] += counts[last...].reduce(0, +)
        let total = p.reduce(0, +)
        guard total > 0 else { return 0 }
        var q = [Double](repeating: 0, count: p.count)
        for level in 0..<255 {
            let start = level * p.count / 255, end = (level + 1) * p.count / 255
            let mass = inside[start..<end].reduce(0, +)
            let nonEmpty = inside[start..<end].filter { $0 > 0 }.count
            for i in start..<end where inside[i] > 0 { q[i] = mass / Double(nonEmpty) }
        }
        let qTotal = q.reduce(0, +)
        guard qTotal > 0 else { return .infinity }
        var kl = 0.0
        for i in p.indices where p[i] > 0 {
            // An empty Q bin where P has mass (a clipped edge with no values of its own): a small floor.
            kl += p[i] / total * log((p[i] / total) / max(q[i] / qTotal, 1e-12))
        }
        return kl
    }
}
