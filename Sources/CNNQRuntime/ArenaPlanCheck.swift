/// The loader's check of the arena plan the file carries, so that outputs cannot depend on stale
/// arena bytes: in the order the ops run (a fused block as one op),
/// - every tensor an op reads is a model input or was written by an earlier op;
/// - a tensor is written by one op at most, and never a model input;
/// - what an op writes overlaps no tensor still to be read (or a model output) after it, except
///   the op's first input when the kind works in place (lookup, add, multiply, float add), that
///   input is read by nothing later, and both start at the same offset.
/// No memory is allocated: each tensor's writer and last reader are found by scanning the op table,
/// then only the ops in between are checked against it, O(tensors × operands) op records read
/// (not O(tensors × ops²), which took seconds for a DenseNet's 300 ops).
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
            o = next(after: o)
        }
        for u in 0..<tensorCount where !tensor(u).isInner {
            // Live from its writer (or the start, for a model input) to its last reader (or the end,
            // for a model output): an op in between may not write over it...
            let written: Int
            if isModelInput(u) {
                written = -1
            } else if let w = writer(of: u) {
                written = w
            } else {
                continue
            }
            let lastRead = lastReader(of: u)
            let end = isModelOutput(u) ? opCount : lastRead
            let info = tensor(u)
            var k = written < 0 ? 0 : next(after: written)
            while k <= end && k < opCount {
                let op = op(k)
                if op.output != u && overlaps(tensor(op.output), info) {
                    // ... but for the first input of an in-place kind, dying there, at the very same offset.
                    guard k == lastRead, end == lastRead, worksInPlace(op.kind), input(of: op, 0) == u,
                        tensor(op.output).arenaOffset == info.arenaOffset
                    else { throw .malformed }
                }
                k = next(after: k)
            }
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

    /// The last op run (a fused block counts as one) that reads `t`, or -1.
    func lastReader(of t: Int) -> Int {
        var (o, last) = (0, -1)
        while o < opCount {
            if reads(op(o), t) { last = o }
            o = next(after: o)
        }
        return last
    }

    func worksInPlace(_ kind: ModelFormat.OpKind) -> Bool {
        kind == .lookup || kind == .add || kind == .multiply || kind == .floatAdd
    }

    func overlaps(_ a: TensorInfo, _ b: TensorInfo) -> Bool {
        a.arenaOffset < b.arenaOffset + b.byteCount && b.arenaOffset < a.arenaOffset + a.byteCount
    }
}
