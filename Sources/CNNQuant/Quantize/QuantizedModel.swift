import CNNQKernels
import CNNQRuntime

/// The int8 model as the host builds it, before it is laid out as a `.cnnq` file: tensors with their
/// quantization, ops with their parameter words and constant blobs (packed weights, tables).
public struct QuantizedModel {
    public struct TensorEntry {
        public var name: String
        public var batch: Int, height: Int, width: Int, channels: Int
        public var rank: Int
        public var scale: Double
        public var zeroPoint: Int32
        public var flags: UInt32 = 0
        public var isFloat: Bool { flags & ModelFormat.floatFlag != 0 }
        public var isInner: Bool { flags & ModelFormat.innerFlag != 0 }
        public var count: Int { batch * height * width * channels }
        public var byteCount: Int { count * (isFloat ? 4 : 1) }
    }

    /// Bytes referenced by a parameter word, which the writer sets to the blob's offset.
    public struct Blob {
        public var word: Int
        public var bytes: [UInt8]
        public var alignment: Int
    }

    public struct OpEntry {
        public var kind: ModelFormat.OpKind
        /// The ONNX node this op comes from.
        public var name: String
        public var inputs: [Int]
        public var output: Int
        public var words: [Int32]
        public var blobs: [Blob] = []
        public var macs = 0
        public var weights = 0
        /// Kernel scratch bytes per thread.
        public var workspacePerThread = 0

        public init(
            kind: ModelFormat.OpKind, name: String, inputs: [Int], output: Int, words: [Int32] = [], blobs: [Blob] = []
        ) {
            (self.kind, self.name, self.inputs, self.output, self.words, self.blobs) = (
                kind, name, inputs, output, words, blobs
            )
        }

        /// An op with the words of `parameters`; `constants` are the blobs of its constant-offset
        /// words, in the order its `code` lists them.
        public init<P: OpParameters>(
            kind: ModelFormat.OpKind, name: String, inputs: [Int], output: Int, parameters: P,
            constants: [(bytes: [UInt8], alignment: Int)] = []
        ) {
            let encoded = parameters.encoded
            precondition(encoded.constantWords.count == constants.count, "one blob per constant word")
            let blobs = zip(encoded.constantWords, constants).map {
                Blob(word: $0, bytes: $1.bytes, alignment: $1.alignment)
            }
            self.init(kind: kind, name: name, inputs: inputs, output: output, words: encoded.words, blobs: blobs)
        }
    }

    public var tensors: [TensorEntry] = []
    public var ops: [OpEntry] = []
    public var inputs: [Int] = []
    public var outputs: [Int] = []
    /// Decisions the user should know about (e.g. a trailing Softmax left out).
    public var notes: [String] = []
    /// What calibration did to images, recorded for `cnnq_prepare_image` (nil for .npy arrays).
    public var inputPipeline: ImagePipeline?

    public var macs: Int { ops.reduce(0) { $0 + $1.macs } }
    public var weights: Int { ops.reduce(0) { $0 + $1.weights } }
}

extension Array where Element == UInt8 {
    /// Little-endian bytes of 32-bit values, as the file stores them.
    init<T: FixedWidthInteger>(littleEndian values: [T]) {
        self.init()
        reserveCapacity(values.count * T.bitWidth / 8)
        for v in values { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    }
}
