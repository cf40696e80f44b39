import CNNQRuntime

/// Places every activation tensor in one arena, at conversion time, so the device knows the exact
/// bytes it needs. A tensor lives from the op that writes it to the last op that reads it (graph
/// inputs from the start, outputs to the end). Elementwise ops write over an input that dies with
/// them (in place). Buffers are then placed largest first at the lowest offset free during their
/// whole life (the greedy-by-size placement of TFLite's planner). A fused block is one op: its inner
/// ops run inside it, and the tensors between them take no place.
public struct ArenaPlan {
    /// Byte offset of each tensor.
    public var offsets: [Int]
    /// Bytes of all activations together.
    public var activationBytes: Int
    /// Scratch bytes per thread (the largest any op needs).
    public var workspacePerThread: Int

    public init(_ model: QuantizedModel) {
        let count = model.tensors.count
        var ops: [QuantizedModel.OpEntry] = []
        var index = 0
        while index < model.ops.count {
            let op = model.ops[index]
            ops.append(op)
            index += op.kind == .invertedResidual ? 1 + Int(op.words[0]) : 1
        }
        let end = ops.count
        var first = [Int](repeating: end, count: count), last = [Int](repeating: -1, count: count)
        for t in model.inputs { first[t] = -1 }
        for t in model.outputs { last[t] = end }
        for (i, op) in ops.enumerated() {
            first[op.output] = min(first[op.output], i)
            for t in op.inputs { last[t] = max(last[t], i) }
        }
        // Buffers: each tensor its own, except in-place outputs, which join their input's buffer.
        var buffer = Array(0..<count)
        for (i, op) in ops.enumerated() where [.lookup, .add, .multiply, .floatAdd].contains(op.kind) {
            let x = op.inputs[0]
            let owner = buffer[x]
            let sharedLater = (0..<count).contains { buffer[$0] == owner && $0 != x && last[$0] > i }
            if last[x] == i, !model.inputs.contains(x), !model.outputs.contains(x), !sharedLater,
                model.tensors[x].byteCount == model.tensors[op.output].byteCount
            {
                buffer[op.output] = owner
            }
        }
        var life: [Int: (first: Int, last: Int, bytes: Int)] = [:]
        for t in 0..<count where !model.tensors[t].isInner {
            let b = buffer[t]
            let current = life[b] ?? (first[t], last[t], 0)
            life[b] = (
                min(current.first, first[t]), max(current.last, last[t]), max(current.bytes, model.tensors[t].byteCount)
            )
        }
        let align = ModelFormat.alignment
        var placed: [(offset: Int, bytes: Int, first: Int, last: Int)] = []
        var bufferOffset: [Int: Int] = [:]
        for (b, l) in life.sorted(by: { ($0.value.bytes, $1.key) > ($1.value.bytes, $0.key) }) {
            let conflicts = placed.filter { $0.first <= l.last && l.first <= $0.last }.sorted { $0.offset < $1.offset }
            var offset = 0
            for c in conflicts where offset + l.bytes > c.offset {
                offset = max(offset, (c.offset + c.bytes + align - 1) / align * align)
            }
            placed.append((offset, l.bytes, l.first, l.last))
            bufferOffset[b] = offset
        }
        offsets = (0..<count).map { model.tensors[$0].isInner ? 0 : bufferOffset[buffer[$0]]! }
        activationBytes = placed.map { $0.offset + $0.bytes }.max() ?? 0
        workspacePerThread = ((model.ops.map(\.workspacePerThread).max() ?? 0) + align - 1) / align * align
    }
}
