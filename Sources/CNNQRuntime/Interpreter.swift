import CNNQKernels

/// Runs a validated model op by op on a caller-given arena: activations at the offsets planned at
/// conversion, kernel scratch memory after them. Nothing is allocated; the model buffer is only read.
public enum Interpreter {
    /// Runs every op in file order with the kernels of `isa` (a fused block's inner ops inside it).
    /// `observe(op)` is called after each op run, while its output tensor is still in the arena (the
    /// host uses it to compare layers with the float model).
    public static func invoke(
        _ model: ModelView, arena: UnsafeMutableRawPointer?, arenaSize: Int, isa: InstructionSet,
        observe: (Int) -> Void = { _ in }
    ) throws(Status) {
        guard let arena else { throw .invalidArgument }
        guard UInt(bitPattern: arena) % UInt(ModelFormat.bufferAlignment) == 0 else { throw .misaligned }
        guard arenaSize >= model.arenaSize(threads: threadCount) else { throw .arenaTooSmall }
        let workspace = arena + model.workspaceOffset
        let kernels = isa.kernels
        var o = 0
        while o < model.opCount {
            run(model, model.op(o), arena: arena, workspace: workspace, kernels: kernels)
            observe(o)
            o = model.next(after: o)
        }
    }

    /// Runs op `o` alone on whatever its inputs hold in the arena (host tools use it to measure one
    /// layer's own error, its inputs set from the float model). A fused block's inner op cannot run
    /// alone: the tensors it reads or writes are not in the arena.
    public static func invoke(
        _ model: ModelView, op o: Int, arena: UnsafeMutableRawPointer?, arenaSize: Int, isa: InstructionSet
    ) throws(Status) {
        guard let arena, o >= 0, o < model.opCount else { throw .invalidArgument }
        let op = model.op(o)
        guard !model.tensor(op.output).isInner else { throw .invalidArgument }
        for i in 0..<op.inputCount {
            guard !model.tensor(model.input(of: op, i)).isInner else { throw .invalidArgument }
        }
        guard UInt(bitPattern: arena) % UInt(ModelFormat.bufferAlignment) == 0 else { throw .misaligned }
        guard arenaSize >= model.arenaSize(threads: threadCount) else { throw .arenaTooSmall }
        run(model, op, arena: arena, workspace: arena + model.workspaceOffset, kernels: isa.kernels)
    }

    /// Pointer to tensor `t` in the arena.
    @inline(__always)
    public static func data(_ model: ModelView, _ t: Int, arena: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Int8>
    {
        (arena + model.tensor(t).arenaOffset).assumingMemoryBound(to: Int8.self)
    }

    /// Tensor `t` as float32 values (float-island tensors).
    @inline(__always)
    public static func floatData(_ model: ModelView, _ t: Int, arena: UnsafeMutableRawPointer) -> UnsafeMutablePointer<
        Float
    > {
        (arena + model.tensor(t).arenaOffset).assumingMemoryBound(to: Float.self)
    }

    /// One op: each kind's `run` lives in `Ops/`, beside its parameter words and validation. Out of
    /// line, so that both `invoke`s call one copy of the dispatch (4 KB less on a board). Each case
    /// asks whether its kind is built in (`OpSelection.swift`), so a kind left out is not linked.
    @inline(never)
    static func run(
        _ model: ModelView, _ op: OpInfo, arena: UnsafeMutableRawPointer, workspace: UnsafeMutableRawPointer,
        kernels: LevelKernels
    ) {
        let c = OpContext(model: model, op: op, arena: arena, workspace: workspace, kernels: kernels)
        let kind = op.kind
        switch kind {
        case .convolution, .pointwise, .depthwise, .groupedConvolution: ConvolutionOp.run(c)
        case .add where kind.isBuiltIn: AddOp.run(c)
        case .multiply where kind.isBuiltIn: MultiplyOp.run(c)
        case .lookup where kind.isBuiltIn: LookupOp.run(c)
        case .globalAveragePool where kind.isBuiltIn: GlobalAveragePoolOp.run(c)
        case .maxPool where kind.isBuiltIn, .averagePool where kind.isBuiltIn: WindowPoolOp.run(c)
        case .concat where kind.isBuiltIn: ConcatOp.run(c)
        case .quantize where kind.isBuiltIn: QuantizeOp.run(c)
        case .dequantize where kind.isBuiltIn: DequantizeOp.run(c)
        case .floatAdd where kind.isBuiltIn: FloatAddOp.run(c)
        case .floatConvolution where kind.isBuiltIn: FloatConvolutionOp.run(c)
        case .pad where kind.isBuiltIn: PadOp.run(c)
        case .invertedResidual where kind.isBuiltIn: InvertedResidualOp.run(c)
        case .resize where kind.isBuiltIn: ResizeOp.run(c)
        case .insertZeros where kind.isBuiltIn: InsertZerosOp.run(c)
        case .depthToSpace where kind.isBuiltIn: DepthToSpaceOp.run(c)
        default: break  // refused at load
        }
    }
}
