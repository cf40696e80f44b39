import ArgumentParser
import CNNQRuntime
import CNNQuant
import Foundation

@main
struct CNNQuantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn-quantize",
        abstract: "Turn float ONNX convolutional networks into int8 models for the cnnq runtime.",
        discussion: """
            Start with a model: `cnn-quantize zoo mobilenet-v2 -o model.onnx` writes a float MobileNet, \
            `cnn-quantize inspect model.onnx` lists its layers with shapes, parameters and MACs. Quantize is \
            the default: `cnn-quantize model.onnx --calibration DIR -o model.cnnq` is \
            `cnn-quantize quantize model.onnx ...`.
            """,
        version:
            "cnn-quantize \(toolVersion): writes .cnnq format \(ModelFormat.versionMajor).\(ModelFormat.versionMinor), "
            + "runtime \(RuntimeVersion.major).\(RuntimeVersion.minor).\(RuntimeVersion.patch) (C ABI \(RuntimeVersion.abi))",
        subcommands: [
            Quantize.self, Zoo.self, Eval.self, Inspect.self, Run.self, Export.self, Bench.self, BenchSweep.self,
            BenchKernels.self,
        ],
        defaultSubcommand: Quantize.self
    )
}

/// The tool's own version: the runtime's, which it builds in and whose files it writes.
let toolVersion = "\(RuntimeVersion.major).\(RuntimeVersion.minor).\(RuntimeVersion.patch)"

/// Runs `body`, turning a CNNQError into one line on standard error and exit status 1.
func reportingErrors(_ body: () throws(CNNQError) -> Void) throws(ExitCode) {
    do { try body() } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// The bench commands' figures are claims: one built without -c release says so on standard error,
/// after them.
func warnIfDebugBuild() {
    #if DEBUG
        FileHandle.standardError.write(
            Data(
                ("warning: this is a debug build of cnn-quantize (swift run, swift build): the kernels are optimised, "
                    + "the code around them is not; time a release build (swift build -c release) for figures to quote\n")
                    .utf8))
    #endif
}
