import CNNQKernels

/// One activation tensor of a model: NHWC dims, quantization and place in the arena.
public struct TensorInfo {
    public var batch: Int, height: Int, width: Int, channels: Int
    /// Logical rank: 4 (NCHW in the source model) or 2 ([N, C]).
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
    /// a fixed part plus a part per thread.
    public let activationBytes: Int, workspaceFixed: Int, workspacePerThread: Int

    public init(_ pointer: UnsafeRawPointer?, size: Int) throws(Status) {
        guard let pointer, size >= 0 else { throw .invalidArgument }
        guard UInt(bitPattern: pointer) % UInt(ModelFormat.bufferAlignment) == 0 else { throw .misaligned }
        guard size >= ModelFormat.Header.size else { throw .truncated }
        base = pointer
        func header(_ field: ModelFormat.Header) -> UInt32 { pointer.load(fromByteOffset: field.rawValue * 4, as: UInt32.self) }
        guard header(.magic) == ModelFormat.magic else { throw .badMagic }
        guard header(.version) >> 16 == ModelFormat.versionMajor else { throw .unsupportedVersion }
        let declared = header(.fileSize)
        guard declared >= UInt32(ModelFormat.Header.size), declared <= UInt32(Int32.max) else { throw .malformed }
        guard Int(declared) <= size else { throw .truncated }
        let total = Int(declared)
        fileSize = total
        #if !CNNQ_FUZZING  // the fuzzing build skips the CRC so that mutations reach the structural checks
        guard crc32(pointer + 12, count: total - 12) == header(.crc32) else { throw .checksumMismatch }
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
            guard start % 4 == 0, count <= total / max(recordSize, 1), start <= total - count * recordSize else { throw .malformed }
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
        workspacePerThread = try value(.workspacePerThread)
        guard constants % ModelFormat.bufferAlignment == 0 else { throw .malformed }
        // Names are NUL-terminated; a final NUL makes every in-range offset a terminated string.
        guard namesSize > 0, pointer.load(fromByteOffset: names + namesSize - 1, as: UInt8.self) == 0 else { throw .malformed }
        guard tensorCount > 0, opCount > 0, inputCount > 0, outputCount > 0 else { throw .malformed }
        guard activationBytes <= Int(Int32.max) / 2, workspaceFixed <= Int(Int32.max) / 4, workspacePerThread <= Int(Int32.max) / 1024 else {
            throw .malformed
        }

        for t in 0..<tensorCount { try validate(tensor: t) }
        for i in 0..<operandCount { guard operand(i) < tensorCount else { throw .malformed } }
        // The C API reads and writes inputs and outputs as int8.
        for i in 0..<inputCount { guard input(i) < tensorCount, !tensor(input(i)).isFloat else { throw .malformed } }
        for i in 0..<outputCount { guard output(i) < tensorCount, !tensor(output(i)).isFloat else { throw .malformed } }
        for o in 0..<opCount { try validate(op: o) }
    }

    // MARK: Reading

    @inline(__always) func word(_ offset: Int) -> UInt32 { base.load(fromByteOffset: offset, as: UInt32.self) }
    @inline(__always) func signed(_ offset: Int) -> Int32 { Int32(bitPattern: word(offset)) }

    public func input(_ i: Int) -> Int { Int(word(inputs + 4 * i)) }
    public func output(_ i: Int) -> Int { Int(word(outputs + 4 * i)) }
    func operand(_ i: Int) -> Int { Int(word(operands + 4 * i)) }

    /// The NUL-terminated name at `offset` of the names section.
    public func name(at offset: Int) -> UnsafePointer<CChar> {
        (base + names + offset).assumingMemoryBound(to: CChar.self)
    }

    public func tensor(_ t: Int) -> TensorInfo {
        let r = tensorTable + t * ModelFormat.TensorRecord.size
        func field(_ f: ModelFormat.TensorRecord) -> UInt32 { word(r + f.rawValue * 4) }
        return TensorInfo(batch: Int(field(.batch)), height: Int(field(.height)), width: Int(field(.width)), channels: Int(field(.channels)),
                          rank: Int(field(.rank)), zeroPoint: Int32(bitPattern: field(.zeroPoint)), scale: Float(bitPattern: field(.scaleBits)),
                          arenaOffset: Int(field(.arenaOffset)), byteCount: Int(field(.byteCount)), nameOffset: Int(field(.nameOffset)),
                          flags: field(.flags))
    }

