public struct Node: Equatable, Sendable {
    public var name: String
    public var op: Op
    public var inputs: [String]
    public var outputs: [String]

    public init(name: String, op: Op, inputs: [String], outputs: [String]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A float inference graph: ONNX semantics (logical NCHW shapes), nodes in topological order.
/// Constants live in `initializers`; `shapes` is filled by shape inference.
public struct Graph: Sendable {
    public var name: String
    public var inputs: [(name: String, shape: [Int])]
    public var outputs: [String]
    public var nodes: [Node]
    public var initializers: [String: Tensor]
    public var shapes: [String: [Int]] = [:]
    public var opset: Int

    public init(
        name: String, inputs: [(name: String, shape: [Int])], outputs: [String], nodes: [Node],
        initializers: [String: Tensor], opset: Int
    ) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = nodes
        self.initializers = initializers
        self.opset = opset
    }

    public func isConstant(_ value: String) -> Bool { initializers[value] != nil }

    /// Nodes reading each value.
    func consumers() -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty { result[input, default: []].append(index) }
        }
        return result
    }

    /// Renames every use of `old` to `new` (node inputs and graph outputs).
    mutating func replaceUses(of old: String, with new: String) {
        for index in nodes.indices {
            for slot in nodes[index].inputs.indices where nodes[index].inputs[slot] == old {
                nodes[index].inputs[slot] = new
            }
        }
        for slot in outputs.indices where outputs[slot] == old { outputs[slot] = new }
    }

    /// Checks that every node input is produced earlier, is a graph input or a constant, and that
    /// every graph output is produced.
    public func validate() throws(CNNQError) {
        var known = Set(inputs.map(\.name)).union(initializers.keys)
        for node in nodes {
            for input in node.inputs where !input.isEmpty && !known.contains(input) {
                throw .invalidGraph(
                    "node '\(node.name)' (\(node.op.name)) reads '\(input)', which no earlier node, input or initializer provides"
                )
            }
            for output in node.outputs { known.insert(output) }
        }
        for output in outputs where !known.contains(output) {
            throw .invalidGraph("graph output '\(output)' is never produced")
        }
    }
}
