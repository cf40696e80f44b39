/// The MobileNet V2/V3 (and MnasNet, EfficientNet MBConv) block fused: expand → depthwise k×k →
/// project 1×1 (+ residual add), computed row by row so that the expanded tensor, the largest of
/// the block, never exists. Expanded rows are computed a group at a time (`tileRows`: enough
/// pixels per GEMM call, no extra partial tiles) into a ring that holds what the depthwise kernel
/// spans; depthwise output rows go to a band sized the same way, projected as soon as it is full.
/// The band is the block's own, so it is written in the form the projection's GEMM kernel reads
/// (x + 128 for kernels of unsigned rows) and read in place, with no row copy (`projectsInPlace`).
/// The expand layer is a 1×1 convolution, or the k×k convolution before a block without expansion
/// (V2's stem), and each of expand and depthwise may be followed by a lookup table (h-swish, SiLU).
/// Without a projection (a block whose squeeze-excite needs the whole depthwise output), the
/// depthwise rows are the output. Threads take contiguous ranges of output rows, each with its own
/// ring and band; rows at a range's start are expanded by both neighbours, identically (unless the
/// threads' rings together hold every row: then they are expanded once, first), so results do not
/// depend on the thread count and are bit for bit those of the unfused kernels.
public struct InvertedResidual {
    /// A convolution run through the GEMM (1×1, or k×k with one group, by im2col), for one image.
    public struct Layer {
        public var shape: ConvolutionShape
        public var packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>, stage: OutputStage
        /// 256 entries applied after the stage, or nil.
        public var table: UnsafePointer<Int8>?

        public init(
            shape: ConvolutionShape, packedWeights: UnsafePointer<Int8>, packedBias: UnsafePointer<Int32>,
            stage: OutputStage, table: UnsafePointer<Int8>? = nil
        ) {
            (self.shape, self.packedWeights, self.packedBias, self.stage, self.table) = (
                shape, packedWeights, packedBias, stage, table
            )
        }

        var isPointwise: Bool { shape.kernelHeight == 1 && shape.kernelWidth == 1 }
        /// GEMM depth: the im2col row of one output pixel.
        var depth: Int { shape.kernelHeight * shape.kernelWidth * shape.inputChannels }
    }

    /// Nil when the block does not expand: the depthwise reads the block input.
    public var expand: Layer?
    /// Zero point of the block input (the padding of a k×k expand).
    public var inputZeroPoint: Int32
    /// The depthwise layer's geometry for one image, and the zero point of its input.
    public var depthwise: ConvolutionShape
    public var depthwiseInputZeroPoint: Int32
    /// `Depthwise.pack` weights, bias, stage, and the table after it or nil.
    public var depthwiseWeights: UnsafePointer<Int8>, depthwiseBias: UnsafePointer<Int32>,
        depthwiseStage: OutputStage, depthwiseTable: UnsafePointer<Int8>?
    /// Nil when the depthwise rows are the output.
    public var project: Layer?
    /// Residual add: (projected, block input), stride 1 and equal shapes; or nil.
    public var residual: AddParameters?

    public init(
        expand: Layer?, inputZeroPoint: Int32, depthwise: ConvolutionShape, depthwiseInputZeroPoint: Int32,
        depthwiseWeights: UnsafePointer<Int8>, depthwiseBias: UnsafePointer<Int32>, depthwiseStage: OutputStage,
        depthwiseTable: UnsafePointer<Int8>? = nil, project: Layer?, residual: AddParameters?
    ) {
        (self.expand, self.inputZeroPoint, self.depthwise, self.depthwiseInputZeroPoint) = (
            expand, inputZeroPoint, depthwise, depthwiseInputZeroPoint
        )
        (self.depthwiseWeights, self.depthwiseBias, self.depthwiseStage, self.depthwiseTable) = (
            depthwiseWeights, depthwiseBias, depthwiseStage, depthwiseTable
        )
        (self.project, self.residual) = (project, residual)
    }

