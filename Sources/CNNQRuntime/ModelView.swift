import CNNQKernels

/// One activation tensor of a model: NHWC dims, quantization and place in the arena.
public struct TensorInfo {
    public var batch: Int, height: Int, width: Int, channels: Int
    /// Logical rank: 4 (NCHW in the source model), 3 ([N, L, C] held as N×L×1×C) or 2 ([N, C]).
    public var rank: Int
    public var zeroPoint: Int32
    public var scale: Float
    public var arenaOffset: Int, byteCount: Int
    public var nameOffset: Int
    public var flags: UInt32
    /// Elements (not bytes).
    public var count: Int { batch * height * width * channels }
    /// Float32 values (a float island) rather than int8.
    public var isFloat: Bool { flags & ModelFormat.floatFlag != 0 }
    /// Inside a fused block: never in the arena, never read or written by an op outside the block.
    public var isInner: Bool { flags & ModelFormat.innerFlag != 0 }
}

/// One op: kind, output tensor, input tensors (through the operand list) and parameter words.
public struct OpInfo {
    public var index: Int
    public var kind: ModelFormat.OpKind
    public var output: Int
    public var inputCount: Int
    var firstOperand: Int
    /// Byte offset of the parameter words in the file.
    var parameters: Int
    public var nameOffset: Int
}

/// A `.cnnq` file in a caller-owned buffer, validated once by `init`: every count, offset, size and
/// parameter is checked against the buffer and against the tensors it refers to, and the CRC32 over
/// the file must match. After that the interpreter reads the buffer without further checks. The
/// view copies nothing and allocates nothing; the buffer must outlive it.
public struct ModelView {
    public let base: UnsafeRawPointer
    public let fileSize: Int
    public let tensorCount: Int, opCount: Int, inputCount: Int, outputCount: Int
    let tensorTable: Int, opTable: Int, operandCount: Int, operands: Int, inputs: Int, outputs: Int
    let names: Int, namesSize: Int, constants: Int, constantsSize: Int
    /// Bytes of the activation tensors (planned at conversion), and of the kernels' scratch memory:
    /// a fixed part plus a part per thread, the largest any op's kernel needs (derived here from the
    /// kernels, not taken from the file).
    public let activationBytes: Int, workspaceFixed: Int
    public private(set) var workspacePerThread = 0
    /// Where the file records what calibration did to images (format 3.2), or 0. An offset, not the
    /// record: the view must fit the 192 bytes of a `cnnq_model`.
    let inputPipelineOffset: Int
    /// What calibration did to images (`cnnq_prepare_image`), if the file records it; checked at load.
    public var inputPipeline: ImagePipeline? {
        inputPipelineOffset == 0 ? nil : ImagePipeline(words: base + inputPipelineOffset)
    }

