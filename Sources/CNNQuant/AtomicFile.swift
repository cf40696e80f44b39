import Foundation

/// Writes whole files or nothing. The data goes to a temporary sibling created exclusively
/// (`mkstemps`: O_CREAT|O_EXCL, so a planted file or symlink is never followed), is flushed to disk,
/// then renamed over the target and the folder flushed, so a crash leaves the old file or the new
/// one. A target that exists but is not a regular file (a device such as /dev/full, a FIFO, a
/// symlink) is refused rather than replaced. Temporaries are named `.NAME.PID.XXXXXX.tmp`; those a
/// killed run left behind (their process gone) are removed by the next write to the same target.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws(CNNQError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        func systemError() -> CNNQError { .unwritableFile(path: path, reason: String(cString: strerror(errno))) }

        try checkTarget(path)
        removeStaleTemporaries(of: name, in: folder)

        var template = Array("\(folder)/.\(name).\(getpid()).XXXXXX.tmp".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
        guard fd >= 0 else { throw systemError() }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var written = 0
        let error: CNNQError? = data.withUnsafeBytes { bytes in
            while written < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return systemError() }
                written += n
            }
            // The umask's mode, as a file created by open(2) would have (mkstemps makes it 0600).
            let mask = umask(0)
            umask(mask)
            guard fchmod(fd, 0o666 & ~mask) == 0, fsync(fd) == 0 else { return systemError() }
            return nil
        }
        let closed = close(fd) == 0
        if let error {
            unlink(temporary)
            throw error
        }
        guard closed, rename(temporary, path) == 0 else {
            let error = systemError()
            unlink(temporary)
            throw error
        }
        // The rename itself is durable once the folder is.
        let directory = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    /// Fails when `path` exists and is not a regular file: it would not be replaced but overwritten
    /// (a device), redirected (a symlink) or cannot be (a folder).
    public static func checkTarget(_ path: String) throws(CNNQError) {
        var status = stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            throw .unwritableFile(
                path: path, reason: "it exists and is not a regular file (a device, FIFO, symlink or folder)")
        }
    }

    /// Removes `.NAME.PID.XXXXXX.tmp` files in `folder` whose process no longer runs.
    static func removeStaleTemporaries(of name: String, in folder: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let prefix = ".\(name)."
        for entry in entries where entry.hasPrefix(prefix) && entry.hasSuffix(".tmp") {
            let parts = entry.dropFirst(prefix.count).dropLast(4).split(separator: ".")
            guard parts.count == 2, parts[1].count == 6, let pid = Int32(parts[0]),
                pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            unlink("\(folder)/\(entry)")
        }
    }
}
