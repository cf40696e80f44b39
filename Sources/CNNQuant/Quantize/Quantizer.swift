import CNNQKernels
import CNNQRuntime
import Foundation

/// Turns a prepared float graph and calibrated activation ranges into an int8 model, following
/// `shared/design/quantization.md`: per-channel symmetric int8 weights, per-tensor asymmetric int8
/// activations, int32 bias, fixed-point requantization, fused clamps, lookup tables for the
/// elementwise functions, and rescaling adds, products and concatenations.
public struct Quantizer {
    public struct Options: Sendable {
        /// Subtract the expected weight-rounding error of each output channel, E[(W_q − W)·x], from
        /// its bias (Nagel et al. 2019, with E[x] measured on the calibration images).
        public var biasCorrection = false
        /// One weight scale for a whole depthwise layer instead of one per channel: a deliberately
        /// worse recipe, for checking that accuracy tests catch a regression.
        public var perTensorDepthwise = false
        /// Conv, Gemm, MatMul and Add nodes kept in float32 (a float island on the device): their
        /// inputs are dequantized, and their outputs quantized only where an int8 op reads them.
        public var exclude: Set<String> = []
        public init(biasCorrection: Bool = false, perTensorDepthwise: Bool = false, exclude: Set<String> = []) {
            self.biasCorrection = biasCorrection
            self.perTensorDepthwise = perTensorDepthwise
            self.exclude = exclude
        }
    }

    let graph: Graph
    let ranges: [String: (lower: Float, upper: Float)]
    let channelMeans: [String: [Double]]
    let options: Options
    var model = QuantizedModel()
    /// Tensor index of each graph value that has one (reshapes share their input's).
    var tensorOf: [String: Int] = [:]
    /// The same for values computed in float (excluded layers), with the range an int8 copy gets.
    var floatOf: [String: Int] = [:]
    var floatRange: [String: (lower: Float, upper: Float)] = [:]
    /// Values that flatten an H×W×C map (H·W > 1) into a vector, by the 4-D value they flatten. NHWC
    /// bytes are not in NCHW flatten order, so no tensor stands for them: the Gemm or MatMul that
    /// reads one becomes an H×W convolution over the map, its weights reordered to match.
    var spatialFlatten: [String: String] = [:]

    /// `channelMeans` holds E[x] per channel for convolution inputs (needed by bias correction).
    public static func quantize(_ graph: Graph, ranges: [String: (lower: Float, upper: Float)], channelMeans: [String: [Double]] = [:],
                                options: Options = Options()) throws(CNNQError) -> QuantizedModel {
        var q = Quantizer(graph: graph, ranges: ranges, channelMeans: channelMeans, options: options)
        try q.run()
        return q.model
    }

    mutating func run() throws(CNNQError) {
        try Self.checkExcluded(options.exclude, in: graph)
        for input in graph.inputs {
            let t = try newTensor(input.name, node: "input")
            model.tensors[t].flags |= ModelFormat.inputFlag
            model.inputs.append(t)
        }
        for node in graph.nodes { try quantize(node) }
        for output in graph.outputs {
            guard tensorOf[output] != nil || floatOf[output] != nil else {
                throw .invalidGraph("graph output '\(output)' is not computed by any op")
            }
            let t = try tensor(output, node: "output")
            model.tensors[t].flags |= ModelFormat.outputFlag
            model.tensors[t].rank = graph.shapes[output]?.count == 2 ? 2 : model.tensors[t].rank
            model.outputs.append(t)
        }
        if !options.exclude.isEmpty {
            let borders = model.ops.filter { $0.kind == .quantize || $0.kind == .dequantize }.count
            model.notes.append("kept in float32 (--exclude): \(options.exclude.sorted().joined(separator: ", ")); \(borders) quantize/dequantize ops at their borders")
        }
    }

    // MARK: Tensors

