import CNNQKernels
import CNNQRuntime
import Foundation

/// A `.cnnq` model as an ONNX graph in QDQ form (opset 13): every int8 tensor a QuantizeLinear and
/// DequantizeLinear pair with the file's scale and zero point, weights int8 per output channel
/// (their scales recovered from the requantization scales), biases int32, the fused clamps as Clip,
/// lookup tables as a Gather on the int8 values, float islands as plain float ops. ONNX Runtime runs
/// it and Netron opens it; its outputs agree with cnnq's closely but not bit for bit, since ONNX
/// Runtime requantizes its own way.
public enum QDQExport {
    public static func onnx(_ model: Int8Model) throws(CNNQError) -> Data {
        var graph = Builder(model: try model.unfused())
        try graph.build()
        var proto = Onnx_ModelProto()
        proto.irVersion = 7
        proto.producerName = "cnn-quantize"
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 13
        proto.opsetImport = [opset]
        proto.graph = graph.graph
        do { return try proto.serializedData() } catch {
            throw .invalidArgument("cannot serialise the ONNX model: \(error)")
        }
    }

    struct Builder {
        let model: Int8Model
        var view: ModelView { model.view }
        var graph = Onnx_GraphProto()
        /// ONNX names of tensors, unique.
        var names: [Int: String] = [:]
        var used: Set<String> = []
        var counter = 0

        init(model: Int8Model) {
            self.model = model
            graph.name = "cnnq"
        }

        mutating func unique(_ base: String) -> String {
            var name = base.isEmpty ? "t" : base
            while used.contains(name) {
                counter += 1
                name = "\(base)_\(counter)"
            }
            used.insert(name)
            return name
        }

        /// The float value of tensor `t` in the graph (for int8 tensors, after its DequantizeLinear).
        mutating func value(_ t: Int) -> String {
            if let name = names[t] { return name }
            let name = unique(model.name(ofTensor: t))
            names[t] = name
            return name
        }

        /// Its int8 value, before the DequantizeLinear.
        mutating func quantized(_ t: Int) -> String { value(t) + "_q" }

        func dims(_ t: TensorInfo) -> [Int64] { t.logicalShape.map(Int64.init) }

        mutating func node(
            _ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
            attributes: [Onnx_AttributeProto] = []
        ) {
            var n = Onnx_NodeProto()
            n.opType = op
            n.input = inputs
            n.output = outputs
            n.name = unique(name.isEmpty ? op : name)
            n.attribute = attributes
            graph.node.append(n)
        }

        static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .ints
            a.ints = values.map(Int64.init)
            return a
        }

