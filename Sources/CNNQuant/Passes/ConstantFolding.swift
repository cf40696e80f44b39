extension Graph {
    /// Walks the nodes in order, infers every value's shape and replaces nodes whose result is known
    /// ahead of time (all-constant inputs, Shape of a known shape) by initializers. Torch's shape
    /// arithmetic (Shape → Gather → Unsqueeze → Concat → Reshape) disappears here.
    public mutating func foldConstantsAndInferShapes() throws(CNNQError) {
        shapes = [:]
        for input in inputs { shapes[input.name] = input.shape }
        for (name, tensor) in initializers { shapes[name] = tensor.shape }
        var kept: [Node] = []
        for var node in nodes {
            let constants = node.inputs.map { $0.isEmpty ? nil : initializers[$0] }
            var inputShapes: [[Int]] = []
            for input in node.inputs where !input.isEmpty {
                guard let shape = shapes[input] else {
                    throw .invalidGraph("node '\(node.name)' reads '\(input)' before it is computed")
                }
                inputShapes.append(shape)
            }
            let (op, shape) = try ShapeInference.infer(node, inputShapes, constants: constants)
            node.op = op
            if let kept = ShapeInference.keptInputs(op) { node.inputs = Array(node.inputs.prefix(kept)) }
            shapes[node.outputs[0]] = shape
            if let value = try ConstantFolding.evaluate(
                node, inputShapes: inputShapes, constants: constants, outputShape: shape)
            {
                initializers[node.outputs[0]] = value
            } else if ConstantFolding.needsConstants(node.op) {
                throw .unsupportedAttribute(
                    node: node.name, op: node.op.name,
                    detail: "shape arithmetic on values computed at run time is not supported")
            } else {
                kept.append(node)
            }
        }
        nodes = kept
    }
}

/// Evaluation of the ops constant folding handles: shape arithmetic and elementwise math on constants.
enum ConstantFolding {
    /// Ops kept only as shape arithmetic. (Squeeze and Unsqueeze also run on data: TF-slim's
    /// SpatialSqueeze turns the [N, C, 1, 1] logits into [N, C].)
    static func needsConstants(_ op: Op) -> Bool {
        switch op {
        case .shape, .gather, .slice, .cast, .constantOfShape: true
        default: false
        }
    }

    static func evaluate(_ node: Node, inputShapes: [[Int]], constants: [Tensor?], outputShape: [Int]) throws(CNNQError)
        -> Tensor?
    {
        if case let .shape(start, _) = node.op {
            let x = inputShapes[0]
            let lower = max(0, min(x.count, start < 0 ? start + x.count : start))
            return Tensor(shape: outputShape, ints: x[lower..<(lower + outputShape[0])].map { Int64($0) })
        }
        if case let .constantOfShape(value) = node.op {
            let count = outputShape.reduce(1, *)
            return value.isInteger
                ? Tensor(shape: outputShape, ints: Array(repeating: value.ints[0], count: count))
                : Tensor(shape: outputShape, floats: Array(repeating: value.floats[0], count: count))
        }
        let present = constants.compactMap { $0 }
        guard present.count == node.inputs.filter({ !$0.isEmpty }).count, let x = present.first else { return nil }
        switch node.op {
        case .unsqueeze, .squeeze, .flatten, .reshape, .identity:
            return relabel(x, outputShape)
        case let .cast(toFloat):
            return toFloat ? Tensor(shape: x.shape, floats: x.floats) : Tensor(shape: x.shape, ints: x.ints)
        case let .slice(starts, ends, axes, steps):
            // Row-major enumeration of the kept index along every axis.
            var order = [0]
            for axis in x.shape.indices {
                let kept =
                    axes.firstIndex(of: axis).map {
                        Array(ShapeInference.sliceRange(starts[$0], ends[$0], steps[$0], extent: x.shape[axis]))
                    }
                    ?? Array(0..<x.shape[axis])
                order = order.flatMap { base in kept.map { base * x.shape[axis] + $0 } }
            }
            return gathered(x, order, outputShape)
        case let .transpose(perm?):
            return gathered(x, Transposition.sourceIndices(shape: x.shape, perm: perm), outputShape)
        case let .gather(axis):
            let indices = present[1].ints.map { Int($0) < 0 ? Int($0) + x.shape[axis] : Int($0) }
            guard indices.allSatisfy({ (0..<x.shape[axis]).contains($0) }) else {
                throw .shapeMismatch(node: node.name, detail: "gather index out of range")
            }
            let outer = x.shape[..<axis].reduce(1, *)
            let inner = x.shape[(axis + 1)...].reduce(1, *)
            let order = (0..<outer).flatMap { o in
                indices.flatMap { i in (0..<inner).map { (o * x.shape[axis] + i) * inner + $0 } }
            }
            return gathered(x, order, outputShape)
        case let .concat(axis):
            let outer = x.shape[..<axis].reduce(1, *)
            var order: [(tensor: Int, index: Int)] = []
            for o in 0..<outer {
                for (t, part) in present.enumerated() {
                    let block = part.shape[axis...].reduce(1, *)
                    order += (0..<block).map { (t, o * block + $0) }
                }
            }
            if present.allSatisfy(\.isInteger) {
                return Tensor(shape: outputShape, ints: order.map { present[$0.tensor].ints[$0.index] })
            }
            return Tensor(shape: outputShape, floats: order.map { present[$0.tensor].floats[$0.index] })
        case .add, .sub, .mul, .div:
            let y = present[1]
            if x.isInteger && y.isInteger {
                let f: (Int64, Int64) -> Int64 =
                    switch node.op {
                    case .add: { $0 + $1 }
                    case .sub: { $0 - $1 }
                    case .mul: { $0 * $1 }
                    default: { $1 == 0 ? 0 : $0 / $1 }
                    }
                return Broadcast.apply(x.ints, x.shape, y.ints, y.shape, f).map { Tensor(shape: outputShape, ints: $0) }
            }
            let f: (Float, Float) -> Float =
                switch node.op {
                case .add: { $0 + $1 }
                case .sub: { $0 - $1 }
                case .mul: { $0 * $1 }
                default: { $0 / $1 }
                }
            return Broadcast.apply(x.floats, x.shape, y.floats, y.shape, f).map {
                Tensor(shape: outputShape, floats: $0)
            }
        default:
            return nil
        }
    }

    private static func relabel(_ x: Tensor, _ shape: [Int]) -> Tensor {
        var result = x
        result.shape = shape
        return result
    }

    private static func gathered(_ x: Tensor, _ order: [Int], _ shape: [Int]) -> Tensor {
        switch x.storage {
        case let .float(values): Tensor(shape: shape, floats: order.map { values[$0] })
        case let .int64(values): Tensor(shape: shape, ints: order.map { values[$0] })
        }
    }
}