    public func op(_ o: Int) -> OpInfo {
        let r = opTable + o * ModelFormat.OpRecord.size
        func field(_ f: ModelFormat.OpRecord) -> Int { Int(word(r + f.rawValue * 4)) }
        return OpInfo(index: o, kind: ModelFormat.OpKind(rawValue: UInt32(field(.kind)))!, output: field(.output), inputCount: field(.inputCount),
                      firstOperand: field(.firstOperand), parameters: constants + field(.paramOffset), nameOffset: field(.nameOffset))
    }

    /// Tensor index of input `i` of `op`.
    public func input(of op: OpInfo, _ i: Int) -> Int { operand(op.firstOperand + i) }

    @inline(__always) func parameter<P: RawRepresentable>(_ op: OpInfo, _ p: P) -> Int32 where P.RawValue == Int {
        signed(op.parameters + p.rawValue * 4)
    }

    /// Parameter word `index` of `op` (for tools that describe a model).
    public func parameter(_ op: OpInfo, index: Int) -> Int32 { signed(op.parameters + index * 4) }
    public func parameterCount(_ op: OpInfo) -> Int { Int(word(opTable + op.index * ModelFormat.OpRecord.size + ModelFormat.OpRecord.paramWords.rawValue * 4)) }

    /// A byte offset parameter as a pointer into the constants section.
    @inline(__always) func constant<T, P: RawRepresentable>(_ op: OpInfo, _ p: P, as: T.Type) -> UnsafePointer<T> where P.RawValue == Int {
        (base + constants + Int(parameter(op, p))).assumingMemoryBound(to: T.self)
    }

    /// Bytes of arena `Interpreter.invoke` needs with `threads` threads.
    public func arenaSize(threads: Int) -> Int {
        workspaceOffset + workspaceFixed + max(1, threads) * workspacePerThread
    }

    var workspaceOffset: Int { (activationBytes + ModelFormat.alignment - 1) / ModelFormat.alignment * ModelFormat.alignment }

    // MARK: Validation

    func validate(tensor t: Int) throws(Status) {
        let info = tensor(t)
        func dimension(_ d: Int) -> Bool { d >= 1 && d <= 65_535 }
        guard dimension(info.batch), dimension(info.height), dimension(info.width), dimension(info.channels) else { throw .malformed }
        guard info.rank == 4 || (info.rank == 2 && info.height == 1 && info.width == 1) else { throw .malformed }
        let (hw, o1) = info.height.multipliedReportingOverflow(by: info.width)
        let (nhw, o2) = hw.multipliedReportingOverflow(by: info.batch)
        let (count, o3) = nhw.multipliedReportingOverflow(by: info.channels)
        guard !o1, !o2, !o3, count <= activationBytes / (info.isFloat ? 4 : 1), info.byteCount == count * (info.isFloat ? 4 : 1) else {
            throw .malformed
        }
        guard info.arenaOffset % ModelFormat.bufferAlignment == 0, info.arenaOffset <= activationBytes - info.byteCount else { throw .malformed }
        guard info.zeroPoint >= -128, info.zeroPoint <= 127, info.scale > 0, info.scale.isFinite else { throw .malformed }
        guard info.nameOffset < namesSize else { throw .malformed }
    }

    /// A byte range of the constants section: `offset` aligned to `alignment`, `bytes` long.
    func checkConstant(_ offset: Int32, bytes: Int, alignment: Int) throws(Status) {
        guard offset >= 0, Int(offset) % alignment == 0, bytes <= constantsSize, Int(offset) <= constantsSize - bytes else { throw .malformed }
    }

