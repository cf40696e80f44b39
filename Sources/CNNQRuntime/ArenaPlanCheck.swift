/// The loader's check of the arena plan the file carries, so that outputs cannot depend on stale
/// arena bytes: in the order the ops run (a fused block as one op),
/// - every tensor an op reads is a model input or was written by an earlier op;
/// - a tensor is written by one op at most, and never a model input;
/// - what an op writes overlaps no tensor still to be read (or a model output) after it, except
///   the op's first input when the kind works in place (lookup, add, multiply, float add), that
///   input is read by nothing later, and both start at the same offset.
/// No memory is allocated: liveness is found by scanning the op table, O(ops × tensors) at worst
/// for the tensors whose bytes overlap.
extension ModelView {
    func verifyArenaPlan() throws(Status) {
        var o = 0
        while o < opCount {
            let op = op(o)
            for i in 0..<op.inputCount {
                let t = input(of: op, i)
                guard isModelInput(t) || (writer(of: t).map { $0 < o } ?? false) else { throw .malformed }
            }
            guard !isModelInput(op.output), writer(of: op.output) == o else { throw .malformed }
            let out = tensor(op.output)
            for u in 0..<tensorCount where u != op.output && !tensor(u).isInner && overlaps(out, tensor(u)) {
                // `u` shares bytes with what this op writes: harmless if it is written only later (that
                // op's own check covers it), or dead from here on and not read by this op either.
                guard isModelInput(u) || (writer(of: u).map { $0 < o } ?? false) else { continue }
                let readHere = reads(op, u)
                guard readHere || isModelOutput(u) || isRead(u, after: o) else { continue }
                // Or the first input of an in-place kind, dying here, at the very same offset.
                guard readHere, !isModelOutput(u), !isRead(u, after: o), worksInPlace(op.kind), input(of: op, 0) == u,
                    tensor(u).arenaOffset == out.arenaOffset
                else { throw .malformed }
            }
            o = next(after: o)
        }
    }

    func isModelInput(_ t: Int) -> Bool {
        for i in 0..<inputCount where input(i) == t { return true }
        return false
    }

    func isModelOutput(_ t: Int) -> Bool {
        for i in 0..<outputCount where output(i) == t { return true }
        return false
    }

    /// The first op run (a fused block counts as one) that writes `t`, or nil.
    func writer(of t: Int) -> Int? {
        var o = 0
        while o < opCount {
            if op(o).output == t { return o }
            o = next(after: o)
        }
        return nil
    }

    func reads(_ op: OpInfo, _ t: Int) -> Bool {
        for i in 0..<op.inputCount where input(of: op, i) == t { return true }
        return false
    }

    /// Whether an op run after op `o` reads `t`.
    func isRead(_ t: Int, after o: Int) -> Bool {
        var k = next(after: o)
        while k < opCount {
            if reads(op(k), t) { return true }
            k = next(after: k)
        }
        return false
    }

    func worksInPlace(_ kind: ModelFormat.OpKind) -> Bool {
        kind == .lookup || kind == .add || kind == .multiply || kind == .floatAdd
    }

    func overlaps(_ a: TensorInfo, _ b: TensorInfo) -> Bool {
        a.arenaOffset < b.arenaOffset + b.byteCount && b.arenaOffset < a.arenaOffset + a.byteCount
    }
}
