import CNNQKernels

/// A fused inverted-residual block (format 3.1). Its record is followed by its inner ops' records,
/// which keep their kinds, parameters and names: expand (1×1, or a k×k convolution) [→ lookup] →
/// depthwise [→ lookup] [→ project 1×1 [→ residual add]]. The tensors between inner ops are flagged
/// `ModelFormat.innerFlag` and have no place in the arena: the kernel streams them a few rows at a
/// time (`InvertedResidual`).
public enum InvertedResidualOp {
    /// How many op records after this one are the block's inner ops.
    public struct Parameters: OpParameters {
        public var innerCount: Int32 = 0
        public init() {}
        #if !hasFeature(Embedded)  // host only: the quantizer builds the words
            public init(innerCount: Int) { self.innerCount = Int32(innerCount) }
        #endif
        public mutating func code<C: ParameterCoder>(_ c: inout C) { c.code(&innerCount) }
    }

    /// Scratch bytes per thread a block may ask for, so that the arena size stays far below 2^31 on
    /// 32-bit boards. The quantizer leaves a block whose kernel needs more unfused.
    public static let maxWorkspacePerThread = 1 << 21

    /// The inner ops by role.
    struct Parts {
        var expand: OpInfo?, expandTable: OpInfo?
        var depthwise: OpInfo, depthwiseTable: OpInfo?
        var project: OpInfo?, add: OpInfo?
    }

    /// Inner op count of the block at `op` (validated at load).
    static func innerCount(_ model: ModelView, _ op: OpInfo) -> Int {
        Int(OpContext.read(Parameters(), model, op).innerCount)
    }

    /// The inner ops of the block at `op`, by kind in the order the format allows; nil if they do not
    /// follow it.
    static func parts(_ model: ModelView, _ op: OpInfo, count: Int) -> Parts? {
        var i = op.index + 1
        let end = i + count
        /// The next op if it is of `kind` (or `other`); not variadic: an array would allocate.
        func next(_ kind: ModelFormat.OpKind, or other: ModelFormat.OpKind? = nil) -> OpInfo? {
            guard i < end else { return nil }
            let candidate = model.op(i)
            guard candidate.kind == kind || candidate.kind == other else { return nil }
            i += 1
            return candidate
        }
        let expand = next(.pointwise, or: .convolution)
        let expandTable = expand == nil ? nil : next(.lookup)
        guard let depthwise = next(.depthwise) else { return nil }
        let depthwiseTable = next(.lookup)
        let project = next(.pointwise)
        let add = project == nil ? nil : next(.add)
        guard i == end, expand != nil || project != nil else { return nil }
        return Parts(
            expand: expand, expandTable: expandTable, depthwise: depthwise, depthwiseTable: depthwiseTable,
            project: project, add: add)
    }

    /// Checks the block's record and its inner ops (each also validated on its own, as `inner`):
    /// they follow it in the order the format allows, each reads the one before, the tensors
    /// between them are inner and nothing else is. Returns the kernel's scratch bytes per thread.
    static func validate(_ c: OpCheck) throws(Status) -> Int {
        try c.inputs(1)
        let count = try c.bounded(c.parameters(Parameters()).innerCount, 2...6)
        let model = c.model
        guard count < model.opCount - c.op.index else { throw .malformed }
        var workspace = 0
        for i in (c.op.index + 1)...(c.op.index + count) {
            workspace = max(workspace, try model.validate(op: i, inner: true))
        }
        guard let parts = parts(model, c.op, count: count) else { throw .malformed }
        let blockInput = model.input(of: c.op, 0)
        var previous = blockInput
        var last = c.op
        /// The next op of the chain reads the one before (a local function: an array would allocate).
        func chain(_ op: OpInfo?) throws(Status) {
            guard let op else { return }
            guard model.input(of: op, 0) == previous else { throw .malformed }
            previous = op.output
            last = op
        }
        try chain(parts.expand)
        try chain(parts.expandTable)
        try chain(parts.depthwise)
        try chain(parts.depthwiseTable)
        try chain(parts.project)
        if let add = parts.add {
            let (a, b) = (model.input(of: add, 0), model.input(of: add, 1))
            guard (a == previous && b == blockInput) || (a == blockInput && b == previous) else { throw .malformed }
            last = add
        }
        // Every tensor written inside the block is inner but the block's output, which the last writes.
        guard last.output == c.op.output, !c.x.isInner, !c.out.isInner else { throw .malformed }
        for i in (c.op.index + 1)..<last.index {
            guard model.tensor(model.op(i).output).isInner else { throw .malformed }
        }
        guard let block = try kernel(model, c.op, parts), let perThread = block.workspacePerThread,
            perThread <= maxWorkspacePerThread
        else { throw .malformed }
        return max(workspace, perThread)
    }

