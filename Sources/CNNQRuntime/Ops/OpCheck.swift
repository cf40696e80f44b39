import CNNQKernels

/// What an op's `validate` checks with: its tensors, its parameter words read as the runtime will
/// read them, and the bounds every op shares. Every failure is `Status.malformed`.
struct OpCheck {
    let model: ModelView, op: OpInfo
    /// Parameter words in the op record.
    let words: Int

    @inline(never) func tensor(input i: Int) -> TensorInfo { model.tensor(model.input(of: op, i)) }
    var x: TensorInfo { tensor(input: 0) }
    var out: TensorInfo { @inline(never) get { model.tensor(op.output) } }

    func inputs(_ n: Int) throws(Status) { guard op.inputCount == n else { throw .malformed } }

    /// The op's words read into `template`, which must list exactly as many words as the record has.
    func parameters<P: OpParameters>(_ template: P) throws(Status) -> P {
        guard words == template.wordCount else { throw .malformed }
        return OpContext.read(template, model, op)
    }

    /// One record of the op's words, from `firstWord` on (ops with a record per input: concat); the
    /// caller has checked the word count.
    func parameters<P: OpParameters>(_ template: P, firstWord: Int) -> P {
        OpContext.read(template, model, op, firstWord: firstWord)
    }

    func clamp(_ lower: Int32, _ upper: Int32) throws(Status) {
        guard lower >= -128, lower <= upper, upper <= 127 else { throw .malformed }
    }

    /// A requantization scale: positive and finite (NaN fails too).
    func scale(_ s: Float) throws(Status) { guard s > 0, s.isFinite else { throw .malformed } }

    func sameDims(_ a: TensorInfo, _ b: TensorInfo) -> Bool {
        a.batch == b.batch && a.height == b.height && a.width == b.width && a.channels == b.channels
    }

    /// A byte range of the constants section: `offset` aligned to `alignment`, `bytes` long.
    func constant(_ offset: Int32, bytes: Int, alignment: Int) throws(Status) {
        let size = model.constantsSize
        guard offset >= 0, Int(offset) % alignment == 0, bytes >= 0, bytes <= size, Int(offset) <= size - bytes else {
            throw .malformed
        }
    }

    /// Parameter `value` as an `Int`, which must lie in `range`.
    func bounded(_ value: Int32, _ range: ClosedRange<Int32>) throws(Status) -> Int {
        guard range.contains(value) else { throw .malformed }
        return Int(value)
    }
}
