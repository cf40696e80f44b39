import CNNQKernels
import Foundation
import SwiftProtobuf

/// Writes a `Graph` as an ONNX model (opset 17) — used by the zoo builder.
public enum ONNXWriter {
    public static let opset: Int64 = 17

    public static func serialize(_ graph: Graph) throws(CNNQError) -> Data {
        var proto = Onnx_GraphProto()
        proto.name = graph.name
        var initializers = graph.initializers
        for node in graph.nodes { proto.node.append(try nodeProto(node, initializers: &initializers)) }
        proto.initializer = initializers.keys.sorted().map {
            TensorProtoConversion.proto(named: $0, from: initializers[$0]!)
        }
        proto.input = graph.inputs.map { valueInfo($0.name, shape: $0.shape) }
        proto.output = graph.outputs.map { valueInfo($0, shape: graph.shapes[$0]) }
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "cnnq"
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = opset
        model.opsetImport = [opsetID]
        model.graph = proto
        do { return try model.serializedData() } catch { throw .invalidGraph("cannot serialize the model: \(error)") }
    }

    /// Writes atomically: a temporary file in the same folder, renamed over `path` once complete.
    public static func write(_ graph: Graph, to path: String) throws(CNNQError) {
        try AtomicFile.write(try serialize(graph), to: path)
    }

    private static func valueInfo(_ name: String, shape: [Int]?) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType.elemType = TensorProtoConversion.float
        if let shape {
            info.type.tensorType.shape.dim = shape.map { size in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = Int64(size)
                return dim
            }
        }
        return info
    }

    private static func nodeProto(_ node: Node, initializers: inout [String: Tensor]) throws(CNNQError)
        -> Onnx_NodeProto
    {
        var proto = Onnx_NodeProto()
        proto.name = node.name
        proto.input = node.inputs
        proto.output = node.outputs
        proto.opType = node.op.name
        func attribute(_ name: String, ints: [Int]) {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .ints
            a.ints = ints.map { Int64($0) }
            proto.attribute.append(a)
        }
        func attribute(_ name: String, string: String) {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .string
            a.s = Data(string.utf8)
            proto.attribute.append(a)
        }
        func attribute(_ name: String, int: Int) {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .int
            a.i = Int64(int)
            proto.attribute.append(a)
        }
        func attribute(_ name: String, float: Float) {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .float
            a.f = float
            proto.attribute.append(a)
        }
        func window(_ w: Window) {
            attribute("kernel_shape", ints: w.kernel)
            attribute("strides", ints: w.strides)
            attribute("pads", ints: w.pads)
            attribute("dilations", ints: w.dilations)
        }
        switch node.op {
        case let .conv(w, group, clamp) where clamp.isNone:
            window(w)
            attribute("group", int: group)
        case let .gemm(transA, transB, alpha, beta, clamp) where clamp.isNone:
            attribute("transA", int: transA ? 1 : 0)
            attribute("transB", int: transB ? 1 : 0)
            attribute("alpha", float: alpha)
            attribute("beta", float: beta)
        case let .batchNorm(epsilon):
            attribute("epsilon", float: epsilon)
        case .clip(.relu):
            break
        case let .clip(clamp):
            for (suffix, bound) in [("min", clamp.lower), ("max", clamp.upper)] {
                let name = "\(node.name).\(suffix)"
                initializers[name] = Tensor(shape: [], floats: [bound])
                proto.input.append(name)
            }
        case let .hardSigmoid(alpha, beta):
            attribute("alpha", float: alpha)
            attribute("beta", float: beta)
        case let .pad(pads, value):
            initializers["\(node.name).pads"] = Tensor(shape: [pads.count], ints: pads.map { Int64($0) })
            initializers["\(node.name).value"] = Tensor(shape: [], floats: [value])
            proto.input += ["\(node.name).pads", "\(node.name).value"]
        case let .convTranspose(w, group, outputPadding):
            window(w)
            attribute("group", int: group)
            attribute("output_padding", ints: outputPadding)
        case let .resize(r):
            let (mode, rounding) =
                switch r.mode {
                case .linear: ("linear", Resize.Rounding.halfDown)
                case let .nearest(rounding): ("nearest", rounding)
                }
            attribute("mode", string: mode)
            attribute("coordinate_transformation_mode", string: r.coordinates.rawValue)
            attribute("nearest_mode", string: ResizeAttributes.roundingNames[Int(rounding.rawValue)])
            proto.input = [node.inputs[0]]
            if let sizes = r.sizes {
                initializers["\(node.name).sizes"] = Tensor(shape: [4], ints: sizes.map { Int64($0) })
                proto.input += ["", "", "\(node.name).sizes"]
            } else if let scales = r.scales {
                initializers["\(node.name).scales"] = Tensor(shape: [4], floats: scales)
                proto.input += ["", "\(node.name).scales"]
            }
        case let .depthToSpace(s):
            attribute("blocksize", int: s)
            attribute("mode", string: "DCR")
        case let .flatten(axis):
            attribute("axis", int: axis)
        case let .concat(axis):
            attribute("axis", int: axis)
        case .hardSwish, .sigmoid, .tanh, .add, .sub, .mul, .div, .globalAveragePool, .matMul, .identity:
            break
        default:
            throw .invalidGraph("the ONNX writer does not handle \(node.op.name) in node '\(node.name)' in this form")
        }
        return proto
    }
}
