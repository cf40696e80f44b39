// Host only until the runtime runs fused inverted-residual blocks (issue 19): the benchmarks and
// the tests use it, a device library does not carry it.
#if !hasFeature(Embedded)

    /// The MobileNet V2/V3 block fused: expand 1×1 → depthwise k×k → [squeeze-excite] → project 1×1
    /// (+ residual add), computed row by row. Expanded rows live in a ring of k rows, so
    /// the expanded tensor (the largest of the block) is never held whole and stays in cache. With SE,
    /// whose pool needs every depthwise output first, the depthwise output (at output resolution) is
    /// held, then scaled and projected. Results are bit for bit those of the unfused kernels.
    public struct InvertedResidual {
        /// A 1×1 layer: weights and bias packed by `GEMM.pack`, and its output stage.
        public struct Pointwise1x1 {
            public var packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>, stage: OutputStage
            public init(packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>, stage: OutputStage) {
                self.packedWeights = packedWeights
                self.packedBias = packedBias
                self.stage = stage
            }
        }

        /// Input geometry and channel counts; `depthwise` holds the depthwise layer's full geometry.
        public var depthwise: ConvolutionShape
        public var inputChannels: Int, outputChannels: Int
        /// nil when the block does not expand (expansion ratio 1): the depthwise reads the input.
        public var expand: Pointwise1x1?
        /// Zero point of the depthwise input: the expanded tensor, or the block input without expand.
        public var expandedZeroPoint: Int32
        /// `Depthwise.pack` weights, bias and stage.
        public var depthwiseWeights: UnsafePointer<Int8>, depthwiseBias: UnsafePointer<Int32>,
            depthwiseStage: OutputStage
        public var squeezeExcite: SqueezeExcite?
        public var project: Pointwise1x1
        /// Residual add of the block input (stride 1, equal channels), or nil.
        public var residual: AddParameters?

        public init(
            depthwise: ConvolutionShape, inputChannels: Int, outputChannels: Int,
            expand: Pointwise1x1?, expandedZeroPoint: Int32,
            depthwiseWeights: UnsafePointer<Int8>, depthwiseBias: UnsafePointer<Int32>, depthwiseStage: OutputStage,
            squeezeExcite: SqueezeExcite?, project: Pointwise1x1, residual: AddParameters?
        ) {
            self.depthwise = depthwise
            self.inputChannels = inputChannels
            self.outputChannels = outputChannels
            self.expand = expand
            self.expandedZeroPoint = expandedZeroPoint
            self.depthwiseWeights = depthwiseWeights
            self.depthwiseBias = depthwiseBias
            self.depthwiseStage = depthwiseStage
            self.squeezeExcite = squeezeExcite
            self.project = project
            self.residual = residual
        }

        static func aligned(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }

        var expanded: Int { depthwise.inputChannels }
        var ringRows: Int { depthwise.kernelHeight }
        /// Depthwise output rows held before projecting: all of them with SE; otherwise a band of at
        /// least 64 pixels, so the projection runs on full 4-pixel tiles at little per-call cost.
        var heldRows: Int {
            squeezeExcite == nil
                ? min(depthwise.outputHeight, (64 + depthwise.outputWidth - 1) / depthwise.outputWidth)
                : depthwise.outputHeight
        }

        /// Byte offsets of the workspace parts: the ring of expanded rows (none without expand), the held
        /// depthwise rows, SE's workspace (none without SE), then the 1×1 layers' GEMM rows.
        func layout() -> (held: Int, squeezeExcite: Int, rows: Int) {
            let held = expand == nil ? 0 : Self.aligned(ringRows * depthwise.inputWidth * expanded)
            let squeezeExcite = held + Self.aligned(heldRows * depthwise.outputWidth * expanded)
            let rows =
                squeezeExcite
                + (self.squeezeExcite.map {
                    Self.aligned(SqueezeExcite.workspaceCount(channels: $0.channels, squeeze: $0.squeeze))
                } ?? 0)
            return (held, squeezeExcite, rows)
        }

        /// Bytes of workspace `run` needs with `threads` threads for the 1×1 layers.
        public func workspaceCount(threads: Int) -> Int {
            layout().rows + GEMM.workspaceCount(depth: max(inputChannels, expanded), threads: threads)
        }

        /// One image: `input` is [H][W][inputChannels], `output` [H'][W'][outputChannels].
        public func run(
            input: UnsafePointer<Int8>, workspace: UnsafeMutableRawPointer, output: UnsafeMutablePointer<Int8>,
            kernel: GEMM.Kernel = .baseline
        ) {
            let s = depthwise
            let (w, e) = (s.inputWidth, expanded)
            let offsets = layout()
            let ring = workspace.assumingMemoryBound(to: Int8.self)
            let held = (workspace + offsets.held).assumingMemoryBound(to: Int8.self)
            let seWorkspace = workspace + offsets.squeezeExcite
            let gemmRows = (workspace + offsets.rows).assumingMemoryBound(to: Int8.self)

            // Depthwise output rows into the held band (all rows with SE), each as W'·E values.
            let variant = Depthwise.Variant(s)
            /// Depthwise output row `oy` from `source`, written where row oy belongs in `base`.
            func depthwiseRow<Source: Depthwise.InputRows>(
                _ oy: Int, from source: Source, base: UnsafeMutablePointer<Int8>
            ) {
                Depthwise.Rows(
                    source: source, zero: expandedZeroPoint, packed: depthwiseWeights, bias: depthwiseBias,
                    s: s, stage: depthwiseStage, output: base
                ).run(oy, variant)
            }
            let band = heldRows
            var nextRow = 0
            for oy in 0..<s.outputHeight {
                let slot = oy % band
                let target = held + slot * s.outputWidth * e
                // The depthwise kernel writes output row `oy` at offset oy·W'·E: shift the base back.
                let base = target - oy * s.outputWidth * e
                if let expand {
                    let last = min(
                        s.inputHeight - 1, oy * s.strideHeight - s.padTop + (s.kernelHeight - 1) * s.dilationHeight)
                    while nextRow <= last {
                        Pointwise.run(
                            input: input + nextRow * w * inputChannels, pixels: w, inputChannels: inputChannels,
                            packedWeights: expand.packedWeights, packedBias: expand.packedBias, outputChannels: e,
                            stage: expand.stage, kernel: kernel, workspace: gemmRows,
                            output: ring + (nextRow % ringRows) * w * e)
                        nextRow += 1
                    }
                    depthwiseRow(
                        oy, from: Depthwise.RingRows(base: ring, rowStride: w * e, count: ringRows), base: base)
                } else {
                    depthwiseRow(
                        oy,
                        from: Depthwise.TensorRows(base: input, rowStride: w * e, imageStride: s.inputHeight * w * e),
                        base: base)
                }
                if squeezeExcite == nil && (slot == band - 1 || oy == s.outputHeight - 1) {
                    projectRows(
                        held, from: oy - slot, count: slot + 1, input: input, kernel: kernel, gemmRows: gemmRows,
                        output: output)
                }
            }
            if let se = squeezeExcite {
                let pixels = s.outputHeight * s.outputWidth
                se.run(held, pixels: pixels, workspace: seWorkspace, output: held, kernel: kernel)
                projectRows(
                    held, from: 0, count: s.outputHeight, input: input, kernel: kernel, gemmRows: gemmRows,
                    output: output)
            }
        }

        /// Projects `count` depthwise output rows starting at output row `from`, adding the residual.
        @inline(__always)
        func projectRows(
            _ rows: UnsafePointer<Int8>, from: Int, count: Int, input: UnsafePointer<Int8>,
            kernel: GEMM.Kernel, gemmRows: UnsafeMutablePointer<Int8>, output: UnsafeMutablePointer<Int8>
        ) {
            let pixels = count * depthwise.outputWidth
            let out = output + from * depthwise.outputWidth * outputChannels
            Pointwise.run(
                input: rows, pixels: pixels, inputChannels: expanded, packedWeights: project.packedWeights,
                packedBias: project.packedBias, outputChannels: outputChannels, stage: project.stage, kernel: kernel,
                workspace: gemmRows, output: out)
            if let residual {
                Add.run(
                    out, input + from * depthwise.outputWidth * inputChannels, count: pixels * outputChannels,
                    parameters: residual, output: out)
            }
        }
    }

#endif
