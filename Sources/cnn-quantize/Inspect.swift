import ArgumentParser
import CNNQuant
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a model's layers: an ONNX model's with shapes, parameters and MACs, a .cnnq file's ops.",
        discussion: """
            Shapes are ONNX's (NCHW). By default the graph is shown as imported, with constant shape \
            arithmetic folded; parameters count weights, biases and BatchNorm γ/β as torchvision does. \
            --prepared shows it after BatchNorm folding and activation fusion, as it will be quantized. \
            A .cnnq file is validated as the device validates it (CRC32, every offset and size), then \
            its ops are listed with their output quantization, and its arena size. --ops lists the op \
            kinds a .cnnq file needs instead, and the `make -C targets OPS=...` line that builds a \
            device library with only those.
            """
    )

    @Argument(help: "An ONNX model or a .cnnq int8 model file.")
    var model: String

    @Flag(help: "Show the graph after BatchNorm folding, activation fusion and cleanup.")
    var prepared = false

    @Flag(help: "For a .cnnq file: list the op kinds it needs and the make line for a library of just those.")
    var ops = false

    func run() throws {
        try reportingErrors { () throws(CNNQError) in
            let data = try InputFile.read(model)
            if InspectModelFile.isModelFile(data) {
                let int8 = try Int8Model(bytes: [UInt8](data), path: model)
                print(
                    ops ? InspectModelFile.neededOps(int8, path: model) : InspectModelFile.describe(int8, path: model))
                return
            }
            guard !ops else { throw .invalidArgument("--ops needs a .cnnq model file; \(model) is not one") }
            var graph: Graph
            do {
                graph = try ONNXImporter.load(data: data, folder: (model as NSString).deletingLastPathComponent)
            } catch {
                throw .invalidArgument(
                    "\(model) is neither a .cnnq model (it does not start with CNNQ) nor an ONNX model (\(error))")
            }
            if prepared {
                try graph.prepare()
            } else {
                graph.removeIdentities()
                try graph.foldConstantsAndInferShapes()
            }
            let stats = LayerStatistics.of(graph)
            var table = TextTable(
                header: ["#", "layer", "op", "input", "output", "params", "MACs"], rightAligned: [0, 5, 6])
            let format = { (shape: [Int]) in shape.map(String.init).joined(separator: "×") }
            for (index, row) in stats.enumerated() {
                table.add([
                    "\(index)", row.name, row.op, format(row.inputShape), format(row.outputShape),
                    row.params == 0 ? "" : grouped(row.params), row.macs == 0 ? "" : grouped(row.macs),
                ])
            }
            let params = stats.map(\.params).reduce(0, +)
            let macs = stats.map(\.macs).reduce(0, +)
            print(table.render())
            print(
                """

                \(model): opset \(graph.opset), \(stats.count) layers, input \(graph.inputs.map { "\($0.name) \(format($0.shape))" }.joined(separator: ", "))
                total: \(grouped(params)) params (\(String(format: "%.2f", Double(params) / 1e6)) M), \(grouped(macs)) MACs (\(String(format: "%.1f", Double(macs) / 1e6)) M)
                """)
        }
    }
}
