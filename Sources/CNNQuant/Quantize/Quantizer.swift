import CNNQKernels
import CNNQRuntime
import Foundation

/// Turns a prepared float graph and calibrated activation ranges into an int8 model, following
/// `docs/quantization.md`: per-channel symmetric int8 weights, per-tensor asymmetric int8
/// activations, int32 bias, fp32 requantization scales, fused clamps, lookup tables for the
/// elementwise functions, and rescaling adds, products and concatenations.
public struct Quantizer {
    public struct Options: Sendable {
        /// Subtract the expected weight-rounding error of each output channel, E[(W_q − W)·x], from
        /// its bias (Nagel et al. 2019, with E[x] measured on the calibration images); the whole
        /// mean error where `MeasuredMeans` are given.
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

    /// A layer's input means in the float and in the int8 model, on the same images, [tap][channel]
    /// (`EmpiricalBiasCorrection`): with them its bias absorbs its whole mean error E[W_q·x_q] − E[W·x],
    /// the error it inherits as well as its weights' own. `int8` is in the kernel's order (a flattened
    /// map's as the map), `float` in the graph's, as `inputMeans`.
    public struct MeasuredMeans: Hashable, Sendable {
        public var float: [Double], int8: [Double]
    }

    let graph: Graph
    let ranges: [String: (lower: Float, upper: Float)]
    let inputMeans: [String: [Double]]
    let measuredMeans: [String: MeasuredMeans]
    let options: Options
    let cache: ConvolutionCache?
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
    /// Values that read an int8 tensor's bytes in another order (Transpose, Reshape; see `lowerReshape`).
    var views: [String: ByteView] = [:]
    /// Nodes already lowered as part of the node before them (a ReLU fused into the Add it reads).
    var absorbed: Set<String> = []

