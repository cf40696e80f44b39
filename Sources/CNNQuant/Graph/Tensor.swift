/// A dense constant or activation tensor in row-major order over its logical (ONNX) shape.
/// Shape arithmetic in exported graphs is int64; everything else is float.
public struct Tensor: Equatable, Sendable {
    public enum Storage: Equatable, Sendable {
        case float([Float])
        case int64([Int64])
    }

    public var shape: [Int]
    public var storage: Storage

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) values")
        self.shape = shape
        self.storage = .float(floats)
    }

    public init(shape: [Int], ints: [Int64]) {
        precondition(shape.reduce(1, *) == ints.count, "shape \(shape) does not hold \(ints.count) values")
        self.shape = shape
        self.storage = .int64(ints)
    }

    public var count: Int { shape.reduce(1, *) }

    /// Values as floats (int64 values converted).
    public var floats: [Float] {
        switch storage {
        case let .float(values): values
        case let .int64(values): values.map { Float($0) }
        }
    }

    /// Values as integers (floats truncated), for shape and axis operands.
    public var ints: [Int64] {
        switch storage {
        case let .float(values): values.map { Int64($0) }
        case let .int64(values): values
        }
    }

    public var isInteger: Bool {
        if case .int64 = storage { return true }
        return false
    }
}
