import CNNQRuntime

/// Lays a quantized model out as a `.cnnq` file (docs/model-format.md): header, tensor and op tables,
/// operand and input/output lists, names, then the constants (parameter words and 64-byte aligned
/// packed weights), with the CRC32 filled in last.
public enum ModelFileWriter {
    /// `checksum: false` leaves the CRC 0, for bytes that never leave this process (see `ModelView`).
    public static func bytes(_ model: QuantizedModel, plan: ArenaPlan, checksum: Bool = true) -> [UInt8] {
        typealias H = ModelFormat.Header
        var names: [UInt8] = []
        var nameOffsets: [String: Int] = [:]
        func name(_ s: String) -> UInt32 {
            if let offset = nameOffsets[s] { return UInt32(offset) }
            nameOffsets[s] = names.count
            names += Array(s.utf8) + [0]
            return UInt32(nameOffsets[s]!)
        }
        // Constants: each op's parameter words, then its blobs; blob offsets patched into the words.
        var constants: [UInt8] = []
        func pad(_ bytes: inout [UInt8], to alignment: Int) {
            bytes += [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment)
        }
        var paramOffsets: [Int] = []
        for op in model.ops {
            var words = op.words
            var blobOffsets: [Int] = []
            pad(&constants, to: ModelFormat.arrayAlignment)
            let paramOffset = constants.count
            constants += [UInt8](repeating: 0, count: 4 * words.count)
            for blob in op.blobs {
                pad(&constants, to: blob.alignment)
                blobOffsets.append(constants.count)
                constants += blob.bytes
            }
            for (blob, offset) in zip(op.blobs, blobOffsets) { words[blob.word] = Int32(offset) }
            constants.replaceSubrange(paramOffset..<(paramOffset + 4 * words.count), with: [UInt8](littleEndian: words))
            paramOffsets.append(paramOffset)
        }

        var tensorWords: [UInt32] = []
        for (t, tensor) in model.tensors.enumerated() {
            tensorWords += [
                UInt32(tensor.batch), UInt32(tensor.height), UInt32(tensor.width), UInt32(tensor.channels),
                UInt32(tensor.rank),
                UInt32(bitPattern: tensor.zeroPoint), Float(tensor.scale).bitPattern, UInt32(plan.offsets[t]),
                UInt32(tensor.byteCount), name(tensor.name), tensor.flags, 0,
            ]
        }
        var opWords: [UInt32] = [], operands: [UInt32] = []
        for (i, op) in model.ops.enumerated() {
            opWords += [
                op.kind.rawValue, UInt32(op.output), UInt32(op.inputs.count), UInt32(operands.count),
                UInt32(paramOffsets[i]),
                UInt32(op.words.count), name(op.name), 0,
            ]
            operands += op.inputs.map { UInt32($0) }
        }
        var file = [UInt8](repeating: 0, count: H.size)
        var header = [UInt32](repeating: 0, count: H.size / 4)
        func section(_ offset: H, _ count: H?, _ n: Int, _ bytes: [UInt8], alignment: Int = 4) {
            pad(&file, to: alignment)
            header[offset.rawValue] = UInt32(file.count)
            if let count { header[count.rawValue] = UInt32(n) }
            file += bytes
        }
        section(.tensorTable, .tensorCount, model.tensors.count, [UInt8](littleEndian: tensorWords))
        section(.opTable, .opCount, model.ops.count, [UInt8](littleEndian: opWords))
        section(.operands, .operandCount, operands.count, [UInt8](littleEndian: operands))
        section(.inputs, .inputCount, model.inputs.count, [UInt8](littleEndian: model.inputs.map { UInt32($0) }))
        section(.outputs, .outputCount, model.outputs.count, [UInt8](littleEndian: model.outputs.map { UInt32($0) }))
        if let pipeline = model.inputPipeline {
            section(.inputPipeline, nil, 1, [UInt8](littleEndian: pipeline.words))
        }
        section(.namesOffset, .namesSize, names.count, names, alignment: 1)
        section(.constantsOffset, .constantsSize, constants.count, constants, alignment: ModelFormat.alignment)
        header[H.magic.rawValue] = ModelFormat.magic
        header[H.version.rawValue] = ModelFormat.versionMajor << 16 | ModelFormat.versionMinor
        header[H.fileSize.rawValue] = UInt32(file.count)
        header[H.activationBytes.rawValue] = UInt32(plan.activationBytes)
        header[H.workspacePerThread.rawValue] = UInt32(plan.workspacePerThread)
        file.replaceSubrange(0..<H.size, with: [UInt8](littleEndian: header))
        if checksum {
            let crc = file.withUnsafeBytes { crc32($0.baseAddress! + 12, count: file.count - 12) }
            file.replaceSubrange(8..<12, with: [UInt8](littleEndian: [crc]))
        }
        return file
    }
}
