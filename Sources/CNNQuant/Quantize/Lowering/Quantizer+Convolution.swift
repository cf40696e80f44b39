import CNNQKernels
import CNNQRuntime

extension Quantizer {
    /// Conv: int8 convolution of the kind its groups and kernel call for, or a float one if excluded.
    mutating func lowerConv(_ node: Node, window: Window, groups group: Int, clamp: Clamp) throws(CNNQError) {
        guard let w = graph.initializers[node.inputs[1]] else {
            throw .unsupportedAttribute(node: node.name, op: "Conv", detail: "weights must be constant")
        }
        let (o, perGroup, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        // ONNX OIHW → OHWI, the kernels' order: the NCHW → NHWC permutation with O as N and I as C.
        let ohwi = Layout.toNHWC(w.floats, w.shape)
        let bias = node.inputs.count > 2 ? graph.initializers[node.inputs[2]]?.floats : nil
        try Self.checkGeometry(node, kernel: (kh, kw), window: window)
        if options.exclude.contains(node.name) {
            return try floatConvolution(
                node, weights: ohwi, bias: bias, kernel: (kh, kw), window: window, groups: group, clamp: clamp)
        }
        let x = try tensor(node.inputs[0], node: node)
        let c = model.tensors[x].channels
        let kind: ModelFormat.OpKind
        if group == 1 {
            let unit = kh == 1 && kw == 1 && window.strides == [1, 1] && window.pads.allSatisfy { $0 == 0 }
            kind = unit ? .pointwise : .convolution
        } else if group == c && o == c && perGroup == 1 {
            kind = .depthwise
        } else if c % group == 0, o % group == 0, perGroup == c / group {
            kind = .groupedConvolution
        } else {
            throw .shapeMismatch(
                node: node.name, detail: "\(group) groups do not divide \(c) input and \(o) output channels")
        }
        let out = node.outputs[0]
        let y = try newTensor(out, node: node.name, range: clampedRange(out, clamp))
        try convolution(
            node, kind: kind, x: x, y: y, weights: ohwi, bias: bias, kernel: (kh, kw), window: window, groups: group,
            clamp: clamp, means: inputMeans[node.name], measured: measuredMeans[node.name])
    }

    /// The geometry the runtime's loader accepts (`ConvolutionGeometry.shape`), checked here so that
    /// the converter names the node rather than writing a file its own loader refuses.
    static func checkGeometry(_ node: Node, kernel: (Int, Int), window: Window) throws(CNNQError) {
        let spans = [(kernel.0 - 1) * window.dilations[0] + 1, (kernel.1 - 1) * window.dilations[1] + 1]
        let pads = window.pads
        guard (1...31).contains(kernel.0), (1...31).contains(kernel.1),
            window.strides.allSatisfy({ (1...16).contains($0) }),
            window.dilations.allSatisfy({ (1...16).contains($0) }),
            pads[0] < spans[0], pads[2] < spans[0], pads[1] < spans[1], pads[3] < spans[1],
            pads.allSatisfy({ $0 <= 255 })
        else {
            throw .unsupportedAttribute(
                node: node.name, op: "Conv",
                detail:
                    "kernel \(kernel.0)×\(kernel.1), strides \(window.strides), dilations \(window.dilations), pads \(pads): the runtime takes kernels up to 31, strides and dilations up to 16, and pads smaller than the kernel's span"
            )
        }
    }

    static func geometry(kernel: (Int, Int), window: Window) -> ConvolutionGeometry {
        ConvolutionGeometry(
            kernel: kernel, stride: (window.strides[0], window.strides[1]),
            dilation: (window.dilations[0], window.dilations[1]),
            pads: (window.pads[0], window.pads[1], window.pads[2], window.pads[3]))
    }

    /// An excluded convolution-like layer: float32 OHWI weights and bias, run by `FloatIsland`.
    mutating func floatConvolution(
        _ node: Node, weights: [Float], bias: [Float]?, kernel: (Int, Int), window: Window, groups: Int,
        clamp: Clamp
    ) throws(CNNQError) {
        let out = node.outputs[0]
        let x = try floatTensor(node.inputs[0], node: node)
        let y = try newFloatTensor(out, node: node.name, range: clampedRange(out, clamp))
        let o = model.tensors[y].channels
        guard weights.count % o == 0, weights.count / o * groups == kernel.0 * kernel.1 * model.tensors[x].channels
        else {
            throw .shapeMismatch(
                node: node.name,
                detail:
                    "weights of \(weights.count) values do not fit \(o) outputs × \(model.tensors[x].channels) inputs")
        }
        var p = FloatConvolutionOp.Parameters()
        (p.geometry, p.groups, p.lower, p.upper) = (
            Self.geometry(kernel: kernel, window: window), Int32(groups), clamp.lower, clamp.upper
        )
        var op = QuantizedModel.OpEntry(
            kind: .floatConvolution, name: node.name, inputs: [x], output: y, parameters: p,
            constants: [
                (.init(littleEndian: weights.map(\.bitPattern)), ModelFormat.arrayAlignment),
                (
                    .init(littleEndian: (bias ?? [Float](repeating: 0, count: o)).map(\.bitPattern)),
                    ModelFormat.arrayAlignment
                ),
            ])
        op.macs = model.tensors[y].count * weights.count / o
        op.weights = weights.count + (bias == nil ? 0 : o)
        append(op)
    }

    /// Convolution-like layers: per-output-channel symmetric weights in OHWI order, int32 bias,
    /// per-channel requantization, packed for the kernel that runs them. `means`: the input's per tap
    /// and channel (`InputMeansRequest`), for bias correction; `measured`, where it was measured.
    mutating func convolution(
        _ node: Node, kind: ModelFormat.OpKind, x: Int, y: Int, weights: [Float], bias: [Float]?,
        kernel: (Int, Int), window: Window, groups: Int, clamp: Clamp, means: [Double]?, measured: MeasuredMeans?
    ) throws(CNNQError) {
        let (tx, ty) = (model.tensors[x], model.tensors[y])
        let o = ty.channels
        let perChannel = weights.count / o
        // Input channels one output channel sees (those of its group).
        let inputs = kind == .depthwise ? 1 : perChannel / (kernel.0 * kernel.1)
        guard perChannel * o == weights.count, kind == .depthwise || inputs * groups == tx.channels else {
            throw .shapeMismatch(
                node: node.name,
                detail: "weights of \(weights.count) values do not fit \(o) outputs × \(tx.channels) inputs")
        }
        let shape = ConvolutionShape(
            batch: tx.batch, inputHeight: tx.height, inputWidth: tx.width, inputChannels: tx.channels,
            outputChannels: o,
            kernelHeight: kernel.0, kernelWidth: kernel.1, strideHeight: window.strides[0],
            strideWidth: window.strides[1],
            dilationHeight: window.dilations[0], dilationWidth: window.dilations[1], padTop: window.pads[0],
            padLeft: window.pads[1], padBottom: window.pads[2], padRight: window.pads[3],
            groups: kind == .depthwise ? o : groups)
        // Bias and scales in the kernel's channel slots.
        guard let layout = ConvolutionOp.PackedLayout(kind: kind, shape: shape) else {
            throw .shapeMismatch(node: node.name, detail: "the packed weights do not fit in memory")
        }
        let key = ConvolutionCache.Key(
            node: node.name, kind: kind.rawValue, inputScale: tx.scale.bitPattern, inputZeroPoint: tx.zeroPoint,
            measured: measured)
        let packed: ConvolutionCache.Packed
        if let hit = cache?.entries[key] {
            packed = hit
        } else {
            packed = pack(
                kind: kind, tx: tx, weights: weights, bias: bias, kernel: kernel, groups: groups, shape: shape,
                layout: layout, means: means, measured: measured)
            cache?.entries[key] = packed
        }
        var scales = [Float](repeating: 1, count: layout.channelSlots)
        for c in 0..<o { scales[layout.channelSlot(c)] = Float(tx.scale * packed.weightScales[c] / ty.scale) }
        let (lower, upper) = Self.bounds(clamp, ty)
        var p = ConvolutionOp.Parameters(kind: kind)
        (p.geometry, p.lower, p.upper) = (Self.geometry(kernel: kernel, window: window), lower, upper)
        if kind == .groupedConvolution { p.groups = Int32(groups) }
        var op = QuantizedModel.OpEntry(
            kind: kind, name: node.name, inputs: [x], output: y, parameters: p,
            constants: [
                (packed.weights, ModelFormat.alignment), (packed.bias, ModelFormat.arrayAlignment),
                (.init(littleEndian: scales.map(\.bitPattern)), ModelFormat.arrayAlignment),
            ])
        op.macs = ty.count * perChannel
        op.weights = weights.count + (bias == nil ? 0 : o)
        op.workspacePerThread = layout.workspaceBytesPerThread
        append(op)
    }

    /// The weights quantized per output channel and packed for the kernel, and the int32 bias with
    /// bias correction and the input zero point folded in: all that depends on the weights and the
    /// input's quantization, not the output's.
    func pack(
        kind: ModelFormat.OpKind, tx: QuantizedModel.TensorEntry, weights: [Float], bias: [Float]?,
        kernel: (Int, Int), groups: Int, shape: ConvolutionShape, layout: ConvolutionOp.PackedLayout,
        means: [Double]?, measured: MeasuredMeans?
    ) -> ConvolutionCache.Packed {
        let o = shape.outputChannels
        let perChannel = weights.count / o
        let inputs = kind == .depthwise ? 1 : perChannel / (kernel.0 * kernel.1)
        var q = [Int8](repeating: 0, count: weights.count)
        var weightScales = [Double](repeating: 1, count: o)
        var b = bias.map { $0.map(Double.init) } ?? [Double](repeating: 0, count: o)
        let taps = kernel.0 * kernel.1
        let corrections = options.biasCorrection && means?.count == taps * tx.channels ? means : nil
        let measured =
            options.biasCorrection && measured?.float.count == taps * tx.channels
                && measured?.int8.count == taps * tx.channels ? measured : nil
        let layerLargest =
            kind == .depthwise && options.perTensorDepthwise ? Double(weights.map { abs($0) }.max() ?? 0) : 0
        // The int32 bias, the input zero point folded into it and the accumulated products must fit
        // 32 bits. A channel whose weights are almost zero (a BatchNorm γ of ~0 folded in, as in
        // TF-slim MobileNet V1) but whose bias is not would get a tiny scale and a bias beyond int32:
        // its scale is raised until the bias fits, and its weights round to zero, as they nearly are.
        let biasRoom = Double(Int32.max) - 2 * 128 * 127 * Double(perChannel)
        for c in 0..<o {
            let row = weights[(c * perChannel)..<((c + 1) * perChannel)]
            let largest =
                kind == .depthwise && options.perTensorDepthwise ? layerLargest : Double(row.map { abs($0) }.max() ?? 0)
            let s = max(largest > 0 ? largest / 127 : 1, abs(b[c]) / (tx.scale * biasRoom))
            weightScales[c] = s
            var error = 0.0
            for (i, w) in row.enumerated() {
                let level = max(-127, min(127, (Double(w) / s).rounded()))
                q[c * perChannel + i] = Int8(level)
                guard measured != nil || corrections != nil else { continue }
                // OHWI: entry i of a row is tap i / inputs, channel i % inputs of the group's.
                let (tap, channel) =
                    kind == .depthwise ? (i, c) : (i / inputs, c / (o / groups) * inputs + i % inputs)
                let k = tap * tx.channels + channel
                if let measured {
                    error += level * s * measured.int8[k] - Double(w) * measured.float[k]
                } else if let means = corrections {
                    error += (level * s - Double(w)) * means[k]
                }
            }
            b[c] -= error
        }
        let slots = layout.channelSlots
        var biasQ = [Int32](repeating: 0, count: o)
        for c in 0..<o { biasQ[c] = Int32(clamping: Int64((b[c] / (tx.scale * weightScales[c])).rounded())) }
        var packed = [Int8](repeating: 0, count: layout.weightCount), packedBias: [Int32]
        if kind == .depthwise {
            q.withUnsafeBufferPointer { w in
                packed.withUnsafeMutableBufferPointer { p in
                    Depthwise.pack(
                        weights: w.baseAddress!, channels: o, kernelHeight: kernel.0, kernelWidth: kernel.1,
                        packed: p.baseAddress!)
                }
            }
            packedBias = biasQ + [Int32](repeating: 0, count: slots - o)
        } else {
            packedBias = [Int32](repeating: 0, count: layout.biasCount)
            StandardConvolution.pack(
                weights: q, bias: biasQ, shape: shape, inputZeroPoint: tx.zeroPoint, packedWeights: &packed,
                packedBias: &packedBias)
        }
        return .init(
            weights: packed.map { UInt8(bitPattern: $0) }, bias: .init(littleEndian: packedBias),
            weightScales: weightScales)
    }
}
