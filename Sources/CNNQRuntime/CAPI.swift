import CNNQKernels

// The C ABI of targets/include/cnnq.h. Struct storage is the caller's: a `cnnq_model` holds a
// `ModelView`, a `cnnq_context` a `Context`; their sizes are checked against the header's. Each
// storage ends with a mark that only a successful load or init writes (and a failed one clears), so
// a function given storage that is zeroed, uninitialised or left by a failure refuses it instead of
// following its garbage.

/// What a `cnnq_context` holds.
struct Context {
    var model: UnsafePointer<ModelView>
    var arena: UnsafeMutableRawPointer
    var arenaSize: Int
    /// The kernels' instruction-set level: the CPU's best at init, or a lower one set after.
    var isa: InstructionSet
}

let modelStorageBytes = 24 * 8
let contextStorageBytes = 4 * 8
/// Where the marks sit: the last word of each storage, after the struct on every word size.
let modelMarkOffset = modelStorageBytes - 4, contextMarkOffset = contextStorageBytes - 4
let modelMark: UInt32 = 0x4C44_4F4D, contextMark: UInt32 = 0x5854_4E43  // "MODL", "CNTX"

@inline(__always) func marked(_ storage: UnsafeRawPointer, _ offset: Int, _ mark: UInt32) -> Bool {
    storage.load(fromByteOffset: offset, as: UInt32.self) == mark
}

@_cdecl("cnnq_status_string")
public func cnnq_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    let text: StaticString =
        switch Status(rawValue: status) {
        case .ok: "ok"
        case .invalidArgument: "invalid argument: null pointer, index out of range or size mismatch"
        case .badMagic: "not a .cnnq model file (bad magic)"
        case .unsupportedVersion: "unsupported .cnnq format version: quantize the model again for this library"
        case .truncated: "truncated model: the buffer is shorter than the file"
        case .checksumMismatch: "damaged model: CRC32 mismatch"
        case .malformed: "malformed model: an offset, size or parameter is out of range"
        case .misaligned: "model buffer or arena not aligned to 16 bytes"
        case .arenaTooSmall: "arena smaller than cnnq_model_arena_size()"
        case .unsupportedOp: "the model needs an op this library was built without (make -C targets OPS=...)"
        case nil: "unknown status"
        }
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("cnnq_model_load")
public func cnnq_model_load(_ model: UnsafeMutableRawPointer?, _ data: UnsafeRawPointer?, _ size: Int) -> Int32 {
    guard let model, MemoryLayout<ModelView>.size <= modelMarkOffset else { return Status.invalidArgument.rawValue }
    model.storeBytes(of: 0, toByteOffset: modelMarkOffset, as: UInt32.self)
    do {
        model.initializeMemory(as: ModelView.self, to: try ModelView(data, size: size))
        model.storeBytes(of: modelMark, toByteOffset: modelMarkOffset, as: UInt32.self)
        return Status.ok.rawValue
    } catch {
        return error.rawValue
    }
}

/// The model a `cnnq_model` holds, or nil unless a load succeeded there.
@inline(__always) func view(_ model: UnsafeRawPointer?) -> UnsafePointer<ModelView>? {
    guard let model, marked(model, modelMarkOffset, modelMark) else { return nil }
    return model.assumingMemoryBound(to: ModelView.self)
}

@_cdecl("cnnq_model_arena_size")
public func cnnq_model_arena_size(_ model: UnsafeRawPointer?) -> Int {
    guard let m = view(model) else { return 0 }
    return m.pointee.arenaSize(threads: threadCount)
}

@_cdecl("cnnq_model_input_count")
public func cnnq_model_input_count(_ model: UnsafeRawPointer?) -> Int32 {
    view(model).map { Int32($0.pointee.inputCount) } ?? 0
}

@_cdecl("cnnq_model_output_count")
public func cnnq_model_output_count(_ model: UnsafeRawPointer?) -> Int32 {
    view(model).map { Int32($0.pointee.outputCount) } ?? 0
}

