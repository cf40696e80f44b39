import Foundation
import Testing

/// The cnn-quantize executable as a user runs it: exit status and what it prints.
@Suite struct CommandLineTests {
    static let executable = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("cnn-quantize")

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // Without a terminal the tool prints a progress line every tenth of a stage; the tests read
        // the rest of standard error.
        let messages = String(decoding: stderr, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("progress: ") }.joined(separator: "\n")
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), messages
        )
    }

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent(
            "cli-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
        ).path
    }

    @Test func zooThenInspect() throws {
        let path = Self.temporary("v3s.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let zoo = try Self.run(["zoo", "mobilenet-v3-small", "--alpha", "0.75", "--resolution", "160", "-o", path])
        #expect(zoo.status == 0, "\(zoo.stderr)")
        let inspect = try Self.run(["inspect", path])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("block1.dw.conv"))
        #expect(inspect.stdout.contains("1×3×160×160"))
        #expect(inspect.stdout.contains("total: "))
        // The summary line of zoo and the table's total agree.
        let params = try #require(zoo.stdout.range(of: #"[0-9,]+ params"#, options: .regularExpression))
        #expect(inspect.stdout.contains("total: \(zoo.stdout[params])"))
    }

    @Test(arguments: ["truncated", "garbage", "empty", "missing", "unsupported"])
    func badModelGivesOneErrorLine(kind: String) throws {
        let path = Self.temporary("bad-\(kind).onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        switch kind {
        case "truncated":
            let model = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("parity/mobilenet_v1/model.onnx")))
            try model.prefix(model.count / 3).write(to: URL(fileURLWithPath: path))
        case "garbage": try Data("PK\u{3}\u{4} definitely not onnx".utf8).write(to: URL(fileURLWithPath: path))
        case "empty": try Data().write(to: URL(fileURLWithPath: path))
        case "unsupported":
            try FileManager.default.copyItem(atPath: Fixtures.path("errors/unsupported_op.onnx"), toPath: path)
        default: break
        }
        let result = try Self.run(["inspect", path])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(lines.first?.hasPrefix("error: ") == true)
    }

    @Test func unwritableOutputLeavesNothing() throws {
        let folder = Self.temporary("readonly")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try Self.run(["zoo", "mobilenet-v1", "-o", folder + "/missing/m.onnx"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: cannot write"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }
}