    var expanded: Int { depthwise.inputChannels }
    var inputChannels: Int { expand?.shape.inputChannels ?? expanded }
    var outputChannels: Int { project?.shape.outputChannels ?? expanded }
    /// Whether the projection reads the band in place: its rows are whole (the expanded channels a
    /// multiple of 16, the GEMM's row stride) and nothing but the projection reads them (no lookup
    /// table after the depthwise).
    var projectsInPlace: Bool { project != nil && depthwiseTable == nil && expanded % 16 == 0 }
    /// Rows of `width` pixels one GEMM call takes: at least 32 pixels, and as few as cut the
    /// `height` rows into no more tiles of 8 pixels (the largest pixel tile) than one call would.
    static func tileRows(width: Int, height: Int) -> Int {
        func tiles(_ pixels: Int) -> Int { (pixels + 7) / 8 }
        var rows = (32 + width - 1) / width
        while rows < height
            && height / rows * tiles(rows * width) + tiles(height % rows * width)
                > tiles(height * width)
        {
            rows += 1
        }
        return min(rows, height)
    }

    /// Expanded rows computed by one GEMM call.
    static func expandGroup(_ d: ConvolutionShape) -> Int { tileRows(width: d.inputWidth, height: d.inputHeight) }
    /// Rows of the ring: a multiple of the group, so that a group (starting a multiple of it after
    /// a thread's first row) is contiguous, and enough to hold the rows one depthwise output row
    /// reads while the group holding the last of them is written.
    static func ringRows(_ d: ConvolutionShape) -> Int {
        let group = expandGroup(d), span = (d.kernelHeight - 1) * d.dilationHeight + 1
        // No more than the whole height: then no row ever wraps.
        return min(d.inputHeight, (span + 2 * group - 2) / group * group)
    }
    /// Depthwise output rows held before projecting.
    static func bandRows(_ d: ConvolutionShape) -> Int { tileRows(width: d.outputWidth, height: d.outputHeight) }

    static func aligned(_ bytes: Int) -> Int? { CheckedSize.roundedUp(bytes, toMultipleOf: 64) }

    /// Byte offsets in one thread's workspace: the ring (empty without expand), the band (empty
    /// without project), the GEMM rows; and the thread's total. Nil when a size overflows `Int`.
    static func layout(expand: ConvolutionShape?, depthwise d: ConvolutionShape, projects: Bool) -> (
        band: Int, rows: Int, total: Int
    )? {
        let e = d.inputChannels
        guard let rowBytes = CheckedSize.product(d.inputWidth, e),
            let ring = expand == nil ? 0 : CheckedSize.product(ringRows(d), rowBytes).flatMap(aligned),
            let outputRow = CheckedSize.product(d.outputWidth, e),
            let band = !projects ? 0 : CheckedSize.product(bandRows(d), outputRow).flatMap(aligned),
            let expandDepth = expand.map({ CheckedSize.product($0.kernelHeight * $0.kernelWidth, $0.inputChannels) })
                ?? 1,
            let gemm = GEMM.Layout(checkedOutputChannels: 1, depth: max(expandDepth, projects ? e : 1))
        else { return nil }
        let (rows, o1) = ring.addingReportingOverflow(band)
        let (total, o2) = rows.addingReportingOverflow(gemm.workspacePerThread)
        guard !o1, !o2 else { return nil }
        return (ring, rows, total)
    }

    /// Bytes of workspace per thread a block of these layers needs, or nil when a size overflows `Int`.
    public static func workspacePerThread(expand: ConvolutionShape?, depthwise: ConvolutionShape, projects: Bool)
        -> Int?
    {
        layout(expand: expand, depthwise: depthwise, projects: projects)?.total
    }

    func layout() -> (band: Int, rows: Int, total: Int)? {
        Self.layout(expand: expand?.shape, depthwise: depthwise, projects: project != nil)
    }

    /// Bytes of workspace per thread, or nil when a size overflows `Int`.
    public var workspacePerThread: Int? { layout()?.total }

