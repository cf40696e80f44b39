/// Collects activation statistics by running the float model over calibration inputs, one input at a
/// time: memory stays proportional to the model, not to the number of images. The first pass records
/// min/max (and per-channel means of the tensors `channelMeansOf` names); the histogram methods need a
/// second pass, binned over the first pass's ranges.
public final class Calibrator {
    public struct Statistics {
        public var lower: Float = .infinity, upper: Float = -.infinity
        /// Sum over every observed position of each channel (channels innermost), and positions seen.
        var channelSums: [Double]?
        var positions = 0
        var histogram: Histogram?

        public var channelMeans: [Double]? { channelSums.map { sums in sums.map { $0 / Double(max(positions, 1)) } } }
    }

    let executor: FloatExecutor
    public private(set) var statistics: [String: Statistics] = [:]
    let channelCounts: [String: Int]

    /// `channelMeansOf` maps a value name to its channel count.
    public init(executor: FloatExecutor, channelMeansOf: [String: Int] = [:]) {
        self.executor = executor
        channelCounts = channelMeansOf
    }

    public func observeRange(_ feeds: [String: Tensor]) throws(CNNQError) {
        _ = try executor.run(feeds) { name, values in
            var s = statistics[name] ?? Statistics()
            for v in values {
                s.lower = min(s.lower, v)
                s.upper = max(s.upper, v)
            }
            if let c = channelCounts[name] {
                var sums = s.channelSums ?? [Double](repeating: 0, count: c)
                for (i, v) in values.enumerated() { sums[i % c] += Double(v) }
                s.channelSums = sums
                s.positions += values.count / c
            }
            statistics[name] = s
        }
    }

    public func observeHistogram(_ feeds: [String: Tensor]) throws(CNNQError) {
        _ = try executor.run(feeds) { name, values in
            guard var s = statistics[name] else { return }
            var histogram = s.histogram ?? Histogram(lower: s.lower, upper: s.upper)
            histogram.add(values)
            s.histogram = histogram
            statistics[name] = s
        }
    }

    /// Range of every observed value under `method`, widened to contain zero (so that zero, the
    /// padding value, is exact).
    public func ranges(_ method: CalibrationMethod) -> [String: (lower: Float, upper: Float)] {
        statistics.mapValues { s in
            let (lower, upper) =
                method.needsHistogram ? (s.histogram?.range(method) ?? (s.lower, s.upper)) : (s.lower, s.upper)
            return (min(lower, 0), max(upper, 0))
        }
    }
}
