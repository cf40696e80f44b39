import Foundation

/// A function of one tensor applied value by value, composed from a chain of elementwise nodes
/// (e.g. hard-swish exported as x · Clip(x + 3, 0, 6) / 6). It becomes one 256-entry lookup table
/// in the int8 model, so its intermediate tensors never need quantizing.
public indirect enum ScalarFunction: Equatable, Sendable {
    case input
    case constant(Float)
    case clip(ScalarFunction, Clamp)
    case hardSwish(ScalarFunction)
    case hardSigmoid(ScalarFunction, alpha: Float, beta: Float)
    case sigmoid(ScalarFunction)
    case tanh(ScalarFunction)
    case add(ScalarFunction, ScalarFunction)
    case sub(ScalarFunction, ScalarFunction)
    case mul(ScalarFunction, ScalarFunction)
    case div(ScalarFunction, ScalarFunction)

    /// Evaluated in Float, the precision of the float executor, so float and table agree.
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .input: x
        case let .constant(c): c
        case let .clip(f, clamp): min(max(f(x), clamp.lower), clamp.upper)
        case let .hardSwish(f): f(x) * min(max(f(x) / 6 + 0.5, 0), 1)
        case let .hardSigmoid(f, alpha, beta): min(max(alpha * f(x) + beta, 0), 1)
        case let .sigmoid(f): 1 / (1 + exp(-f(x)))
        case let .tanh(f): Foundation.tanh(f(x))
        case let .add(f, g): f(x) + g(x)
        case let .sub(f, g): f(x) - g(x)
        case let .mul(f, g): f(x) * g(x)
        case let .div(f, g): f(x) / g(x)
        }
    }

    /// Readable form for tables and reports, e.g. `x·hardsigmoid(x)`.
    public var description: String {
        switch self {
        case .input: "x"
        case let .constant(c): c == c.rounded() ? String(Int(c)) : String(c)
        case let .clip(f, clamp):
            clamp == .relu ? "relu(\(f.description))" : "clip(\(f.description), \(clamp.lower), \(clamp.upper))"
        case let .hardSwish(f): "hardswish(\(f.description))"
        case let .hardSigmoid(f, _, _): "hardsigmoid(\(f.description))"
        case let .sigmoid(f): "sigmoid(\(f.description))"
        case let .tanh(f): "tanh(\(f.description))"
        case let .add(f, g): "(\(f.description) + \(g.description))"
        case let .sub(f, g): "(\(f.description) − \(g.description))"
        case let .mul(f, g): "\(f.description)·\(g.description)"
        case let .div(f, g): "\(f.description)/\(g.description)"
        }
    }

    /// The same function as a single elementwise op, or nil for binary ops.
    init?(_ op: Op, _ operands: [ScalarFunction]) {
        switch (op, operands.count) {
        case let (.clip(clamp), 1): self = .clip(operands[0], clamp)
        case (.hardSwish, 1): self = .hardSwish(operands[0])
        case let (.hardSigmoid(alpha, beta), 1): self = .hardSigmoid(operands[0], alpha: alpha, beta: beta)
        case (.sigmoid, 1): self = .sigmoid(operands[0])
        case (.tanh, 1): self = .tanh(operands[0])
        case (.add, 2): self = .add(operands[0], operands[1])
        case (.sub, 2): self = .sub(operands[0], operands[1])
        case (.mul, 2): self = .mul(operands[0], operands[1])
        case (.div, 2): self = .div(operands[0], operands[1])
        default: return nil
        }
    }
}

extension Graph {
    /// Replaces every chain of elementwise nodes that reads a single tensor (and scalar constants)
    /// by one `.function` node. Intermediate results read only inside the chain disappear.
    public mutating func fuseElementwiseFunctions() {
        // For each value computed by an eligible node: the tensor it is a function of, and the function.
        var functions: [String: (root: String, f: ScalarFunction)] = [:]
        for node in nodes {
            var root: String?
            var operands: [ScalarFunction] = []
            var eligible = true
            for input in node.inputs {
                if let constant = initializers[input], constant.count == 1, !constant.isInteger {
                    operands.append(.constant(constant.floats[0]))
                    continue
                }
                let (r, f) = functions[input] ?? (input, .input)
                if root != nil && root != r || shapes[input] != shapes[node.outputs[0]] { eligible = false }
                root = r
                operands.append(f)
            }
            guard eligible, let root, let f = ScalarFunction(node.op, operands) else { continue }
            functions[node.outputs[0]] = (root, f)
        }
        // A function value is materialised when something other than a function of the same root reads it.
        let consumers = consumers()
        var removed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard let (root, f) = functions[node.outputs[0]] else { continue }
            let absorbed =
                !outputs.contains(node.outputs[0])
                && (consumers[node.outputs[0]] ?? []).allSatisfy {
                    functions[nodes[$0].outputs[0]]?.root == root
                }
            if absorbed {
                removed.insert(index)
            } else {
                nodes[index] = Node(name: node.name, op: .function(f), inputs: [root], outputs: node.outputs)
            }
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        removeDeadNodes()
    }
}
