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

/// `--skip-bad-images`: one warning line per image left out.
func warnSkipped(_ error: CNNQError) {
    FileHandle.standardError.write(Data("warning: \(error); left out (--skip-bad-images)\n".utf8))
}

/// A size in bytes: a number, or one with a K, M or G suffix (powers of 1,024).
func byteCount(_ text: String, _ option: String) throws(CNNQError) -> Int {
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
    let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
    let unit = trimmed.last.flatMap { units[$0] } ?? 1
    guard let number = Double(unit == 1 ? trimmed : String(trimmed.dropLast())), number > 0,
        number * Double(unit) < Double(Int.max)
    else { throw .invalidArgument("\(option) takes a size like 2G, 512M or 1048576, got '\(text)'") }
    return Int(number * Double(unit))
}