    /// `checksum: false` skips the CRC, for bytes this process has just written in memory (the host's
    /// per-tensor range search loads hundreds of trial models); every other check still runs.
    public init(_ pointer: UnsafeRawPointer?, size: Int, checksum: Bool = true) throws(Status) {
        guard let pointer, size >= 0 else { throw .invalidArgument }
        guard UInt(bitPattern: pointer) % UInt(ModelFormat.bufferAlignment) == 0 else { throw .misaligned }
        guard size >= ModelFormat.Header.size else { throw .truncated }
        base = pointer
        func header(_ field: ModelFormat.Header) -> UInt32 {
            pointer.load(fromByteOffset: field.rawValue * 4, as: UInt32.self)
        }
        guard header(.magic) == ModelFormat.magic else { throw .badMagic }
        let version = header(.version)
        guard version >> 16 == ModelFormat.versionMajor else { throw .unsupportedVersion }
        let declared = header(.fileSize)
        guard declared >= UInt32(ModelFormat.Header.size), declared <= UInt32(Int32.max) else { throw .malformed }
        guard Int(declared) <= size else { throw .truncated }
        let total = Int(declared)
        fileSize = total
        #if !CNNQ_FUZZING  // the fuzzing build skips the CRC so that mutations reach the structural checks
            guard !checksum || crc32(pointer + 12, count: total - 12) == header(.crc32) else {
                throw .checksumMismatch
            }
        #endif

        /// A header word as a size or offset, bounded so that sums of two stay below 2^32 on 32-bit boards.
        func value(_ field: ModelFormat.Header) throws(Status) -> Int {
            let v = header(field)
            guard v <= UInt32(Int32.max) else { throw .malformed }
            return Int(v)
        }
        /// A section of `count` records of `recordSize` bytes: 4-byte aligned and inside the file.
        func section(_ offset: ModelFormat.Header, _ count: Int, _ recordSize: Int) throws(Status) -> Int {
            let start = try value(offset)
            guard start % 4 == 0, count <= total / max(recordSize, 1), start <= total - count * recordSize else {
                throw .malformed
            }
            return start
        }
        tensorCount = try value(.tensorCount)
        opCount = try value(.opCount)
        operandCount = try value(.operandCount)
        inputCount = try value(.inputCount)
        outputCount = try value(.outputCount)
        tensorTable = try section(.tensorTable, tensorCount, ModelFormat.TensorRecord.size)
        opTable = try section(.opTable, opCount, ModelFormat.OpRecord.size)
        operands = try section(.operands, operandCount, 4)
        inputs = try section(.inputs, inputCount, 4)
        outputs = try section(.outputs, outputCount, 4)
        namesSize = try value(.namesSize)
        names = try section(.namesOffset, namesSize, 1)
        constantsSize = try value(.constantsSize)
        constants = try section(.constantsOffset, constantsSize, 1)
        activationBytes = try value(.activationBytes)
        workspaceFixed = try value(.workspaceFixed)
        // Older minor versions leave the word 0.
        let pipeline = try value(.inputPipeline)
        guard
            pipeline == 0
                || (pipeline % 4 == 0 && pipeline >= ModelFormat.Header.size
                    && pipeline <= total - ImagePipeline.wordCount * 4
                    && ImagePipeline(words: pointer + pipeline) != nil)
        else { throw .malformed }
        inputPipelineOffset = pipeline
        guard constants % ModelFormat.bufferAlignment == 0 else { throw .malformed }
        // Names are NUL-terminated; a final NUL makes every in-range offset a terminated string.
        guard namesSize > 0, pointer.load(fromByteOffset: names + namesSize - 1, as: UInt8.self) == 0 else {
            throw .malformed
        }
        guard tensorCount > 0, opCount > 0, inputCount > 0, outputCount > 0 else { throw .malformed }
        guard activationBytes <= Int(Int32.max) / 2, workspaceFixed <= Int(Int32.max) / 4 else {
            throw .malformed
        }

        for t in 0..<tensorCount { try validate(tensor: t) }
        for i in 0..<operandCount { guard operand(i) < tensorCount else { throw .malformed } }
        // The C API reads and writes inputs and outputs as int8.
        for i in 0..<inputCount {
            guard input(i) < tensorCount, !tensor(input(i)).isFloat, !tensor(input(i)).isInner else { throw .malformed }
        }
        for i in 0..<outputCount {
            guard output(i) < tensorCount, !tensor(output(i)).isFloat, !tensor(output(i)).isInner else {
                throw .malformed
            }
        }
        var workspace = 0
        var o = 0
        while o < opCount {
            workspace = max(workspace, try validate(op: o))
            o = next(after: o)
        }
        // At most 2 MiB (a fused block's cap; GEMM rows take at most 512 KiB), so the sum in
        // `arenaSize` fits 32 bits.
        workspacePerThread = CheckedSize.roundedUp(workspace, toMultipleOf: ModelFormat.alignment)!
        try verifyArenaPlan()
    }

    // MARK: Reading

    @inline(__always) func word(_ offset: Int) -> UInt32 { base.load(fromByteOffset: offset, as: UInt32.self) }
    /// A record word as an `Int`, words above Int32.max read as Int32.max: `Int(word)` would trap
    /// where `Int` is 32 bits (armv7), and every check that follows rejects Int32.max as an index,
    /// size or offset.
    @inline(__always) func index(_ offset: Int) -> Int { Int(min(word(offset), UInt32(Int32.max))) }
    @inline(__always)
    public func input(_ i: Int) -> Int { index(inputs + 4 * i) }
    public func output(_ i: Int) -> Int { index(outputs + 4 * i) }
    func operand(_ i: Int) -> Int { index(operands + 4 * i) }