    func validate(op o: Int) throws(Status) {
        let r = opTable + o * ModelFormat.OpRecord.size
        guard let kind = ModelFormat.OpKind(rawValue: word(r)) else { throw .malformed }
        func field(_ f: ModelFormat.OpRecord) -> Int { Int(word(r + f.rawValue * 4)) }
        guard field(.output) < tensorCount, field(.nameOffset) < namesSize, field(.paramOffset) % 4 == 0 else { throw .malformed }
        guard field(.inputCount) >= 1, field(.inputCount) <= operandCount, field(.firstOperand) <= operandCount - field(.inputCount) else {
            throw .malformed
        }
        let words = field(.paramWords)
        guard words <= constantsSize / 4, field(.paramOffset) <= constantsSize - words * 4 else { throw .malformed }
        let op = op(o)
        let out = tensor(op.output), x = tensor(input(of: op, 0))
        func inputs(_ n: Int) throws(Status) { guard op.inputCount == n else { throw .malformed } }
        func parameters(_ n: Int) throws(Status) { guard words == n else { throw .malformed } }
        func clamp(_ lower: Int32, _ upper: Int32) throws(Status) {
            guard lower >= -128, lower <= upper, upper <= 127 else { throw .malformed }
        }
        func multiplier(_ m: Int32, _ shift: Int32) throws(Status) { guard m >= 0, shift >= -31, shift <= 30 else { throw .malformed } }
        guard out.batch == x.batch else { throw .malformed }
        // Element types: float ops read and write float tensors, the boundary ops convert, every
        // other op is int8 throughout.
        var floats = 0
        for i in 0..<op.inputCount where tensor(input(of: op, i)).isFloat { floats += 1 }
        switch kind {
        case .quantize: guard x.isFloat, !out.isFloat else { throw .malformed }
        case .dequantize: guard !x.isFloat, out.isFloat else { throw .malformed }
        default: guard floats == (kind.isFloat ? op.inputCount : 0), out.isFloat == kind.isFloat else { throw .malformed }
        }

        switch kind {
        case .convolution, .pointwise, .depthwise, .groupedConvolution:
            try inputs(1)
            try parameters(ModelFormat.ConvolutionParameter.count + (kind == .groupedConvolution ? 1 : 0))
            let s = try convolutionShape(op, x, out)
            try clamp(parameter(op, ModelFormat.ConvolutionParameter.lower), parameter(op, ModelFormat.ConvolutionParameter.upper))
            let depth = s.kernelHeight * s.kernelWidth * (s.inputChannels / s.groups)
            let weightBytes: Int
            var channels = (s.outputChannels + 15) / 16 * 16
            switch kind {
            case .pointwise, .convolution, .groupedConvolution:
                if kind == .pointwise {
                    guard s.kernelHeight == 1, s.kernelWidth == 1, s.strideHeight == 1, s.strideWidth == 1, s.padTop == 0, s.padLeft == 0,
                          s.outputHeight == s.inputHeight, s.outputWidth == s.inputWidth else { throw .malformed }
                }
                // A 1×1 layer's depth is its input channels (at most 65,535); the im2col depth is bounded.
                guard kind == .pointwise || depth <= 1 << 16, 2 * Pointwise.workspaceCount(depth: depth, threads: 1) <= workspacePerThread else {
                    throw .malformed
                }
                // `StandardConvolution.packedWeightCount` in 64 bits: 65,535 channels × 2^16 taps
                // overflows Int where it is 32 bits.
                let perGroup = Int64(s.outputChannels / s.groups)
                let bytes = Int64(s.groups) * ((perGroup + 15) / 16 * 16) * Int64((depth + 1) / 2 * 2)
                guard bytes <= Int64(constantsSize) else { throw .malformed }
                weightBytes = Int(bytes)
                channels = StandardConvolution.slotCount(shape: s)
            default:
                guard s.outputChannels == s.inputChannels else { throw .malformed }
                weightBytes = Depthwise.packedWeightCount(channels: s.inputChannels, kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth)
            }
            guard weightBytes <= constantsSize else { throw .malformed }
            try checkConstant(parameter(op, ModelFormat.ConvolutionParameter.weights), bytes: weightBytes, alignment: 1)
            try checkConstant(parameter(op, ModelFormat.ConvolutionParameter.bias), bytes: 4 * channels, alignment: 4)
            try checkConstant(parameter(op, ModelFormat.ConvolutionParameter.multipliers), bytes: 4 * channels, alignment: 4)
            try checkConstant(parameter(op, ModelFormat.ConvolutionParameter.shifts), bytes: 4 * channels, alignment: 4)
            let multipliers = constant(op, ModelFormat.ConvolutionParameter.multipliers, as: Int32.self)
            let shifts = constant(op, ModelFormat.ConvolutionParameter.shifts, as: Int32.self)
            for c in 0..<channels { try multiplier(multipliers[c], shifts[c]) }
        case .add:
            try inputs(2)
            try parameters(ModelFormat.AddParameter.count)
            guard sameDims(x, out), sameDims(tensor(input(of: op, 1)), out) else { throw .malformed }
            typealias P = ModelFormat.AddParameter
            try multiplier(parameter(op, P.multiplierA), parameter(op, P.shiftA))
            try multiplier(parameter(op, P.multiplierB), parameter(op, P.shiftB))
            try multiplier(parameter(op, P.multiplier), parameter(op, P.shift))
            try clamp(parameter(op, P.lower), parameter(op, P.upper))
        case .multiply:
            try inputs(2)
            try parameters(ModelFormat.RequantizeParameter.count)
            let gate = tensor(input(of: op, 1))
            let broadcast = gate.batch == x.batch && gate.height == 1 && gate.width == 1 && gate.channels == x.channels
            guard sameDims(x, out), broadcast || sameDims(gate, out) else { throw .malformed }
            try requantization(op, multiplier, clamp)
        case .lookup:
            try inputs(1)
            try parameters(1)
            guard sameDims(x, out) else { throw .malformed }
            try checkConstant(parameter(op, ModelFormat.LookupParameter.table), bytes: 256, alignment: 1)
        case .globalAveragePool:
            try inputs(1)
            try parameters(ModelFormat.RequantizeParameter.count)
            guard out.height == 1, out.width == 1, out.channels == x.channels else { throw .malformed }
            try requantization(op, multiplier, clamp)
        case .maxPool, .averagePool:
            try inputs(1)
            try parameters(ModelFormat.PoolParameter.count)
            // Pooling keeps the quantization: the kernel compares and averages raw values.
            guard x.zeroPoint == out.zeroPoint, x.scale == out.scale else { throw .malformed }
            _ = try poolShape(op, x, out)
        case .concat:
            try parameters(ModelFormat.concatWordsPerInput * op.inputCount)
            var channels = 0
            for i in 0..<op.inputCount {
                let part = tensor(input(of: op, i))
                guard part.batch == out.batch, part.height == out.height, part.width == out.width else { throw .malformed }
                channels += part.channels
                let m = signed(op.parameters + (i * 3 + 1) * 4), shift = signed(op.parameters + (i * 3 + 2) * 4)
                try multiplier(m, shift)
            }
            guard channels == out.channels else { throw .malformed }
        case .quantize, .dequantize:
            try inputs(1)
            try parameters(0)
            guard sameDims(x, out) else { throw .malformed }
        case .floatAdd:
            try inputs(2)
            try parameters(0)
            guard sameDims(x, out), sameDims(tensor(input(of: op, 1)), out) else { throw .malformed }
        case .floatConvolution:
            typealias P = ModelFormat.FloatConvolutionParameter
            try inputs(1)
            try parameters(P.count)
            let s = try convolutionShape(op, x, out)
            let lower = Float(bitPattern: word(op.parameters + P.lowerBits.rawValue * 4))
            let upper = Float(bitPattern: word(op.parameters + P.upperBits.rawValue * 4))
            guard lower <= upper else { throw .malformed }  // also refuses NaN
            // Overflow-checked: Int is 32 bits on some boards.
            let (taps, o1) = (s.kernelHeight * s.kernelWidth).multipliedReportingOverflow(by: s.inputChannels / s.groups)
            let (values, o2) = taps.multipliedReportingOverflow(by: s.outputChannels)
            let (weights, o3) = values.multipliedReportingOverflow(by: 4)
            guard !o1, !o2, !o3, weights <= constantsSize else { throw .malformed }
            try checkConstant(parameter(op, P.weights), bytes: weights, alignment: 4)
            try checkConstant(parameter(op, P.bias), bytes: 4 * s.outputChannels, alignment: 4)
        }
    }

