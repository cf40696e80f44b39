import CNNQKernels
import CNNQRuntime

extension Int8Model {
    /// The same model with every layer its own op: the fused blocks' records dropped and their inner
    /// tensors given arena space of their own after the activations. For analysis on the host, which
    /// runs and compares every layer (`Evaluation`); outputs are byte for byte the fused model's.
    public func unfused() throws(CNNQError) -> Int8Model {
        typealias H = ModelFormat.Header
        let ops = view.opCount
        guard (0..<ops).contains(where: { view.op($0).kind == .invertedResidual }) else { return self }
        var bytes = [UInt8](UnsafeRawBufferPointer(start: view.base, count: view.fileSize))
        func word(_ offset: Int) -> Int {
            bytes.withUnsafeBytes { Int($0.load(fromByteOffset: offset, as: UInt32.self)) }
        }
        func set(_ offset: Int, _ value: Int) {
            withUnsafeBytes(of: UInt32(value).littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
        }
        func header(_ field: H) -> Int { field.rawValue * 4 }
        func aligned(_ n: Int) -> Int {
            (n + ModelFormat.alignment - 1) / ModelFormat.alignment * ModelFormat.alignment
        }

        var activations = aligned(word(header(.activationBytes)))
        for t in 0..<view.tensorCount where view.tensor(t).isInner {
            let record = word(header(.tensorTable)) + t * ModelFormat.TensorRecord.size
            let flags = record + ModelFormat.TensorRecord.flags.rawValue * 4
            set(flags, word(flags) & ~Int(ModelFormat.innerFlag))
            set(record + ModelFormat.TensorRecord.arenaOffset.rawValue * 4, activations)
            activations += aligned(view.tensor(t).byteCount)
        }
        set(header(.activationBytes), activations)
        let table = word(header(.opTable)), size = ModelFormat.OpRecord.size
        var kept = 0
        for o in 0..<ops where view.op(o).kind != .invertedResidual {
            bytes.replaceSubrange(
                (table + kept * size)..<(table + (kept + 1) * size),
                with: bytes[(table + o * size)..<(table + (o + 1) * size)])
            kept += 1
        }
        set(header(.opCount), kept)
        set(header(.crc32), Int(bytes.withUnsafeBytes { crc32($0.baseAddress! + 12, count: bytes.count - 12) }))
        let model = try Int8Model(bytes: bytes, path: "the unfused model")
        model.isa = isa
        return model
    }
}
