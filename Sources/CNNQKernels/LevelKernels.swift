/// The kernels an instruction-set level brings in place of the portable ones, chosen once when a
/// context is set up (`InstructionSet.kernels` in the runtime) and handed to every op. Each is reached
/// through its module's C entry, by a closure that captures nothing (no allocation).
public struct LevelKernels {
    public let gemm: GEMM.Kernel
    /// Nil: the portable row bodies.
    public let depthwise: Depthwise.RowKernel?
    /// Nil: the portable loop.
    public let lookup: LookupTable.Kernel?
    /// Nil: the portable loops (x86_64: SSE2).
    public let add: Add.Kernel?, multiply: Multiply.Kernel?, globalAverage: Pooling.GlobalAverageKernel?

    public init(
        gemm: GEMM.Kernel, depthwise: Depthwise.RowKernel? = nil, lookup: LookupTable.Kernel? = nil,
        add: Add.Kernel? = nil, multiply: Multiply.Kernel? = nil, globalAverage: Pooling.GlobalAverageKernel? = nil
    ) {
        (self.gemm, self.depthwise, self.lookup) = (gemm, depthwise, lookup)
        (self.add, self.multiply, self.globalAverage) = (add, multiply, globalAverage)
    }
}
