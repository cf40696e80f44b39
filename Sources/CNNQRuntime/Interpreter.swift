import CNNQKernels

/// Runs a validated model op by op on a caller-given arena: activations at the offsets planned at
/// conversion, kernel scratch memory after them. Nothing is allocated; the model buffer is only read.
public enum Interpreter {
    /// Runs every op in file order. `observe(op)` is called after each op, while its output tensor
    /// is still in the arena (the host uses it to compare layers with the float model).
    public static func invoke(_ model: ModelView, arena: UnsafeMutableRawPointer?, arenaSize: Int,
                              observe: (Int) -> Void = { _ in }) throws(Status) {
        guard let arena else { throw .invalidArgument }
        guard UInt(bitPattern: arena) % UInt(ModelFormat.bufferAlignment) == 0 else { throw .misaligned }
        guard arenaSize >= model.arenaSize(threads: threadCount) else { throw .arenaTooSmall }
        let workspace = arena + model.workspaceOffset
        for o in 0..<model.opCount {
            run(model, model.op(o), arena: arena, workspace: workspace)
            observe(o)
        }
    }

    /// Runs op `o` alone on whatever its inputs hold in the arena (host tools use it to measure one
    /// layer's own error, its inputs set from the float model).
    public static func invoke(_ model: ModelView, op o: Int, arena: UnsafeMutableRawPointer?, arenaSize: Int) throws(Status) {
        guard let arena, o >= 0, o < model.opCount else { throw .invalidArgument }
        guard UInt(bitPattern: arena) % UInt(ModelFormat.bufferAlignment) == 0 else { throw .misaligned }
        guard arenaSize >= model.arenaSize(threads: threadCount) else { throw .arenaTooSmall }
        run(model, model.op(o), arena: arena, workspace: arena + model.workspaceOffset)
    }