    /// One image: `input` is [H][W][inputChannels], `output` [H'][W'][outputChannels]; `workspace`
    /// holds `workspacePerThread` bytes per thread.
    public func run(
        input: UnsafePointer<Int8>, workspace: UnsafeMutableRawPointer, output: UnsafeMutablePointer<Int8>,
        kernels: LevelKernels
    ) {
        let offsets = layout()!
        let d = depthwise
        let macs = (expand?.shape.macs ?? 0) + d.macs + (project?.shape.macs ?? 0)
        let threads = macs < serialMACs ? 1 : min(threadCount, d.outputHeight)
        func scratch(_ base: UnsafeMutableRawPointer) -> Scratch {
            Scratch(
                ring: base.assumingMemoryBound(to: Int8.self),
                band: (base + offsets.band).assumingMemoryBound(to: Int8.self),
                rows: (base + offsets.rows).assumingMemoryBound(to: Int8.self))
        }
        // Split by rows, the threads each expand the rows both kernel windows read (V2's 14×14 maps
        // as 7 + 7 rows read 8 + 8, its 7×7 ones as 4 + 3 read 5 + 5). Where the threads' rings
        // together hold every expanded row, they instead expand every row once, into the rings laid
        // end to end, then take output rows reading them, each with its band and GEMM rows after.
        let whole = d.inputHeight * d.inputWidth * expanded
        guard expand != nil, threads > 1, whole <= threads * offsets.band else {
            return parallelRanges(d.outputHeight, macs: macs) { slot, rows in
                run(
                    rows, input: input, scratch: scratch(workspace + slot * offsets.total), output: output,
                    kernels: kernels)
            }
        }
        let tensor = workspace.assumingMemoryBound(to: Int8.self)
        // Each thread's band and rows, past the tensor (64-byte aligned, as `layout` aligns the parts).
        let shared = (whole + 63) / 64 * 64, rest = offsets.total - offsets.band
        func after(_ slot: Int) -> Scratch {
            let band = workspace + shared + slot * rest
            return Scratch(
                ring: tensor, band: band.assumingMemoryBound(to: Int8.self),
                rows: (band + (offsets.rows - offsets.band)).assumingMemoryBound(to: Int8.self))
        }
        let tile = kernels.gemm.pixelTile, pixels = d.inputHeight * d.inputWidth
        parallelRanges((pixels + tile - 1) / tile) { slot, tiles in
            let first = tiles.lowerBound * tile, count = min(tiles.upperBound * tile, pixels) - first
            guard count > 0 else { return }
            expandPixels(
                first, count: count, input: input, gemmRows: after(slot).rows, output: tensor + first * expanded,
                kernels: kernels)
        }
        parallelRanges(d.outputHeight) { slot, rows in
            run(
                rows, input: input, expandedRows: UnsafePointer(tensor), scratch: after(slot), output: output,
                kernels: kernels)
        }
    }

    /// A thread's ring of expanded rows, band of depthwise output rows and GEMM rows.
    struct Scratch {
        let ring: UnsafeMutablePointer<Int8>, band: UnsafeMutablePointer<Int8>, rows: UnsafeMutablePointer<Int8>
    }

    /// Output rows `range` on the calling thread; the depthwise reads `expandedRows` (every expanded
    /// row, already computed) where given, else rows this call expands into its ring.
    func run(
        _ range: Range<Int>, input: UnsafePointer<Int8>, expandedRows: UnsafePointer<Int8>? = nil, scratch: Scratch,
        output: UnsafeMutablePointer<Int8>, kernels: LevelKernels
    ) {
        let d = depthwise, e = expanded
        let (ring, band, gemmRows) = (scratch.ring, scratch.band, scratch.rows)
        let outputRow = d.outputWidth * e
        let variant = Depthwise.Variant(d)
        let ringRows = Self.ringRows(d), bandRows = Self.bandRows(d), group = Self.expandGroup(d)
        let span = (d.kernelHeight - 1) * d.dilationHeight
        // A band read in place by a kernel of unsigned rows holds x + 128: the same clamp and rounding
        // with the zero point and bounds 128 higher, whose low bytes are x with the sign bit flipped.
        var depthwiseStage = self.depthwiseStage
        if projectsInPlace && kernels.gemm.unsignedRows {
            (depthwiseStage.zeroPoint, depthwiseStage.lower, depthwiseStage.upper) = (
                depthwiseStage.zeroPoint + 128, depthwiseStage.lower + 128, depthwiseStage.upper + 128
            )
        }
        // The expanded rows this range reads; the ring holds row r at slot (r − first) % ringRows,
        // so that each group of rows, a multiple of `group` after the first, is contiguous.
        let first = max(0, range.lowerBound * d.strideHeight - d.padTop)
        let end = min(d.inputHeight, (range.upperBound - 1) * d.strideHeight - d.padTop + span + 1)
        let expands = expand != nil && expandedRows == nil, projects = project != nil
        // The depthwise kernel writes row oy at offset oy·W'·E of its output: the block's output, or
        // the band shifted back by its first row.
        var depthwiseRows = Depthwise.Rows(
            source: Depthwise.InputRows(
                base: expands ? UnsafePointer(ring) : expandedRows ?? input, rowStride: d.inputWidth * e,
                imageStride: 0, ring: expands ? ringRows : 0, origin: first),
            zero: depthwiseInputZeroPoint, packed: depthwiseWeights, bias: depthwiseBias, s: d,
            stage: depthwiseStage, output: projects ? band - range.lowerBound * outputRow : output)
        var nextRow = first
        var bandStart = range.lowerBound
        // Per row, the layers are read through `self` and the depthwise rows through a pointer:
        // passed by value, each (176 and 232 bytes on 64-bit) is copied, a `memcpy` call, on every row.
        withUnsafeMutablePointer(to: &depthwiseRows) { rows in
            for oy in range {
                if expands {
                    let last = min(d.inputHeight - 1, oy * d.strideHeight - d.padTop + span)
                    while nextRow <= last {
                        let count = min(group, end - nextRow)
                        expandPixels(
                            nextRow * d.inputWidth, count: count * d.inputWidth, input: input, gemmRows: gemmRows,
                            output: ring + (nextRow - first) % ringRows * d.inputWidth * e, kernels: kernels)
                        nextRow += count
                    }
                }
                Depthwise.Rows.run(rows, oy, variant, kernel: kernels.depthwise)
                if let table = depthwiseTable {
                    let target = rows.pointee.output + oy * outputRow
                    LookupTable.lookUp(table, target, target, 0..<outputRow, kernel: kernels.lookup)
                }
                if projects, oy - bandStart == bandRows - 1 || oy == range.upperBound - 1 {
                    projectRows(
                        bandStart..<(oy + 1), band: band, input: input, gemmRows: gemmRows, output: output,
                        kernels: kernels)
                    bandStart = oy + 1
                    rows.pointee.output = band - bandStart * outputRow
                }
            }
        }
    }