    /// The NUL-terminated name at `offset` of the names section.
    public func name(at offset: Int) -> UnsafePointer<CChar> {
        (base + names + offset).assumingMemoryBound(to: CChar.self)
    }

    public func tensor(_ t: Int) -> TensorInfo {
        let r = tensorTable + t * ModelFormat.TensorRecord.size
        func field(_ f: ModelFormat.TensorRecord) -> UInt32 { word(r + f.rawValue * 4) }
        func int(_ f: ModelFormat.TensorRecord) -> Int { index(r + f.rawValue * 4) }
        return TensorInfo(
            batch: int(.batch), height: int(.height), width: int(.width), channels: int(.channels), rank: int(.rank),
            zeroPoint: Int32(bitPattern: field(.zeroPoint)), scale: Float(bitPattern: field(.scaleBits)),
            arenaOffset: int(.arenaOffset), byteCount: int(.byteCount), nameOffset: int(.nameOffset),
            flags: field(.flags))
    }

    public func op(_ o: Int) -> OpInfo {
        let r = opTable + o * ModelFormat.OpRecord.size
        func field(_ f: ModelFormat.OpRecord) -> Int { index(r + f.rawValue * 4) }
        return OpInfo(
            index: o, kind: ModelFormat.OpKind(rawValue: UInt32(field(.kind)))!, output: field(.output),
            inputCount: field(.inputCount),
            firstOperand: field(.firstOperand), parameters: constants + field(.paramOffset),
            nameOffset: field(.nameOffset))
    }

    /// The op run after op `o`: a fused block's inner ops run inside it.
    public func next(after o: Int) -> Int {
        let info = op(o)
        return o + 1 + (info.kind == .invertedResidual ? InvertedResidualOp.innerCount(self, info) : 0)
    }

    /// Tensor index of input `i` of `op`.
    public func input(of op: OpInfo, _ i: Int) -> Int { operand(op.firstOperand + i) }

    /// A constant blob at byte `offset` of the constants section.
    @inline(__always) func constant<T>(_ offset: Int32, as: T.Type) -> UnsafePointer<T> {
        (base + constants + Int(offset)).assumingMemoryBound(to: T.self)
    }

    /// Bytes of arena `Interpreter.invoke` needs with `threads` threads.
    public func arenaSize(threads: Int) -> Int {
        workspaceOffset + workspaceFixed + max(1, threads) * workspacePerThread
    }

    var workspaceOffset: Int {
        (activationBytes + ModelFormat.alignment - 1) / ModelFormat.alignment * ModelFormat.alignment
    }

    // MARK: Validation

    func validate(tensor t: Int) throws(Status) {
        let info = tensor(t)
        func dimension(_ d: Int) -> Bool { d >= 1 && d <= 65_535 }
        guard dimension(info.batch), dimension(info.height), dimension(info.width), dimension(info.channels) else {
            throw .malformed
        }
        guard
            info.rank == 4 || (info.rank == 3 && info.width == 1)
                || (info.rank == 2 && info.height == 1 && info.width == 1)
        else { throw .malformed }
        let (hw, o1) = info.height.multipliedReportingOverflow(by: info.width)
        let (nhw, o2) = hw.multipliedReportingOverflow(by: info.batch)
        let (count, o3) = nhw.multipliedReportingOverflow(by: info.channels)
        guard !o1, !o2, !o3, count <= Int(Int32.max) / 4, info.byteCount == count * (info.isFloat ? 4 : 1) else {
            throw .malformed
        }
        // An inner tensor has no place in the arena; every other one lies inside it.
        guard
            info.isInner
                ? !info.isFloat && info.arenaOffset == 0
                : info.arenaOffset % ModelFormat.bufferAlignment == 0 && info.byteCount <= activationBytes
                    && info.arenaOffset <= activationBytes - info.byteCount
        else { throw .malformed }
        guard info.zeroPoint >= -128, info.zeroPoint <= 127, info.scale > 0, info.scale.isFinite else {
            throw .malformed
        }
        guard info.nameOffset < namesSize else { throw .malformed }
    }