    /// Pointer to tensor `t` in the arena.
    @inline(__always)
    public static func data(_ model: ModelView, _ t: Int, arena: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Int8> {
        (arena + model.tensor(t).arenaOffset).assumingMemoryBound(to: Int8.self)
    }

    /// Tensor `t` as float32 values (float-island tensors).
    @inline(__always)
    public static func floatData(_ model: ModelView, _ t: Int, arena: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Float> {
        (arena + model.tensor(t).arenaOffset).assumingMemoryBound(to: Float.self)
    }

    static func run(_ model: ModelView, _ op: OpInfo, arena: UnsafeMutableRawPointer, workspace: UnsafeMutableRawPointer) {
        let xIndex = model.input(of: op, 0)
        let x = model.tensor(xIndex), out = model.tensor(op.output)
        let input = UnsafePointer(data(model, xIndex, arena: arena)), output = data(model, op.output, arena: arena)
        switch op.kind {
        case .convolution, .pointwise, .depthwise, .groupedConvolution:
            typealias P = ModelFormat.ConvolutionParameter
            // Validated at load; the shape cannot fail here.
            let s = try! model.convolutionShape(op, x, out)
            let stage = OutputStage(multipliers: model.constant(op, P.multipliers, as: Int32.self), shifts: model.constant(op, P.shifts, as: Int32.self),
                                    zeroPoint: out.zeroPoint, lower: model.parameter(op, P.lower), upper: model.parameter(op, P.upper))
            let weights = model.constant(op, P.weights, as: Int8.self), bias = model.constant(op, P.bias, as: Int32.self)
            let rows = workspace.assumingMemoryBound(to: Int16.self)
            switch op.kind {
            case .pointwise:
                Pointwise.run(input: input, pixels: x.batch * x.height * x.width, inputChannels: x.channels, packedWeights: weights,
                              packedBias: bias, outputChannels: out.channels, stage: stage, workspace: rows, output: output)
            case .convolution, .groupedConvolution:
                StandardConvolution.run(input: input, inputZeroPoint: x.zeroPoint, packedWeights: weights, packedBias: bias, shape: s,
                                        stage: stage, workspace: rows, output: output)
            default:
                Depthwise.run(input: input, inputZeroPoint: x.zeroPoint, packedWeights: weights, bias: bias, shape: s, stage: stage,
                              output: output)
            }
        case .add:
            typealias P = ModelFormat.AddParameter
            func multiplier(_ m: P, _ s: P) -> QuantizedMultiplier {
                QuantizedMultiplier(multiplier: model.parameter(op, m), shift: model.parameter(op, s))
            }
            let bIndex = model.input(of: op, 1)
            let parameters = AddParameters(inputZeroPoints: (x.zeroPoint, model.tensor(bIndex).zeroPoint),
                                           inputMultipliers: (multiplier(.multiplierA, .shiftA), multiplier(.multiplierB, .shiftB)),
                                           output: Requantization(multiplier: multiplier(.multiplier, .shift), zeroPoint: out.zeroPoint,
                                                                  lower: model.parameter(op, P.lower), upper: model.parameter(op, P.upper)))
            Add.run(input, data(model, bIndex, arena: arena), count: out.count, parameters: parameters, output: output)
        case .multiply:
            let gIndex = model.input(of: op, 1)
            let g = model.tensor(gIndex), gate = UnsafePointer(data(model, gIndex, arena: arena))
            let parameters = MultiplyParameters(inputZeroPoint: x.zeroPoint, gateZeroPoint: g.zeroPoint,
                                                output: requantization(model, op, zeroPoint: out.zeroPoint))
            if g.count == x.count {
                Multiply.run(input, gate: gate, pixels: 1, channels: x.count, parameters: parameters, output: output)
            } else {
                let pixels = x.height * x.width, image = pixels * x.channels
                for b in 0..<x.batch {
                    Multiply.run(input + b * image, gate: gate + b * x.channels, pixels: pixels, channels: x.channels,
                                 parameters: parameters, output: output + b * image)
                }
            }
        case .lookup:
            let table = model.constant(op, ModelFormat.LookupParameter.table, as: Int8.self)
            LookupTable.run(table: table, input: input, count: x.count, output: output)
        case .globalAveragePool:
            let parameters = Pooling.AverageParameters(inputZeroPoint: x.zeroPoint, output: requantization(model, op, zeroPoint: out.zeroPoint))
            let pixels = x.height * x.width
            for b in 0..<x.batch {
                Pooling.globalAverage(input + b * pixels * x.channels, pixels: pixels, channels: x.channels, parameters: parameters,
                                      output: output + b * x.channels)
            }
        case .maxPool, .averagePool:
            let s = try! model.poolShape(op, x, out)
            Pooling.windowReference(input, shape: s, kind: op.kind == .maxPool ? .max : .average, output: output)
        case .concat:
            let pixels = out.batch * out.height * out.width
            var offset = 0
            for i in 0..<op.inputCount {
                let pIndex = model.input(of: op, i)
                let part = model.tensor(pIndex)
                let words = op.parameters + i * ModelFormat.concatWordsPerInput * 4
                let multiplier = QuantizedMultiplier(multiplier: model.signed(words + 4), shift: model.signed(words + 8))
                let parameters = RequantizeParameters(inputZeroPoint: part.zeroPoint,
                                                      output: Requantization(multiplier: multiplier, zeroPoint: out.zeroPoint),
                                                      isIdentity: model.word(words) != 0)
                Concat.run(data(model, pIndex, arena: arena), pixels: pixels, channels: part.channels, parameters: parameters,
                           output: output, offset: offset, outputChannels: out.channels)
                offset += part.channels
            }
        case .quantize:
            FloatIsland.quantize(floatData(model, xIndex, arena: arena), count: x.count, scale: out.scale, zeroPoint: out.zeroPoint,
                                 output: output)
        case .dequantize:
            FloatIsland.dequantize(input, count: x.count, scale: x.scale, zeroPoint: x.zeroPoint,
                                   output: floatData(model, op.output, arena: arena))
        case .floatAdd:
            FloatIsland.add(floatData(model, xIndex, arena: arena), floatData(model, model.input(of: op, 1), arena: arena), count: out.count,
                            output: floatData(model, op.output, arena: arena))
        case .floatConvolution:
            typealias P = ModelFormat.FloatConvolutionParameter
            let s = try! model.convolutionShape(op, x, out)
            FloatIsland.convolution(input: floatData(model, xIndex, arena: arena), weights: model.constant(op, P.weights, as: Float.self),
                                    bias: model.constant(op, P.bias, as: Float.self), shape: s,
                                    lower: Float(bitPattern: model.word(op.parameters + P.lowerBits.rawValue * 4)),
                                    upper: Float(bitPattern: model.word(op.parameters + P.upperBits.rawValue * 4)),
                                    output: floatData(model, op.output, arena: arena))
        }
    }

    static func requantization(_ model: ModelView, _ op: OpInfo, zeroPoint: Int32) -> Requantization {
        typealias P = ModelFormat.RequantizeParameter
        return Requantization(multiplier: QuantizedMultiplier(multiplier: model.parameter(op, P.multiplier), shift: model.parameter(op, P.shift)),
                              zeroPoint: zeroPoint, lower: model.parameter(op, P.lower), upper: model.parameter(op, P.upper))
    }
}
