import Foundation
import SwiftProtobuf

/// Reads an ONNX model into a `Graph`. Every operator and attribute is checked: anything the
/// graph cannot represent exactly is an error naming the node, never a silent approximation.
public enum ONNXImporter {
    public static let supportedOpsets = 7...21

    /// `inputShape` fixes the input's symbolic dimensions (e.g. a text model exported for any width).
    public static func load(path: String, inputShape: [Int]? = nil) throws(CNNQError) -> Graph {
        try load(
            data: InputFile.read(path), inputShape: inputShape, folder: (path as NSString).deletingLastPathComponent)
    }

    /// `folder` holds the files of tensors the model keeps outside itself (nil: none may be).
    public static func load(data: Data, inputShape: [Int]? = nil, folder: String? = nil) throws(CNNQError) -> Graph {
        guard !data.isEmpty else { throw .malformedModel("the file is empty") }
        let model: Onnx_ModelProto
        do { model = try Onnx_ModelProto(serializedBytes: data) } catch {
            throw .malformedModel(
                "not a valid ONNX protobuf (\(error)); the file may be truncated or of another format")
        }
        return try graph(from: model, inputShape: inputShape, external: ExternalData(directory: folder))
    }

    static func graph(from model: Onnx_ModelProto, inputShape fixed: [Int]?, external: ExternalData) throws(CNNQError)
        -> Graph
    {
        guard model.irVersion > 0, model.hasGraph else {
            throw .malformedModel("no IR version or no graph; the file may be truncated or of another format")
        }
        let opsets = model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let opset = opsets.first.map({ Int($0.version) }) else {
            throw .malformedModel("the model imports no ONNX opset")
        }
        guard supportedOpsets.contains(opset) else {
            throw .malformedModel(
                "opset \(opset) is not supported (supported: \(supportedOpsets.lowerBound)–\(supportedOpsets.upperBound))"
            )
        }
        let proto = model.graph
        guard !proto.node.isEmpty else { throw .malformedModel("the graph has no nodes") }

        var initializers: [String: Tensor] = [:]
        for tensor in proto.initializer {
            initializers[tensor.name] = try TensorProtoConversion.tensor(
                from: tensor, context: "initializer", external: external)
        }
        var inputs: [(name: String, shape: [Int])] = []
        for input in proto.input where initializers[input.name] == nil {
            inputs.append((input.name, try inputShape(input, fixed: fixed)))
        }
        guard !inputs.isEmpty else { throw .malformedModel("the graph has no non-constant input") }

        var nodes: [Node] = []
        for (index, nodeProto) in proto.node.enumerated() {
            let name = nodeProto.name.isEmpty ? "\(nodeProto.opType)_\(index)" : nodeProto.name
            var reader = NodeReader(proto: nodeProto, name: name, opset: opset, initializers: initializers)
            if let node = try reader.read() {
                nodes.append(node)
                initializers.merge(reader.madeConstants) { old, _ in old }
            } else {
                // A Constant node: its value becomes an initializer.
                initializers[nodeProto.output[0]] = try reader.constantValue()
            }
        }
        let graph = Graph(
            name: proto.name, inputs: inputs, outputs: proto.output.map(\.name), nodes: nodes,
            initializers: initializers, opset: opset)
        try graph.validate()
        return graph
    }

