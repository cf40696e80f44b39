import CNNQKernels
import CNNQRuntime

extension QuantizedModel {
    /// The model with every inverted-residual block fused into one `invertedResidual` op, followed
    /// by its inner ops (format 3.1): expand (a 1×1 convolution, or the k×k convolution before a
    /// block without expansion) [→ lookup] → depthwise [→ lookup] [→ project 1×1 [→ residual add]].
    /// A tensor between two inner ops, read by nothing else, becomes inner: it never takes arena
    /// space. A block whose depthwise output feeds squeeze-excite stops after the depthwise: the pool
    /// needs that tensor whole. Outputs are bit for bit the unfused model's.
    public func fusingInvertedResiduals() -> QuantizedModel {
        var readers = [Int](repeating: 0, count: tensors.count)
        for op in ops { for t in op.inputs { readers[t] += 1 } }
        for t in outputs { readers[t] += 1 }
        var fused = self
        fused.ops = []
        var i = 0
        while i < ops.count {
            guard let count = blockLength(at: i, readers: readers) else {
                fused.ops.append(ops[i])
                i += 1
                continue
            }
            let inner = Array(ops[i..<(i + count)])
            var block = OpEntry(
                kind: .invertedResidual, name: Self.blockName(inner.map(\.name)), inputs: [inner[0].inputs[0]],
                output: inner[count - 1].output, parameters: InvertedResidualOp.Parameters(innerCount: count))
            block.workspacePerThread = workspacePerThread(inner)!
            fused.ops.append(block)
            fused.ops += inner
            for op in inner.dropLast() { fused.tensors[op.output].flags |= ModelFormat.innerFlag }
            i += count
        }
        return fused
    }

    /// How many ops from `i` on form a block, or nil.
    func blockLength(at i: Int, readers: [Int]) -> Int? {
        /// Op k reads op k − 1's output, which nothing else reads, and is of one of `kinds`.
        func follows(_ k: Int, _ kinds: ModelFormat.OpKind...) -> Bool {
            k < ops.count && kinds.contains(ops[k].kind) && ops[k].inputs[0] == ops[k - 1].output
                && readers[ops[k - 1].output] == 1
        }
        let blockInput = ops[i].inputs[0]
        var k = i
        let expands = ops[k].kind == .pointwise || ops[k].kind == .convolution
        if expands {
            k += 1
            if follows(k, .lookup) { k += 1 }
            guard follows(k, .depthwise) else { return nil }
        } else {
            guard ops[k].kind == .depthwise else { return nil }
        }
        k += 1
        if follows(k, .lookup) { k += 1 }
        // A 1×1 layer that widens into the next depthwise (MobileNet V1) is better that block's
        // expand: its output, the larger tensor, then never exists.
        let expandsNext =
            follows(k, .pointwise) && follows(k + 1, .depthwise)
            && tensors[ops[k].output].channels > tensors[ops[k].inputs[0]].channels
        var projects = false
        if follows(k, .pointwise), !expandsNext {
            projects = true
            k += 1
            if k < ops.count, ops[k].kind == .add, readers[ops[k - 1].output] == 1,
                ops[k].inputs.count == 2, Set(ops[k].inputs) == [ops[k - 1].output, blockInput]
            {
                k += 1
            }
        }
        guard expands || projects, let workspace = workspacePerThread(Array(ops[i..<k])),
            workspace <= InvertedResidualOp.maxWorkspacePerThread
        else { return nil }
        return k - i
    }

    /// Scratch bytes per thread of the block `inner`: the kernel's, or an inner op's if larger.
    func workspacePerThread(_ inner: [OpEntry]) -> Int? {
        let layers = inner.filter { [.pointwise, .convolution, .depthwise].contains($0.kind) }
        guard let depthwise = layers.first(where: { $0.kind == .depthwise }) else { return nil }
        let expand = layers[0].kind == .depthwise ? nil : shape(layers[0])
        let kernel = InvertedResidual.workspacePerThread(
            expand: expand, depthwise: shape(depthwise), projects: layers.last!.kind == .pointwise)
        return kernel.map { max($0, inner.map(\.workspacePerThread).max() ?? 0) }
    }

    /// One image's geometry of a convolution op, from its tensors and its geometry words.
    func shape(_ op: OpEntry) -> ConvolutionShape {
        var p = ConvolutionOp.Parameters(kind: op.kind)
        p.decode(op.words)
        let (x, g) = (tensors[op.inputs[0]], p.geometry)
        return ConvolutionShape(
            inputHeight: x.height, inputWidth: x.width, inputChannels: x.channels,
            outputChannels: tensors[op.output].channels, kernelHeight: Int(g.kernelHeight),
            kernelWidth: Int(g.kernelWidth), strideHeight: Int(g.strideHeight), strideWidth: Int(g.strideWidth),
            dilationHeight: Int(g.dilationHeight), dilationWidth: Int(g.dilationWidth), padTop: Int(g.padTop),
            padLeft: Int(g.padLeft), padBottom: Int(g.padBottom), padRight: Int(g.padRight),
            groups: op.kind == .depthwise ? x.channels : 1)
    }

    /// The inner ops' longest common name prefix up to a separator ("features.3"), or the first
    /// one's name.
    static func blockName(_ names: [String]) -> String {
        var prefix = names[0]
        for name in names.dropFirst() { prefix = String(prefix.commonPrefix(with: name)) }
        if let end = prefix.lastIndex(where: { "./_:".contains($0) }) { prefix = String(prefix[..<end]) }
        return prefix.count >= 2 ? prefix : names[0] + " block"
    }
}
