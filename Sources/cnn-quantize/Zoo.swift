import ArgumentParser
import CNNQuant

extension MobileNet: ExpressibleByArgument {}

struct Zoo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a float MobileNet as ONNX, for any width multiplier and resolution.",
        discussion: """
            Channel counts are rounded as torchvision rounds them (multiples of 8), so parameter and MAC \
            counts match torchvision's models. Weights are seeded random (He initialisation) with \
            non-trivial BatchNorm statistics: the same seed gives the same file on every machine. \
            Architectures: \(MobileNet.allCases.map(\.rawValue).joined(separator: ", ")).
            """
    )

    @Argument(help: "The architecture.")
    var architecture: MobileNet

    @Option(help: "Width multiplier α (e.g. 0.35, 0.5, 0.75, 1.0, 1.4).")
    var alpha: Double = 1.0

    @Option(help: "Input resolution ρ in pixels (square input).")
    var resolution: Int = 224

    @Option(help: "Number of output classes.")
    var classes: Int = 1000

    @Option(help: "Seed for the weights.")
    var seed: UInt64 = 0

    @Option(name: .shortAndLong, help: "Where to write the ONNX model.")
    var output: String

    func run() throws {
        try reportingErrors { () throws(CNNQError) in
            let graph = try architecture.build(alpha: alpha, resolution: resolution, classes: classes, seed: seed)
            try ONNXWriter.write(graph, to: output)
            let stats = LayerStatistics.of(graph)
            print(
                "wrote \(output): \(architecture.rawValue) α=\(alpha) ρ=\(resolution), \(grouped(stats.map(\.params).reduce(0, +))) params, \(grouped(stats.map(\.macs).reduce(0, +))) MACs"
            )
        }
    }
}