    /// Expanded pixels `first ..< first + pixels` (row-major) into `output` (a block with `expand`).
    func expandPixels(
        _ first: Int, count pixels: Int, input: UnsafePointer<Int8>, gemmRows: UnsafeMutablePointer<Int8>,
        output: UnsafeMutablePointer<Int8>, kernels: LevelKernels
    ) {
        let expand = self.expand.unsafelyUnwrapped
        let s = expand.shape, kernel = kernels.gemm
        if expand.isPointwise {
            Pointwise.run(
                input: input + first * s.inputChannels, pixels: pixels, inputChannels: s.inputChannels,
                packedWeights: expand.packedWeights, packedBias: expand.packedBias, outputChannels: s.outputChannels,
                stage: expand.stage, kernel: kernel, workspace: gemmRows, output: output, serial: true)
        } else {
            StandardConvolution.run(
                input: input, inputZeroPoint: inputZeroPoint, packedWeights: expand.packedWeights,
                packedBias: expand.packedBias, shape: s, stage: expand.stage, kernel: kernel, workspace: gemmRows,
                output: output, firstPixel: first, pixels: pixels, serial: true)
        }
        if let table = expand.table {
            LookupTable.lookUp(table, output, output, 0..<(pixels * s.outputChannels), kernel: kernels.lookup)
        }
    }

    /// Projects the band's depthwise output rows `rows` into the output, adding the residual (a
    /// block with `project`).
    func projectRows(
        _ rows: Range<Int>, band: UnsafeMutablePointer<Int8>, input: UnsafePointer<Int8>,
        gemmRows: UnsafeMutablePointer<Int8>, output: UnsafeMutablePointer<Int8>, kernels: LevelKernels
    ) {
        let project = self.project.unsafelyUnwrapped
        let pixels = rows.count * depthwise.outputWidth
        let first = rows.lowerBound * depthwise.outputWidth
        let out = output + first * outputChannels
        Pointwise.run(
            input: band, pixels: pixels, inputChannels: expanded, packedWeights: project.packedWeights,
            packedBias: project.packedBias, outputChannels: outputChannels, stage: project.stage,
            kernel: kernels.gemm, workspace: gemmRows, output: out, serial: true, inPlace: projectsInPlace)
        if let table = project.table {
            LookupTable.lookUp(table, out, out, 0..<(pixels * outputChannels), kernel: kernels.lookup)
        }
        if let residual {
            Add.runLanes(
                out, input + first * inputChannels, count: pixels * outputChannels, residual, out, kernel: kernels.add)
        }
    }
}