        static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .string
            a.s = Data(value.utf8)
            return a
        }

        static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .int
            a.i = Int64(value)
            return a
        }

        mutating func constant(
            _ name: String, _ type: Onnx_TensorProto.DataType, dims: [Int], bytes: [UInt8]
        ) -> String {
            var t = Onnx_TensorProto()
            t.name = unique(name)
            t.dataType = Int32(type.rawValue)
            t.dims = dims.map(Int64.init)
            t.rawData = Data(bytes)
            graph.initializer.append(t)
            return t.name
        }

        mutating func floats(_ name: String, _ values: [Float], dims: [Int]? = nil) -> String {
            constant(name, .float, dims: dims ?? (values.count == 1 ? [] : [values.count]), bytes: Self.bytes(values))
        }

        static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

        /// QuantizeLinear of the float `source` into tensor `t`'s int8 levels, then its DequantizeLinear.
        mutating func requantize(_ source: String, into t: Int) {
            let (scale, zero) = quantization(t)
            node("QuantizeLinear", [source, scale, zero], [quantized(t)])
            node("DequantizeLinear", [quantized(t), scale, zero], [value(t)])
        }

        /// Tensor `t`'s scale and zero point as initializers.
        mutating func quantization(_ t: Int) -> (scale: String, zero: String) {
            let info = view.tensor(t)
            return (
                floats(value(t) + "_scale", [info.scale]),
                constant(value(t) + "_zero", .int8, dims: [], bytes: [UInt8(bitPattern: Int8(info.zeroPoint))])
            )
        }

        /// `source`, the value of tensor `from`, in tensor `to`'s rank: a [N, 1, 1, C] map flattened to
        /// [N, C], or [N, C] made [N, C, 1, 1].
        mutating func reshaped(_ source: String, from: Int, to: Int) -> String {
            let (a, b) = (view.tensor(from), view.tensor(to))
            guard a.rank != b.rank else { return source }
            let target = unique(source + "_rank\(b.rank)")
            if b.rank == 2 {
                node("Flatten", [source], [target], attributes: [Self.int("axis", 1)])
            } else {
                let shape = constant(target + "_shape", .int64, dims: [dims(b).count], bytes: Self.bytes(dims(b)))
                node("Reshape", [source, shape], [target])
            }
            return target
        }

        /// A float Clip to the real values of int8 levels `lower`...`upper` of tensor `t`, if narrower
        /// than the whole range (the fused ReLU and ReLU6).
        mutating func clamp(_ source: String, _ t: Int, _ lower: Int32, _ upper: Int32) -> String {
            guard lower > -128 || upper < 127 else { return source }
            let info = view.tensor(t)
            let low = floats(value(t) + "_min", [Float(lower - info.zeroPoint) * info.scale])
            let high = floats(value(t) + "_max", [Float(upper - info.zeroPoint) * info.scale])
            let clipped = unique(value(t) + "_clip")
            node("Clip", [source, low, high], [clipped])
            return clipped
        }

        mutating func build() throws(CNNQError) {
            for i in 0..<view.inputCount {
                let t = view.input(i), info = view.tensor(t)
                let input = unique(model.name(ofTensor: t) + "_float")
                graph.input.append(Self.valueInfo(input, dims(info)))
                requantize(input, into: t)
            }
            for o in 0..<view.opCount { try op(view.op(o)) }
            for i in 0..<view.outputCount {
                let t = view.output(i)
                graph.output.append(Self.valueInfo(value(t), dims(view.tensor(t))))
            }
        }

        static func valueInfo(_ name: String, _ dims: [Int64]) -> Onnx_ValueInfoProto {
            var info = Onnx_ValueInfoProto()
            info.name = name
            var tensor = Onnx_TypeProto.Tensor()
            tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            tensor.shape.dim = dims.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = d
                return dim
            }
            info.type.tensorType = tensor
            return info
        }

        mutating func op(_ op: OpInfo) throws(CNNQError) {
            let name = model.name(ofOp: op.index)
            let inputs = (0..<op.inputCount).map { view.input(of: op, $0) }
            let y = op.output
            let result = unique(value(y) + "_float")
            switch op.kind {
            case .convolution, .pointwise, .depthwise, .groupedConvolution:
                try convolution(op, name: name, x: inputs[0], result: result)
                return
            case .add:
                let p = view.parameters(AddOp.Parameters(), of: op)
                node("Add", [value(inputs[0]), value(inputs[1])], [result], name: name)
                requantize(clamp(result, y, p.lower, p.upper), into: y)
            case .multiply:
                let p = view.parameters(MultiplyOp.Parameters(), of: op)
                var gate = value(inputs[1])
                let (x, g) = (view.tensor(inputs[0]), view.tensor(inputs[1]))
                if x.rank == 4 && g.rank == 2 {  // [N, C] broadcast over the pixels: [N, C, 1, 1]
                    let shape = constant(
                        gate + "_shape", .int64, dims: [4],
                        bytes: Self.bytes([Int64(g.batch), Int64(g.channels), 1, 1]))
                    let reshaped = unique(gate + "_4d")
                    node("Reshape", [gate, shape], [reshaped])
                    gate = reshaped
                }
                node("Mul", [value(inputs[0]), gate], [result], name: name)
                requantize(clamp(result, y, p.lower, p.upper), into: y)
            case .lookup:
                // table[x + 128] on the int8 values themselves: exact.
                let p = view.parameters(LookupOp.Parameters(), of: op)
                let table = constant(
                    name + "_table", .int8, dims: [256], bytes: view.constants(p.table, count: 256, as: UInt8.self))
                let wide = unique(name + "_index32"), index = unique(name + "_index")
                node("Cast", [quantized(inputs[0])], [wide], attributes: [Self.int("to", 6)])
                let offset = constant(name + "_128", .int32, dims: [], bytes: Self.bytes([Int32(128)]))
                node("Add", [wide, offset], [index])
                node("Gather", [table, index], [quantized(y)], name: name, attributes: [Self.int("axis", 0)])
                let (scale, zero) = quantization(y)
                node("DequantizeLinear", [quantized(y), scale, zero], [value(y)])
            case .globalAveragePool:
                let p = view.parameters(GlobalAveragePoolOp.Parameters(), of: op)
                var pooled = result
                if view.tensor(y).rank == 2 {
                    pooled = unique(result + "_4d")
                    node("GlobalAveragePool", [value(inputs[0])], [pooled], name: name)
                    node("Flatten", [pooled], [result], attributes: [Self.int("axis", 1)])
                    pooled = result
                } else {
                    node("GlobalAveragePool", [value(inputs[0])], [result], name: name)
                }
                requantize(clamp(pooled, y, p.lower, p.upper), into: y)
            case .maxPool, .averagePool:
                let p = view.parameters(WindowPoolOp.Parameters(), of: op)
                node(
                    op.kind == .maxPool ? "MaxPool" : "AveragePool", [value(inputs[0])], [result], name: name,
                    attributes: [
                        Self.ints("kernel_shape", [Int(p.kernelHeight), Int(p.kernelWidth)]),
                        Self.ints("strides", [Int(p.strideHeight), Int(p.strideWidth)]),
                        Self.ints("pads", [Int(p.padTop), Int(p.padLeft), Int(p.padBottom), Int(p.padRight)]),
                    ])
                requantize(result, into: y)
            case .concat where ConcatOp.isChannelwise(view, op):
                let axis = view.tensor(y).rank == 4 ? 1 : view.tensor(y).rank - 1
                node("Concat", inputs.map { value($0) }, [result], name: name, attributes: [Self.int("axis", axis)])
                requantize(result, into: y)
            case .concat:
                // Per-batch blocks of NHWC bytes: each input in NHWC order, flattened, joined, reshaped.
                let rows = inputs.map { t in
                    var flat = value(t)
                    if view.tensor(t).rank == 4 {
                        let nhwc = unique(flat + "_nhwc")
                        node("Transpose", [flat], [nhwc], attributes: [Self.ints("perm", [0, 2, 3, 1])])
                        flat = nhwc
                    }
                    let shape = constant(flat + "_rows_shape", .int64, dims: [2], bytes: Self.bytes([0, -1]))
                    let rows = unique(flat + "_rows")
                    node("Reshape", [flat, shape], [rows])
                    return rows
                }
                let joined = unique(result + "_rows")
                node("Concat", rows, [joined], attributes: [Self.int("axis", 1)])
                let shape = constant(
                    result + "_shape", .int64, dims: [dims(view.tensor(y)).count],
                    bytes: Self.bytes(dims(view.tensor(y))))
                node("Reshape", [joined, shape], [result], name: name)
                requantize(result, into: y)
            case .pad:
                let p = view.parameters(PadOp.Parameters(), of: op)
                let x = view.tensor(inputs[0])
                let pads = constant(
                    name + "_pads", .int64, dims: [8],
                    bytes: Self.bytes([0, 0, Int64(p.top), Int64(p.left), 0, 0, Int64(p.bottom), Int64(p.right)]))
                let fill = floats(name + "_value", [Float(p.value - x.zeroPoint) * x.scale])
                node("Pad", [value(inputs[0]), pads, fill], [result], name: name)
                requantize(result, into: y)
            case .resize:
                try resize(op, name: name, x: inputs[0], result: result)
                requantize(result, into: y)
            case .insertZeros:
                // A depthwise 1×1 ConvTranspose of ones at the strides places each pixel and zeros between.
                let p = view.parameters(InsertZerosOp.Parameters(), of: op)
                let channels = view.tensor(inputs[0]).channels
                let ones = floats(name + "_ones", Array(repeating: 1, count: channels), dims: [channels, 1, 1, 1])
                node(
                    "ConvTranspose", [value(inputs[0]), ones], [result], name: name,
                    attributes: [
                        Self.ints("kernel_shape", [1, 1]),
                        Self.ints("strides", [Int(p.strideHeight), Int(p.strideWidth)]),
                        Self.int("group", channels),
                    ])
                requantize(result, into: y)
            case .depthToSpace:
                let p = view.parameters(DepthToSpaceOp.Parameters(), of: op)
                node(
                    "DepthToSpace", [value(inputs[0])], [result], name: name,
                    attributes: [Self.int("blocksize", Int(p.blockSize)), Self.string("mode", "DCR")])
                requantize(result, into: y)
            case .quantize:
                requantize(reshaped(value(inputs[0]), from: inputs[0], to: y), into: y)
            case .dequantize:
                // The float value is the int8 tensor's DequantizeLinear, reshaped if the ranks differ.
                let source = reshaped(value(inputs[0]), from: inputs[0], to: y)
                node("Identity", [source], [value(y)], name: name)
            case .floatAdd:
                node("Add", [value(inputs[0]), value(inputs[1])], [value(y)], name: name)
            case .floatConvolution:
                try floatConvolution(op, name: name, x: inputs[0])
            case .invertedResidual:
                throw .invalidArgument("export: op \(name) is a fused block the unfused model should not have")
            }
        }

        /// Resize to the output's sizes, the coordinate mode read back from the axes' (a·i + b) / d
        /// (ONNX Runtime takes the scale out/in from the sizes; a float scale that is not exactly
        /// out/in moves its coordinates by less than 1e-6).
        mutating func resize(_ op: OpInfo, name: String, x t: Int, result: String) throws(CNNQError) {
            let p = view.parameters(ResizeOp.Parameters(), of: op)
            let (x, out) = (view.tensor(t), view.tensor(op.output))
            func mode(_ a: Int32, _ b: Int32, _ d: Int32, _ n: Int, _ m: Int) -> String? {
                if a == 0 { return "pytorch_half_pixel" }
                if b == 0 && Int(a) == n - 1 && Int(d) == m - 1 { return "align_corners" }
                if b == 0 { return "asymmetric" }
                if 2 * Int64(b) == Int64(a) - Int64(d) { return "half_pixel" }
                return 2 * Int64(b) == Int64(a) ? "tf_half_pixel_for_nn" : nil
            }
            // An axis kept as it is reads the same pixels in every mode.
            var modes: Set<String?> = []
            if x.height != out.height { modes.insert(mode(p.ya, p.yb, p.yd, x.height, out.height)) }
            if x.width != out.width { modes.insert(mode(p.xa, p.xb, p.xd, x.width, out.width)) }
            if modes == ["half_pixel", "pytorch_half_pixel"] { modes = ["pytorch_half_pixel"] }
            guard modes.count <= 1, !modes.contains(nil) else {
                throw .invalidArgument("export: op \(name) resizes rows and columns with different coordinate modes")
            }
            let sizes = constant(
                name + "_sizes", .int64, dims: [4],
                bytes: Self.bytes([x.batch, x.channels, out.height, out.width].map { Int64($0) }))
            node(
                "Resize", [value(t), "", "", sizes], [result], name: name,
                attributes: [
                    Self.string("mode", p.linear != 0 ? "linear" : "nearest"),
                    Self.string("coordinate_transformation_mode", (modes.first ?? nil) ?? "asymmetric"),
                    Self.string("nearest_mode", ResizeAttributes.roundingNames[Int(p.rounding)]),
                ])
        }

        /// Conv (or Gemm over [N, C]) with int8 OIHW weights per output channel and int32 bias, both
        /// unpacked from the kernels' layouts; the bias gets back the x_zero·Σw the packing folded in.
        mutating func convolution(_ op: OpInfo, name: String, x t: Int, result: String) throws(CNNQError) {
            let p = view.parameters(ConvolutionOp.Parameters(kind: op.kind), of: op)
            let s: ConvolutionShape
            do { s = try view.convolutionShape(op) } catch { throw .invalidArgument("export: \(name): \(error)") }
            guard let layout = ConvolutionOp.PackedLayout(kind: op.kind, shape: s) else {
                throw .invalidArgument("export: \(name): sizes out of range")
            }
            let (x, y) = (view.tensor(t), view.tensor(op.output))
            let perGroup = s.inputChannels / s.groups
            let taps = s.kernelHeight * s.kernelWidth
            let packed = view.constants(p.weights, count: layout.weightCount, as: Int8.self)
            let packedBias = view.constants(p.bias, count: layout.biasCount, as: Int32.self)
            let scales = view.constants(p.scales, count: layout.channelSlots, as: Float.self)
            // OIHW: weight[c][ci][ky][kx].
            var weights = [Int8](repeating: 0, count: s.outputChannels * perGroup * taps)
            var bias = [Int32](repeating: 0, count: s.outputChannels)
            if op.kind == .depthwise {
                let slots = Depthwise.Layout(
                    channels: s.outputChannels, kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth
                )
                .channelSlots
                for c in 0..<s.outputChannels {
                    for tap in 0..<taps { weights[c * taps + tap] = packed[tap * slots + c] }
                    bias[c] = packedBias[c]
                }
            } else {
                let group = StandardConvolution.Layout(shape: s).group
                let outPerGroup = s.outputChannels / s.groups, depthGroups = group.rowLength / GEMM.depthGroup
                for c in 0..<s.outputChannels {
                    let (g, local) = (c / outPerGroup, c % outPerGroup)
                    var sum: Int32 = 0
                    for k in 0..<group.depth {  // OHWI depth: (ky·kw + kx)·perGroup + ci
                        let index =
                            g * group.weightCount
                            + ((local / GEMM.channelBlock * depthGroups + k / GEMM.depthGroup) * GEMM.channelBlock
                                + local % GEMM.channelBlock) * GEMM.depthGroup + k % GEMM.depthGroup
                        let w = packed[index]
                        let (tap, ci) = (k / perGroup, k % perGroup)
                        weights[(c * perGroup + ci) * taps + tap] = w
                        sum &+= Int32(w)
                    }
                    bias[c] = packedBias[g * group.biasCount + local] &+ x.zeroPoint &* sum
                }
            }
            // scale[c] = s_x · s_w[c] / s_y.
            let weightScales = (0..<s.outputChannels).map { scales[layout.channelSlot($0)] * y.scale / x.scale }
            let fc = x.rank == 2
            let weightDims =
                fc ? [s.outputChannels, perGroup] : [s.outputChannels, perGroup, s.kernelHeight, s.kernelWidth]
            let w = constant(name + "_w_q", .int8, dims: weightDims, bytes: Self.bytes(weights))
            let wScale = floats(name + "_w_scale", weightScales, dims: [s.outputChannels])
            let wZero = constant(
                name + "_w_zero", .int8, dims: [s.outputChannels], bytes: [UInt8](repeating: 0, count: s.outputChannels)
            )
            let wFloat = unique(name + "_w")
            node("DequantizeLinear", [w, wScale, wZero], [wFloat], attributes: [Self.int("axis", 0)])
            let b = constant(name + "_b_q", .int32, dims: [s.outputChannels], bytes: Self.bytes(bias))
            let bScale = floats(name + "_b_scale", weightScales.map { $0 * x.scale }, dims: [s.outputChannels])
            let bZero = constant(
                name + "_b_zero", .int32, dims: [s.outputChannels],
                bytes: [UInt8](repeating: 0, count: 4 * s.outputChannels))
            let bFloat = unique(name + "_b")
            node("DequantizeLinear", [b, bScale, bZero], [bFloat], attributes: [Self.int("axis", 0)])
            if fc {
                node("Gemm", [value(t), wFloat, bFloat], [result], name: name, attributes: [Self.int("transB", 1)])
                requantize(clamp(result, op.output, p.lower, p.upper), into: op.output)
                return
            }
            // A classifier over a 1×1 map writes [N, C]: Conv, then Flatten.
            let convolved = y.rank == 2 ? unique(result + "_4d") : result
            node(
                "Conv", [value(t), wFloat, bFloat], [convolved], name: name,
                attributes: convolutionAttributes(p.geometry, groups: s.groups))
            if y.rank == 2 { node("Flatten", [convolved], [result], attributes: [Self.int("axis", 1)]) }
            requantize(clamp(result, op.output, p.lower, p.upper), into: op.output)
        }

        func convolutionAttributes(_ g: ConvolutionGeometry, groups: Int) -> [Onnx_AttributeProto] {
            [
                Self.ints("kernel_shape", [Int(g.kernelHeight), Int(g.kernelWidth)]),
                Self.ints("strides", [Int(g.strideHeight), Int(g.strideWidth)]),
                Self.ints("dilations", [Int(g.dilationHeight), Int(g.dilationWidth)]),
                Self.ints("pads", [Int(g.padTop), Int(g.padLeft), Int(g.padBottom), Int(g.padRight)]),
                Self.int("group", groups),
            ]
        }

        /// A float island's convolution: float OIHW weights and bias as the file keeps them.
        mutating func floatConvolution(_ op: OpInfo, name: String, x t: Int) throws(CNNQError) {
            let p = view.parameters(FloatConvolutionOp.Parameters(), of: op)
            let s: ConvolutionShape
            do { s = try view.convolutionShape(op) } catch { throw .invalidArgument("export: \(name): \(error)") }
            let perGroup = s.inputChannels / s.groups, taps = s.kernelHeight * s.kernelWidth
            let stored = view.constants(p.weights, count: s.outputChannels * taps * perGroup, as: Float.self)
            // The file keeps OHWI; ONNX wants OIHW.
            var weights = [Float](repeating: 0, count: stored.count)
            for c in 0..<s.outputChannels {
                for tap in 0..<taps {
                    for ci in 0..<perGroup {
                        weights[(c * perGroup + ci) * taps + tap] = stored[(c * taps + tap) * perGroup + ci]
                    }
                }
            }
            let fc = view.tensor(t).rank == 2
            let w = floats(
                name + "_w", weights,
                dims: fc ? [s.outputChannels, perGroup] : [s.outputChannels, perGroup, s.kernelHeight, s.kernelWidth])
            let b = floats(
                name + "_b", view.constants(p.bias, count: s.outputChannels, as: Float.self), dims: [s.outputChannels])
            let result = unique(value(op.output) + "_conv")
            if fc {
                node("Gemm", [value(t), w, b], [result], name: name, attributes: [Self.int("transB", 1)])
            } else {
                node(
                    "Conv", [value(t), w, b], [result], name: name,
                    attributes: convolutionAttributes(p.geometry, groups: s.groups))
            }
            let low = floats(name + "_min", [p.lower.isFinite ? p.lower : -Float.greatestFiniteMagnitude])
            let high = floats(name + "_max", [p.upper.isFinite ? p.upper : Float.greatestFiniteMagnitude])
            node("Clip", [result, low, high], [value(op.output)])
        }
    }
}
