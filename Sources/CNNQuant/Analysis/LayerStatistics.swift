/// Per-layer parameter and multiply-accumulate counts. Parameters are counted as torchvision counts
/// them (weights, biases, BatchNorm γ and β; not running statistics). MACs count Conv, Gemm and MatMul,
/// the convention of the papers and of torchvision's model docs.
public struct LayerStatistics: Sendable {
    public var name: String
    public var op: String
    public var inputShape: [Int]
    public var outputShape: [Int]
    public var params: Int
    public var macs: Int

    /// One row per node; `graph` must have inferred shapes.
    public static func of(_ graph: Graph) -> [LayerStatistics] {
        graph.nodes.map { node in
            // Weights made by passes (BatchNorm folding) have no entry in `shapes`.
            let shapeOf = { (value: String) in graph.shapes[value] ?? graph.initializers[value]?.shape ?? [] }
            let out = shapeOf(node.outputs[0])
            let constants = node.inputs.dropFirst().compactMap { graph.initializers[$0]?.count }
            var params = 0, macs = 0
            switch node.op {
            case .conv:
                // Each output element takes (Cin / group)·kh·kw products: the weight's inner dimensions.
                params = constants.reduce(0, +)
                let weight = shapeOf(node.inputs[1])
                if weight.count == 4 { macs = out.reduce(1, *) * weight[1] * weight[2] * weight[3] }
            case let .gemm(transA, _, _, _, _):
                params = constants.reduce(0, +)
                let a = shapeOf(node.inputs[0])
                if a.count == 2 { macs = out.reduce(1, *) * (transA ? a[0] : a[1]) }
            case .matMul:
                params = constants.reduce(0, +)
                macs = out.reduce(1, *) * (shapeOf(node.inputs[0]).last ?? 0)
            case .batchNorm:
                params = 2 * (out.count > 1 ? out[1] : 0)
            default:
                break
            }
            return LayerStatistics(
                name: node.name, op: node.op.name, inputShape: shapeOf(node.inputs[0]), outputShape: out,
                params: params, macs: macs)
        }
    }
}

/// Renders rows as an aligned text table; numeric columns align right.
public struct TextTable {
    public var header: [String]
    public var rows: [[String]] = []
    public var rightAligned: Set<Int>

    public init(header: [String], rightAligned: Set<Int> = []) {
        self.header = header
        self.rightAligned = rightAligned
    }

    public mutating func add(_ row: [String]) { rows.append(row) }

    public func render() -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}

/// 1234567 → "1,234,567".
public func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
        result.append(digit)
    }
    return value < 0 ? "-" + result : result
}