    /// Scale and zero point for values in [lower, upper] (widened to contain 0): the 256 int8 levels
    /// span the range and zero is a level.
    public static func activationParameters(lower: Float, upper: Float) -> (scale: Double, zeroPoint: Int32) {
        let lo = Double(min(lower, 0)), hi = Double(max(upper, 0))
        guard hi - lo > 1e-12 else { return (1, 0) }
        let scale = (hi - lo) / 255
        return (scale, Int32(max(-128, min(127, (-128 - lo / scale).rounded()))))
    }

    /// A float32 tensor for value `name`; `range` is what an int8 copy of it will span.
    mutating func newFloatTensor(_ name: String, node: String, range: (lower: Float, upper: Float)?) throws(CNNQError) -> Int {
        guard let range = range ?? ranges[name] else { throw .invalidGraph("no calibration range for '\(name)'") }
        let int8 = tensorOf[name]
        let t = try newTensor(name, node: node, quantization: (1, 0))
        model.tensors[t].flags |= ModelFormat.floatFlag
        (tensorOf[name], floatOf[name], floatRange[name]) = (int8, t, range)
        return t
    }

    mutating func newTensor(_ name: String, node: String, range override: (lower: Float, upper: Float)? = nil,
                            quantization: (scale: Double, zeroPoint: Int32)? = nil) throws(CNNQError) -> Int {
        guard let shape = graph.shapes[name] else { throw .invalidGraph("no shape for '\(name)'") }
        let dims: (Int, Int, Int, Int)
        switch shape.count {
        case 4: dims = (shape[0], shape[2], shape[3], shape[1])
        case 2: dims = (shape[0], 1, 1, shape[1])
        default:
            throw .unsupportedAttribute(node: node, op: "tensor", detail: "'\(name)' has rank \(shape.count); int8 tensors have rank 4 (NCHW) or 2")
        }
        let q: (scale: Double, zeroPoint: Int32)
        if let quantization { q = quantization } else {
            guard let range = override ?? ranges[name] else { throw .invalidGraph("no calibration range for '\(name)'") }
            q = Self.activationParameters(lower: range.lower, upper: range.upper)
        }
        model.tensors.append(.init(name: name, batch: dims.0, height: dims.1, width: dims.2, channels: dims.3, rank: shape.count,
                                   scale: q.scale, zeroPoint: q.zeroPoint))
        tensorOf[name] = model.tensors.count - 1
        return model.tensors.count - 1
    }

    /// The int8 tensor of value `name`, quantized here from its float one if it has only that.
    mutating func tensor(_ name: String, node: Node) throws(CNNQError) -> Int {
        try tensor(name, node: node.name, op: node.op.name)
    }

    mutating func tensor(_ name: String, node: String, op: String = "") throws(CNNQError) -> Int {
        if let t = tensorOf[name] { return t }
        if let map = spatialFlatten[name] {
            throw .unsupportedAttribute(node: node, op: op, detail: "'\(name)' flattens the map '\(map)'; in int8 only a Gemm or MatMul may read a flattened map")
        }
        guard let x = floatOf[name] else {
            throw .unsupportedAttribute(node: node, op: op, detail: "input '\(name)' is a constant or is not int8; only activations may be")
        }
        let y = try newTensor(name, node: node, range: floatRange[name])
        append(.init(kind: .quantize, name: "\(name)/quantize", inputs: [x], output: y, words: []))
        return y
    }

    /// The float tensor of value `name`, dequantized here from its int8 one if it has only that.
    mutating func floatTensor(_ name: String, node: Node) throws(CNNQError) -> Int {
        if let t = floatOf[name] { return t }
        let x = try tensor(name, node: node)
        let y = try newFloatTensor(name, node: node.name, range: ranges[name] ?? (0, 0))
        append(.init(kind: .dequantize, name: "\(name)/dequantize", inputs: [x], output: y, words: []))
        return y
    }

