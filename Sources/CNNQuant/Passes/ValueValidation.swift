import Foundation

extension Graph {
    /// Numbers the converter would otherwise trap on or quietly carry into the file, each an error
    /// naming the node: a NaN or infinite constant (weights, biases, BatchNorm parameters), a
    /// negative BatchNorm variance or epsilon, a tensor of more than 2^31 elements.
    func validateValues() throws(CNNQError) {
        for node in nodes {
            for input in node.inputs where !input.isEmpty {
                guard let tensor = initializers[input], !tensor.isInteger else { continue }
                if let i = tensor.floats.firstIndex(where: { !$0.isFinite }) {
                    throw .invalidGraph(
                        "node '\(node.name)' (\(node.op.name)): constant '\(input)' holds \(tensor.floats[i]) at index \(i)"
                    )
                }
            }
            if case let .batchNorm(epsilon) = node.op {
                guard epsilon.isFinite, epsilon >= 0 else {
                    throw .invalidGraph("node '\(node.name)' (BatchNormalization): epsilon \(epsilon) is negative")
                }
                if node.inputs.count > 4, let variance = initializers[node.inputs[4]]?.floats,
                    let i = variance.firstIndex(where: { $0 < 0 })
                {
                    throw .invalidGraph(
                        "node '\(node.name)' (BatchNormalization): variance \(variance[i]) of channel \(i) is negative")
                }
            }
        }
        for (name, shape) in shapes {
            guard Self.elementCount(shape) != nil else {
                throw .invalidGraph("tensor '\(name)' of shape \(shape) has more than 2^31 elements")
            }
        }
    }

    /// Elements of a tensor of `shape`, or nil above 2^31 (or if a dimension is negative).
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= 1 << 31 else { return nil }
            count = product
        }
        return count
    }

    /// Bytes the float executor holds for one input: every tensor of the graph in float32.
    public var floatMemoryBytes: Int {
        shapes.values.reduce(0) { $0 + 4 * (Self.elementCount($1) ?? 0) }
    }

    /// Fails before anything is allocated when running the float graph would take more than
    /// `budget` bytes.
    public func checkMemory(budget: Int) throws(CNNQError) {
        let need = floatMemoryBytes
        func size(_ bytes: Int) -> String {
            bytes >= 1 << 30
                ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
                : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
        }
        guard need <= budget else {
            throw .invalidGraph(
                "the float model needs \(size(need)) for one input, more than --max-memory (\(size(budget)))")
        }
    }

    /// Half the machine's memory: the default `--max-memory`.
    public static var defaultMemoryBudget: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory / 2) }
}