    /// Checks op `o`'s record, then its kind's own parameters; returns the kernel scratch bytes per
    /// thread the op needs. Only an `inner` op (checked by its block) may touch inner tensors, and
    /// blocks do not nest.
    func validate(op o: Int, inner: Bool = false) throws(Status) -> Int {
        let r = opTable + o * ModelFormat.OpRecord.size
        guard let kind = ModelFormat.OpKind(rawValue: word(r)) else { throw .malformed }
        // Compared as words before any becomes an `Int`, which is 32 bits on armv7.
        func field(_ f: ModelFormat.OpRecord) -> UInt32 { word(r + f.rawValue * 4) }
        let words = field(.paramWords)
        guard field(.output) < UInt32(tensorCount), field(.nameOffset) < UInt32(namesSize),
            field(.paramOffset) % 4 == 0,
            field(.inputCount) >= 1, field(.inputCount) <= UInt32(operandCount),
            field(.firstOperand) <= UInt32(operandCount) - field(.inputCount),
            words <= UInt32(constantsSize / 4), field(.paramOffset) <= UInt32(constantsSize) - words * 4
        else { throw .malformed }
        let op = op(o)
        let check = OpCheck(model: self, op: op, words: Int(words))
        guard check.out.batch == check.x.batch else { throw .malformed }
        // Element types: float ops read and write float tensors, the boundary ops convert, every
        // other op is int8 throughout.
        var floats = 0
        for i in 0..<op.inputCount where tensor(input(of: op, i)).isFloat { floats += 1 }
        if inner {
            guard kind != .invertedResidual else { throw .malformed }
        } else {
            guard !check.out.isInner else { throw .malformed }
            for i in 0..<op.inputCount { guard !tensor(input(of: op, i)).isInner else { throw .malformed } }
        }
        switch kind {
        case .quantize: guard check.x.isFloat, !check.out.isFloat else { throw .malformed }
        case .dequantize: guard !check.x.isFloat, check.out.isFloat else { throw .malformed }
        default:
            guard floats == (kind.isFloat ? op.inputCount : 0), check.out.isFloat == kind.isFloat else {
                throw .malformed
            }
        }
        // A kind this build leaves out (OpSelection.swift) is refused here, and its checks are not linked.
        switch kind {
        case .convolution where kind.isBuiltIn, .pointwise where kind.isBuiltIn, .depthwise where kind.isBuiltIn,
            .groupedConvolution where kind.isBuiltIn:
            return try ConvolutionOp.validate(check)
        case .add where kind.isBuiltIn: try AddOp.validate(check)
        case .multiply where kind.isBuiltIn: try MultiplyOp.validate(check)
        case .lookup where kind.isBuiltIn: try LookupOp.validate(check)
        case .globalAveragePool where kind.isBuiltIn: try GlobalAveragePoolOp.validate(check)
        case .maxPool where kind.isBuiltIn, .averagePool where kind.isBuiltIn: try WindowPoolOp.validate(check)
        case .concat where kind.isBuiltIn: try ConcatOp.validate(check)
        case .quantize where kind.isBuiltIn: try QuantizeOp.validate(check)
        case .dequantize where kind.isBuiltIn: try DequantizeOp.validate(check)
        case .floatAdd where kind.isBuiltIn: try FloatAddOp.validate(check)
        case .floatConvolution where kind.isBuiltIn: try FloatConvolutionOp.validate(check)
        case .pad where kind.isBuiltIn: try PadOp.validate(check)
        case .invertedResidual where kind.isBuiltIn: return try InvertedResidualOp.validate(check)
        case .resize where kind.isBuiltIn: try ResizeOp.validate(check)
        case .insertZeros where kind.isBuiltIn: try InsertZerosOp.validate(check)
        case .depthToSpace where kind.isBuiltIn: try DepthToSpaceOp.validate(check)
        default: throw .unsupportedOp
        }
        return 0
    }

    /// The geometry of a convolution op (int8 or float), as validated at load.
    public func convolutionShape(_ op: OpInfo) throws(Status) -> ConvolutionShape {
        op.kind == .floatConvolution ? try FloatConvolutionOp.shape(self, op) : try ConvolutionOp.shape(self, op)
    }
}
