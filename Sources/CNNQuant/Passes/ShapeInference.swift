/// Output shape of one node from its input shapes (logical ONNX layout). Windows with auto_pad are
/// resolved here, so the returned op may differ from the node's.
enum ShapeInference {
    /// How many inputs stay on a node whose other operands shape inference folded into its op.
    static func keptInputs(_ op: Op) -> Int? {
        switch op {
        case .pad, .resize: 1
        default: nil
        }
    }

    static func infer(_ node: Node, _ shapes: [[Int]], constants: [Tensor?]) throws(CNNQError) -> (op: Op, shape: [Int])
    {
        func fail(_ detail: String) -> CNNQError { .shapeMismatch(node: node.name, detail: detail) }
        func rank(_ index: Int, _ expected: Int) throws(CNNQError) {
            guard shapes[index].count == expected else {
                throw fail("input \(index) has shape \(shapes[index]); \(node.op.name) expects rank \(expected)")
            }
        }
        func normalized(_ axis: Int, rank: Int) throws(CNNQError) -> Int {
            let result = axis < 0 ? axis + rank : axis
            guard (0..<rank).contains(result) else { throw fail("axis \(axis) is out of range for rank \(rank)") }
            return result
        }
        let x = shapes.first ?? []
        switch node.op {
        case .conv(var window, let group, let clamp):
            try rank(0, 4)
            try rank(1, 4)
            let w = shapes[1]
            guard group >= 1, x[1] % group == 0, w[0] % group == 0, w[1] * group == x[1] else {
                throw fail("input channels \(x[1]) do not match weight \(w) with group \(group)")
            }
            guard Array(w[2...]) == window.kernel else {
                throw fail("kernel_shape \(window.kernel) disagrees with weight \(w)")
            }
            if shapes.count > 2 && shapes[2] != [w[0]] { throw fail("bias shape \(shapes[2]) should be [\(w[0])]") }
            let (h, wOut) = window.resolve(inputHeight: x[2], inputWidth: x[3])
            guard h >= 1, wOut >= 1 else { throw fail("output would be empty for input \(x)") }
            return (.conv(window: window, group: group, clamp: clamp), [x[0], w[0], h, wOut])
        case let .convTranspose(window, group, outputPadding):
            try rank(0, 4)
            try rank(1, 4)
            let w = shapes[1]
            guard group >= 1, x[1] == w[0], w[0] % group == 0 else {
                throw fail("input channels \(x[1]) do not match weight \(w) with group \(group)")
            }
            guard Array(w[2...]) == window.kernel else {
                throw fail("kernel_shape \(window.kernel) disagrees with weight \(w)")
            }
            if shapes.count > 2 && shapes[2] != [w[1] * group] {
                throw fail("bias shape \(shapes[2]) should be [\(w[1] * group)]")
            }
            var size: [Int] = []
            for axis in 0..<2 {
                let spread: Int = window.strides[axis] * (x[axis + 2] - 1) + outputPadding[axis]
                let extent: Int = (window.kernel[axis] - 1) * window.dilations[axis] + 1
                size.append(spread + extent - window.pads[axis] - window.pads[axis + 2])
            }
            guard size.allSatisfy({ (1...65_535).contains($0) }) else { throw fail("output \(size) out of range") }
            return (node.op, [x[0], w[1] * group] + size)
        case let .insertZeros(strides):
            try rank(0, 4)
            return (node.op, [x[0], x[1], (x[2] - 1) * strides[0] + 1, (x[3] - 1) * strides[1] + 1])
        case let .depthToSpace(s):
            try rank(0, 4)
            guard (1...64).contains(s), x[1] % (s * s) == 0 else { throw fail("block \(s) does not divide \(x)") }
            return (node.op, [x[0], x[1] / (s * s), x[2] * s, x[3] * s])
        case let .gemm(transA, transB, _, _, _):
            try rank(0, 2)
            try rank(1, 2)
            let (m, k) = transA ? (x[1], x[0]) : (x[0], x[1])
            let (k2, n) = transB ? (shapes[1][1], shapes[1][0]) : (shapes[1][0], shapes[1][1])
            guard k == k2 else { throw fail("inner dimensions differ: \(x) × \(shapes[1])") }
            if shapes.count > 2 && Broadcast.shape(shapes[2], [m, n]) != [m, n] {
                throw fail("bias \(shapes[2]) does not broadcast to [\(m), \(n)]")
            }
            return (node.op, [m, n])
        case .matMul:
            let b = shapes[1]
            guard x.count >= 2, b.count == 2, x.last == b[0] else { throw fail("cannot multiply \(x) by \(b)") }
            return (node.op, x.dropLast() + [b[1]])
        case .batchNorm:
            guard x.count >= 2, shapes[1...].allSatisfy({ $0 == [x[1]] }) else {
                throw fail("BatchNormalization parameters must be [\(x.count >= 2 ? x[1] : 0)]")
            }
            return (node.op, x)
        case .clip, .hardSwish, .hardSigmoid, .sigmoid, .tanh, .identity, .cast, .function:
            return (node.op, x)
        case .softmax(let axis, _):
            _ = try normalized(axis, rank: x.count)
            return (node.op, x)
        case .add, .sub, .mul, .div:
            guard let shape = Broadcast.shape(shapes[0], shapes[1]) else {
                throw fail("shapes \(shapes[0]) and \(shapes[1]) do not broadcast")
            }
            return (node.op, shape)
        case let .concat(axis):
            let axis = try normalized(axis, rank: x.count)
            var shape = x
            for other in shapes.dropFirst() {
                guard other.count == x.count, other.indices.allSatisfy({ $0 == axis || other[$0] == x[$0] }) else {
                    throw fail("cannot concatenate \(shapes) along axis \(axis)")
                }
                shape[axis] += other[axis]
            }
            return (.concat(axis: axis), shape)
        case .globalAveragePool:
            try rank(0, 4)
            return (node.op, [x[0], x[1], 1, 1])
        case .averagePool(var window, let countIncludePad):
            try rank(0, 4)
            let (h, w) = window.resolve(inputHeight: x[2], inputWidth: x[3])
            guard h >= 1, w >= 1 else { throw fail("output would be empty for input \(x)") }
            return (.averagePool(window: window, countIncludePad: countIncludePad), [x[0], x[1], h, w])
        case var .maxPool(window):
            try rank(0, 4)
            let (h, w) = window.resolve(inputHeight: x[2], inputWidth: x[3])
            guard h >= 1, w >= 1 else { throw fail("output would be empty for input \(x)") }
            return (.maxPool(window: window), [x[0], x[1], h, w])
        case let .reduceMean(axes, keepDims):
            var resolved: [Int] = []
            for axis in axes.isEmpty ? Array(x.indices) : axes { resolved.append(try normalized(axis, rank: x.count)) }
            resolved.sort()
            let shape = x.indices.compactMap { resolved.contains($0) ? (keepDims ? 1 : nil) : x[$0] }
            return (.reduceMean(axes: resolved, keepDims: keepDims), shape)
        case .pad(var pads, let value):
            if pads.isEmpty {
                guard let computed = constants[1] else {
                    throw fail("the pads are computed from run-time values; only pads known ahead are supported")
                }
                pads = computed.ints.map { Int(clamping: $0) }
            }
            guard pads.count == 2 * x.count else { throw fail("\(pads.count) pads for a rank-\(x.count) input") }
            guard pads.allSatisfy({ $0 >= 0 && $0 <= 65_535 }) else {
                throw fail("pads \(pads) must be in 0…65,535 (negative pads crop, which is not supported)")
            }
            return (.pad(pads: pads, value: value), x.indices.map { x[$0] + pads[$0] + pads[$0 + x.count] })
        case var .resize(attributes):
            try rank(0, 4)
            // Inputs 1 and 2: scales and sizes (an empty scales tensor stands for none).
            if attributes.scales == nil, attributes.sizes == nil {
                let given = { (i: Int) in i < constants.count ? constants[i].flatMap { $0.count > 0 ? $0 : nil } : nil }
                if let sizes = given(2) {
                    attributes.sizes = sizes.ints.map { Int(clamping: $0) }
                } else if let scales = given(1) {
                    attributes.scales = scales.floats
                } else if node.inputs.dropFirst().contains(where: { !$0.isEmpty }) {
                    throw fail(
                        "the scales or sizes are computed from run-time values; only values known ahead are supported")
                } else {
                    throw fail("neither scales nor sizes are given")
                }
            }
            guard let shape = attributes.outputShape(x), shape.count == 4 else {
                throw fail("Resize needs four sizes or four positive finite scales (at most 65,535) for input \(x)")
            }
            guard shape[0] == x[0], shape[1] == x[1] else {
                throw fail("only rows and columns can be resized (\(x) to \(shape))")
            }
            guard shape.allSatisfy({ (1...65_535).contains($0) }) else { throw fail("output \(shape) out of range") }
            guard attributes.axes(input: x, output: shape) != nil else {
                throw fail("the scales \(attributes.scales ?? []) are not representable (too small or too large)")
            }
            return (.resize(attributes), shape)
        case let .flatten(axis):
            let axis = axis < 0 ? axis + x.count : axis
            guard (0...x.count).contains(axis) else { throw fail("flatten axis out of range for \(x)") }
            return (.flatten(axis: axis), [x[..<axis].reduce(1, *), x[axis...].reduce(1, *)])
        case let .reshape(allowZero):
            guard let target = constants[1] else {
                throw fail("the target shape is computed at run time; only constant shapes are supported")
            }
            return (node.op, try reshaped(x, to: target.ints.map { Int($0) }, allowZero: allowZero, fail: fail))
        case let .shape(start, end):
            let lower = max(0, min(x.count, start < 0 ? start + x.count : start))
            let upper = max(0, min(x.count, end.map { $0 < 0 ? $0 + x.count : $0 } ?? x.count))
            return (node.op, [max(0, upper - lower)])
        case let .slice(starts, ends, axes, steps):
            var shape = x
            var resolved: [Int] = []
            for (i, axis) in axes.enumerated() {
                let a = try normalized(axis, rank: x.count)
                resolved.append(a)
                let range = sliceRange(starts[i], ends[i], steps[i], extent: x[a])
                shape[a] = Array(range).count
            }
            return (.slice(starts: starts, ends: ends, axes: resolved, steps: steps), shape)
        case .constantOfShape:
            // Shape arithmetic makes a few values; the bound keeps a hostile shape from allocating gigabytes.
            guard let dims = constants[0]?.ints, dims.allSatisfy({ (0...65_535).contains($0) }),
                let count = Graph.elementCount(dims.map { Int($0) }), count <= 1 << 24
            else { throw fail("the shape must be known ahead, each size 0–65,535, at most 2^24 values") }
            return (node.op, dims.map { Int($0) })
        case let .transpose(perm):
            let order = perm ?? Array(x.indices.reversed())
            guard order.sorted() == Array(x.indices) else { throw fail("perm \(order) is not a permutation of \(x)") }
            return (.transpose(perm: order), order.map { x[$0] })
        case let .gather(axis):
            let axis = try normalized(axis, rank: x.count)
            return (node.op, Array(x[..<axis]) + shapes[1] + Array(x[(axis + 1)...]))
        case let .unsqueeze(axes):
            let outRank = x.count + axes.count
            var resolved: [Int] = []
            for axis in axes { resolved.append(try normalized(axis, rank: outRank)) }
            var shape: [Int] = []
            var source = x.makeIterator()
            for axis in 0..<outRank { shape.append(resolved.contains(axis) ? 1 : source.next()!) }
            return (.unsqueeze(axes: resolved), shape)
        case let .squeeze(axes):
            var resolved: [Int] = []
            for axis in axes { resolved.append(try normalized(axis, rank: x.count)) }
            if axes.isEmpty { resolved = x.indices.filter { x[$0] == 1 } }
            guard resolved.allSatisfy({ x[$0] == 1 }) else { throw fail("cannot squeeze axes \(axes) of \(x)") }
            return (.squeeze(axes: resolved), x.indices.filter { !resolved.contains($0) }.map { x[$0] })
        }
    }

    /// Indices ONNX Slice takes along an axis of `extent`: negative bounds count from the end, bounds
    /// are clamped, steps may be negative.
    static func sliceRange(_ start: Int, _ end: Int, _ step: Int, extent: Int) -> StrideTo<Int> {
        func resolve(_ v: Int, _ low: Int, _ high: Int) -> Int { min(max(v < 0 ? v + extent : v, low), high) }
        return step > 0
            ? stride(from: resolve(start, 0, extent), to: resolve(end, 0, extent), by: step)
            : stride(from: resolve(start, 0, extent - 1), to: resolve(end, -1, extent - 1), by: step)
    }

    static func reshaped(_ x: [Int], to target: [Int], allowZero: Bool, fail: (String) -> CNNQError) throws(CNNQError)
        -> [Int]
    {
        var shape = target.enumerated().map { axis, dim in dim == 0 && !allowZero && axis < x.count ? x[axis] : dim }
        let total = x.reduce(1, *)
        if let unknown = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            guard known > 0, total % known == 0 else { throw fail("cannot reshape \(x) to \(target)") }
            shape[unknown] = total / known
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == total else {
            throw fail("cannot reshape \(x) to \(target)")
        }
        return shape
    }
}
