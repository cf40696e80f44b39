import Foundation

/// A one-line progress bar on standard error, redrawn in place; silent when standard error is not a
/// terminal (pipes, CI logs).
struct Progress {
    let enabled = isatty(STDERR_FILENO) == 1
    var stage = ""

    mutating func update(_ stage: String, _ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        if stage != self.stage, !self.stage.isEmpty { FileHandle.standardError.write(Data("\n".utf8)) }
        self.stage = stage
        let filled = 30 * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
        FileHandle.standardError.write(
            Data("\r\(stage.padding(toLength: 26, withPad: " ", startingAt: 0)) \(bar) \(done)/\(total)".utf8))
    }

    func finish() {
        if enabled && !stage.isEmpty { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
