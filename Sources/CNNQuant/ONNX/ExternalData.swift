import Foundation

/// The files next to an ONNX model that hold its tensors' bytes (`data_location: EXTERNAL`, the
/// default of torch's exporter since torch 2.5 for large models, and of `onnx.save(...,
/// save_as_external_data=True)`). Each file is read once; a location must stay inside the model's
/// folder, as the ONNX checker requires.
final class ExternalData {
    private let directory: String?
    private var files: [String: Data] = [:]

    /// `directory` is the model file's folder; nil for a model read from memory.
    init(directory: String?) { self.directory = directory }

    /// The bytes of `proto`, from its `location`, `offset` and `length` entries.
    func bytes(of proto: Onnx_TensorProto, context: String) throws(CNNQError) -> Data {
        var entries: [String: String] = [:]
        for entry in proto.externalData { entries[entry.key] = entry.value }
        let what = "tensor '\(proto.name)' (\(context))"
        guard let location = entries["location"], !location.isEmpty else {
            throw .malformedModel("\(what) is external but names no location")
        }
        guard let directory else {
            throw .malformedModel(
                "\(what) keeps its data in '\(location)'; load the model from its file, not from memory")
        }
        let parts = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !parts.contains(".."), !location.contains("\\") else {
            throw .malformedModel("\(what) names '\(location)', which is outside the model's folder")
        }
        let data: Data
        if let cached = files[location] {
            data = cached
        } else {
            let path = (directory as NSString).appendingPathComponent(location)
            do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
                throw .malformedModel(
                    "\(what) keeps its data in '\(location)', which cannot be read beside the model (\(path)); copy it with the .onnx file"
                )
            }
            files[location] = data
        }
        func number(_ key: String) throws(CNNQError) -> Int? {
            guard let text = entries[key] else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw .malformedModel("\(what) has an invalid external \(key) '\(text)'")
            }
            return value
        }
        let offset = try number("offset") ?? 0
        let length = try number("length") ?? max(0, data.count - offset)
        guard offset <= data.count, length <= data.count - offset else {
            throw .malformedModel(
                "\(what) needs bytes \(offset)..<\(offset + length) of '\(location)', which has \(data.count); the file may be truncated"
            )
        }
        return data.subdata(in: (data.startIndex + offset)..<(data.startIndex + offset + length))
    }
}
