/// Collects activation statistics by running the float model over calibration inputs, one input at a
/// time: memory stays proportional to the model, not to the number of images. The first pass records
/// min/max (and the input means bias correction asks for, `InputMeansRequest`); the histogram methods
/// need a second pass, binned over the first pass's ranges.
public final class Calibrator {
    public struct Statistics {
        public var lower: Float = .infinity, upper: Float = -.infinity
        var histogram: Histogram?
    }

    let executor: FloatExecutor
    public private(set) var statistics: [String: Statistics] = [:]
    /// The requests reading each value, and their sums ([tap][channel]) and positions by layer.
    let requests: [String: [InputMeansRequest]]
    var inputSums: [String: (sums: [Double], positions: Int)] = [:]

    public init(executor: FloatExecutor, inputMeansOf requests: [InputMeansRequest] = []) {
        self.executor = executor
        self.requests = Dictionary(grouping: requests, by: \.input)
    }

    /// Each requested layer's input means, [tap][channel], by node name.
    public var inputMeans: [String: [Double]] {
        inputSums.mapValues { entry in entry.sums.map { $0 / Double(max(entry.positions, 1)) } }
    }

    public func observeRange(_ feeds: [String: Tensor]) throws(CNNQError) {
        _ = try executor.run(feeds) { name, values in
            var s = statistics[name] ?? Statistics()
            for v in values {
                s.lower = min(s.lower, v)
                s.upper = max(s.upper, v)
            }
            for request in requests[name] ?? [] {
                var entry =
                    inputSums[request.node] ?? ([Double](repeating: 0, count: request.taps * request.channels), 0)
                entry.positions += request.accumulate(values, into: &entry.sums)
                inputSums[request.node] = entry
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