    /// The kernel's description of the block, reading the inner ops' parameters and tensors.
    static func kernel(_ model: ModelView, _ op: OpInfo, _ parts: Parts) throws(Status)
        -> InvertedResidual?
    {
        func table(_ inner: OpInfo?) -> UnsafePointer<Int8>? {
            inner.map { model.constant(OpContext.read(LookupOp.Parameters(), model, $0).table, as: Int8.self) }
        }
        func layer(_ inner: OpInfo?, table t: OpInfo?) throws(Status) -> InvertedResidual.Layer? {
            guard let inner else { return nil }
            var shape = try ConvolutionOp.shape(model, inner)
            shape.batch = 1
            let p = OpContext.read(ConvolutionOp.Parameters(kind: inner.kind), model, inner)
            return InvertedResidual.Layer(
                shape: shape, packedWeights: model.constant(p.weights, as: Int8.self),
                packedBias: model.constant(p.bias, as: Int32.self),
                stage: stage(model, p, model.tensor(inner.output)), table: table(t))
        }
        var depthwise = try ConvolutionOp.shape(model, parts.depthwise)
        depthwise.batch = 1
        let p = OpContext.read(ConvolutionOp.Parameters(kind: .depthwise), model, parts.depthwise)
        var residual: AddParameters?
        if let add = parts.add {
            let q = OpContext.read(AddOp.Parameters(), model, add)
            let (a, b) = (model.tensor(model.input(of: add, 0)), model.tensor(model.input(of: add, 1)))
            // The kernel adds (projected, block input); the sum is the same either way round.
            let projectedFirst = model.input(of: add, 0) == parts.project!.output
            residual = AddParameters(
                inputZeroPoints: projectedFirst ? (a.zeroPoint, b.zeroPoint) : (b.zeroPoint, a.zeroPoint),
                scales: projectedFirst ? (q.scaleA, q.scaleB) : (q.scaleB, q.scaleA),
                zeroPoint: model.tensor(add.output).zeroPoint, lower: q.lower, upper: q.upper)
        }
        return InvertedResidual(
            expand: try layer(parts.expand, table: parts.expandTable),
            inputZeroPoint: model.tensor(model.input(of: op, 0)).zeroPoint,
            depthwise: depthwise,
            depthwiseInputZeroPoint: model.tensor(model.input(of: parts.depthwise, 0)).zeroPoint,
            depthwiseWeights: model.constant(p.weights, as: Int8.self),
            depthwiseBias: model.constant(p.bias, as: Int32.self),
            depthwiseStage: stage(model, p, model.tensor(parts.depthwise.output)),
            depthwiseTable: table(parts.depthwiseTable), project: try layer(parts.project, table: nil),
            residual: residual)
    }

    static func stage(_ model: ModelView, _ p: ConvolutionOp.Parameters, _ out: TensorInfo) -> OutputStage {
        OutputStage(
            scales: model.constant(p.scales, as: Float.self), zeroPoint: out.zeroPoint, lower: p.lower, upper: p.upper)
    }

    static func run(_ c: OpContext) {
        let model = c.model
        let parts = parts(model, c.op, count: innerCount(model, c.op))!  // validated at load
        let block = try! kernel(model, c.op, parts)!
        let (x, out) = (c.tensor(input: 0), c.outputTensor)
        let (input, output) = (c.input(0), c.output)
        for b in 0..<x.batch {
            block.run(
                input: input + b * (x.count / x.batch), workspace: c.workspace,
                output: output + b * (out.count / out.batch), kernels: c.kernels)
        }
    }
}