    func requantization(_ op: OpInfo, _ multiplier: (Int32, Int32) throws(Status) -> Void,
                        _ clamp: (Int32, Int32) throws(Status) -> Void) throws(Status) {
        typealias P = ModelFormat.RequantizeParameter
        try multiplier(parameter(op, P.multiplier), parameter(op, P.shift))
        try clamp(parameter(op, P.lower), parameter(op, P.upper))
    }

    /// Parameter `p` of `op`, which must lie in `range`.
    func bounded<P: RawRepresentable>(_ op: OpInfo, _ p: P, _ range: ClosedRange<Int32>) throws(Status) -> Int where P.RawValue == Int {
        try bounded(op, index: p.rawValue, range)
    }

    func bounded(_ op: OpInfo, index: Int, _ range: ClosedRange<Int32>) throws(Status) -> Int {
        let v = parameter(op, index: index)
        guard range.contains(v) else { throw .malformed }
        return Int(v)
    }

    func sameDims(_ a: TensorInfo, _ b: TensorInfo) -> Bool {
        a.batch == b.batch && a.height == b.height && a.width == b.width && a.channels == b.channels
    }

    /// The convolution geometry of `op`, checked: small positive kernel, stride and dilation, padding
    /// smaller than the kernel, a group count that divides both channel counts (read from the op's
    /// words for grouped and float convolutions), and an output size that matches the output tensor.
    public func convolutionShape(_ op: OpInfo, _ x: TensorInfo, _ out: TensorInfo) throws(Status) -> ConvolutionShape {
        let groups: Int
        switch op.kind {
        case .depthwise: groups = x.channels
        case .groupedConvolution: groups = try bounded(op, index: ModelFormat.groupsWord, 2...65_535)
        case .floatConvolution: groups = try bounded(op, ModelFormat.FloatConvolutionParameter.groups, 1...65_535)
        default: groups = 1
        }
        guard x.channels % groups == 0, out.channels % groups == 0 else { throw .malformed }
        func small(_ p: ModelFormat.ConvolutionParameter, _ range: ClosedRange<Int32>) throws(Status) -> Int { try bounded(op, p, range) }
        let kh = try small(.kernelHeight, 1...31), kw = try small(.kernelWidth, 1...31)
        let sh = try small(.strideHeight, 1...16), sw = try small(.strideWidth, 1...16)
        let dh = try small(.dilationHeight, 1...16), dw = try small(.dilationWidth, 1...16)
        let pt = try small(.padTop, 0...255), pl = try small(.padLeft, 0...255)
        let pb = try small(.padBottom, 0...255), pr = try small(.padRight, 0...255)
        guard pt < (kh - 1) * dh + 1, pb < (kh - 1) * dh + 1, pl < (kw - 1) * dw + 1, pr < (kw - 1) * dw + 1 else {
            throw .malformed
        }
        guard x.height + pt + pb >= (kh - 1) * dh + 1, x.width + pl + pr >= (kw - 1) * dw + 1 else { throw .malformed }
        let s = ConvolutionShape(batch: x.batch, inputHeight: x.height, inputWidth: x.width, inputChannels: x.channels,
                                 outputChannels: out.channels, kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                                 dilationHeight: dh, dilationWidth: dw, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
                                 groups: groups)
        guard s.outputHeight == out.height, s.outputWidth == out.width else { throw .malformed }
        return s
    }

    func poolShape(_ op: OpInfo, _ x: TensorInfo, _ out: TensorInfo) throws(Status) -> ConvolutionShape {
        func small(_ p: ModelFormat.PoolParameter, _ range: ClosedRange<Int32>) throws(Status) -> Int { try bounded(op, p, range) }
        let kh = try small(.kernelHeight, 1...255), kw = try small(.kernelWidth, 1...255)
        let sh = try small(.strideHeight, 1...255), sw = try small(.strideWidth, 1...255)
        let pt = try small(.padTop, 0...254), pl = try small(.padLeft, 0...254)
        let pb = try small(.padBottom, 0...254), pr = try small(.padRight, 0...254)
        guard pt < kh, pb < kh, pl < kw, pr < kw, x.height + pt + pb >= kh, x.width + pl + pr >= kw, out.channels == x.channels else {
            throw .malformed
        }
        let s = ConvolutionShape(batch: x.batch, inputHeight: x.height, inputWidth: x.width, inputChannels: x.channels,
                                 outputChannels: x.channels, kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                                 padTop: pt, padLeft: pl, padBottom: pb, padRight: pr)
        guard s.outputHeight == out.height, s.outputWidth == out.width else { throw .malformed }
        return s
    }
}
