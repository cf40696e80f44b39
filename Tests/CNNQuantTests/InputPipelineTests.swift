import CNNQKernels
import CNNQRuntime
import CNNQuant
import Testing

/// `cnnq_prepare_image` against calibration: the bytes the device writes into the input are the
/// host's preprocessed floats (what calibration fed the float model) quantized, for every preset,
/// grey and colour inputs and images larger, smaller and of other shapes than the input; the record
/// survives the file; a file without one is refused.
@Suite struct InputPipelineTests {
    /// A model of `graph` whose file records `preprocessing`, calibrated on two seeded tensors.
    static func model(_ graph: Graph, _ preprocessing: Preprocessing?, shape: [Int]) throws -> [UInt8] {
        var random = SeededRandom(seed: 5)
        let count = shape.reduce(1, *)
        let inputs = (0..<2).map { _ in
            Tensor(shape: shape, floats: (0..<count).map { _ in Float(random.next() % 2001) / 1000 - 1 })
        }
        var options = QuantizationPipeline.Options()
        options.heldOut = 0
        options.compareLayers = false
        options.inputPipeline = preprocessing?.pipeline
        return try QuantizationPipeline.run(graph, samples: TensorSamples(inputs), options: options).bytes
    }

    /// A 3×3 convolution of a grey 40×24 input into 8 channels, then their global average.
    static func greyModel() -> Graph {
        var random = SeededRandom(seed: 2)
        let weights = (0..<72).map { _ in Float(random.next() % 2001) / 1000 - 1 }
        return Graph(
            name: "grey", inputs: [("x", [1, 1, 40, 24])], outputs: ["y"],
            nodes: [
                Node(
                    name: "conv",
                    op: .conv(window: Window(kernel: [3, 3], pads: [1, 1, 1, 1]), group: 1, clamp: .none),
                    inputs: ["x", "w"], outputs: ["c"]),
                Node(name: "pool", op: .globalAveragePool, inputs: ["c"], outputs: ["y"]),
            ], initializers: ["w": Tensor(shape: [8, 1, 3, 3], floats: weights)], opset: 13)
    }

    /// The C API's storage over `bytes`, as firmware holds it.
    final class Device {
        let file: UnsafeMutableRawBufferPointer
        let model = UnsafeMutableRawPointer.allocate(byteCount: 24 * 8, alignment: 8)
        let context = UnsafeMutableRawPointer.allocate(byteCount: 4 * 8, alignment: 8)
        let arena: UnsafeMutableRawPointer
        init(_ bytes: [UInt8]) {
            file = .allocate(byteCount: bytes.count, alignment: 64)
            file.copyBytes(from: bytes)
            precondition(cnnq_model_load(model, UnsafeRawPointer(file.baseAddress), bytes.count) == 0)
            let need = cnnq_model_arena_size(model)
            arena = .allocate(byteCount: need, alignment: 64)
            precondition(cnnq_context_init(context, model, arena, need) == 0)
        }
        deinit { file.deallocate(); model.deallocate(); context.deallocate(); arena.deallocate() }
    }

    @Test(arguments: Preprocessing.Preset.allCases)
    func deviceBytesAreCalibrationsQuantized(_ preset: Preprocessing.Preset) throws {
        let preprocessing = Preprocessing.preset(preset)
        // Colour: a zoo V1 at 48 px; grey: one convolution over a 1×40×24 input (not square).
        let colour = (try MobileNet.v1.build(alpha: 0.25, resolution: 48, classes: 10, seed: 1), [1, 3, 48, 48])
        let grey = (Self.greyModel(), [1, 1, 40, 24])
        var random = SeededRandom(seed: 9)
        for (graph, shape) in [colour, grey] {
            let device = Device(try Self.model(graph, preprocessing, shape: shape))
            let view = try ModelView(UnsafeRawPointer(device.file.baseAddress), size: device.file.count)
            #expect(view.inputPipeline == preprocessing.pipeline)
            let input = view.tensor(view.input(0))
            let (c, h, w) = (shape[1], shape[2], shape[3])
            // Larger, smaller, wider and taller than the input; one pixel.
            for (width, height) in [(300, 200), (17, 29), (640, 40), (33, 500), (1, 1)] {
                let pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                let image = RGBImage(width: width, height: height, pixels: pixels)
                #expect(cnnq_prepare_image(device.context, 0, pixels, Int32(width), Int32(height)) == 0)
                let floats = try preprocessing.tensor(image, channels: c, height: h, width: w).floats
                let written = cnnq_input_data(device.context, 0)!
                var differ = 0
                for y in 0..<h {
                    for x in 0..<w {
                        for ch in 0..<c
                        where written[(y * w + x) * c + ch] != quantize(floats[(ch * h + y) * w + x], input) {
                            differ += 1
                        }
                    }
                }
                #expect(differ == 0, "\(preset), \(c) channels, \(width)×\(height): \(differ) bytes differ")
            }
        }
    }

    /// A file without the record (made from .npy arrays, or before format 3.2) says so, and the call
    /// that needs it is refused; an image too large for the filter's taps is refused too.
    @Test func refusals() throws {
        let graph = try MobileNet.v1.build(alpha: 0.25, resolution: 32, classes: 10, seed: 1)
        let bare = Device(try Self.model(graph, nil, shape: [1, 3, 32, 32]))
        let pixel: [UInt8] = [1, 2, 3]
        #expect(cnnq_model_has_input_pipeline(bare.model) == 0)
        #expect(cnnq_prepare_image(bare.context, 0, pixel, 1, 1) == Status.invalidArgument.rawValue)
        let recorded = Device(try Self.model(graph, .preset(.unit), shape: [1, 3, 32, 32]))
        #expect(cnnq_model_has_input_pipeline(recorded.model) == 1)
        // 32 px from 4,096: 128 shrink, beyond the 128 taps of a direction.
        let wide = [UInt8](repeating: 7, count: 4096 * 3)
        #expect(cnnq_prepare_image(recorded.context, 0, wide, 4096, 1) == Status.invalidArgument.rawValue)
        #expect(cnnq_prepare_image(recorded.context, 0, wide, 2048, 1) == 0)
    }

    /// What fits the C API's storage: a `ModelView` in 192 − 4 bytes, a context in 32 − 4 (the last
    /// word of each is its validity mark).
    @Test func viewsFitTheirStorage() {
        #expect(MemoryLayout<ModelView>.size <= 24 * 8 - 4)
    }
}
