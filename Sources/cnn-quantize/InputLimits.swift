import ArgumentParser
import CNNQuant
import Foundation

/// What a broken or hostile input may cost `quantize` and `eval`: memory, image size, and whether a
/// bad image stops the run.
struct InputLimits: ParsableArguments {
    @Flag(
        help:
            "Leave out images that do not decode (truncated, corrupt, too large), with a warning each, instead of stopping."
    )
    var skipBadImages = false

    @Option(
        help: ArgumentHelp(
            "Most memory the float model may take for one image, checked before anything is allocated (bytes, or with K, M, G; default: half of this machine's).",
            valueName: "size"))
    var maxMemory: String?

    @Option(help: "Refuse images that declare more pixels than this, before decoding them.")
    var maxImagePixels: Int = RGBImage.defaultMaxPixels

    func memoryBudget() throws(CNNQError) -> Int {
        try maxMemory.map { text throws(CNNQError) in try byteCount(text, "--max-memory") } ?? Graph.defaultMemoryBudget
    }

    func imagePixels() throws(CNNQError) -> Int {
        guard maxImagePixels >= 1 else { throw .invalidArgument("--max-image-pixels must be at least 1") }
        return maxImagePixels
    }

    /// One warning line per image left out, or nil: a bad image is an error.
    var skipBad: ((CNNQError) -> Void)? {
        skipBadImages
            ? { FileHandle.standardError.write(Data("warning: \($0); left out (--skip-bad-images)\n".utf8)) } : nil
    }
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
