import Foundation

/// ONNX TensorProto <-> Tensor. Only the element types CNN graphs use are accepted.
enum TensorProtoConversion {
    static let float = Int32(Onnx_TensorProto.DataType.float.rawValue)
    static let double = Int32(Onnx_TensorProto.DataType.double.rawValue)
    static let int32 = Int32(Onnx_TensorProto.DataType.int32.rawValue)
    static let int64 = Int32(Onnx_TensorProto.DataType.int64.rawValue)

    /// `external` reads the bytes of a tensor stored outside the model (nil: such a tensor is an error).
    static func tensor(from proto: Onnx_TensorProto, context: String, external: ExternalData? = nil) throws(CNNQError)
        -> Tensor
    {
        let isExternal = proto.hasDataLocation && proto.dataLocation == .external
        let shape = proto.dims.map { Int($0) }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .malformedModel("tensor '\(proto.name)' has a negative dimension \(shape)")
        }
        guard let count = Graph.elementCount(shape) else {
            throw .malformedModel("tensor '\(proto.name)' is implausibly large (\(shape))")
        }
        let raw =
            isExternal
            ? try (external ?? ExternalData(directory: nil)).bytes(of: proto, context: context)
            : proto.hasRawData ? proto.rawData : nil

        func checkCount(_ actual: Int) throws(CNNQError) {
            guard actual == count else {
                throw .malformedModel(
                    "tensor '\(proto.name)' (\(context)) has \(actual) values for shape \(shape) (expected \(count)); the file may be truncated"
                )
            }
        }
        func rawValues<T: FixedWidthInteger>(_ data: Data, as _: T.Type) throws(CNNQError) -> [T] {
            try checkCount(data.count / MemoryLayout<T>.size)
            guard data.count % MemoryLayout<T>.size == 0 else {
                throw .malformedModel("tensor '\(proto.name)' has a ragged raw_data size \(data.count)")
            }
            return data.withUnsafeBytes { bytes in
                (0..<count).map {
                    T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))
                }
            }
        }

        switch proto.dataType {
        case float:
            if let raw {
                return Tensor(shape: shape, floats: try rawValues(raw, as: UInt32.self).map { Float(bitPattern: $0) })
            }
            try checkCount(proto.floatData.count)
            return Tensor(shape: shape, floats: proto.floatData)
        case double:
            if let raw {
                return Tensor(
                    shape: shape, floats: try rawValues(raw, as: UInt64.self).map { Float(Double(bitPattern: $0)) })
            }
            try checkCount(proto.doubleData.count)
            return Tensor(shape: shape, floats: proto.doubleData.map { Float($0) })
        case int64:
            if let raw { return Tensor(shape: shape, ints: try rawValues(raw, as: Int64.self)) }
            try checkCount(proto.int64Data.count)
            return Tensor(shape: shape, ints: proto.int64Data)
        case int32:
            if let raw { return Tensor(shape: shape, ints: try rawValues(raw, as: Int32.self).map { Int64($0) }) }
            try checkCount(proto.int32Data.count)
            return Tensor(shape: shape, ints: proto.int32Data.map { Int64($0) })
        default:
            let name = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)).map { "\($0)" } ?? "\(proto.dataType)"
            throw .malformedModel(
                "tensor '\(proto.name)' (\(context)) has element type \(name); only float, double, int32 and int64 are supported"
            )
        }
    }

    static func proto(named name: String, from tensor: Tensor) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map { Int64($0) }
        switch tensor.storage {
        case let .float(values):
            proto.dataType = float
            proto.rawData = values.map { $0.bitPattern.littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
        case let .int64(values):
            proto.dataType = int64
            proto.rawData = values.map { $0.littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
        }
        return proto
    }
}