    /// Shape of a graph input; a symbolic leading (batch) dimension is taken as 1. `fixed` gives
    /// every dimension; those the model fixes itself must agree.
    static func inputShape(_ info: Onnx_ValueInfoProto, fixed: [Int]?) throws(CNNQError) -> [Int] {
        guard info.type.tensorType.hasShape else { throw .malformedModel("input '\(info.name)' has no shape") }
        let dims = info.type.tensorType.shape.dim
        if let fixed {
            guard fixed.count == dims.count, fixed.allSatisfy({ (1...65_535).contains($0) }) else {
                throw .invalidArgument(
                    "input shape \(fixed) does not fit input '\(info.name)': rank \(dims.count), each size 1–65,535")
            }
            for (axis, dim) in dims.enumerated() {
                if case let .dimValue(value)? = dim.value, value > 0, Int(value) != fixed[axis] {
                    throw .invalidArgument("input '\(info.name)' has \(value) at axis \(axis), not \(fixed[axis])")
                }
            }
            return fixed
        }
        var shape: [Int] = []
        for (axis, dim) in dims.enumerated() {
            if case let .dimValue(value)? = dim.value, value > 0 {
                guard value <= 65_535 else {
                    throw .malformedModel(
                        "input '\(info.name)' has dimension \(value) at axis \(axis); at most 65,535 are supported")
                }
                shape.append(Int(value))
            } else if axis == 0 {
                shape.append(1)
            } else {
                throw .malformedModel(
                    "input '\(info.name)' has a symbolic or zero dimension at axis \(axis); give the size with --input-shape (e.g. 1,3,48,192) or export it fixed"
                )
            }
        }
        return shape
    }
}

/// Reads one NodeProto: its attributes (each must be known to the op) and constant operands.
struct NodeReader {
    let proto: Onnx_NodeProto
    let name: String
    let opset: Int
    let initializers: [String: Tensor]
    /// Constants the node's reading made (an attribute turned into an operand), for the graph.
    private(set) var madeConstants: [String: Tensor] = [:]
    private var attributes: [String: Onnx_AttributeProto] = [:]
    private var used: Set<String> = []

    init(proto: Onnx_NodeProto, name: String, opset: Int, initializers: [String: Tensor]) {
        self.proto = proto
        self.name = name
        self.opset = opset
        self.initializers = initializers
        for attribute in proto.attribute { attributes[attribute.name] = attribute }
    }

    private var op: String { proto.opType }

    private func fail(_ detail: String) -> CNNQError { .unsupportedAttribute(node: name, op: op, detail: detail) }

    // MARK: attributes

    private mutating func attribute(_ key: String) -> Onnx_AttributeProto? {
        used.insert(key)
        return attributes[key]
    }

    private mutating func int(_ key: String, _ fallback: Int) -> Int {
        attribute(key).map { Int($0.i) } ?? fallback
    }

    private mutating func float(_ key: String, _ fallback: Float) -> Float {
        attribute(key).map { $0.f } ?? fallback
    }

    private mutating func ints(_ key: String) -> [Int]? {
        attribute(key).map { $0.ints.map { Int($0) } }
    }

    private mutating func string(_ key: String, _ fallback: String) -> String {
        attribute(key).map { String(decoding: $0.s, as: UTF8.self) } ?? fallback
    }

    /// Attributes present on the node that the op's reader never asked for.
    private func unknownAttributes() -> [String] {
        attributes.keys.filter { !used.contains($0) }.sorted()
    }

    // MARK: operands

    private func input(_ index: Int) -> String? {
        index < proto.input.count && !proto.input[index].isEmpty ? proto.input[index] : nil
    }

    private func constantInput(_ index: Int, _ what: String) throws(CNNQError) -> Tensor? {
        guard let value = input(index) else { return nil }
        guard let tensor = initializers[value] else {
            throw fail("\(what) must be a constant, but '\(value)' is computed")
        }
        return tensor
    }

    private func requireInputs(_ range: ClosedRange<Int>) throws(CNNQError) {
        guard range.contains(proto.input.count) else {
            throw .malformedModel(
                "node '\(name)' (\(op)) has \(proto.input.count) inputs; expected \(range.lowerBound)–\(range.upperBound)"
            )
        }
    }

    private func requireSingleOutput() throws(CNNQError) {
        guard proto.output.count == 1 || proto.output.dropFirst().allSatisfy(\.isEmpty) else {
            throw fail("only the first output is supported, but the node has \(proto.output.count)")
        }
    }