    /// `inputMeans` holds each convolution's and Gemm's input means per tap and channel, by node
    /// (`InputMeansRequest`; needed by bias correction), `measuredMeans` those of the layers whose
    /// correction was measured on the int8 model. `cache` carries packed convolution weights from
    /// one call to the next on the same graph, means and options.
    public static func quantize(
        _ graph: Graph, ranges: [String: (lower: Float, upper: Float)], inputMeans: [String: [Double]] = [:],
        measuredMeans: [String: MeasuredMeans] = [:], options: Options = Options(), cache: ConvolutionCache? = nil
    ) throws(CNNQError) -> QuantizedModel {
        var q = Quantizer(
            graph: graph, ranges: ranges, inputMeans: inputMeans, measuredMeans: measuredMeans, options: options,
            cache: cache)
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
        for node in graph.nodes where !absorbed.contains(node.name) { try quantize(node) }
        for output in graph.outputs {
            guard tensorOf[output] != nil || floatOf[output] != nil || views[output] != nil else {
                throw .invalidGraph("graph output '\(output)' is not computed by any op")
            }
            let t =
                if let view = views[output] { try materialize(output, view) } else {
                    try tensor(output, node: "output")
                }
            model.tensors[t].flags |= ModelFormat.outputFlag
            model.tensors[t].rank = graph.shapes[output]?.count == 2 ? 2 : model.tensors[t].rank
            model.outputs.append(t)
        }
        if !options.exclude.isEmpty {
            let borders = model.ops.filter { $0.kind == .quantize || $0.kind == .dequantize }.count
            model.notes.append(
                "kept in float32 (--exclude): \(options.exclude.sorted().joined(separator: ", ")); \(borders) quantize/dequantize ops at their borders"
            )
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
    mutating func newFloatTensor(_ name: String, node: String, range: (lower: Float, upper: Float)?) throws(CNNQError)
        -> Int
    {
        guard let range = range ?? ranges[name] else { throw .invalidGraph("no calibration range for '\(name)'") }
        let int8 = tensorOf[name]
        let t = try newTensor(name, node: node, quantization: (1, 0))
        model.tensors[t].flags |= ModelFormat.floatFlag
        (tensorOf[name], floatOf[name], floatRange[name]) = (int8, t, range)
        return t
    }

    mutating func newTensor(
        _ name: String, node: String, range override: (lower: Float, upper: Float)? = nil,
        quantization: (scale: Double, zeroPoint: Int32)? = nil
    ) throws(CNNQError) -> Int {
        guard let shape = graph.shapes[name] else { throw .invalidGraph("no shape for '\(name)'") }
        guard let dims = ByteView.nhwcDims(shape) else {
            throw .unsupportedAttribute(
                node: node, op: "tensor",
                detail: "'\(name)' has rank \(shape.count); int8 tensors have rank 4 (NCHW), 3 or 2")
        }
        let q: (scale: Double, zeroPoint: Int32)
        if let quantization {
            q = quantization
        } else {
            guard let range = override ?? ranges[name] else {
                throw .invalidGraph("no calibration range for '\(name)'")
            }
            q = Self.activationParameters(lower: range.lower, upper: range.upper)
        }
        model.tensors.append(
            .init(
                name: name, batch: dims[0], height: dims[1], width: dims[2], channels: dims[3], rank: shape.count,
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
        if views[name] != nil {
            throw .unsupportedAttribute(
                node: node, op: op,
                detail:
                    "'\(name)' holds another tensor's bytes in another order (Transpose/Reshape); in int8 only a Concat or a graph output may read it"
            )
        }
        if let map = spatialFlatten[name] {
            throw .unsupportedAttribute(
                node: node, op: op,
                detail: "'\(name)' flattens the map '\(map)'; in int8 only a Gemm or MatMul may read a flattened map")
        }
        guard let x = floatOf[name] else {
            throw .unsupportedAttribute(
                node: node, op: op, detail: "input '\(name)' is a constant or is not int8; only activations may be")
        }
        let y = try newTensor(name, node: node, range: floatRange[name])
        append(.init(kind: .quantize, name: "\(name)/quantize", inputs: [x], output: y, words: []))
        return y
    }

    /// The int8 input of `node` and its output as a new tensor of the same scale and zero point (ops
    /// that move or average values without rescaling them: Pad, Resize, zero insertion).
    mutating func sameQuantization(_ node: Node) throws(CNNQError) -> (x: Int, y: Int) {
        let x = try tensor(node.inputs[0], node: node)
        let (scale, zeroPoint) = (model.tensors[x].scale, model.tensors[x].zeroPoint)
        return (x, try newTensor(node.outputs[0], node: node.name, quantization: (scale, zeroPoint)))
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
                throw .invalidArgument(
                    "--exclude '\(name)': no such layer (names as in the per-layer report or `cnn-quantize inspect --prepared`)"
                )
            }
            switch node.op {
            case .conv, .gemm, .matMul, .add: break
            default:
                throw .invalidArgument(
                    "--exclude '\(name)': a \(node.op.name) cannot run in float; Conv, Gemm, MatMul and Add can")
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

    /// Lowers one graph node to int8 ops (or float-island ops); each op's lowering is in `Lowering/`.
    mutating func quantize(_ node: Node) throws(CNNQError) {
        switch node.op {
        case let .conv(window, groups, clamp): try lowerConv(node, window: window, groups: groups, clamp: clamp)
        case let .gemm(transA, transB, alpha, beta, clamp):
            try lowerGemm(node, transA: transA, transB: transB, alpha: alpha, beta: beta, clamp: clamp)
        case .matMul: try lowerMatMul(node)
        case let .function(f): try lowerFunction(node, f)
        case .add: try lowerAdd(node)
        case .mul: try lowerMul(node)
        // ReduceMean over H and W: keepdims 0 gives [N, C], the same bytes.
        case .globalAveragePool, .reduceMean([2, 3], _), .reduceMean([-2, -1], _): try lowerGlobalAveragePool(node)
        case let .maxPool(window), let .averagePool(window, _): try lowerWindowPool(node, window: window)
        case let .concat(axis): try lowerConcat(node, axis: axis)
        case let .pad(pads, value): try lowerPad(node, pads: pads, value: value)
        case let .resize(attributes): try lowerResize(node, attributes)
        case let .insertZeros(strides): try lowerInsertZeros(node, strides: strides)
        case let .depthToSpace(s): try lowerDepthToSpace(node, blockSize: s)
        case .flatten, .reshape, .squeeze, .unsqueeze, .transpose: try lowerReshape(node)
        default: throw .unsupportedOperator(node: node.name, op: node.op.name, domain: "")
        }
    }

    mutating func append(_ op: QuantizedModel.OpEntry) { model.ops.append(op) }

    /// The calibrated range of a clamped output, narrowed to the clamp (ReLU6 outputs never exceed 6).
    func clampedRange(_ name: String, _ clamp: Clamp) -> (lower: Float, upper: Float)? {
        guard let r = ranges[name] else { return nil }
        return (max(r.lower, clamp.lower), min(r.upper, clamp.upper))
    }

}
