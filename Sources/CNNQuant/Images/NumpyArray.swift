import Foundation

/// Reads a `.npy` file of little-endian float32 (or uint8) values in C order: a preprocessed input
/// saved with numpy.save.
public enum NumpyArray {
    public static func load(path: String) throws(CNNQError) -> Tensor {
        let data = try InputFile.read(path)
        func fail(_ reason: String) -> CNNQError { .unreadableFile(path: path, reason: reason) }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("not a .npy file")
        }
        let major = bytes[6]
        let (lengthBytes, start) = major == 1 ? (2, 10) : (4, 12)
        guard bytes.count >= start else { throw fail("truncated header") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        guard bytes.count >= start + headerLength else { throw fail("truncated header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return String(header[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descr = field("descr"), let order = field("fortran_order"), let shapeField = field("shape") else {
            throw fail("header without descr, fortran_order or shape")
        }
        guard order.hasPrefix("False") else {
            throw fail("Fortran-order arrays are not supported; save with numpy.ascontiguousarray")
        }
        guard let open = shapeField.firstIndex(of: "("), let close = shapeField.firstIndex(of: ")") else {
            throw fail("unreadable shape")
        }
        let shape = shapeField[shapeField.index(after: open)..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let payload = bytes[(start + headerLength)...]
        if descr.hasPrefix("'<f4'") {
            guard payload.count >= count * 4 else {
                throw fail("\(payload.count) data bytes for \(count) float32 values")
            }
            let values = payload.withUnsafeBytes { raw in
                (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                }
            }
            return Tensor(shape: shape, floats: values)
        }
        if descr.hasPrefix("'|u1'") {
            guard payload.count >= count else { throw fail("\(payload.count) data bytes for \(count) uint8 values") }
            return Tensor(shape: shape, floats: payload.prefix(count).map(Float.init))
        }
        throw fail("dtype \(descr.prefix { $0 != "," }) is not supported (float32 '<f4' or uint8 '|u1')")
    }

    /// `tensor` as a little-endian float32 .npy file (format 1.0), C order.
    public static func bytes(_ tensor: Tensor) -> [UInt8] {
        let shape = tensor.shape.map(String.init).joined(separator: ", ") + (tensor.shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape)), }"
        // Magic, version, length, then the header padded with spaces to a 64-byte boundary, ending in \n.
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        for v in tensor.floats { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }
}
