/// Layout of a `.cnnq` model file (docs/model-format.md is the prose version). Every field is a
/// little-endian 32-bit word; records are arrays of words at 4-byte aligned offsets. The host writer
/// and the device reader both take their offsets from here.
public enum ModelFormat {
    /// "CNNQ" read as a little-endian word.
    public static let magic: UInt32 = 0x514E_4E43
    public static let versionMajor: UInt32 = 3
    public static let versionMinor: UInt32 = 4
    /// Constant blobs (packed weights) start on this boundary in the file; arena tensors too.
    public static let alignment = 64
    /// Bytes the caller's model buffer and arena must be aligned to.
    public static let bufferAlignment = 16
    /// Parameter words, int32 and float arrays and tables start on this boundary in the constants.
    public static let arrayAlignment = 16

    /// Header words, in order. The CRC covers every byte after its own word.
    public enum Header: Int {
        case magic, version, crc32, fileSize
        case tensorCount, tensorTable, opCount, opTable
        case operandCount, operands, inputCount, inputs, outputCount, outputs
        case namesOffset, namesSize, constantsOffset, constantsSize
        /// `workspacePerThread` is what the writer's kernels needed; a reader derives its own from
        /// the kernels it runs (format 1.3).
        case activationBytes, workspaceFixed, workspacePerThread
        /// File offset of the input's `ImagePipeline` record, or 0: what calibration did to images,
        /// which `cnnq_prepare_image` repeats (format 3.2; 0 in older files).
        case inputPipeline
        case reserved1, reserved2
        public static let size = (reserved2.rawValue + 1) * 4
    }

    /// Words of one tensor record. Dims are physical NHWC; a rank-2 tensor [N, C] is N×1×1×C, a
    /// rank-3 one [N, L, C] N×L×1×C (format 3.4).
    public enum TensorRecord: Int {
        case batch, height, width, channels, rank, zeroPoint, scaleBits, arenaOffset, byteCount, nameOffset, flags,
            reserved
        public static let size = (reserved.rawValue + 1) * 4
    }

    /// Words of one op record. Inputs are `inputCount` tensor indices at `firstOperand` of the
    /// operand list; parameters are `paramWords` words at `paramOffset` in the constants section,
    /// laid out by the op's `Parameters` in `Ops/`.
    public enum OpRecord: Int {
        case kind, output, inputCount, firstOperand, paramOffset, paramWords, nameOffset, reserved
        public static let size = (reserved.rawValue + 1) * 4
    }

    public enum OpKind: UInt32 {
        /// k×k convolution with one group: im2col into the pointwise GEMM.
        case convolution = 1
        /// 1×1 convolution, stride 1, no padding; also a fully connected layer on [N, C].
        case pointwise = 2
        case depthwise = 3
        case add = 4
        /// Elementwise product; a gate of C values is broadcast over the pixels (squeeze-excite).
        case multiply = 5
        case lookup = 6
        case globalAveragePool = 7
        case maxPool = 8
        case averagePool = 9
        /// Along channels, each input requantized to the output.
        case concat = 10
        // Float islands: layers the user excluded from int8 (`--exclude`) run in float32 between a
        // dequantize and a quantize. Format 1.1.
        /// Float32 → int8 with the output tensor's scale and zero point.
        case quantize = 11
        /// Int8 → float32 with the input tensor's scale and zero point.
        case dequantize = 12
        /// Float32 grouped convolution (also pointwise, depthwise and fully connected).
        case floatConvolution = 13
        /// Float32 elementwise sum of two tensors of one shape.
        case floatAdd = 14
        /// k×k convolution with more than one group (RegNet, ResNeXt), each group an im2col GEMM.
        /// Format 1.2.
        case groupedConvolution = 15
        /// Constant padding of rows and columns. Format 2.1.
        case pad = 16
        /// A fused inverted-residual block; its inner ops' records follow it. Format 3.1.
        case invertedResidual = 17
        /// Nearest or bilinear resizing of rows and columns. Format 3.3.
        case resize = 18
        /// Zeros between pixels: a transposed convolution's input. Format 3.3.
        case insertZeros = 19
        /// Channels into blocks of pixels (DCR). Format 3.4.
        case depthToSpace = 20

        public var isFloat: Bool { self == .floatConvolution || self == .floatAdd }
    }

    /// Tensor flags.
    public static let inputFlag: UInt32 = 1, outputFlag: UInt32 = 2
    /// The tensor holds float32 values (a float island); its scale and zero point are unused.
    public static let floatFlag: UInt32 = 4
    /// The tensor lies between two inner ops of a fused block: it has no place in the arena.
    public static let innerFlag: UInt32 = 8
}
