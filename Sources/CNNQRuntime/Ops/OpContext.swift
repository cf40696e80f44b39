import CNNQKernels

/// What an op's `run` sees: its tensors in the arena, its parameter words and constants, and the
/// kernels' scratch memory, and the kernels of the context's instruction-set level. Built per op
/// by the interpreter; the model was validated at load.
struct OpContext {
    let model: ModelView, op: OpInfo
    let arena: UnsafeMutableRawPointer, workspace: UnsafeMutableRawPointer
    let kernels: LevelKernels

    // Out of line: every op calls these, and each inlined copy decodes a tensor record (size on a board).
    @inline(never) func tensor(input i: Int) -> TensorInfo { model.tensor(model.input(of: op, i)) }
    var outputTensor: TensorInfo { @inline(never) get { model.tensor(op.output) } }

    @inline(never) func input(_ i: Int) -> UnsafePointer<Int8> {
        UnsafePointer(Interpreter.data(model, model.input(of: op, i), arena: arena))
    }
    var output: UnsafeMutablePointer<Int8> { @inline(never) get { Interpreter.data(model, op.output, arena: arena) } }
    @inline(never) func floatInput(_ i: Int) -> UnsafePointer<Float> {
        UnsafePointer(Interpreter.floatData(model, model.input(of: op, i), arena: arena))
    }
    var floatOutput: UnsafeMutablePointer<Float> {
        @inline(never) get { Interpreter.floatData(model, op.output, arena: arena) }
    }

    /// The op's words from `firstWord` on, read into `template` (which says the variant, e.g.
    /// grouped or not).
    func parameters<P: OpParameters>(_ template: P, firstWord: Int = 0) -> P {
        Self.read(template, model, op, firstWord: firstWord)
    }

    static func read<P: OpParameters>(_ template: P, _ model: ModelView, _ op: OpInfo, firstWord: Int = 0) -> P {
        var p = template
        var reader = ParameterReader(base: model.base, offset: op.parameters + 4 * firstWord)
        p.code(&reader)
        return p
    }

    /// A constant blob at byte `offset` of the constants section.
    func constant<T>(_ offset: Int32, as type: T.Type) -> UnsafePointer<T> {
        model.constant(offset, as: type)
    }
}