    private mutating func window(defaultKernel: [Int]?) throws(CNNQError) -> Window {
        guard let kernel = ints("kernel_shape") ?? defaultKernel else { throw fail("kernel_shape is missing") }
        guard kernel.count == 2 else { throw fail("only 2-D windows are supported (kernel_shape \(kernel))") }
        let strides = ints("strides") ?? [1, 1]
        let dilations = ints("dilations") ?? [1, 1]
        let pads = ints("pads") ?? [0, 0, 0, 0]
        // Bounded before any size arithmetic (2^62 pads overflowed it): far above any real window.
        guard strides.count == 2, dilations.count == 2, pads.count == 4,
            (strides + dilations + kernel).allSatisfy({ (1...65_535).contains($0) }),
            pads.allSatisfy({ (0...65_535).contains($0) })
        else {
            throw fail("invalid window: kernel \(kernel), strides \(strides), dilations \(dilations), pads \(pads)")
        }
        let autoPadName = string("auto_pad", "NOTSET")
        guard let autoPad = Window.AutoPad(rawValue: autoPadName) else {
            throw fail("unknown auto_pad '\(autoPadName)'")
        }
        // ONNX pads are [top, left, bottom, right] for 2-D: begins then ends.
        return Window(
            kernel: kernel, strides: strides, dilations: dilations, pads: pads, autoPad: autoPad,
            ceilMode: int("ceil_mode", 0) != 0)
    }

    // MARK: nodes