    /// Every excluded name must be a node that can run in float.
    public static func checkExcluded(_ exclude: Set<String>, in graph: Graph) throws(CNNQError) {
        for name in exclude.sorted() {
            guard let node = graph.nodes.first(where: { $0.name == name }) else {
                throw .invalidArgument("--exclude '\(name)': no such layer (names as in the per-layer report or `cnn-quantize inspect --prepared`)")
            }
            switch node.op {
            case .conv, .gemm, .matMul, .add: break
            default:
                throw .invalidArgument("--exclude '\(name)': a \(node.op.name) cannot run in float; Conv, Gemm, MatMul and Add can")
            }
        }
    }

    /// int8 bounds of a float clamp on a tensor.
    static func bounds(_ clamp: Clamp, _ t: QuantizedModel.TensorEntry) -> (Int32, Int32) {
        func level(_ v: Float, _ fallback: Int32) -> Int32 {
            v.isFinite ? Int32(max(-128, min(127, (Double(v) / t.scale).rounded() + Double(t.zeroPoint)))) : fallback
        }
        return (level(clamp.lower, -128), level(clamp.upper, 127))
    }

    // MARK: Ops

    mutating func quantize(_ node: Node) throws(CNNQError) {
        let out = node.outputs[0]
        switch node.op {
        case let .conv(window, group, clamp):
            guard let w = graph.initializers[node.inputs[1]] else {
                throw .unsupportedAttribute(node: node.name, op: "Conv", detail: "weights must be constant")
            }
            let (o, perGroup, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
            // ONNX OIHW → OHWI, the kernels' order.
            let v = w.floats
            var ohwi = [Float](repeating: 0, count: v.count)
            for oc in 0..<o { for i in 0..<perGroup { for ky in 0..<kh { for kx in 0..<kw {
                ohwi[((oc * kh + ky) * kw + kx) * perGroup + i] = v[((oc * perGroup + i) * kh + ky) * kw + kx]
            } } } }
            let bias = node.inputs.count > 2 ? graph.initializers[node.inputs[2]]?.floats : nil
            if options.exclude.contains(node.name) {
                return try floatConvolution(node, weights: ohwi, bias: bias, kernel: (kh, kw), window: window, groups: group, clamp: clamp)
            }
            let x = try tensor(node.inputs[0], node: node)
            let c = model.tensors[x].channels
            let kind: ModelFormat.OpKind
            if group == 1 {
                let unit = kh == 1 && kw == 1 && window.strides == [1, 1] && window.pads.allSatisfy { $0 == 0 }
                kind = unit ? .pointwise : .convolution
            } else if group == c && o == c && perGroup == 1 {
                kind = .depthwise
            } else if c % group == 0, o % group == 0, perGroup == c / group {
                kind = .groupedConvolution
            } else {
                throw .shapeMismatch(node: node.name, detail: "\(group) groups do not divide \(c) input and \(o) output channels")
            }
            let y = try newTensor(out, node: node.name, range: clampedRange(out, clamp))
            try convolution(node, kind: kind, x: x, y: y, weights: ohwi, bias: bias, kernel: (kh, kw), window: window, groups: group, clamp: clamp)
        case let .gemm(transA, transB, alpha, beta, clamp):
            guard !transA, let b = graph.initializers[node.inputs[1]] else {
                throw .unsupportedAttribute(node: node.name, op: "Gemm", detail: "only X·B with a constant B (transA = 0) is supported")
            }
            let (k, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
            let v = b.floats
            let weights = (0..<(n * k)).map { i in alpha * (transB ? v[i] : v[(i % k) * n + i / k]) }
            var bias: [Float]?
            if node.inputs.count > 2 {
                guard let c = graph.initializers[node.inputs[2]], c.count == n || c.count == 1 else {
                    throw .unsupportedAttribute(node: node.name, op: "Gemm", detail: "C must be a constant of N or 1 values")
                }
                bias = (0..<n).map { beta * c.floats[c.count == 1 ? 0 : $0] }
            }
            try fullyConnected(node, weights: weights, bias: bias, clamp: clamp)
        case .matMul:
            guard let b = graph.initializers[node.inputs[1]], b.shape.count == 2 else {
                throw .unsupportedAttribute(node: node.name, op: "MatMul", detail: "only X·B with a constant 2-D B is supported")
            }
            let (k, n) = (b.shape[0], b.shape[1])
            let v = b.floats
            let weights = (0..<(n * k)).map { v[($0 % k) * n + $0 / k] }
            try fullyConnected(node, weights: weights, bias: nil, clamp: .none)
        case let .function(f):
            let x = try tensor(node.inputs[0], node: node)
            let y = try newTensor(out, node: node.name)
            let (tx, ty) = (model.tensors[x], model.tensors[y])
            var table = [Int8](repeating: 0, count: 256)
            table.withUnsafeMutableBufferPointer { buffer in
                LookupTable.build({ Double(f(Float($0))) }, inputScale: tx.scale, inputZeroPoint: tx.zeroPoint,
                                  outputScale: ty.scale, outputZeroPoint: ty.zeroPoint, table: buffer.baseAddress!)
            }
            append(.init(kind: .lookup, name: node.name, inputs: [x], output: y, words: [0],
                         blobs: [.init(word: 0, bytes: table.map { UInt8(bitPattern: $0) }, alignment: 16)]))
        case .add where options.exclude.contains(node.name):
            guard graph.shapes[node.inputs[0]] == graph.shapes[node.inputs[1]] else {
                throw .unsupportedAttribute(node: node.name, op: "Add", detail: "float Add needs operands of one shape (no broadcast)")
            }
            let (a, b) = (try floatTensor(node.inputs[0], node: node), try floatTensor(node.inputs[1], node: node))
            let y = try newFloatTensor(out, node: node.name, range: nil)
            append(.init(kind: .floatAdd, name: node.name, inputs: [a, b], output: y, words: []))
        case .add:
            let (a, b) = (try tensor(node.inputs[0], node: node), try tensor(node.inputs[1], node: node))
            guard graph.shapes[node.inputs[0]] == graph.shapes[node.inputs[1]] else {
                throw .unsupportedAttribute(node: node.name, op: "Add", detail: "int8 Add needs operands of one shape (no broadcast)")
            }
            let y = try newTensor(out, node: node.name)
            let (ta, tb, ty) = (model.tensors[a], model.tensors[b], model.tensors[y])
            let p = AddParameters(inputScales: (ta.scale, tb.scale), inputZeroPoints: (ta.zeroPoint, tb.zeroPoint),
                                  outputScale: ty.scale, outputZeroPoint: ty.zeroPoint)
            append(.init(kind: .add, name: node.name, inputs: [a, b], output: y,
                         words: [p.inputMultipliers.0.multiplier, p.inputMultipliers.0.shift, p.inputMultipliers.1.multiplier,
                                 p.inputMultipliers.1.shift, p.output.multiplier.multiplier, p.output.multiplier.shift, -128, 127]))
        case .mul:
            var (x, gate) = (try tensor(node.inputs[0], node: node), try tensor(node.inputs[1], node: node))
            let outShape = graph.shapes[out]
            if graph.shapes[node.inputs[0]] != outShape { swap(&x, &gate) }
            guard graph.shapes[model.tensors[x].name] == outShape else {
                throw .unsupportedAttribute(node: node.name, op: "Mul", detail: "int8 Mul broadcasts only a per-channel gate over the pixels")
            }
            let y = try newTensor(out, node: node.name)
            let (tx, tg, ty) = (model.tensors[x], model.tensors[gate], model.tensors[y])
            let p = MultiplyParameters(inputScale: tx.scale, inputZeroPoint: tx.zeroPoint, gateScale: tg.scale, gateZeroPoint: tg.zeroPoint,
                                       outputScale: ty.scale, outputZeroPoint: ty.zeroPoint)
            append(.init(kind: .multiply, name: node.name, inputs: [x, gate], output: y,
                         words: [p.output.multiplier.multiplier, p.output.multiplier.shift, -128, 127]))
        case .globalAveragePool, .reduceMean([2, 3], _), .reduceMean([-2, -1], _):  // keepdims 0 gives [N, C]: the same bytes
            let x = try tensor(node.inputs[0], node: node)
            let y = try newTensor(out, node: node.name)
            let (tx, ty) = (model.tensors[x], model.tensors[y])
            let p = Pooling.AverageParameters(inputScale: tx.scale, inputZeroPoint: tx.zeroPoint, outputScale: ty.scale,
                                              outputZeroPoint: ty.zeroPoint, pixels: tx.height * tx.width)
            append(.init(kind: .globalAveragePool, name: node.name, inputs: [x], output: y,
                         words: [p.output.multiplier.multiplier, p.output.multiplier.shift, -128, 127]))
        case let .maxPool(window), let .averagePool(window, _):
            if case .averagePool(_, true) = node.op, window.pads.contains(where: { $0 != 0 }) {
                throw .unsupportedAttribute(node: node.name, op: "AveragePool", detail: "count_include_pad = 1 with padding is not supported in int8")
            }
            guard window.dilations == [1, 1] else { throw .unsupportedAttribute(node: node.name, op: node.op.name, detail: "dilated pooling is not supported") }
            let x = try tensor(node.inputs[0], node: node)
            let tx = model.tensors[x]
            // Pooling compares and averages raw int8 values: the output keeps the input's quantization.
            let y = try newTensor(out, node: node.name, quantization: (tx.scale, tx.zeroPoint))
            let ty = model.tensors[y]
            // ceil_mode becomes extra bottom/right padding.
            let bottom = max(window.pads[2], (ty.height - 1) * window.strides[0] + window.kernel[0] - tx.height - window.pads[0])
            let right = max(window.pads[3], (ty.width - 1) * window.strides[1] + window.kernel[1] - tx.width - window.pads[1])
            let words = [window.kernel[0], window.kernel[1], window.strides[0], window.strides[1], window.pads[0], window.pads[1], bottom, right]
            append(.init(kind: node.op.name == "MaxPool" ? .maxPool : .averagePool, name: node.name, inputs: [x], output: y,
                         words: words.map { Int32($0) }))
        case let .concat(axis):
            let rank = graph.shapes[out]?.count ?? 0
            guard axis == 1 || axis == -rank + 1 else {
                throw .unsupportedAttribute(node: node.name, op: "Concat", detail: "int8 Concat joins channels (axis 1), not axis \(axis)")
            }
            var parts: [Int] = []
            for input in node.inputs { parts.append(try tensor(input, node: node)) }
            let y = try newTensor(out, node: node.name)
            let ty = model.tensors[y]
            var words: [Int32] = []
            for part in parts {
                let p = RequantizeParameters(inputScale: model.tensors[part].scale, inputZeroPoint: model.tensors[part].zeroPoint,
                                             outputScale: ty.scale, outputZeroPoint: ty.zeroPoint)
                words += [p.isIdentity ? 1 : 0, p.output.multiplier.multiplier, p.output.multiplier.shift]
            }
            append(.init(kind: .concat, name: node.name, inputs: parts, output: y, words: words))
        case .flatten, .reshape, .squeeze, .unsqueeze:
            // In NHWC these are free only when the bytes keep their order: same N, H, W, C.
            let float = tensorOf[node.inputs[0]] == nil ? floatOf[node.inputs[0]] : nil
            let x = if let float { float } else { try tensor(node.inputs[0], node: node) }
            let tx = model.tensors[x]
            let shape = graph.shapes[out] ?? []
            if shape.count == 2, tx.rank == 4, shape == [tx.batch, tx.height * tx.width * tx.channels], tx.height * tx.width > 1 {
                spatialFlatten[out] = spatialFlatten[node.inputs[0]] ?? model.tensors[x].name
                return
            }
            guard shape.count == 2 || shape.count == 4,
                  (shape.count == 2 ? [shape[0], 1, 1, shape[1]] : [shape[0], shape[2], shape[3], shape[1]]) == [tx.batch, tx.height, tx.width, tx.channels]
            else {
                throw .unsupportedAttribute(node: node.name, op: node.op.name, detail: "only reshapes that keep the NHWC layout (e.g. [N,C,1,1] → [N,C]) are supported in int8")
            }
            if float != nil { (floatOf[out], floatRange[out]) = (x, floatRange[node.inputs[0]]) } else { tensorOf[out] = x }
        default:
            throw .unsupportedOperator(node: node.name, op: node.op.name, domain: "")
        }
    }

    mutating func append(_ op: QuantizedModel.OpEntry) { model.ops.append(op) }

    /// The calibrated range of a clamped output, narrowed to the clamp (ReLU6 outputs never exceed 6).
    func clampedRange(_ name: String, _ clamp: Clamp) -> (lower: Float, upper: Float)? {
        guard let r = ranges[name] else { return nil }
        return (max(r.lower, clamp.lower), min(r.upper, clamp.upper))
    }

    /// The ten geometry words both convolution parameter layouts start with: kernel, stride,
    /// dilation (height, width each) and the four pads.
    static func geometryWords(kernel: (Int, Int), window: Window) -> [Int32] {
        [kernel.0, kernel.1, window.strides[0], window.strides[1], window.dilations[0], window.dilations[1],
         window.pads[0], window.pads[1], window.pads[2], window.pads[3]].map { Int32($0) }
    }

    /// Gemm and MatMul with [n][k] weights: a pointwise op on a vector, or an H×W convolution over the
    /// map a flatten reads (`spatialFlatten`), with the weights reordered from NCHW to NHWC flatten order.
    mutating func fullyConnected(_ node: Node, weights: [Float], bias: [Float]?, clamp: Clamp) throws(CNNQError) {
        var (input, weights, kernel, kind) = (node.inputs[0], weights, (1, 1), ModelFormat.OpKind.pointwise)
        if let map = spatialFlatten[input], let shape = graph.shapes[map] {
            let (c, h, w) = (shape[1], shape[2], shape[3])
            let k = c * h * w, n = weights.count / k
            var nhwc = [Float](repeating: 0, count: weights.count)
            for j in 0..<n { for ch in 0..<c { for p in 0..<(h * w) { nhwc[j * k + p * c + ch] = weights[j * k + ch * h * w + p] } } }
            (input, weights, kernel, kind) = (map, nhwc, (h, w), .convolution)
        }
        var flat = node
        flat.inputs[0] = input
        let window = Window(kernel: [kernel.0, kernel.1])
        if options.exclude.contains(node.name) {
            return try floatConvolution(flat, weights: weights, bias: bias, kernel: kernel, window: window, groups: 1, clamp: clamp)
        }
        let x = try tensor(input, node: node)
        let y = try newTensor(node.outputs[0], node: node.name, range: clampedRange(node.outputs[0], clamp))
        try convolution(node, kind: kind, x: x, y: y, weights: weights, bias: bias, kernel: kernel, window: window, groups: 1, clamp: clamp)
    }

    /// An excluded convolution-like layer: float32 OHWI weights and bias, run by `FloatIsland`.
    mutating func floatConvolution(_ node: Node, weights: [Float], bias: [Float]?, kernel: (Int, Int), window: Window, groups: Int,
                                   clamp: Clamp) throws(CNNQError) {
        let out = node.outputs[0]
        let x = try floatTensor(node.inputs[0], node: node)
        let y = try newFloatTensor(out, node: node.name, range: clampedRange(out, clamp))
        let o = model.tensors[y].channels
        guard weights.count % o == 0, weights.count / o * groups == kernel.0 * kernel.1 * model.tensors[x].channels else {
            throw .shapeMismatch(node: node.name, detail: "weights of \(weights.count) values do not fit \(o) outputs × \(model.tensors[x].channels) inputs")
        }
        typealias P = ModelFormat.FloatConvolutionParameter
        var words = Self.geometryWords(kernel: kernel, window: window) + [Int32](repeating: 0, count: P.count - 10)
        words[P.groups.rawValue] = Int32(groups)
        words[P.lowerBits.rawValue] = Int32(bitPattern: clamp.lower.bitPattern)
        words[P.upperBits.rawValue] = Int32(bitPattern: clamp.upper.bitPattern)
        var op = QuantizedModel.OpEntry(kind: .floatConvolution, name: node.name, inputs: [x], output: y, words: words, blobs: [
            .init(word: P.weights.rawValue, bytes: .init(littleEndian: weights.map(\.bitPattern)), alignment: 16),
            .init(word: P.bias.rawValue, bytes: .init(littleEndian: (bias ?? [Float](repeating: 0, count: o)).map(\.bitPattern)), alignment: 16),
        ])
        op.macs = model.tensors[y].count * weights.count / o
        op.weights = weights.count + (bias == nil ? 0 : o)
        append(op)
    }

    /// Convolution-like layers: per-output-channel symmetric weights in OHWI order, int32 bias,
    /// per-channel requantization, packed for the kernel that runs them.
    mutating func convolution(_ node: Node, kind: ModelFormat.OpKind, x: Int, y: Int, weights: [Float], bias: [Float]?,
                              kernel: (Int, Int), window: Window, groups: Int, clamp: Clamp) throws(CNNQError) {
        let (tx, ty) = (model.tensors[x], model.tensors[y])
        let o = ty.channels
        let perChannel = weights.count / o
        // Input channels one output channel sees (those of its group).
        let inputs = kind == .depthwise ? 1 : perChannel / (kernel.0 * kernel.1)
        guard perChannel * o == weights.count, kind == .depthwise || inputs * groups == tx.channels else {
            throw .shapeMismatch(node: node.name, detail: "weights of \(weights.count) values do not fit \(o) outputs × \(tx.channels) inputs")
        }
        var q = [Int8](repeating: 0, count: weights.count)
        var weightScales = [Double](repeating: 1, count: o)
        var b = bias.map { $0.map(Double.init) } ?? [Double](repeating: 0, count: o)
        let means = options.biasCorrection ? channelMeans[tx.name] : nil
        let layerLargest = kind == .depthwise && options.perTensorDepthwise ? Double(weights.map { abs($0) }.max() ?? 0) : 0
        // The int32 bias, the input zero point folded into it and the accumulated products must fit
        // 32 bits. A channel whose weights are almost zero (a BatchNorm γ of ~0 folded in, as in
        // TF-slim MobileNet V1) but whose bias is not would get a tiny scale and a bias beyond int32:
        // its scale is raised until the bias fits, and its weights round to zero, as they nearly are.
        let biasRoom = Double(Int32.max) - 2 * 128 * 127 * Double(perChannel)
        for c in 0..<o {
            let row = weights[(c * perChannel)..<((c + 1) * perChannel)]
            let largest = kind == .depthwise && options.perTensorDepthwise ? layerLargest : Double(row.map { abs($0) }.max() ?? 0)
            let s = max(largest > 0 ? largest / 127 : 1, abs(b[c]) / (tx.scale * biasRoom))
            weightScales[c] = s
            var error = 0.0
            for (i, w) in row.enumerated() {
                let level = max(-127, min(127, (Double(w) / s).rounded()))
                q[c * perChannel + i] = Int8(level)
                if let means { error += (level * s - Double(w)) * means[kind == .depthwise ? c : c / (o / groups) * inputs + i % inputs] }
            }
            b[c] -= error
        }
        let shape = ConvolutionShape(batch: tx.batch, inputHeight: tx.height, inputWidth: tx.width, inputChannels: tx.channels, outputChannels: o,
                                     kernelHeight: kernel.0, kernelWidth: kernel.1, strideHeight: window.strides[0], strideWidth: window.strides[1],
                                     dilationHeight: window.dilations[0], dilationWidth: window.dilations[1], padTop: window.pads[0],
                                     padLeft: window.pads[1], padBottom: window.pads[2], padRight: window.pads[3],
                                     groups: kind == .depthwise ? o : groups)
        // Bias, multipliers and shifts: 16-channel blocks, each group's starting a block.
        let depthwise = kind == .depthwise
        let slots = depthwise ? (o + 15) / 16 * 16 : StandardConvolution.slotCount(shape: shape)
        var biasQ = [Int32](repeating: 0, count: o), multipliers = [Int32](repeating: 0, count: slots), shifts = [Int32](repeating: 0, count: slots)
        let requantization = QuantizedMultiplier.convolution((0..<o).map { tx.scale * weightScales[$0] / ty.scale })
        for c in 0..<o {
            biasQ[c] = Int32(clamping: Int64((b[c] / (tx.scale * weightScales[c])).rounded()))
            let slot = depthwise ? c : StandardConvolution.channelSlot(c, shape: shape)
            (multipliers[slot], shifts[slot]) = (requantization[c].multiplier, requantization[c].shift)
        }
        let (lower, upper) = Self.bounds(clamp, ty)
        var packed: [Int8], packedBias: [Int32]
        let depth = kernel.0 * kernel.1 * inputs
        if depthwise {
            packed = [Int8](repeating: 0, count: Depthwise.packedWeightCount(channels: o, kernelHeight: kernel.0, kernelWidth: kernel.1))
            q.withUnsafeBufferPointer { w in packed.withUnsafeMutableBufferPointer { p in
                Depthwise.pack(weights: w.baseAddress!, channels: o, kernelHeight: kernel.0, kernelWidth: kernel.1, packed: p.baseAddress!)
            } }
            packedBias = biasQ + [Int32](repeating: 0, count: slots - o)
        } else {
            packed = [Int8](repeating: 0, count: StandardConvolution.packedWeightCount(shape: shape))
            packedBias = [Int32](repeating: 0, count: slots)
            StandardConvolution.pack(weights: q, bias: biasQ, shape: shape, inputZeroPoint: tx.zeroPoint, packedWeights: &packed,
                                     packedBias: &packedBias)
        }
        typealias P = ModelFormat.ConvolutionParameter
        var words = Self.geometryWords(kernel: kernel, window: window) + [Int32](repeating: 0, count: P.count - 10)
        (words[P.lower.rawValue], words[P.upper.rawValue]) = (lower, upper)
        if kind == .groupedConvolution { words.append(Int32(groups)) }
        let blobs: [QuantizedModel.Blob] = [
            .init(word: P.weights.rawValue, bytes: packed.map { UInt8(bitPattern: $0) }, alignment: ModelFormat.alignment),
            .init(word: P.bias.rawValue, bytes: .init(littleEndian: packedBias), alignment: 16),
            .init(word: P.multipliers.rawValue, bytes: .init(littleEndian: multipliers), alignment: 16),
            .init(word: P.shifts.rawValue, bytes: .init(littleEndian: shifts), alignment: 16),
        ]
        var op = QuantizedModel.OpEntry(kind: kind, name: node.name, inputs: [x], output: y, words: words, blobs: blobs)
        op.macs = ty.count * perChannel
        op.weights = weights.count + (bias == nil ? 0 : o)
        op.workspacePerThread = kind == .depthwise ? 0 : 2 * Pointwise.workspaceCount(depth: depth, threads: 1)
        append(op)
    }
}
