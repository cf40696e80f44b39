import Foundation

/// Progress on standard error: on a terminal, a one-line bar redrawn in place; otherwise (a pipe, a
/// CI log) a plain line each time a stage passes another tenth, so a long run still shows it is alive.
struct Progress {
    let terminal = isatty(STDERR_FILENO) == 1
    var stage = ""
    /// Tenths of the current stage already reported, off a terminal.
    var tenths = 0

    mutating func update(_ stage: String, _ done: Int, _ total: Int) {
        guard total > 0 else { return }
        if stage != self.stage {
            if terminal, !self.stage.isEmpty { FileHandle.standardError.write(Data("\n".utf8)) }
            (self.stage, tenths) = (stage, 0)
        }
        if terminal {
            let filled = 30 * done / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
            FileHandle.standardError.write(
                Data("\r\(stage.padding(toLength: 26, withPad: " ", startingAt: 0)) \(bar) \(done)/\(total)".utf8))
        } else if 10 * done / total > tenths {
            tenths = 10 * done / total
            FileHandle.standardError.write(Data("progress: \(stage) \(done)/\(total) (\(10 * tenths)%)\n".utf8))
        }
    }

    func finish() {
        if terminal && !stage.isEmpty { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
