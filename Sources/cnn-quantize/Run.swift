import ArgumentParser
import CNNQRuntime
import CNNQuant
import Foundation

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a .cnnq model on one image through the C API, as the example firmware does.",
        discussion: """
            The image (PPM, JPEG or PNG) becomes the input as calibration made it, by the device's own \
            cnnq_prepare_image and the preprocessing the model file records (format 3.2); with --mean/--std, \
            or for an older file, it is resized by nearest neighbour and normalised with them \
            (cnnq_quantize_image; ImageNet's by default). The top classes of the first output \
            are printed with their dequantized scores (real = scale · (q − zero point)), their names from \
            --labels, and with --softmax their probabilities. --raw writes every output's int8 bytes in turn, to compare \
            with a board's (make -C targets \
            cross-test writes targets/out/BOARD/output-*.bin). The kernels are the CPU's best \
            instruction-set level, or the one CNNQ_ISA names (sse2, avx2, avx-vnni, avx512-vnni; neon, \
            dotprod, i8mm); every level gives the same bytes.
            """
    )

    @Argument(help: "The .cnnq model.") var model: String
    @Argument(help: "The image: .ppm (P6), .jpg or .png.") var image: String
    @Option(help: "Per-channel mean on the 0–1 scale, instead of the model's recorded preprocessing.") var mean: String?
    @Option(help: "Per-channel standard deviation on the 0–1 scale, instead of the model's preprocessing.") var std:
        String?
    @Option(help: "Write the int8 bytes of every output, one after another, here.") var raw: String?
    @Option(
        help:
            "Also write the float input calibration's preprocessing makes of the image, as .npy (NCHW), to feed another runtime the same input (needs a model that records its preprocessing)."
    ) var saveInput: String?
    @Option(help: "Classes to print.") var top: Int = 5
    @Option(help: "Class names, one per line in class order (the first line is class 0).") var labels: String?
    @Flag(
        help:
            "Also print probabilities (the softmax of the scores), for a model whose float form ended in the Softmax that quantize removes."
    ) var softmax = false
    @Option(help: "Refuse an image that declares more pixels than this, before decoding it.")
    var maxImagePixels: Int = RGBImage.defaultMaxPixels

    func run() throws {
        try reportingErrors { () throws(CNNQError) in
            let data = try InputFile.read(model)
            let picture = try RGBImage(path: image, maxPixels: max(1, maxImagePixels))
            let names =
                try labels.map { file throws(CNNQError) in
                    String(decoding: try InputFile.read(file), as: UTF8.self).split(
                        separator: "\n", omittingEmptySubsequences: false
                    ).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                } ?? []
            let (m, s) = (
                try triple(mean ?? "0.485,0.456,0.406", "--mean"), try triple(std ?? "0.229,0.224,0.225", "--std")
            )
            // The C API's own storage, aligned like the structs cnnq.h declares.
            let file = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
            let modelStorage = UnsafeMutableRawPointer.allocate(byteCount: 24 * 8, alignment: 8)
            let contextStorage = UnsafeMutableRawPointer.allocate(byteCount: 4 * 8, alignment: 8)
            defer { file.deallocate(); modelStorage.deallocate(); contextStorage.deallocate() }
            data.copyBytes(to: file)
            func check(_ status: Int32) throws(CNNQError) {
                guard status == 0 else {
                    throw .invalidArgument("\(model): \(String(cString: cnnq_status_string(status)))")
                }
            }
            try check(cnnq_model_load(modelStorage, UnsafeRawPointer(file.baseAddress), data.count))
            let need = cnnq_model_arena_size(modelStorage)
            let arena = UnsafeMutableRawPointer.allocate(byteCount: need, alignment: 64)
            defer { arena.deallocate() }
            try check(cnnq_context_init(contextStorage, modelStorage, arena, need))
            try check(cnnq_context_set_isa(contextStorage, InstructionSet.selected().rawValue))
            // The device's own call: calibration's preprocessing as the file records it, unless the
            // user gave a normalisation or the file predates format 3.2.
            let prepared = mean == nil && std == nil && cnnq_model_has_input_pipeline(modelStorage) == 1
            if let saveInput {
                // A view of the buffer the C API loaded (valid until the deferred deallocation).
                let view: ModelView
                do throws(Status) { view = try ModelView(UnsafeRawPointer(file.baseAddress), size: data.count) } catch {
                    throw .invalidArgument("\(model): \(Int8Model.describe(error))")
                }
                let input = view.tensor(view.input(0))
                guard prepared, let pipeline = view.inputPipeline else {
                    throw .invalidArgument(
                        "--save-input needs a model that records its preprocessing, and no --mean/--std")
                }
                let tensor = try Preprocessing(pipeline).tensor(
                    picture, channels: input.channels, height: input.height, width: input.width)
                try AtomicFile.write(Data(NumpyArray.bytes(tensor)), to: saveInput)
            }
            try check(
                prepared
                    ? cnnq_prepare_image(
                        contextStorage, 0, picture.pixels, Int32(picture.width), Int32(picture.height))
                    : cnnq_quantize_image(
                        contextStorage, 0, picture.pixels, Int32(picture.width), Int32(picture.height), m, s))
            try check(cnnq_invoke(contextStorage))
            // cnnq_tensor_info: channels at byte 12, zero point at 20, scale at 24, bytes at 28.
            let info = UnsafeMutableRawPointer.allocate(byteCount: 48, alignment: 8)
            defer { info.deallocate() }
            try check(cnnq_model_output(modelStorage, 0, info))
            let (channels, zeroPoint) = (
                Int(info.load(fromByteOffset: 12, as: Int32.self)), info.load(fromByteOffset: 20, as: Int32.self)
            )
            let scale = info.load(fromByteOffset: 24, as: Float.self)
            let output = UnsafeBufferPointer(
                start: cnnq_output_data(contextStorage, 0), count: Int(info.load(fromByteOffset: 28, as: UInt32.self)))
            // Every output's bytes in turn, as the example firmware writes them, and how to read them.
            var bytes = Data(), others: [String] = []
            for i in 0..<cnnq_model_output_count(modelStorage) {
                try check(cnnq_model_output(modelStorage, i, info))
                let count = Int(info.load(fromByteOffset: 28, as: UInt32.self))
                bytes.append(
                    contentsOf: UnsafeBufferPointer(start: cnnq_output_data(contextStorage, i), count: count).map {
                        UInt8(bitPattern: $0)
                    })
                let name = String(cString: info.load(fromByteOffset: 32, as: UnsafePointer<CChar>.self))
                others.append(
                    "output '\(name)': \(count) values (scale \(String(format: "%.5g", info.load(fromByteOffset: 24, as: Float.self))), "
                        + "zero point \(info.load(fromByteOffset: 20, as: Int32.self)))")
            }
            try check(cnnq_model_output(modelStorage, 0, info))
            if let raw { try AtomicFile.write(bytes, to: raw) }
            let name = String(cString: info.load(fromByteOffset: 32, as: UnsafePointer<CChar>.self))
            let scores = output.map { Double(scale) * Double(Int32($0) - zeroPoint) }
            let largest = scores.max() ?? 0
            let exponentials = scores.map { exp($0 - largest) }
            let sum = exponentials.reduce(0, +)
            print(
                "\(model) on \(image): \(prepared ? "preprocessed as calibration did" : "stretched, --mean/--std"), "
                    + "kernels \(String(cString: cnnq_isa_name(cnnq_context_isa(contextStorage))!))")
            print(
                "output '\(name)': \(scores.count) scores, dequantized from int8 (scale \(String(format: "%.5g", scale)), "
                    + "zero point \(zeroPoint)); the top \(min(top, scores.count)):")
            print("  rank  class       score" + (softmax ? "  probability" : "") + (names.isEmpty ? "" : "  label"))
            let ranked = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            for (rank, c) in ranked.prefix(top).enumerated() {
                let probability = softmax ? String(format: "  %10.2f%%", 100 * exponentials[c] / sum) : ""
                let label = c % channels < names.count ? "  " + names[c % channels] : ""
                print(String(format: "  %4d  %5d  %10.4f", rank + 1, c % channels, scores[c]) + probability + label)
            }
            for line in others.dropFirst() { print(line) }
        }
    }

    func triple(_ text: String, _ option: String) throws(CNNQError) -> [Float] {
        let values = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == 3 else {
            throw .invalidArgument("\(option) takes 3 comma-separated numbers, got '\(text)'")
        }
        return values
    }
}