/// Writes a `cnnq_tensor_info` field by field at the C layout's offsets.
func describe(_ m: ModelView, tensor t: Int, into info: UnsafeMutableRawPointer) {
    let tensor = m.tensor(t)
    let words: (Int32, Int32, Int32, Int32, Int32, Int32) = (
        Int32(tensor.batch), Int32(tensor.height), Int32(tensor.width),
        Int32(tensor.channels), Int32(tensor.rank), tensor.zeroPoint
    )
    info.storeBytes(of: words.0, toByteOffset: 0, as: Int32.self)
    info.storeBytes(of: words.1, toByteOffset: 4, as: Int32.self)
    info.storeBytes(of: words.2, toByteOffset: 8, as: Int32.self)
    info.storeBytes(of: words.3, toByteOffset: 12, as: Int32.self)
    info.storeBytes(of: words.4, toByteOffset: 16, as: Int32.self)
    info.storeBytes(of: words.5, toByteOffset: 20, as: Int32.self)
    info.storeBytes(of: tensor.scale, toByteOffset: 24, as: Float.self)
    info.storeBytes(of: UInt32(tensor.byteCount), toByteOffset: 28, as: UInt32.self)
    info.storeBytes(of: m.name(at: tensor.nameOffset), toByteOffset: 32, as: UnsafePointer<CChar>.self)
}

@_cdecl("cnnq_model_input")
public func cnnq_model_input(_ model: UnsafeRawPointer?, _ index: Int32, _ info: UnsafeMutableRawPointer?) -> Int32 {
    guard let m = view(model)?.pointee, let info, index >= 0, Int(index) < m.inputCount else {
        return Status.invalidArgument.rawValue
    }
    describe(m, tensor: m.input(Int(index)), into: info)
    return Status.ok.rawValue
}

@_cdecl("cnnq_model_has_input_pipeline")
public func cnnq_model_has_input_pipeline(_ model: UnsafeRawPointer?) -> Int32 {
    view(model)?.pointee.inputPipeline == nil ? 0 : 1
}

@_cdecl("cnnq_model_output")
public func cnnq_model_output(_ model: UnsafeRawPointer?, _ index: Int32, _ info: UnsafeMutableRawPointer?) -> Int32 {
    guard let m = view(model)?.pointee, let info, index >= 0, Int(index) < m.outputCount else {
        return Status.invalidArgument.rawValue
    }
    describe(m, tensor: m.output(Int(index)), into: info)
    return Status.ok.rawValue
}

@_cdecl("cnnq_context_init")
public func cnnq_context_init(
    _ context: UnsafeMutableRawPointer?, _ model: UnsafeRawPointer?, _ arena: UnsafeMutableRawPointer?,
    _ arenaSize: Int
) -> Int32 {
    guard let context, MemoryLayout<Context>.size <= contextMarkOffset else { return Status.invalidArgument.rawValue }
    context.storeBytes(of: 0, toByteOffset: contextMarkOffset, as: UInt32.self)
    guard let m = view(model), let arena else { return Status.invalidArgument.rawValue }
    guard UInt(bitPattern: arena) % UInt(ModelFormat.bufferAlignment) == 0 else { return Status.misaligned.rawValue }
    guard arenaSize >= m.pointee.arenaSize(threads: threadCount) else { return Status.arenaTooSmall.rawValue }
    context.initializeMemory(
        as: Context.self, to: Context(model: m, arena: arena, arenaSize: arenaSize, isa: InstructionSet.best))
    context.storeBytes(of: contextMark, toByteOffset: contextMarkOffset, as: UInt32.self)
    return Status.ok.rawValue
}

