// Host only until the runtime runs fused inverted-residual blocks (issue 19): the benchmarks and
// the tests use it, a device library does not carry it.
#if !hasFeature(Embedded)

    /// Squeeze-and-excitation (MobileNet V3): global average pool → 1×1 reduce (ReLU in its clamp) →
    /// 1×1 expand → hard-sigmoid lookup table → per-channel multiply of the input. Every step is an
    /// int8 kernel of this module; the float form is never computed.
    public struct SqueezeExcite {
        public var channels: Int, squeeze: Int
        public var pool: Pooling.AverageParameters
        /// Packed with `GEMM.pack` (reduce: squeeze × channels, expand: channels × squeeze).
        public var reduceWeights: UnsafePointer<Int8>, reduceBias: UnsafePointer<Int32>, reduceStage: OutputStage
        public var expandWeights: UnsafePointer<Int8>, expandBias: UnsafePointer<Int32>, expandStage: OutputStage
        /// 256 entries: expand output → gate (hard-sigmoid, or any other gate function).
        public var gateTable: UnsafePointer<Int8>
        public var scale: MultiplyParameters

        public init(
            channels: Int, squeeze: Int, pool: Pooling.AverageParameters,
            reduceWeights: UnsafePointer<Int8>, reduceBias: UnsafePointer<Int32>, reduceStage: OutputStage,
            expandWeights: UnsafePointer<Int8>, expandBias: UnsafePointer<Int32>, expandStage: OutputStage,
            gateTable: UnsafePointer<Int8>, scale: MultiplyParameters
        ) {
            self.channels = channels
            self.squeeze = squeeze
            self.pool = pool
            self.reduceWeights = reduceWeights
            self.reduceBias = reduceBias
            self.reduceStage = reduceStage
            self.expandWeights = expandWeights
            self.expandBias = expandBias
            self.expandStage = expandStage
            self.gateTable = gateTable
            self.scale = scale
        }

        /// Bytes of workspace `run` needs: three int8 vectors and the GEMM's rows (one thread: a single
        /// pixel is not worth splitting).
        public static func workspaceCount(channels: Int, squeeze: Int) -> Int {
            vectorBytes(channels: channels, squeeze: squeeze)
                + GEMM.workspaceCount(depth: max(channels, squeeze), threads: 1)
        }

        /// The three int8 vectors, rounded up to 16 bytes so that the rows after them are aligned.
        static func vectorBytes(channels: Int, squeeze: Int) -> Int {
            CheckedSize.roundedUp(2 * channels + squeeze, toMultipleOf: 16)!
        }

        public func run(
            _ input: UnsafePointer<Int8>, pixels: Int, workspace: UnsafeMutableRawPointer,
            output: UnsafeMutablePointer<Int8>, kernel: GEMM.Kernel = .baseline
        ) {
            let pooled = workspace.assumingMemoryBound(to: Int8.self)
            let hidden = pooled + channels
            let gate = hidden + squeeze
            let rows = (workspace + Self.vectorBytes(channels: channels, squeeze: squeeze)).assumingMemoryBound(
                to: Int8.self)
            Pooling.globalAverage(input, pixels: pixels, channels: channels, parameters: pool, output: pooled)
            GEMM.multiplyRow(
                pooled, depth: channels, packedWeights: reduceWeights, packedBias: reduceBias, outputChannels: squeeze,
                stage: reduceStage, kernel: kernel, workspace: rows, output: hidden)
            GEMM.multiplyRow(
                hidden, depth: squeeze, packedWeights: expandWeights, packedBias: expandBias, outputChannels: channels,
                stage: expandStage, kernel: kernel, workspace: rows, output: gate)
            LookupTable.run(table: gateTable, input: gate, count: channels, output: gate)
            Multiply.run(input, gate: gate, pixels: pixels, channels: channels, parameters: scale, output: output)
        }
    }

#endif
