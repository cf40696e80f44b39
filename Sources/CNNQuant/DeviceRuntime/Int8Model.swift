import CNNQKernels
import CNNQRuntime
import Foundation

/// A `.cnnq` model on the host, run by the device's own interpreter and kernels (CNNQRuntime), so
/// what the host measures is what the device computes, bit for bit.
public final class Int8Model {
    public let view: ModelView
    let file: UnsafeMutableRawBufferPointer
    let arena: UnsafeMutableRawBufferPointer
    /// The kernels' level: `CNNQ_ISA` if set, else the CPU's best (`InstructionSet.selected`).
    public var isa: InstructionSet

    /// Validates `bytes` as the device would (but for the CRC when `checksum` is false, see
    /// `ModelView`); `path` only names the file in errors.
    public init(bytes: [UInt8], path: String = "model", checksum: Bool = true) throws(CNNQError) {
        isa = try InstructionSet.selected()
        let file = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(bytes.count, 1), alignment: ModelFormat.alignment)
        bytes.withUnsafeBytes { file.copyMemory(from: $0) }
        self.file = file
        do {
            view = try ModelView(UnsafeRawPointer(file.baseAddress), size: bytes.count, checksum: checksum)
        } catch {
            file.deallocate()
            throw .unreadableFile(path: path, reason: "not a valid .cnnq model (\(Int8Model.describe(error)))")
        }
        arena = .allocate(byteCount: view.arenaSize(threads: max(threadCount, 1)), alignment: ModelFormat.alignment)
    }

    /// Reads and validates the file at `path`.
    public convenience init(path: String) throws(CNNQError) {
        try self.init(bytes: [UInt8](InputFile.read(path)), path: path)
    }

    deinit {
        file.deallocate()
        arena.deallocate()
    }

    public static func describe(_ status: Status) -> String {
        switch status {
        case .ok: "ok"
        case .invalidArgument: "invalid argument"
        case .badMagic: "bad magic: not a .cnnq file"
        case .unsupportedVersion:
            "unsupported format version: this runtime reads format \(ModelFormat.versionMajor).x; quantize the model again"
        case .truncated: "truncated"
        case .checksumMismatch: "CRC32 mismatch: the file is damaged"
        case .malformed: "malformed: an offset, size or parameter is out of range"
        case .misaligned: "misaligned buffer"
        case .arenaTooSmall: "arena too small"
        case .unsupportedOp: "an op kind this runtime was built without"
        }
    }

    public func tensor(_ t: Int) -> TensorInfo { view.tensor(t) }
    public func name(ofTensor t: Int) -> String { String(cString: view.name(at: view.tensor(t).nameOffset)) }
    public func name(ofOp o: Int) -> String { String(cString: view.name(at: view.op(o).nameOffset)) }

    /// The int8 values of tensor `t` as they are in the arena now.
    public func values(_ t: Int) -> UnsafeBufferPointer<Int8> {
        UnsafeBufferPointer(start: Interpreter.data(view, t, arena: arena.baseAddress!), count: view.tensor(t).count)
    }

    /// Dequantized values of tensor `t` (a float tensor's own values), in NHWC order.
    public func dequantized(_ t: Int) -> [Float] {
        let info = view.tensor(t)
        if info.isFloat {
            return Array(
                UnsafeBufferPointer(start: Interpreter.floatData(view, t, arena: arena.baseAddress!), count: info.count)
            )
        }
        return [Float](unsafeUninitializedCapacity: info.count) { buffer, initialized in
            FloatIsland.dequantize(
                Interpreter.data(view, t, arena: arena.baseAddress!), count: info.count, scale: info.scale,
                zeroPoint: info.zeroPoint, output: buffer.baseAddress!)
            initialized = info.count
        }
    }

    /// Quantizes values in NHWC order into tensor `t` (a float tensor takes them as they are), with the device's own rounding (the C API's
    /// `cnnq_quantize_input`), so host and board see the same input bytes.
    public func setTensor(_ t: Int, nhwc values: [Float]) {
        let info = view.tensor(t)
        if info.isFloat {
            let target = Interpreter.floatData(view, t, arena: arena.baseAddress!)
            for (j, v) in values.prefix(info.count).enumerated() { target[j] = v }
            return
        }
        let target = Interpreter.data(view, t, arena: arena.baseAddress!)
        for (j, v) in values.prefix(info.count).enumerated() { target[j] = quantize(v, info) }
    }

    /// Runs op `o` alone on what its inputs hold now, in `arena` (by default the model's own; another
    /// must be as large).
    public func invoke(op o: Int, arena: UnsafeMutableRawBufferPointer? = nil) throws(CNNQError) {
        let arena = arena ?? self.arena
        do {
            try Interpreter.invoke(view, op: o, arena: arena.baseAddress, arenaSize: arena.count, isa: isa)
        } catch {
            throw .invalidArgument("the int8 interpreter failed: \(Int8Model.describe(error))")
        }
    }

    /// Quantizes every input from `feeds`, by the inputs' names.
    public func setInputs(_ feeds: [String: Tensor]) throws(CNNQError) {
        for i in 0..<view.inputCount {
            let name = self.name(ofTensor: view.input(i))
            guard let tensor = feeds[name] else { throw .invalidArgument("missing input '\(name)'") }
            try setInput(i, tensor)
        }
    }

    /// Quantizes a float input (logical NCHW, [N, L, C] or [N, C]) into input `i`.
    public func setInput(_ i: Int, _ tensor: Tensor) throws(CNNQError) {
        let t = view.input(i)
        let info = view.tensor(t)
        let expected = info.logicalShape
        guard tensor.shape == expected else {
            throw .invalidArgument("input has shape \(tensor.shape); the model expects \(expected)")
        }
        setTensor(t, nhwc: info.rank == 4 ? Layout.toNHWC(tensor.floats, tensor.shape) : tensor.floats)
    }

    /// Runs the model; `observe(op)` is called after each op.
    public func invoke(observe: (Int) -> Void = { _ in }) throws(CNNQError) {
        do {
            try Interpreter.invoke(
                view, arena: arena.baseAddress, arenaSize: arena.count, isa: isa, observe: observe)
        } catch {
            throw .invalidArgument("the int8 interpreter failed: \(Int8Model.describe(error))")
        }
    }

    /// Output `i` dequantized, in logical order.
    public func output(_ i: Int) -> Tensor {
        let t = view.output(i)
        let info = view.tensor(t)
        let values = dequantized(t)
        return Tensor(shape: info.logicalShape, floats: Layout.toNCHW(values, info.logicalShape))
    }
}