@_cdecl("cnnq_context_set_isa")
public func cnnq_context_set_isa(_ pointer: UnsafeMutableRawPointer?, _ isa: Int32) -> Int32 {
    guard context(pointer) != nil, let pointer, let level = InstructionSet(rawValue: isa), level.isAvailable else {
        return Status.invalidArgument.rawValue
    }
    pointer.assumingMemoryBound(to: Context.self).pointee.isa = level
    return Status.ok.rawValue
}

@_cdecl("cnnq_context_isa")
public func cnnq_context_isa(_ pointer: UnsafeRawPointer?) -> Int32 {
    context(pointer)?.isa.rawValue ?? -1
}

@_cdecl("cnnq_isa_name")
public func cnnq_isa_name(_ isa: Int32) -> UnsafePointer<CChar>? {
    guard let level = InstructionSet(rawValue: isa) else { return nil }
    return UnsafeRawPointer(level.name.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// The context a `cnnq_context` holds, or nil unless an init succeeded there and its model is
/// still loaded.
@inline(__always) func context(_ pointer: UnsafeRawPointer?) -> Context? {
    guard let pointer, marked(pointer, contextMarkOffset, contextMark) else { return nil }
    let c = pointer.assumingMemoryBound(to: Context.self).pointee
    return view(UnsafeRawPointer(c.model)) == nil ? nil : c
}

/// Tensor index of input or output `index`, or nil when out of range.
func tensorIndex(_ c: Context, _ index: Int32, output: Bool) -> Int? {
    let m = c.model.pointee
    guard index >= 0, Int(index) < (output ? m.outputCount : m.inputCount) else { return nil }
    return output ? m.output(Int(index)) : m.input(Int(index))
}

@_cdecl("cnnq_input_data")
public func cnnq_input_data(_ pointer: UnsafeMutableRawPointer?, _ index: Int32) -> UnsafeMutablePointer<Int8>? {
    guard let c = context(pointer), let t = tensorIndex(c, index, output: false) else { return nil }
    return Interpreter.data(c.model.pointee, t, arena: c.arena)
}

@_cdecl("cnnq_output_data")
public func cnnq_output_data(_ pointer: UnsafeRawPointer?, _ index: Int32) -> UnsafePointer<Int8>? {
    guard let c = context(pointer), let t = tensorIndex(c, index, output: true) else { return nil }
    return UnsafePointer(Interpreter.data(c.model.pointee, t, arena: c.arena))
}

@_cdecl("cnnq_invoke")
public func cnnq_invoke(_ pointer: UnsafeMutableRawPointer?) -> Int32 {
    guard let c = context(pointer) else { return Status.invalidArgument.rawValue }
    do {
        try Interpreter.invoke(c.model.pointee, arena: c.arena, arenaSize: c.arenaSize, isa: c.isa)
        return Status.ok.rawValue
    } catch {
        return error.rawValue
    }
}

/// The device's rounding of a float to tensor's int8 levels (shared with the quantize op).
@inline(__always) public func quantize(_ value: Float, _ tensor: TensorInfo) -> Int8 {
    FloatIsland.quantize(value, scale: tensor.scale, zeroPoint: tensor.zeroPoint)
}

@_cdecl("cnnq_quantize_input")
public func cnnq_quantize_input(
    _ pointer: UnsafeMutableRawPointer?, _ index: Int32, _ values: UnsafePointer<Float>?, _ count: Int
) -> Int32 {
    guard let c = context(pointer), let t = tensorIndex(c, index, output: false), let values else {
        return Status.invalidArgument.rawValue
    }
    let tensor = c.model.pointee.tensor(t)
    guard count == tensor.count else { return Status.invalidArgument.rawValue }
    let target = Interpreter.data(c.model.pointee, t, arena: c.arena)
    for i in 0..<count { target[i] = quantize(values[i], tensor) }
    return Status.ok.rawValue
}

@_cdecl("cnnq_quantize_image")
public func cnnq_quantize_image(
    _ pointer: UnsafeMutableRawPointer?, _ index: Int32, _ rgb: UnsafePointer<UInt8>?, _ width: Int32,
    _ height: Int32, _ mean: UnsafePointer<Float>?, _ std: UnsafePointer<Float>?
) -> Int32 {
    guard let c = context(pointer), let t = tensorIndex(c, index, output: false), let rgb, let mean, let std, width > 0,
        height > 0
    else { return Status.invalidArgument.rawValue }
    let tensor = c.model.pointee.tensor(t)
    guard tensor.channels == 3 || tensor.channels == 1, std[0] != 0, std[1] != 0, std[2] != 0 else {
        return Status.invalidArgument.rawValue
    }
    // Pixel offsets in 64 bits: on a 32-bit board y·h and sy·w may not fit an `Int`, though the
    // offset of a pixel of an image in memory always does.
    guard Int64(width) * Int64(height) * 3 <= Int64(Int.max) else { return Status.invalidArgument.rawValue }
    let target = Interpreter.data(c.model.pointee, t, arena: c.arena)
    let (w, h) = (Int64(width), Int64(height))
    var i = 0
    for _ in 0..<tensor.batch {
        for y in 0..<tensor.height {
            let sy = Int64(y) * h / Int64(tensor.height)
            for x in 0..<tensor.width {
                let pixel = rgb + Int((sy * w + Int64(x) * w / Int64(tensor.width)) * 3)
                if tensor.channels == 3 {
                    for ch in 0..<3 { target[i + ch] = quantize((Float(pixel[ch]) / 255 - mean[ch]) / std[ch], tensor) }
                } else {
                    let grey = (Float(pixel[0]) + Float(pixel[1]) + Float(pixel[2])) / (3 * 255)
                    target[i] = quantize((grey - mean[0]) / std[0], tensor)
                }
                i += tensor.channels
            }
        }
    }
    return Status.ok.rawValue
}

@_cdecl("cnnq_prepare_image")
public func cnnq_prepare_image(
    _ pointer: UnsafeMutableRawPointer?, _ index: Int32, _ rgb: UnsafePointer<UInt8>?, _ width: Int32,
    _ height: Int32
) -> Int32 {
    guard let c = context(pointer), let t = tensorIndex(c, index, output: false), let rgb, width > 0, height > 0,
        let pipeline = c.model.pointee.inputPipeline
    else { return Status.invalidArgument.rawValue }
    let tensor = c.model.pointee.tensor(t)
    // Pixel offsets of the image fit an `Int` on every board only if its byte count does.
    guard tensor.batch == 1, Int64(width) * Int64(height) * 3 <= Int64(Int.max) else {
        return Status.invalidArgument.rawValue
    }
    let target = Interpreter.data(c.model.pointee, t, arena: c.arena)
    let (channels, w) = (tensor.channels, tensor.width)
    let done = pipeline.forEachValue(
        rgb: rgb, imageWidth: Int(width), imageHeight: Int(height), channels: channels, height: tensor.height,
        width: w
    ) { ch, y, x, value in target[(y * w + x) * channels + ch] = quantize(value, tensor) }
    return done ? Status.ok.rawValue : Status.invalidArgument.rawValue
}

@_cdecl("cnnq_dequantize_output")
public func cnnq_dequantize_output(
    _ pointer: UnsafeRawPointer?, _ index: Int32, _ values: UnsafeMutablePointer<Float>?, _ count: Int
) -> Int32 {
    guard let c = context(pointer), let t = tensorIndex(c, index, output: true), let values else {
        return Status.invalidArgument.rawValue
    }
    let tensor = c.model.pointee.tensor(t)
    guard count == tensor.count else { return Status.invalidArgument.rawValue }
    let source = Interpreter.data(c.model.pointee, t, arena: c.arena)
    FloatIsland.dequantize(source, count: count, scale: tensor.scale, zeroPoint: tensor.zeroPoint, output: values)
    return Status.ok.rawValue
}
