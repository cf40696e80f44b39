/// Errors of the host tooling. Each one reads as a single line a user can act on.
public enum CNNQError: Error, CustomStringConvertible, Equatable {
    case unreadableFile(path: String, reason: String)
    case unwritableFile(path: String, reason: String)
    case malformedModel(String)
    case unsupportedOperator(node: String, op: String, domain: String)
    case unsupportedAttribute(node: String, op: String, detail: String)
    case invalidGraph(String)
    case shapeMismatch(node: String, detail: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): "cannot read \(path): \(reason)"
        case let .unwritableFile(path, reason): "cannot write \(path): \(reason)"
        case let .malformedModel(detail): "malformed ONNX model: \(detail)"
        case let .unsupportedOperator(node, op, domain):
            "unsupported operator \(domain.isEmpty ? "" : domain + ".")\(op) in node '\(node)'"
        case let .unsupportedAttribute(node, op, detail): "node '\(node)' (\(op)): \(detail)"
        case let .invalidGraph(detail): "invalid graph: \(detail)"
        case let .shapeMismatch(node, detail): "node '\(node)': \(detail)"
        case let .invalidArgument(detail): detail
        }
    }
}
