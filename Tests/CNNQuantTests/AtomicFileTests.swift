import CNNQuant
import Foundation
import Testing

/// The writer of every output file: whole files or nothing, never through a planted link or over a
/// device, and no temporaries left behind for ever.
@Suite struct AtomicFileTests {
    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "atomic-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func replacesARegularFileAndLeavesNoTemporary() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/m.cnnq"
        try AtomicFile.write(Data("old".utf8), to: path)
        try AtomicFile.write(Data("new".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("new".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["m.cnnq"])
    }

    @Test func refusesLinksFIFOsAndFolders() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let victim = folder + "/victim"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: victim)
        #expect(mkfifo(folder + "/fifo", 0o600) == 0)
        try FileManager.default.createDirectory(atPath: folder + "/dir", withIntermediateDirectories: false)
        for target in ["link", "fifo", "dir"] {
            #expect(throws: CNNQError.self, "\(target)") {
                try AtomicFile.write(Data("x".utf8), to: folder + "/" + target)
            }
        }
        #expect(FileManager.default.contents(atPath: victim) == Data("keep".utf8), "the link's target is untouched")
        let entries = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(entries == ["dir", "fifo", "link", "victim"], "no temporary left: \(entries)")
    }

    @Test func removesTemporariesOfDeadProcessesOnly() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A PID above the kernel's limit (4,194,304) never runs; the parent (the test runner's) does.
        let dead = ".m.cnnq.99999999.abc123.tmp", alive = ".m.cnnq.\(getppid()).def456.tmp"
        for name in [dead, alive] { try Data().write(to: URL(fileURLWithPath: folder + "/" + name)) }
        try AtomicFile.write(Data("m".utf8), to: folder + "/m.cnnq")
        let entries = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        #expect(entries == ["m.cnnq", alive])
    }
}
