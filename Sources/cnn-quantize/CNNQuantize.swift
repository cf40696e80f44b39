import ArgumentParser
import CNNQuant
import Foundation

@main
struct CNNQuantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn-quantize",
        abstract: "Turn float ONNX convolutional networks into int8 models for the cnnq runtime.",
        discussion: """
            Start with a model: `cnn-quantize zoo mobilenet-v2 -o model.onnx` writes a float MobileNet, \
            `cnn-quantize inspect model.onnx` lists its layers with shapes, parameters and MACs.
            """,
        subcommands: [
            Zoo.self, Quantize.self, Eval.self, Inspect.self, Run.self, Bench.self, BenchSweep.self, BenchKernels.self,
        ]
    )
}

/// Runs `body`, turning a CNNQError into one line on standard error and exit status 1.
func reportingErrors(_ body: () throws(CNNQError) -> Void) throws(ExitCode) {
    do { try body() } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
