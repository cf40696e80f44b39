import Foundation

/// Every file a command reads goes through here, so that a missing or unreadable one is reported
/// with the same words whatever the command: `cannot read PATH: no such file` (or `is a folder`,
/// `permission denied`, or errno's reason).
public enum InputFile {
    public static func read(_ path: String) throws(CNNQError) -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw .unreadableFile(path: path, reason: "no such file")
        }
        guard !isFolder.boolValue else { throw .unreadableFile(path: path, reason: "is a folder, not a file") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .unreadableFile(path: path, reason: "permission denied")
        }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            // Foundation's own sentence ("The operation could not be completed") says less than errno.
            let posix = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            throw .unreadableFile(
                path: path, reason: posix.map { String(cString: strerror(Int32($0.code))) } ?? "read failed")
        }
    }
}
