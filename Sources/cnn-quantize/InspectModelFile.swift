import CNNQRuntime
import CNNQuant
import Foundation

/// `inspect` on a `.cnnq` file: what the device will load, after the same validation it runs.
enum InspectModelFile {
    static func isModelFile(_ data: Data) -> Bool { data.starts(with: Data("CNNQ".utf8)) }

    static func describe(_ model: Int8Model, path: String) -> String {
        let view = model.view
        let shape = { (t: TensorInfo) in
            switch t.rank {
            case 2: "\(t.batch)×\(t.channels)"
            case 3: "\(t.height)×\(t.channels)"
            default: "\(t.height)×\(t.width)×\(t.channels)"
            }
        }
        var table = TextTable(
            header: ["#", "op", "kind", "input", "output", "scale", "zero", "MACs"], rightAligned: [0, 5, 6, 7])
        let topLevel = model.topLevelOps
        let macs = topLevel.reduce(0) { $0 + model.macs(op: $1) }
        var blockEnd = 0
        for o in 0..<view.opCount {
            let op = view.op(o)
            let y = view.tensor(op.output)
            let opMACs = model.macs(op: o)
            if op.kind == .invertedResidual { blockEnd = view.next(after: o) }
            // A block's inner ops under it, indented; tensors between them are never in the arena.
            let name = (o < blockEnd && op.kind != .invertedResidual ? "  └ " : "") + model.name(ofOp: o)
            let inputs = (0..<op.inputCount).map { shape(view.tensor(view.input(of: op, $0))) }.joined(separator: ", ")
            table.add([
                "\(o)", name, "\(op.kind)", inputs, shape(y) + (y.isInner ? " (streamed)" : ""),
                y.isFloat ? "float32" : String(format: "%.5g", y.scale),
                y.isFloat ? "" : "\(y.zeroPoint)",
                opMACs == 0 ? "" : grouped(opMACs),
            ])
        }
        let io = { (count: Int, index: (Int) -> Int) in
            (0..<count).map { i -> String in
                let t = view.tensor(index(i))
                return
                    "\(model.name(ofTensor: index(i))) \(shape(t)) int8 (scale \(String(format: "%.5g", t.scale)), zero point \(t.zeroPoint))"
            }.joined(separator: "; ")
        }
        return """
            \(table.render())

            \(path): .cnnq format \(ModelFormat.versionMajor).x, \(grouped(view.fileSize)) bytes, CRC32 and every offset checked
            \(view.opCount) ops (\(topLevel.count) run in turn, \(view.opCount - topLevel.count) inside fused blocks), \(view.tensorCount) tensors, \(grouped(macs)) MACs
            input: \(io(view.inputCount, view.input))
            output: \(io(view.outputCount, view.output))
            arena: \(grouped(view.arenaSize(threads: 1))) bytes with 1 thread (\(grouped(view.activationBytes)) activations, \(grouped(view.workspacePerThread)) scratch per thread)
            """
    }

    /// `inspect --ops`: the op kinds the model needs (fused blocks' inner ops included), with their
    /// count and MACs per kernel geometry (what `targets/mca.sh --model` sums per core), and the
    /// `make` line that builds a device library of just those kinds.
    static func neededOps(_ model: Int8Model, path: String) -> String {
        let view = model.view
        struct Row { var kind: ModelFormat.OpKind, geometry: String, ops = 0, macs = 0 }
        var rows: [Row] = []
        for o in 0..<view.opCount {
            let op = view.op(o)
            var geometry = ""
            switch op.kind {
            case .convolution, .depthwise, .groupedConvolution, .floatConvolution:
                if let s = try? view.convolutionShape(op) {
                    geometry =
                        "\(s.kernelHeight)×\(s.kernelWidth)/\(s.strideHeight)"
                        + (s.dilationHeight > 1 ? " dilation \(s.dilationHeight)" : "")
                }
            default: break
            }
            // A block's own MACs are its inner ops', counted there.
            let macs = op.kind == .invertedResidual ? 0 : model.macs(op: o)
            if let r = rows.firstIndex(where: { $0.kind == op.kind && $0.geometry == geometry }) {
                rows[r].ops += 1
                rows[r].macs += macs
            } else {
                rows.append(Row(kind: op.kind, geometry: geometry, ops: 1, macs: macs))
            }
        }
        rows.sort { ($0.kind.rawValue, $0.geometry) < ($1.kind.rawValue, $1.geometry) }
        var table = TextTable(header: ["op kind", "kernel", "ops", "MACs"], rightAligned: [2, 3])
        for r in rows { table.add(["\(r.kind)", r.geometry, "\(r.ops)", r.macs == 0 ? "" : grouped(r.macs)]) }
        var kinds: [ModelFormat.OpKind] = []
        for r in rows where !kinds.contains(r.kind) { kinds.append(r.kind) }
        return """
            \(table.render())

            A device library of just these op kinds (a model with any other is refused at load, CNNQ_UNSUPPORTED_OP):
            make -C targets OPS="\(kinds.map { "\($0)" }.joined(separator: " "))"
            """
    }
}
