import Foundation

/// Writes whole files or nothing: data goes to a temporary sibling, which is renamed into place.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws(CNNQError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: temporary)
            // rename(2) replaces an existing file atomically (FileManager.replaceItemAt does not on Linux).
            guard rename(temporary.path, url.path) == 0 else {
                throw CNNQError.unwritableFile(path: path, reason: String(cString: strerror(errno)))
            }
        } catch let error as CNNQError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .unwritableFile(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