    /// The node, or nil for a Constant node (read its value with `constantValue()`).
    mutating func read() throws(CNNQError) -> Node? {
        guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
            throw .unsupportedOperator(node: name, op: op, domain: proto.domain)
        }
        guard !proto.output.isEmpty else { throw .malformedModel("node '\(name)' (\(op)) has no output") }
        if op == "Constant" { return nil }
        var inputs = proto.input
        let parsed: Op
        switch op {
        case "Conv":
            try requireInputs(2...3)
            let weight = initializers[proto.input[1]]
            let kernel = weight.flatMap { $0.shape.count == 4 ? Array($0.shape[2...]) : nil }
            parsed = .conv(window: try window(defaultKernel: kernel), group: int("group", 1), clamp: .none)
        case "ConvTranspose":
            try requireInputs(2...3)
            let weight = initializers[proto.input[1]]
            let kernel = weight.flatMap { $0.shape.count == 4 ? Array($0.shape[2...]) : nil }
            let window = try window(defaultKernel: kernel)
            guard window.autoPad == .notSet, !window.ceilMode else {
                throw fail("auto_pad is not supported; give pads")
            }
            guard ints("output_shape") == nil else { throw fail("output_shape is not supported; give pads") }
            let outputPadding = ints("output_padding") ?? [0, 0]
            guard outputPadding.count == 2, zip(outputPadding, window.strides).allSatisfy({ $0 >= 0 && $0 < $1 }) else {
                throw fail("output_padding \(outputPadding) must be below the strides \(window.strides)")
            }
            parsed = .convTranspose(window: window, group: int("group", 1), outputPadding: outputPadding)
        case "Gemm":
            try requireInputs(2...3)
            parsed = .gemm(
                transA: int("transA", 0) != 0, transB: int("transB", 0) != 0,
                alpha: float("alpha", 1), beta: float("beta", 1), clamp: .none)
        case "MatMul":
            try requireInputs(2...2)
            parsed = .matMul
        case "BatchNormalization":
            try requireInputs(5...5)
            try requireSingleOutput()
            _ = float("momentum", 0.9)
            guard int("training_mode", 0) == 0 else { throw fail("training_mode=1 is not an inference graph") }
            if opset < 9, int("spatial", 1) != 1 { throw fail("spatial=0 is not supported") }
            parsed = .batchNorm(epsilon: float("epsilon", 1e-5))
        case "Relu":
            parsed = .clip(.relu)
        case "Clip":
            // Bounds are attributes before opset 11, operands since.
            let lower =
                try opset < 11 ? float("min", -.infinity) : constantInput(1, "Clip min")?.floats.first ?? -.infinity
            let upper =
                try opset < 11 ? float("max", .infinity) : constantInput(2, "Clip max")?.floats.first ?? .infinity
            inputs = [proto.input[0]]
            parsed = .clip(Clamp(lower: lower, upper: upper))
        case "HardSwish":
            parsed = .hardSwish
        case "HardSigmoid":
            parsed = .hardSigmoid(alpha: float("alpha", 0.2), beta: float("beta", 0.5))
        case "Sigmoid":
            parsed = .sigmoid
        case "Tanh":
            parsed = .tanh
        case "Add", "Sub", "Mul", "Div":
            try requireInputs(2...2)
            parsed = ["Add": Op.add, "Sub": .sub, "Mul": .mul, "Div": .div][op]!
        case "Concat":
            guard let axis = attribute("axis").map({ Int($0.i) }) else { throw fail("axis is missing") }
            parsed = .concat(axis: axis)
        case "GlobalAveragePool":
            parsed = .globalAveragePool
        case "AveragePool":
            parsed = .averagePool(
                window: try window(defaultKernel: nil), countIncludePad: int("count_include_pad", 0) != 0)
        case "MaxPool":
            try requireSingleOutput()
            guard int("storage_order", 0) == 0 else { throw fail("storage_order=1 is not supported") }
            parsed = .maxPool(window: try window(defaultKernel: nil))
        case "ReduceMean":
            var axes = ints("axes")
            if opset >= 18 {
                axes = try constantInput(1, "ReduceMean axes")?.ints.map { Int($0) }
                inputs = [proto.input[0]]
            }
            guard int("noop_with_empty_axes", 0) == 0 else { throw fail("noop_with_empty_axes=1 is not supported") }
            parsed = .reduceMean(axes: axes ?? [], keepDims: int("keepdims", 1) != 0)
        case "Pad":
            let mode = string("mode", "constant")
            guard mode == "constant" else { throw fail("\(mode) padding is not supported; constant is") }
            var pads: [Int]?, value: Float = 0
            if opset < 11 {
                (pads, value) = (ints("pads"), float("value", 0))
            } else {
                guard proto.input.count < 4 || proto.input[3].isEmpty else {
                    throw fail("the axes input is not supported")
                }
                value = try constantInput(2, "Pad constant_value")?.floats.first ?? 0
                inputs = [proto.input[0]]
                if let computed = input(1), initializers[computed] == nil {
                    // Pads from shape arithmetic ("same" padding of TF ports): constant folding computes them.
                    pads = []
                    inputs.append(computed)
                } else {
                    pads = try constantInput(1, "Pad pads")?.ints.map { Int(clamping: $0) }
                }
            }
            guard let pads else { throw fail("pads are required") }
            guard pads.allSatisfy({ abs($0) <= 65_535 }) else { throw fail("pads \(pads) beyond ±65,535") }
            parsed = .pad(pads: pads, value: value)
        case "Resize":
            parsed = try resize()
            inputs = [proto.input[0], input(2) ?? "", input(3) ?? ""]
        case "Upsample",
            "Resize" where opset < 11:
            parsed = try upsample()
            inputs = [proto.input[0], input(1) ?? "\(name)::scales", ""]
        case "Flatten":
            parsed = .flatten(axis: int("axis", 1))
        case "Reshape":
            try requireInputs(2...2)
            parsed = .reshape(allowZero: int("allowzero", 0) != 0)
        case "Softmax":
            parsed = .softmax(axis: int("axis", opset >= 13 ? -1 : 1), legacy: opset < 13)
        case "Dropout":
            guard proto.output.count == 1 || proto.output[1].isEmpty else {
                throw fail("the dropout mask output is not supported")
            }
            _ = float("ratio", 0.5)
            _ = int("seed", 0)
            inputs = [proto.input[0]]
            parsed = .identity
        case "Identity":
            parsed = .identity
        case "LRN":
            // Caffe-era AlexNet and GoogLeNet exports carry it; torchvision's definitions do not.
            throw fail(
                "local response normalisation has no int8 kernel; export torchvision's AlexNet or GoogLeNet (which have none) or retrain without LRN"
            )
        case "Shape":
            parsed = .shape(start: int("start", 0), end: attribute("end").map { Int($0.i) })
        case "Slice":
            let ints = { (t: Tensor) in t.ints.map { Int(clamping: $0) } }
            let starts: [Int], ends: [Int], axes: [Int], steps: [Int]
            if opset < 10 {
                // Before opset 10, starts, ends and axes are attributes and there are no steps.
                try requireInputs(1...1)
                guard let s = self.ints("starts"), let e = self.ints("ends") else {
                    throw fail("starts and ends are required")
                }
                (starts, ends) = (s, e)
                axes = self.ints("axes") ?? Array(0..<starts.count)
                steps = Array(repeating: 1, count: starts.count)
            } else {
                try requireInputs(3...5)
                guard let s = try constantInput(1, "Slice starts"), let e = try constantInput(2, "Slice ends")
                else { throw fail("starts and ends are required") }
                (starts, ends) = (ints(s), ints(e))
                axes = try constantInput(3, "Slice axes").map(ints) ?? Array(0..<starts.count)
                steps = try constantInput(4, "Slice steps").map(ints) ?? Array(repeating: 1, count: starts.count)
            }
            guard axes.count == starts.count, ends.count == starts.count, steps.count == starts.count,
                !steps.contains(0)
            else {
                throw fail("starts, ends, axes and steps must have one entry per sliced axis, steps non-zero")
            }
            inputs = [proto.input[0]]
            parsed = .slice(starts: starts, ends: ends, axes: axes, steps: steps)
        case "ConstantOfShape":
            try requireInputs(1...1)
            let value = try attribute("value").map { (a) throws(CNNQError) in
                try TensorProtoConversion.tensor(from: a.t, context: "ConstantOfShape '\(name)'")
            }
            guard value == nil || value!.count == 1 else { throw fail("value must hold one element") }
            parsed = .constantOfShape(value: value ?? Tensor(shape: [1], floats: [0]))
        case "Transpose":
            try requireInputs(1...1)
            parsed = .transpose(perm: ints("perm"))
        case "Gather":
            try requireInputs(2...2)
            parsed = .gather(axis: int("axis", 0))
        case "Unsqueeze", "Squeeze":
            var axes = ints("axes")
            if opset >= 13 {
                axes = try constantInput(1, "\(op) axes")?.ints.map { Int($0) }
                inputs = [proto.input[0]]
            }
            if op == "Unsqueeze" {
                guard let axes else { throw fail("axes is missing") }
                parsed = .unsqueeze(axes: axes)
            } else {
                parsed = .squeeze(axes: axes ?? [])
            }
        case "Cast":
            let to = int("to", 0)
            _ = int("saturate", 1)
            switch Int32(to) {
            case TensorProtoConversion.float, TensorProtoConversion.double: parsed = .cast(toFloat: true)
            case TensorProtoConversion.int64, TensorProtoConversion.int32: parsed = .cast(toFloat: false)
            default: throw fail("cast to element type \(to) is not supported")
            }
        default:
            throw .unsupportedOperator(node: name, op: op, domain: proto.domain)
        }
        let unknown = unknownAttributes()
        guard unknown.isEmpty else { throw fail("unsupported attribute(s) \(unknown.joined(separator: ", "))") }
        if parsed != .identity || op == "Identity" { try requireSingleOutput() }
        return Node(name: name, op: parsed, inputs: inputs, outputs: [proto.output[0]])
    }

    /// Resize's attributes; scales and sizes stay inputs (torch computes sizes from shapes).
    private mutating func resize() throws(CNNQError) -> Op {
        try requireInputs(2...4)
        let mode = string("mode", "nearest")
        let coordinates = string("coordinate_transformation_mode", "half_pixel")
        let rounding = string("nearest_mode", "round_prefer_floor")
        _ = float("cubic_coeff_a", -0.75)
        _ = int("exclude_outside", 0)  // cubic only
        _ = float("extrapolation_value", 0)  // tf_crop_and_resize only
        guard int("antialias", 0) == 0 else { throw fail("antialias=1 is not supported") }
        guard string("keep_aspect_ratio_policy", "stretch") == "stretch" else {
            throw fail("keep_aspect_ratio_policy other than stretch is not supported")
        }
        guard ints("axes") == nil else { throw fail("the axes attribute is not supported; give all four scales") }
        guard let transform = ResizeAttributes.Coordinates(rawValue: coordinates) else {
            throw fail(
                "coordinate_transformation_mode \(coordinates) is not supported (supported: \(ResizeAttributes.Coordinates.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        switch mode {
        case "nearest":
            guard let r = ResizeAttributes.rounding(named: rounding) else {
                throw fail("unknown nearest_mode \(rounding)")
            }
            return .resize(ResizeAttributes(mode: .nearest(r), coordinates: transform))
        case "linear":
            return .resize(ResizeAttributes(mode: .linear, coordinates: transform))
        default:
            throw fail("\(mode) resizing is not supported; nearest and linear are")
        }
    }

    /// Upsample (opsets 7–9) and Resize as opset 10 defines it: scales as an attribute (7, made a
    /// constant operand here) or an input (9, 10); the output is floor(size × scale) and a destination
    /// pixel reads source coordinate x / scale (Resize's asymmetric mode), nearest rounding down, as
    /// ONNX Runtime does for scales of at least 1 (the only ones Upsample allows).
    private mutating func upsample() throws(CNNQError) -> Op {
        try requireInputs(1...2)
        var scales = input(1).flatMap { initializers[$0]?.floats }  // nil when computed (folded later)
        if let given = attribute("scales").map(\.floats) {
            guard input(1) == nil else { throw fail("scales given both as an attribute and as an input") }
            madeConstants["\(name)::scales"] = Tensor(shape: [given.count], floats: given)
            scales = given
        } else if input(1) == nil {
            throw fail("scales are missing")
        }
        if let scales, scales.contains(where: { !($0 >= 1) }) {
            throw fail("scales \(scales) below 1 are not supported")
        }
        switch string("mode", "nearest") {
        case "nearest": return .resize(ResizeAttributes(mode: .nearest(.floor), coordinates: .asymmetric))
        case "linear", "bilinear": return .resize(ResizeAttributes(mode: .linear, coordinates: .asymmetric))
        case let mode: throw fail("\(mode) upsampling is not supported; nearest and linear are")
        }
    }

    /// The value of a Constant node.
    mutating func constantValue() throws(CNNQError) -> Tensor {
        guard let (key, attribute) = attributes.first, attributes.count == 1 else {
            throw fail("a Constant needs exactly one value attribute")
        }
        switch key {
        case "value": return try TensorProtoConversion.tensor(from: attribute.t, context: "Constant node '\(name)'")
        case "value_float": return Tensor(shape: [], floats: [attribute.f])
        case "value_floats": return Tensor(shape: [attribute.floats.count], floats: attribute.floats)
        case "value_int": return Tensor(shape: [], ints: [attribute.i])
        case "value_ints": return Tensor(shape: [attribute.ints.count], ints: attribute.ints)
        default: throw fail("unsupported constant attribute \(key)")
        }
    }
}

extension ONNXImporter {
    /// Reads a serialized TensorProto (the `input_0.pb` files of ONNX test data).
    public static func loadTensor(path: String) throws(CNNQError) -> Tensor {
        let data = try InputFile.read(path)
        let proto: Onnx_TensorProto
        do { proto = try Onnx_TensorProto(serializedBytes: data) } catch {
            throw .malformedModel("\(path) is not a serialized ONNX tensor (\(error))")
        }
        return try TensorProtoConversion.tensor(from: proto, context: path)
    }
}
